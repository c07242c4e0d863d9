"""The API server: routes and JSON errors in-process, and the real server that `services up` started."""

import dataclasses
import json
from types import SimpleNamespace

import pytest
import redis

from foundations import net, server, web


def call(app, path, query=""):
    seen = {}

    def start_response(status, headers):
        seen["status"], seen["headers"] = int(status.split()[0]), dict(headers)

    body = b"".join(app({"PATH_INFO": path, "QUERY_STRING": query, "REQUEST_METHOD": "GET"}, start_response))
    return seen["status"], seen["headers"], body


@pytest.fixture
def app(cfg):
    return server.create_app(cfg)


def test_hello_as_in_the_book(app):
    assert call(app, "/hello")[2] == b"Hello ... you."
    assert call(app, "/hello", "name=Tit")[2] == b"Hello Tit!"


def test_healthz_checks_redis(app, cfg):
    status, headers, body = call(app, "/healthz")
    assert status == 200 and headers["Content-Type"] == "application/json"
    down = server.create_app(cfg, redis.Redis(port=1, socket_connect_timeout=0.2))
    status, _, body = call(down, "/healthz")
    assert status == 503 and json.loads(body)["error"]["type"] == "service_unavailable"


def test_livez_answers_while_redis_is_down_where_healthz_does_not(cfg):
    """Liveness (the image's HEALTHCHECK) makes no Redis call, so a Redis outage restarts no container;
    readiness (/healthz: compose's depends_on, CI's wait) reports the outage."""
    down = server.create_app(cfg, redis.Redis(port=1, socket_connect_timeout=0.2))
    status, headers, body = call(down, "/livez")
    assert (status, headers["Content-Type"], json.loads(body)) == (200, "application/json", {"status": "ok"})
    assert call(down, "/healthz")[0] == 503


def test_livez_is_on_the_rsgi_event_loop(cfg):
    """Under granian (the image's interface) /livez answers on the loop, not in the threads that wait on
    Redis; no Redis connection is made for it."""
    fast = server.create_fast_app(dataclasses.replace(cfg, redis_url="redis://127.0.0.1:1/0"))
    sent = {}

    class Protocol:
        def response_bytes(self, status, headers, body):
            sent.update(status=status, body=body)

    scope = SimpleNamespace(path="/livez", method="GET", headers={}, query_string="")
    assert fast.answer_at_once(scope, Protocol()) is True
    assert (sent["status"], json.loads(sent["body"])) == (200, {"status": "ok"})


def test_unknown_route_is_a_json_404(app):
    status, headers, body = call(app, "/nope")
    assert status == 404 and json.loads(body) == {
        "error": {"type": "not_found", "message": "no route for /nope"}
    }


def test_a_bug_is_a_json_500(cfg):
    app = server.create_app(cfg)
    app.routes["/boom"] = lambda request: 1 / 0
    status, _, body = call(app, "/boom")
    assert status == 500 and json.loads(body)["error"]["type"] == "internal_server_error"


def test_the_running_server_answers(cfg):
    status, body = net.http_get(cfg.api_url + "/healthz")
    assert status == 200 and json.loads(body) == {"status": "ok", "redis": "ok"}
    assert net.http_get(cfg.api_url + "/hello?name=Go") == (200, b"Hello Go!")


def test_exact_routes_win_then_the_longest_prefix(cfg):
    app = web.App(
        {"/keys": lambda r: web.text_response("all")},
        {
            "/keys/": lambda r: web.text_response("one " + r.path[len("/keys/") :]),
            "/keys/admin/": lambda r: web.text_response("admin"),
        },
    )
    assert call(app, "/keys")[2] == b"all"
    assert call(app, "/keys/name")[2] == b"one name"
    assert call(app, "/keys/admin/x")[2] == b"admin"
    assert call(app, "/key")[0] == 404

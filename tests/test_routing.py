"""Chapter 5 routing: the demo servers as real processes, the API server's routes in-process and live."""

import threading

import pytest
import requests
from werkzeug.test import Client

from foundations import net, processes, routing, server


def call(app, path, query=""):
    response = Client(app).get(path, query_string=query, base_url="http://127.0.0.1")
    return response.status_code, response.headers, response.data


@pytest.fixture(scope="module")
def demos():
    started = {name: processes.start_module("foundations.routing", name) for name in routing.DEMOS}
    yield started
    for demo in started.values():
        demo.stop()
    assert not any(demo.running for demo in started.values())


def get(base, path):
    response = requests.get(base + path, allow_redirects=False, timeout=5)
    return response.status_code, response.text, response.headers.get("Location")


def test_the_first_server_answers_every_path(demos):
    assert get(demos["hello"].url, "/") == (200, "Hello world!", None)
    assert get(demos["hello"].url, "/favicon.ico") == (200, "Hello world!", None)


def test_servemux_hello_is_exact_and_the_rest_falls_through_to_root(demos):
    url = demos["servemux"].url
    assert get(url, "/hello")[1] == "Hello ... you."
    assert get(url, "/hello?name=Tit")[1] == "Hello Tit!"
    assert get(url, "/hello/")[1] == "Hello world!"
    assert get(url, "/hello_there")[1] == "Hello world!"
    assert "Request: /hello_there" in demos["servemux"].output()


def test_pat_style_pitfalls(demos):
    url = demos["pat"].url
    assert get(url, "/hello/Tit")[:2] == (200, "Hello Tit!")
    assert get(url, "/hello/")[0] == 404
    assert get(url, "/hello/a/")[0] == 404
    assert get(url, "/anything")[0] == 404
    assert get(url, "/")[:2] == (200, "Hello world!")
    status, _, location = get(url, "/hey/ummm")
    assert status == 308 and location == f"{url}/hey/ummm/"
    assert get(url, "/hey/ummm/")[:2] == (200, "Hello ummm!")


def test_the_raw_exchange_shows_the_redirect(demos):
    raw = routing.raw_get(demos["pat"].port, "/hey/ummm")
    assert raw.startswith("HTTP/1.0 308 PERMANENT REDIRECT\n")
    assert f"Location: http://127.0.0.1:{demos['pat'].port}/hey/ummm/\n" in raw
    assert "Server: foundations-demo\n" in raw and "CPython" not in raw


def test_mux_style_routes_reach_one_handler_without_redirects(demos):
    url = demos["mux"].url
    for path in ("/say", "/say/"):
        assert get(url, path) == (200, "Hello ... you.", None)
    for path in ("/say/Tit", "/say/Tit/"):
        assert get(url, path) == (200, "Hello Tit!", None)
    assert get(url, "/say/a/b")[0] == 404


@pytest.mark.parametrize(
    "path, status, body",
    [
        ("/hello", 200, b"Hello ... you."),
        ("/hello/Tit", 200, b"Hello Tit!"),
        (
            "/hello/J%C3%BCrgen",
            200,
            "Hello Jürgen!".encode(),
        ),  # UTF-8, percent-encoded, as a browser sends it
        ("/hello/", 404, None),
        ("/hello/a/", 404, None),
        ("/hello_there", 404, None),
        ("/say", 200, b"Hello ... you."),
        ("/say/", 200, b"Hello ... you."),
        ("/say/Tit", 200, b"Hello Tit!"),
        ("/say/Tit/", 200, b"Hello Tit!"),
        ("/say/a/b", 404, None),
        ("/say//", 404, None),
    ],
)
def test_the_api_server_routes_in_process(cfg, path, status, body):
    got_status, headers, got_body = call(server.create_app(cfg), path)
    assert got_status == status and "Location" not in headers
    if body is not None:
        assert got_body == body
    else:
        assert b'"type": "not_found"' in got_body


def test_the_running_api_server_has_the_routes(cfg):
    assert get(cfg.api_url, "/say/Tit/") == (200, "Hello Tit!", None)
    assert get(cfg.api_url, "/hello/Tit") == (200, "Hello Tit!", None)
    status, text, _ = get(cfg.api_url, "/say/a/b")
    assert status == 404 and "expected /say or /say/NAME" in text


def test_logged_prints_the_path_and_names_the_server(capsys):
    status, headers, body = call(routing.logged(routing.hello_world_app), "/favicon.ico")
    assert capsys.readouterr().out == "Request: /favicon.ico\n"
    assert (status, headers["Server"], body) == (200, "foundations-demo", b"Hello world!")


def test_serve_runs_until_shut_down(monkeypatch, capsys):
    made = []
    real_make = routing.make
    monkeypatch.setattr(routing, "make", lambda *args: made.append(real_make(*args)) or made[-1])
    port = net.free_port()
    thread = threading.Thread(target=routing.serve, args=(routing.hello_world_app, port))
    thread.start()
    try:
        for _ in range(100):
            if made:
                break
            threading.Event().wait(0.02)
        assert requests.get(f"http://127.0.0.1:{port}/", timeout=5).text == "Hello world!"
    finally:
        made[0].shutdown()
        thread.join(5)
    assert not thread.is_alive()
    assert f"Starting server on 127.0.0.1:{port}" in capsys.readouterr().out


def test_main_picks_the_demo_and_stops_quietly_on_ctrl_c(monkeypatch):
    seen = []

    def fake_serve(app, port, host, threads):
        seen.append((port, host, threads, call(app, "/say/x/")[2]))
        raise KeyboardInterrupt

    monkeypatch.setattr(routing, "serve", fake_serve)
    routing.main(["mux", "--port", "1234"])
    routing.main(["mux", "--port", "1235", "--single-threaded"])
    assert seen == [(1234, "127.0.0.1", True, b"Hello x!"), (1235, "127.0.0.1", False, b"Hello x!")]


def test_make_threads_unless_told_not_to():
    from socketserver import ThreadingMixIn

    for threads in (True, False):
        with routing.make(routing.hello_world_app, net.free_port(), threads=threads) as httpd:
            assert isinstance(httpd, ThreadingMixIn) is threads


def test_wsgirefs_own_server_answers_one_request_at_a_time_and_the_threaded_one_overlaps_them():
    single = processes.start_module("foundations.routing", "slow", "--single-threaded")
    threaded = processes.start_module("foundations.routing", "slow")
    try:
        assert requests.get(single.url + "/slow?ms=0", timeout=5).text == "Slept 0 ms"
        one_at_a_time = routing.concurrent(single.url + "/slow?ms=300", clients=3).events
        overlapped = routing.concurrent(threaded.url + "/slow?ms=300", clients=3).events
        assert (
            requests.get(threaded.url + "/slow?spin=0", timeout=5).text
            == "Computed 0 ms (switch interval 5 ms)"
        )
        taking_turns = routing.concurrent(threaded.url + "/slow?spin=300", clients=3).events
    finally:
        single.stop()
        threaded.stop()
    assert sorted(e.label for e in one_at_a_time) == ["request 1", "request 2", "request 3"]
    ends = sorted(e.end_ms for e in one_at_a_time)  # from the moment the first was sent
    assert ends[0] >= 300 and ends[1] >= 600 and ends[2] >= 900  # one 300 ms sleep after the other
    assert max(e.end_ms for e in overlapped) < 600  # all three at once (generous: the machine is shared)
    # a handler that computes holds the GIL: the threads take turns, about 3 x 300 ms for all three
    assert min(e.end_ms for e in taking_turns) >= 600 and max(e.end_ms for e in taking_turns) >= 750


def test_the_demo_apps_in_process():
    pat = routing.DEMOS["pat"]()
    assert call(pat, "/hello/Tit")[2] == b"Hello Tit!"
    status, headers, _ = call(pat, "/hey/ummm")
    assert status == 308 and headers["Location"] == "http://127.0.0.1/hey/ummm/"
    assert call(pat, "/")[2] == b"Hello world!"
    mux = routing.DEMOS["mux"]()
    assert [call(mux, p)[0] for p in ("/say", "/say/", "/say/x", "/say/x/", "/say/a/b")] == [200] * 4 + [404]
    assert call(routing.servemux_app, "/hello", "name=Tit")[2] == b"Hello Tit!"
    assert call(routing.servemux_app, "/hello_there")[2] == b"Hello world!"


def test_answers_tabulates_without_following_redirects(demos):
    rows = routing.answers(demos["pat"].url, ["/hey/ummm", "/hello/"])
    assert rows[0] == {
        "path": "/hey/ummm",
        "status": 308,
        "location": f"{demos['pat'].url}/hey/ummm/",
        "body": rows[0]["body"],
    }
    assert rows[0]["body"].endswith("...") and len(rows[0]["body"]) == 40
    assert rows[1]["status"] == 404
    assert routing.answers(demos["hello"].url, ["/"])[0]["body"] == "Hello world!"


def test_server_cpu_sends_batches_until_the_server_has_used_enough_cpu(demos):
    cpu_s, sent = routing.server_cpu(demos["hello"].url + "/", min_cpu_s=0.05, batch=200)
    assert cpu_s >= 0.05 and sent >= 200 and sent % 200 == 0


def test_server_cpu_refuses_errors_and_a_url_without_a_local_server(demos):
    with pytest.raises(ValueError, match="not only 200s"):
        routing.server_cpu(demos["pat"].url + "/anything", min_cpu_s=0.01, batch=10)
    with pytest.raises(ValueError, match="no local server"):
        routing.server_cpu("http://127.0.0.1:9/", min_cpu_s=0.01)

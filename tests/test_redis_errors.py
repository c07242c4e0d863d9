"""Redis's own errors answered as errors, on both server interfaces: an error reply (a key of another type,
a full Redis, a read-only replica, a command the server's ACL user may not run) and a Redis that refuses the
server's password each get their documented status and a message naming the problem and the fix; no data is
lost, the server logs no traceback, and the next request after the cause is fixed succeeds.

Each interface is a real ``serve`` (granian) on a Redis of its own, logged in as an ACL user ``api``; the test
breaks that Redis from an admin connection, asks, and repairs it."""

from __future__ import annotations

import contextlib
import json
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest
import redis

from foundations import apispec, config, net, production
from foundations.ops import services

PASSWORD = "right-password"
# (case, what breaks Redis, request, status, error type, words of the message, what repairs it)
CASES = [
    (
        "wrong-type",
        [("RPUSH", "api:listed", "x")],
        "/get?key=listed",
        409,
        "conflict",
        ["'listed'", "not a string", "delete it"],
        [("DEL", "api:listed")],
    ),
    (
        "full",
        [("CONFIG", "SET", "maxmemory", "1")],
        "/set?key=new&value=v",
        507,
        "insufficient_storage",
        ["is full", "maxmemory"],
        [("CONFIG", "SET", "maxmemory", "0")],
    ),
    (
        "read-only",
        [("REPLICAOF", "127.0.0.1", "1")],
        "/set?key=new&value=v",
        503,
        "service_unavailable",
        ["read-only replica", "the primary"],
        [("REPLICAOF", "NO", "ONE")],
    ),
    (
        "no-permission",
        [("ACL", "SETUSER", "api", "-get")],
        "/get?key=kept",
        503,
        "service_unavailable",
        ["NOPERM", "ACL SETUSER"],
        [("ACL", "SETUSER", "api", "+get")],
    ),
    (
        "wrong-password",
        [("ACL", "SETUSER", "api", "resetpass", ">another"), ("CLIENT", "KILL", "USER", "api")],
        "/get?key=kept",
        503,
        "service_unavailable",
        ["refused the password", "WRONGPASS", "FOUNDATIONS_REDIS_URL"],
        [("ACL", "SETUSER", "api", "resetpass", f">{PASSWORD}")],
    ),
]


@pytest.fixture(scope="module")
def acl_redis(tmp_path_factory) -> Iterator[tuple[config.Config, redis.Redis]]:
    """A Redis of our own with an ACL user ``api`` (every command, every key); the config that logs in as it,
    and an admin client (the default user)."""
    own = config.load(
        argv=[
            "--state-dir",
            str(tmp_path_factory.mktemp("acl-redis")),
            "--redis-url",
            f"redis://127.0.0.1:{net.free_port()}/0",
        ],
        environ={},
    )
    own = services.up(own, ["redis"], local=True, log=lambda line: None)
    admin = redis.Redis.from_url(own.redis_url)
    admin.execute_command("ACL", "SETUSER", "api", "on", f">{PASSWORD}", "~*", "+@all")
    as_api = own.redis_url.replace("redis://", f"redis://api:{PASSWORD}@", 1)
    yield config.load(argv=["--redis-url", as_api, "--redis-timeout", "2"], environ={}), admin
    admin.close()
    services.down(own, log=lambda line: None)


@pytest.fixture(scope="module", params=["wsgi", "rsgi", "loop"])
def served(request, acl_redis) -> Iterator[tuple[production.Server, redis.Redis]]:
    """The API server on ``acl_redis``, behind one interface, with a key ``kept`` set through it."""
    cfg, admin = acl_redis
    with production.start(cfg, "--interface", request.param) as server:
        assert net.http_get(server.url + "/set?key=kept&value=safe") == (200, b'"OK"')
        yield server, admin


@contextlib.contextmanager
def broken(admin: redis.Redis, breaks: list[tuple], repairs: list[tuple]) -> Iterator[None]:
    """Redis broken by ``breaks`` inside the block, repaired by ``repairs`` whatever happens."""
    for command in breaks:
        admin.execute_command(*command)
    try:
        yield
    finally:
        for command in repairs:
            admin.execute_command(*command)


@pytest.mark.parametrize(
    "case, breaks, target, status, kind, words, repairs", CASES, ids=[c[0] for c in CASES]
)
def test_redis_errors_get_their_status_and_the_server_recovers(
    served, case, breaks, target, status, kind, words, repairs
):
    server, admin = served
    with broken(admin, breaks, repairs):  # twice: the first may meet the connection CLIENT KILL closed
        answers = [net.http_get(server.url + target, timeout=10) for _ in range(2)]
    error = json.loads(answers[1][1])["error"]
    assert [got for got, _ in answers] == [status, status] and error["type"] == kind, error["message"]
    assert all(word in error["message"] for word in words), error["message"]
    assert net.http_get(server.url + "/set?key=after&value=ok") == (200, b'"OK"')  # serving again
    assert net.http_get(server.url + "/get?key=kept") == (200, b'"safe"')  # nothing lost
    assert "Traceback" not in server.output()


def put(url: str, body: bytes) -> tuple[int, bytes]:
    """Status and body of a ``PUT`` of ``body`` (text/plain) to ``url``, an error status included."""
    request = urllib.request.Request(url, data=body, method="PUT", headers={"Content-Type": "text/plain"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


# For a PUT: CASES's writes that Redis refuses, without their target, and an ACL user that may not run scripts
PUT_CASES = [
    (case, breaks, status, kind, words, repairs)
    for case, breaks, _, status, kind, words, repairs in CASES
    if case in ("full", "read-only")
] + [
    (
        "no-scripting",
        [("ACL", "SETUSER", "api", "-@scripting")],
        503,
        "service_unavailable",
        ["NOPERM", "'eval'", "+@scripting"],
        [("ACL", "SETUSER", "api", "+@scripting")],
    )
]


@pytest.mark.parametrize(
    "case, breaks, status, kind, words, repairs", PUT_CASES, ids=[c[0] for c in PUT_CASES]
)
def test_a_put_redis_refuses_gets_its_status_and_stores_nothing(
    served, case, breaks, status, kind, words, repairs
):
    """``PUT /keys/{key}`` runs EXISTS and SET as one script (EVAL): a Redis that refuses it (full, a replica,
    an ACL user without scripting) gets its status and message on every interface, and nothing is stored."""
    server, admin = served
    with broken(admin, breaks, repairs):
        answers = [put(server.url + "/keys/refused", b"v") for _ in range(2)]
    error = json.loads(answers[1][1])["error"]
    assert [got for got, _ in answers] == [status, status] and error["type"] == kind, error["message"]
    assert all(word in error["message"] for word in words), error["message"]
    assert admin.exists("api:refused") == 0  # nothing stored
    assert put(server.url + "/keys/refused", b"v") == (201, b'"OK"')  # serving again: created
    admin.delete("api:refused")
    assert "Traceback" not in server.output()


def test_the_document_lists_the_statuses_of_redis_errors():
    spec = apispec.document(1, 1, 1, 1)["paths"]
    assert "409" in spec["/get"]["get"]["responses"] and "409" in spec["/keys/{key}"]["get"]["responses"]
    assert "507" in spec["/set"]["get"]["responses"] and "507" in spec["/keys/{key}"]["put"]["responses"]
    assert "503" in spec["/del"]["post"]["responses"]


def test_healthz_names_a_refused_password(served):
    server, admin = served
    _, breaks, *_, repairs = CASES[-1]  # wrong-password
    with broken(admin, breaks, repairs):
        status, body = net.http_get(server.url + "/healthz", timeout=10)
    assert status == 503 and "refused the password" in json.loads(body)["error"]["message"]
    assert net.http_get(server.url + "/healthz")[0] == 200

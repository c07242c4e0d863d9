"""The health probes say what answered, so that a port taken by another program, or a server that runs but
is not well, is never reported as a healthy service."""

from __future__ import annotations

import contextlib
import http.server
import json
import re
import socket
import socketserver
import subprocess
import sys
import threading
from collections.abc import Iterator

import pytest

from foundations import config, net
from foundations.errors import ServiceError
from foundations.ops import doctor, probe, services


@contextlib.contextmanager
def http_server(status: int, body: bytes) -> Iterator[str]:
    """A server on a free loopback port answering every GET with ``status`` and ``body``: its base URL."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}"
        finally:
            server.shutdown()


def test_the_api_counts_as_up_only_with_its_healthz(cfg):
    assert probe.api_health(cfg.api_url) > 0  # positive control: the run's own API server


@pytest.mark.parametrize(
    "status, body, expected",
    [
        (404, b"<h1>Not Found</h1>", "answers HTTP 404 on /healthz, but not as the API server"),
        (200, b"<html>welcome</html>", "answers HTTP 200 on /healthz, but not as the API server"),
        (200, b'{"status": "starting"}', "answers HTTP 200 on /healthz with"),
        (
            503,
            json.dumps(
                {"error": {"type": "service_unavailable", "message": "Redis does not answer"}}
            ).encode(),
            "API server at 127.0.0.1:.* is unhealthy \\(HTTP 503: Redis does not answer\\)",
        ),
    ],
    ids=["404 page", "html", "json that is not ours", "our 503"],
)
def test_an_api_that_answers_wrongly_is_not_healthy(status, body, expected):
    with http_server(status, body) as url, pytest.raises(ServiceError, match=expected):
        probe.api_health(url)


def test_doctor_fails_on_a_fake_server_on_the_api_port(tmp_path):
    with http_server(404, b"Not Found") as url:
        doctor_cmd = [
            sys.executable,
            "-m",
            "foundations",
            "doctor",
            "--api-url",
            url,
            "--state-dir",
            str(tmp_path),
        ]
        done = subprocess.run(doctor_cmd, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    line = next(line for line in done.stdout.splitlines() if line.split()[1:2] == ["api"])
    assert line.startswith("FAIL") and "HTTP 404" in line and "not as the API server" in line, line


def test_doctor_names_the_api_check_for_what_it_found():
    checks = doctor.run(config.load(argv=["--api-url", "http://127.0.0.1:1"], environ={}), names=("api",))
    api = next(check for check in checks if check.name == "api")
    assert not api.ok and "API server at 127.0.0.1:1 does not answer" in api.detail


def test_an_http_probe_names_the_server_it_looks_for():
    with pytest.raises(ServiceError, match="JupyterLab at 127.0.0.1:1 does not answer"):
        net.http_get("http://127.0.0.1:1/api", what="JupyterLab")


@contextlib.contextmanager
def silent_listener() -> Iterator[int]:
    """A program that accepts connections and says nothing (an HTTP server, Redis): its port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


class _Greeter(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        self.request.sendall(b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n")


def test_mysql_on_a_port_another_program_holds_says_so(cfg):
    assert probe.mysql_ping(cfg.mysql_dsn) > 0  # positive control: the run's own MariaDB
    with (
        silent_listener() as port,
        pytest.raises(ServiceError, match="does not answer as MySQL.*taken by another"),
    ):
        probe.mysql_ping(f"mysql://api:api@127.0.0.1:{port}/api", timeout=0.5)
    with socketserver.TCPServer(("127.0.0.1", 0), _Greeter) as greeter:
        threading.Thread(target=greeter.serve_forever, daemon=True).start()
        port = greeter.server_address[1]
        with pytest.raises(ServiceError, match="does not answer as MySQL.*taken by another"):
            probe.mysql_ping(f"mysql://api:api@127.0.0.1:{port}/api", timeout=0.5)
        greeter.shutdown()


def test_mysql_with_nothing_on_the_port_does_not_answer():
    with pytest.raises(ServiceError, match="MySQL at 127.0.0.1:1 does not answer"):
        probe.mysql_ping("mysql://api:api@127.0.0.1:1/api")


class _PasswordRedis(socketserver.BaseRequestHandler):
    """A Redis with requirepass, reached without the password: every command gets NOAUTH."""

    def handle(self) -> None:
        self.request.recv(64)
        self.request.sendall(b"-NOAUTH Authentication required.\r\n")


def test_a_redis_that_wants_a_password_says_so_not_that_the_port_is_taken():
    with socketserver.TCPServer(("127.0.0.1", 0), _PasswordRedis) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        port = server.server_address[1]
        with pytest.raises(
            ServiceError, match=r"needs a password: put it in the URL, before the host \(user:password@\)"
        ):
            probe.redis_ping(f"redis://127.0.0.1:{port}/0")
        server.shutdown()


def test_the_redis_probe_waits_as_long_as_the_others(monkeypatch):
    """A deadline, not a measurement: a loaded workshop machine gets the 2 s that MySQL and the API get."""
    seen = {}

    def connect(address, timeout):
        seen["timeout"] = timeout
        raise ConnectionRefusedError(111, "Connection refused")

    monkeypatch.setattr(probe.socket, "create_connection", connect)
    with pytest.raises(ServiceError, match="does not answer"):
        probe.redis_ping("redis://127.0.0.1:1/0")
    assert seen["timeout"] == 2.0


def _mysql_packet(seq: int, payload: bytes) -> bytes:
    return len(payload).to_bytes(3, "little") + bytes([seq]) + payload


def _mysql_error(seq: int, code: int, message: str, state: str = "HY000") -> bytes:
    return _mysql_packet(seq, b"\xff" + code.to_bytes(2, "little") + b"#" + state.encode() + message.encode())


# A MySQL 8 greeting (protocol 10, mysql_native_password): enough for PyMySQL to send its login
_CAPABILITIES = 0x8 | 0x200 | 0x8000 | 0x80000  # CONNECT_WITH_DB, PROTOCOL_41, SECURE_CONNECTION, PLUGIN_AUTH
_GREETING = _mysql_packet(
    0,
    b"\x0a8.4.3-fake\x00"
    + (7).to_bytes(4, "little")
    + b"abcdefgh\x00"
    + (_CAPABILITIES & 0xFFFF).to_bytes(2, "little")
    + b"\xff"  # utf8mb4_0900_ai_ci
    + (2).to_bytes(2, "little")
    + (_CAPABILITIES >> 16).to_bytes(2, "little")
    + bytes([21])
    + b"\x00" * 10
    + b"ijklmnopqrst\x00"
    + b"mysql_native_password\x00",
)


@contextlib.contextmanager
def refusing_mysql(code: int, message: str, greet: bool) -> Iterator[int]:
    """A MySQL that refuses with error ``code``: in place of its greeting (1040, 1130, as a real server does
    before any login), or after the login (``greet``: 1049, 1044); its port."""

    class Handler(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            if greet:
                self.request.sendall(_GREETING)
                self.request.recv(1024)  # the client's login
            self.request.sendall(_mysql_error(2 if greet else 0, code, message))

    with socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            yield server.server_address[1]
        finally:
            server.shutdown()


@pytest.mark.parametrize(
    "code, message, greet, expected",
    [
        (
            1040,
            "Too many connections",
            False,
            r"MySQL at 127.0.0.1:\d+ has no connection left \(Too many connections\): close the pools you hold "
            r"\(another notebook's kernel\?\), or raise the server's max_connections",
        ),
        (
            1049,
            "Unknown database 'api'",
            True,
            r"MySQL at 127.0.0.1:\d+ has no database 'api': create it, or fix the DSN's /database part",
        ),
        (
            1130,
            "Host '10.0.0.7' is not allowed to connect to this MySQL server",
            False,
            r"MySQL at 127.0.0.1:\d+ answered with error 1130 \(\"Host '10.0.0.7' is not allowed to connect to "
            r"this MySQL server\"\): ",
        ),
        (
            1044,
            "Access denied for user 'api'@'%' to database 'api'",
            True,
            r"MySQL at 127.0.0.1:\d+ answered with error 1044 \(\"Access denied for user 'api'@'%' to database ",
        ),
    ],
    ids=["too-many-connections", "unknown-database", "host-not-allowed", "no-access-to-the-database"],
)
def test_a_mysql_that_answers_with_an_error_is_told_as_mysql(code, message, greet, expected):
    """The server's own error numbers (1040 in place of the greeting, 1049 after the login) come from MySQL:
    never "the port is taken by another program"."""
    with refusing_mysql(code, message, greet) as port, pytest.raises(ServiceError) as refused:
        probe.mysql_ping(f"mysql://api:api@127.0.0.1:{port}/api", timeout=2)
    assert re.match(expected, str(refused.value)), str(refused.value)
    assert "another program" not in str(refused.value)


class _ErringRedis(socketserver.BaseRequestHandler):
    """A Redis that answers every command with the error reply in ``server.reply``."""

    def handle(self) -> None:
        while self.request.recv(1024):
            self.request.sendall(self.server.reply)  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "reply, password, expected",
    [
        (
            b"-LOADING Redis is loading the dataset in memory\r\n",
            False,
            r'Redis at 127.0.0.1:\d+ answered with an error, "LOADING Redis is loading the dataset in memory": '
            r"it is still loading its data; run this again in a few seconds",
        ),
        (
            b"-ERR max number of clients reached\r\n",
            False,
            r'Redis at 127.0.0.1:\d+ answered with an error, "ERR max number of clients reached": close the '
            r"clients you hold \(another notebook's kernel\?\), or raise its maxclients",
        ),
        (
            b"-ERR max number of clients reached\r\n",
            True,  # the AUTH gets it, not only the PING: not a wrong password
            r'Redis at 127.0.0.1:\d+ answered with an error, "ERR max number of clients reached": close the ',
        ),
        (
            b"-DENIED Redis is running in protected mode because protected mode is enabled\r\n",
            False,
            r'Redis at 127.0.0.1:\d+ answered with an error, "DENIED Redis is running in protected mode ',
        ),
        (
            b"-WRONGPASS invalid username-password pair or user is disabled.\r\n",
            True,
            r"Redis at 127.0.0.1:\d+ refused the password in its URL \(\"WRONGPASS invalid username-password ",
        ),
    ],
    ids=["loading", "max-clients", "max-clients-to-auth", "protected-mode", "wrong-password"],
)
def test_a_redis_that_answers_with_an_error_is_told_as_redis(reply, password, expected):
    """A RESP error reply is Redis answering: quote it, never "not as Redis"."""
    with socketserver.ThreadingTCPServer(("127.0.0.1", 0), _ErringRedis) as server:
        server.reply = reply  # type: ignore[attr-defined]
        threading.Thread(target=server.serve_forever, daemon=True).start()
        port = server.server_address[1]
        url = f"redis://{'api:secret@' if password else ''}127.0.0.1:{port}/0"
        with pytest.raises(ServiceError) as refused:
            probe.redis_ping(url)
        server.shutdown()
    assert re.match(expected, str(refused.value)), str(refused.value)
    assert "not as Redis" not in str(refused.value) and "another program" not in str(refused.value)


def test_the_fix_for_a_server_that_runs_and_refuses_is_not_to_start_it(tmp_path):
    """LOADING, max clients, a wrong password: the server runs, so "services up" would send the learner
    round in a circle; the doctor and a chapter's first cell point at the server's own message instead."""
    with socketserver.ThreadingTCPServer(("127.0.0.1", 0), _ErringRedis) as server:
        server.reply = b"-LOADING Redis is loading the dataset in memory\r\n"  # type: ignore[attr-defined]
        threading.Thread(target=server.serve_forever, daemon=True).start()
        loading = f"redis://127.0.0.1:{server.server_address[1]}/0"
        cfg = config.load(argv=["--state-dir", str(tmp_path), "--redis-url", loading], environ={})
        check = doctor.check_service(cfg, "redis")
        server.shutdown()
    assert not check.ok and "LOADING" in check.detail
    assert "would not help" in check.fix and services.up_command() not in check.fix
    down = config.load(
        argv=["--state-dir", str(tmp_path), "--redis-url", "redis://127.0.0.1:1/0"], environ={}
    )
    assert doctor.check_service(down, "redis").fix == services.up_command()  # down: starting it is the fix

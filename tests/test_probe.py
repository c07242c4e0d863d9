"""The health probes say what answered, so that a port taken by another program, or a server that runs but
is not well, is never reported as a healthy service."""

from __future__ import annotations

import contextlib
import http.server
import json
import socket
import socketserver
import subprocess
import sys
import threading
from collections.abc import Iterator

import pytest

from foundations import config, net
from foundations.errors import ServiceError
from foundations.ops import doctor, probe


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

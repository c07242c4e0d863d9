"""Chapter 11 scale-out, HTTP side: Debian's nginx in front of two local API servers, as compose's `scale`
profile runs it with containers. Requests reach both servers, and keep being answered when one is killed.

The nginx configuration is docker/nginx.conf's, with the container-only parts (Docker's DNS resolver,
``resolve`` on a service name, port 80, /var/log) swapped for two loopback upstreams and a temp directory.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time

import pytest
import redis

from foundations import bench, net, pids, processes, production
from foundations.ops import packages

ROOT = production.config.REPO_ROOT
NGINX = packages.which("nginx")
pytestmark = pytest.mark.skipif(
    NGINX is None, reason="nginx not installed: sudo apt-get install -y nginx-light (.ci/run does)"
)


def local_conf(compose_conf: str, prefix: str, port: int, upstreams: list[str]) -> str:
    """docker/nginx.conf rewritten for loopback processes; fails loudly if its shape changed."""
    conf = compose_conf
    replacements = [
        (r"worker_processes auto;", f"worker_processes 1;\ndaemon off;\npid {prefix}/nginx.pid;"),
        (r"access_log /var/log/nginx/access.log;", f"access_log {prefix}/access.log;"),
        (
            r"error_log /var/log/nginx/error.log warn;",
            f"error_log {prefix}/error.log warn;\n"
            f"    client_body_temp_path {prefix}/body; proxy_temp_path {prefix}/proxy;\n"
            f"    fastcgi_temp_path {prefix}/fastcgi; uwsgi_temp_path {prefix}/uwsgi; scgi_temp_path {prefix}/scgi;",
        ),
        (r"\n\s*resolver 127\.0\.0\.11[^;]*;", ""),
        (
            r"server api-replica:8080 resolve;",
            " ".join(f"server {u} max_fails=1 fail_timeout=5s;" for u in upstreams),
        ),
        (r"listen 80;", f"listen 127.0.0.1:{port};"),
    ]
    for pattern, replacement in replacements:
        conf, found = re.subn(pattern, replacement, conf)
        assert found == 1, f"docker/nginx.conf no longer has {pattern!r}; update this test with it"
    return conf


@pytest.fixture
def two_apis(cfg, tmp_path):
    # Metrics directories of our own: a SIGKILLed server cannot clean up the one serve would make.
    with (
        production.start(cfg, "--metrics-dir", str(tmp_path / "m1")) as first,
        production.start(cfg, "--metrics-dir", str(tmp_path / "m2")) as second,
    ):
        yield [first, second]


@pytest.fixture
def nginx(two_apis, tmp_path):
    port = net.free_port()
    conf = tmp_path / "nginx.conf"
    conf.write_text(
        local_conf(
            (ROOT / "docker" / "nginx.conf").read_text(),
            str(tmp_path),
            port,
            [a.url.removeprefix("http://") for a in two_apis],
        )
    )
    checked = subprocess.run(
        [NGINX, "-t", "-c", str(conf), "-p", str(tmp_path), "-e", str(tmp_path / "err.log")],
        capture_output=True,
        text=True,
    )
    assert checked.returncode == 0, checked.stderr
    pid = pids.spawn(
        [NGINX, "-c", str(conf), "-p", str(tmp_path), "-e", str(tmp_path / "err.log")], tmp_path / "out.log"
    )
    url = f"http://127.0.0.1:{port}"
    pids.wait_until(
        lambda: net.http_get(url + "/nginx-health"),
        pid,
        f"nginx on 127.0.0.1:{port}",
        tmp_path / "error.log",
    )
    yield url
    pids.stop(pid, "nginx")


def served(api: processes.Server) -> int:
    return production.debug_vars(api.url)["registry.get"]


def test_requests_reach_both_servers_and_survive_one_dying(cfg, two_apis, nginx):
    redis.Redis.from_url(cfg.redis_url).set("api:t11-lb", "balanced")
    statuses = bench.load(nginx + "/get?key=t11-lb", requests=200, concurrency=4, keepalive=False).statuses
    assert statuses == {200: 200}
    counts = [served(a) for a in two_apis]
    assert sum(counts) == 200 and min(counts) >= 50, counts  # round-robin: roughly half each

    os.killpg(two_apis[0].pid, signal.SIGKILL)  # no goodbye: the process manager's worst case
    deadline = time.monotonic() + 10
    while net.port_open("127.0.0.1", two_apis[0].port, timeout=0.1):  # its worker dies a moment later
        assert time.monotonic() < deadline, "the killed API still listens"
        time.sleep(0.05)
    statuses = bench.load(nginx + "/get?key=t11-lb", requests=100, concurrency=4, keepalive=False).statuses
    # a request refused by the dead server is retried (proxy_next_upstream); max_fails=1 then skips that server
    assert statuses == {200: 100}, statuses
    assert served(two_apis[1]) == counts[1] + 100


def test_local_conf_refuses_a_changed_compose_conf():
    with pytest.raises(AssertionError, match="no longer has"):
        local_conf("events {}\n", "/tmp/x", 1, ["127.0.0.1:2"])


@pytest.mark.parametrize("path", ["/debug/vars", "/metrics"])
def test_debug_endpoints_are_refused_through_the_proxy_and_served_directly(two_apis, nginx, path):
    # nginx runs on the same host, so the API sees a loopback client: only the forwarding header tells
    status, body = net.http_get(nginx + path)
    assert status == 404 and b"no route for" in body
    assert net.http_get(nginx + "/hello")[0] == 200  # the proxy itself works
    assert net.http_get(two_apis[0].url + path)[0] == 200


def test_debug_vars_shows_no_password_of_the_command_line(cfg):
    with production.start(cfg, "--debug-token", "s3cret-pw") as api:  # a secret that serve takes
        cmdline = production.debug_vars(api.url)["cmdline"]
    assert cmdline[cmdline.index("--debug-token") + 1] == "***"
    assert "s3cret-pw" not in " ".join(cmdline)

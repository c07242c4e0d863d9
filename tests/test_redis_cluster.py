"""Chapter 11 scale-out, Redis side: the registry and its API on a real three-node Redis Cluster.

The book's advice for Redis beyond one server, made runnable without Docker: three ``redis-server
--cluster-enabled yes`` on free ports, joined by ``redis-cli --cluster create``; the API picks redis-py's
cluster client because the configuration says ``redis_cluster = true``.
"""

from __future__ import annotations

import dataclasses
import json
import random
import shutil
import subprocess
import time

import pytest
import redis
from werkzeug.test import Client

from foundations import net, pids, redisdb
from foundations.ops import packages, probe
from foundations.registry import NotFound, Registry
from foundations.server import create_app

pytestmark = pytest.mark.skipif(
    not (packages.which("redis-server") and shutil.which("redis-cli")),
    reason="redis-server/redis-cli not installed: sudo apt-get install -y redis-server",
)


def _cluster_port() -> int:
    """A free port whose cluster-bus port (+10000) is free too, both below Linux's ephemeral range (32768 up):
    a kernel-picked port's bus port could be taken by some client's outgoing connection before the node binds
    it (CI saw "bind: Address already in use" on the bus port)."""
    for _ in range(100):
        port = random.randrange(12000, 22000)
        if _free(port) and _free(port + 10000):
            return port
    raise RuntimeError("no free port pair for a cluster node")


def _free(port: int) -> bool:
    return not net.port_open("127.0.0.1", port, timeout=0.1)


def call(app, path: str) -> tuple[int, bytes]:
    """One WSGI GET to ``app``: status and body."""
    response = Client(app).get(path)
    return response.status_code, response.data


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """Three primaries, no replicas; the seed URL of the first node. Stopped by PID afterwards."""
    root = tmp_path_factory.mktemp("cluster")
    ports, started = [], []
    try:
        for _ in range(3):
            port = _cluster_port()
            node = root / str(port)
            node.mkdir()
            cmd = [
                packages.which("redis-server"),
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--cluster-enabled",
                "yes",
                "--cluster-config-file",
                str(node / "nodes.conf"),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(node),
            ]
            started.append(pids.spawn(cmd, node / "redis.log"))
            url = f"redis://127.0.0.1:{port}/0"
            pids.wait_until(
                lambda url=url: probe.redis_ping(url), started[-1], f"cluster node {port}", node / "redis.log"
            )
            ports.append(port)
        created = subprocess.run(
            [
                "redis-cli",
                "--cluster",
                "create",
                *(f"127.0.0.1:{p}" for p in ports),
                "--cluster-replicas",
                "0",
                "--cluster-yes",
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert created.returncode == 0, created.stdout + created.stderr
        seed = f"redis://127.0.0.1:{ports[0]}/0"
        deadline = time.monotonic() + 20
        while redis.Redis.from_url(seed).cluster("info").get("cluster_state") != "ok":
            assert time.monotonic() < deadline, "cluster did not reach state ok"
            time.sleep(0.1)
        yield seed, ports
    finally:
        for pid in started:
            pids.stop(pid, "redis-server")


@pytest.fixture
def registry(cluster):
    client = redisdb.cluster(cluster[0])
    reg = Registry(client, prefix="t11c", page_size=5)
    yield reg
    for key in client.keys("t11c:*"):
        client.delete(key)
    client.close()


def test_set_get_del_across_nodes(registry, cluster):
    for i in range(40):
        registry.set(f"k{i}", f"v{i}")
    assert [registry.get(f"k{i}") for i in range(40)] == [f"v{i}" for i in range(40)]
    per_node = [redis.Redis(port=p).dbsize() for p in cluster[1]]
    assert all(n > 0 for n in per_node) and sum(per_node) == 40, per_node  # spread over all three
    assert registry.delete("k0") is True and registry.delete("k0") is False
    with pytest.raises(NotFound):
        registry.get("k0")


def test_put_says_whether_it_created_the_key_on_any_node(registry):
    """``put``'s script names its one key, so redis-py's cluster client sends it to that key's node."""
    assert [registry.put(f"p{i}", "new") for i in range(12)] == [True] * 12
    assert [registry.put(f"p{i}", "replaced") for i in range(12)] == [False] * 12
    assert [registry.get(f"p{i}") for i in range(12)] == ["replaced"] * 12


def test_get_all_both_ways_see_every_node(registry):
    pairs = {f"k{i}": f"v{i}" for i in range(40)}
    for key, value in pairs.items():
        registry.set(key, value)
    assert registry.get_all() == pairs  # SCAN walks each primary (pages of 5), MGET per slot
    assert registry.get_all_book() == pairs  # KEYS asked of every primary, then one GET per key


def test_scan_cursor_walks_every_primary(registry):
    for i in range(30):
        registry.set(f"s{i}", "x")
    client, seen, cursor, calls = registry.client, set(), 0, 0
    while True:
        cursor, keys = client.scan(cursor, match="t11c:s*", count=4)
        seen.update(keys)
        calls += 1
        if cursor == 0:
            break
    assert len(seen) == 30 and calls >= 3


def test_api_on_the_cluster_selected_by_config(cfg, cluster):
    cluster_cfg = dataclasses.replace(cfg, redis_url=cluster[0], redis_cluster=True)
    app = create_app(cluster_cfg)
    assert call(app, "/healthz")[0] == 200
    for i in range(12):
        assert call(app, f"/set?key=t11api{i}&value={i}")[0] == 200
    status, body = call(app, "/get?key=t11api3")
    assert (status, json.loads(body)) == (200, "3")
    status, body = call(app, "/getAll")
    assert status == 200 and {f"t11api{i}" for i in range(12)} <= set(json.loads(body))
    assert app.metrics.totals()["registry.set"] == 12
    for i in range(12):
        call(app, f"/del?key=t11api{i}")


def test_cluster_down_is_one_line_with_the_fix():
    with pytest.raises(redisdb.ServiceError, match=r"127\.0\.0\.1:1 .*redis_cluster=false"):
        redisdb.cluster("redis://127.0.0.1:1/0", timeout=0.2)

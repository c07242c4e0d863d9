"""The workshop's container backend, attacked for real: participant A, from their own kernel (reached through
the hub, as their browser does), tries everything of participant B's: Redis, the API server, the database,
the kernel's channels, files, the hub's routes, a port B's notebook has just freed, and a link planted
before ``release-solutions``. Every attempt is refused; positive controls show each probe works (A reaches
A's own services, the same probe from B's container reaches B's).

It needs root, a Docker engine and the offline image set (``make docker-images``): .ci/docker runs it after
building them. Elsewhere: ``pytest tests/docker_workshop.py`` (skipped, with the reason, when one is missing;
a failure under FOUNDATIONS_REQUIRE_ALL=1).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace

import pytest
import requests

from foundations.workshop import containers, learner
from foundations.workshop.remote import Learner
from foundations.workshop.room import Room, unused_port

NB00, NB07 = (f"{learner.COURSE_DIR}/notebooks/{nb}.ipynb" for nb in ("00_index", "07_redis"))
CODE = f"room-{secrets.token_hex(3)}-42"
# Run in A's kernel and in B's container: each attempt "reached" or "refused (why)", as one JSON line.
PROBE = """
import json, os, socket, urllib.request
from urllib.parse import urlsplit
import pymysql, redis
from foundations import config
cfg = config.load([])

def tcp(host, port):
    socket.create_connection((host, port), timeout=3).close()

def redis_ping(url):
    redis.Redis.from_url(url, socket_timeout=3, socket_connect_timeout=3).ping()

def sql(dsn, user=None, database=None):
    u = urlsplit(dsn)
    pymysql.connect(host=u.hostname, port=u.port or 3306, user=user or u.username, password=u.password or "",
                    database=database or u.path.lstrip("/"), connect_timeout=3).close()

def http(url, token=""):
    headers = {"Authorization": f"token {token}"} if token else {}
    urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=5).close()

def attempts(tries):
    out = {}
    for name, (fn, *args) in tries.items():
        try:
            fn(*args)
            out[name] = "reached"
        except (OSError, redis.ConnectionError, redis.TimeoutError, pymysql.OperationalError) as exc:
            out[name] = f"refused ({type(exc).__name__}: {str(exc)[:100]})"  # anything else is a bug here
    print(json.dumps(out))
"""
OWN = """attempts({
    "redis": (redis_ping, cfg.redis_url), "redis1": (redis_ping, cfg.redis1_url),
    "redis2": (redis_ping, cfg.redis2_url), "api": (http, cfg.api_url + "/healthz"), "db": (sql, cfg.mysql_dsn),
})"""


def _skip_reason() -> str:
    if os.geteuid() != 0:
        return "the container backend needs root"
    if not containers.engine_answers():
        return "no Docker engine answers (start dockerd)"
    if missing := containers.missing_images():
        return f"no image {', '.join(missing)}: make docker-images"
    return ""


def workshop(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "foundations", "workshop", *args], capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


class Participant:
    def __init__(self, room: Room, url: str, name: str):
        self.room, self.name = room, name
        self.learner = Learner(url, name)
        self.container = f"{containers.prefix(room)}-{name}"

    @property
    def ip(self) -> str:
        return containers.docker(
            "inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", self.container
        )

    @property
    def home(self) -> Path:
        return containers.home(self.room, self.name)

    def inside(self, code: str) -> dict:
        """Run ``PROBE`` + ``code`` in a process of this participant's container; its JSON line."""
        out = containers.docker("exec", "-i", self.container, "python", "-", stdin=PROBE + code)
        return json.loads(out.splitlines()[-1])

    def kernel_ports(self) -> set[int]:
        """The ports of the kernel(s) running in this participant's container."""
        files = self.inside(
            "import glob; print(json.dumps([json.load(open(f)) for f in "
            "glob.glob(os.path.expanduser('~/.local/share/jupyter/runtime/kernel-*.json'))]))"
        )
        keys = ("shell_port", "iopub_port", "stdin_port", "control_port", "hb_port")
        return {f[key] for f in files for key in keys}


def in_kernel(kernel, code: str) -> dict:
    assert kernel.execute(code) is None
    return json.loads(kernel.stdout.splitlines()[-1])


def refused(results: dict) -> dict:
    """The attempts that were not refused (an attack that worked)."""
    return {name: outcome for name, outcome in results.items() if not outcome.startswith("refused")}


@pytest.fixture(scope="module")
def room():
    """Three participants, A, B and C, signed in at once, their servers started; A and B each with a kernel
    running PROBE (C is the third of the room that runs notebook 07 at once)."""
    if reason := _skip_reason():
        pytest.skip(reason)
    root = Path(tempfile.mkdtemp(prefix="workshop-docker-"))
    names = [f"{letter}{secrets.token_hex(3)}" for letter in "abc"]
    port = unused_port()
    url = f"http://127.0.0.1:{port}"
    try:
        workshop(
            "up", "--backend", "docker", "--dir", str(root), "--participants", ",".join(names),
            "--code", CODE, "--port", str(port),
        )  # fmt: skip
        a, b, c = (Participant(Room(root), url, name) for name in names)
        started = time.perf_counter()
        with ThreadPoolExecutor(3) as pool:
            list(pool.map(lambda p: p.learner.sign_in(f"{p.name}-password", code=CODE), (a, b, c)))
            try:
                list(pool.map(lambda p: p.learner.start_server(timeout=400), (a, b, c)))
            except Exception:
                print("the hub's log:\n" + "\n".join(Room(root).log_path.read_text().splitlines()[-60:]))
                raise
        with a.learner.kernel(NB00) as ka, b.learner.kernel(NB00) as kb:  # 07 has sessions of its own
            assert ka.execute(PROBE) is None and kb.execute(PROBE) is None
            took = time.perf_counter() - started
            print(f"\ncontainers: sign-in to a first cell run, 3 participants at once: {took:.1f} s")
            yield SimpleNamespace(room=Room(root), url=url, a=a, b=b, c=c, ka=ka, kb=kb)
    finally:
        workshop("down", "--dir", str(root))
        label = f"label={containers.LABEL}={root}"
        left = {
            kind: containers.docker(
                kind, "ls", "-q", "--filter", label, *(["-a"] if kind == "container" else [])
            )
            for kind in ("container", "network", "volume")
        }
        shutil.rmtree(root, ignore_errors=True)
        assert not any(left.values()), f"`workshop down` left {left} behind"


def test_a_reaches_their_own_services_and_none_of_bs(room):
    b, ka = room.b, room.ka
    assert not [o for o in in_kernel(ka, OWN).values() if o != "reached"]
    assert not [o for o in b.inside(OWN).values() if o != "reached"]  # the same probe, from B's container
    ip = b.ip
    theirs = in_kernel(
        ka,
        f"""attempts({{
        "B's redis": (tcp, {ip!r}, 6390), "B's redis1": (tcp, {ip!r}, 6391), "B's redis2": (tcp, {ip!r}, 6392),
        "B's api": (tcp, {ip!r}, 8080), "B's server": (tcp, {ip!r}, 8888),
        "B's database with A's login": (sql, cfg.mysql_dsn, None, {b.name!r}),
        "B's login with A's password": (sql, cfg.mysql_dsn, {b.name!r}, {b.name!r}),
        "the book's api/api": (sql, cfg.mysql_dsn.replace(cfg.mysql_dsn.split("@")[0], "mysql://api:api"), None, "api"),
        "root without a password": (sql, "mysql://root@db:3306/mysql"),
    }})""",
    )
    assert refused(theirs) == {}, theirs
    print("\n".join(f"{k}: {v}" for k, v in theirs.items()))
    # Controls: B's server port is open on B's address, for B and for the hub on the host.
    assert b.inside(f"attempts({{'server': (tcp, {ip!r}, 8888)}})") == {"server": "reached"}
    with socket.create_connection((ip, 8888), timeout=5):
        pass


def test_bs_kernel_channels_are_out_of_as_reach(room):
    a, b, ka = room.a, room.b, room.ka
    ports = b.kernel_ports() - a.kernel_ports()  # a port A's own kernel happens to use is A's
    assert len(ports) >= 5
    tries = {f"{host}:{port}": ("tcp", host, port) for port in ports for host in ("127.0.0.1", b.ip)}
    code = "attempts({" + ", ".join(f"{k!r}: (tcp, {h!r}, {p})" for k, (_, h, p) in tries.items()) + "})"
    assert refused(in_kernel(ka, code)) == {}
    control = b.inside("attempts({" + ", ".join(f"'{p}': (tcp, '127.0.0.1', {p})" for p in ports) + "})")
    assert set(control.values()) == {"reached"}, control


def test_a_sees_neither_bs_files_nor_bs_processes(room):
    b, ka = room.b, room.ka
    secret = f"secret-{secrets.token_hex(4)}"
    containers.docker("exec", b.container, "sh", "-c", f"echo {secret} > $HOME/{secret}")
    find = f"import subprocess; print(json.dumps(subprocess.run(['find', '/', '-path', '/proc', '-prune', '-o', '-name', {secret!r}, '-print'], capture_output=True, text=True).stdout.split()))"
    assert in_kernel(ka, find) == []
    assert (b.home / secret).exists()  # control: it is there, in B's home
    redis_servers = "print(json.dumps(sum('redis-server' in open(f'/proc/{p}/cmdline').read() for p in os.listdir('/proc') if p.isdigit())))"
    assert in_kernel(ka, redis_servers) == 3  # A's own three; B's three run too, out of sight


def test_the_hub_serves_b_only_to_b(room):
    url, a, b, ka = room.url, room.a, room.b, room.ka
    contents = f"{url}/user/{b.name}/api/contents"
    with_a = requests.get(contents, headers={"Authorization": f"token {a.learner.token}"}, timeout=30)
    with_b = requests.get(contents, headers={"Authorization": f"token {b.learner.token}"}, timeout=30)
    assert (with_a.status_code, with_b.status_code) == (403, 200)
    hub_api = f"""attempts({{
        "B at the hub's API": (http, os.environ["JUPYTERHUB_API_URL"] + "/users/{b.name}", os.environ["JUPYTERHUB_API_TOKEN"]),
        "B's server with A's token": (http, "http://{b.ip}:8888/user/{b.name}/api/contents", os.environ["JUPYTERHUB_API_TOKEN"]),
    }})"""
    assert refused(in_kernel(ka, hub_api)) == {}
    own = 'attempts({"own user": (http, os.environ["JUPYTERHUB_API_URL"] + "/user", os.environ["JUPYTERHUB_API_TOKEN"])})'
    assert in_kernel(ka, own) == {"own user": "reached"}


def test_a_port_b_frees_is_not_a_port_a_can_take(room):
    a, ka, kb = room.a, room.ka, room.kb
    assert kb.execute('from foundations.ops import services\nservices.down(cfg, ["redis2"])') is None
    # A frees their own 6392 too and listens there on every address: B's client must never find it.
    take = """from foundations.ops import services
services.down(cfg, ["redis2"])
taken = socket.create_server(("0.0.0.0", urlsplit(cfg.redis2_url).port))
taken.settimeout(5)
print(json.dumps("listening"))"""
    assert in_kernel(ka, take) == "listening"
    try:
        freed = in_kernel(kb, 'attempts({"redis2": (redis_ping, cfg.redis2_url)})')
        assert "Connection refused" in freed["redis2"], freed
        assert refused(in_kernel(kb, f'attempts({{"A\'s address": (tcp, {a.ip!r}, 6392)}})')) == {}
        nobody = "try:\n    taken.accept(); print(json.dumps('connected'))\nexcept socket.timeout:\n    print(json.dumps('nobody'))"
        assert in_kernel(ka, nobody) == "nobody"
    finally:
        in_kernel(ka, 'taken.close(); services.up(cfg, ["redis2"], local=True); print(json.dumps(0))')
        assert kb.execute('services.up(cfg, ["redis2"], local=True)') is None
    assert in_kernel(kb, 'attempts({"redis2": (redis_ping, cfg.redis2_url)})') == {"redis2": "reached"}
    assert in_kernel(ka, 'attempts({"redis2": (redis_ping, cfg.redis2_url)})') == {"redis2": "reached"}


def test_release_solutions_follows_no_link_a_planted(room, tmp_path):
    a, b, ka = room.a, room.b, room.ka
    home_before = set(os.listdir(b.home))
    closed = tmp_path / "root-owned"
    closed.mkdir(mode=0o755)
    for target in (b.home, closed):  # another participant's home, then a folder of root's
        plant = f"import os; p = {containers.HOME + '/' + learner.COURSE_DIR + '/notebooks/solutions'!r}\nos.path.islink(p) and os.unlink(p); os.symlink({str(target)!r}, p); print(json.dumps(os.path.islink(p)))"
        assert in_kernel(ka, plant) is True
        said = workshop("release-solutions", "--dir", str(room.room.root))
        assert f"{a.name}: not copied" in said and f"{b.name}: solutions copied" in said, said
    assert sorted(closed.iterdir()) == [] and closed.stat().st_uid == 0
    assert set(os.listdir(b.home)) == home_before  # nothing copied into B's home itself
    solutions = b.home / learner.COURSE_DIR / "notebooks" / "solutions"
    assert any(solutions.iterdir()) and solutions.stat().st_uid == containers.UID  # control: B got theirs


def test_the_board_follows_no_link_a_planted(room):
    """The board (root, on the host) reads each one's progress from their volume: A's progress file as a
    link to B's, then as a FIFO, shows nothing passed for A and blocks nothing; B's own shows."""
    a, b, ka = room.a, room.b, room.ka
    record = """{"07.key_router": {"passed": true, "attempts": 1, "at": "2026-12-01T09:00:00Z"}}"""
    containers.docker(
        "exec",
        b.container,
        "sh",
        "-c",
        f"mkdir -p ~/.foundations && echo '{record}' > ~/.foundations/progress.json",
    )
    for plant in (f"os.symlink({str(b.home / '.foundations' / 'progress.json')!r}, p)", "os.mkfifo(p)"):
        code = f"""p = os.path.expanduser("~/.foundations/progress.json")
os.makedirs(os.path.dirname(p), exist_ok=True)
os.path.lexists(p) and os.unlink(p)
{plant}
print(json.dumps(os.path.lexists(p)))"""
        assert in_kernel(ka, code) is True
        said = workshop("status", "--dir", str(room.room.root))
        passed = dict(re.findall(rf"^({a.name}|{b.name})\s+running\s+(\d+)/", said, re.MULTILINE))
        assert passed == {a.name: "0", b.name: "1"}, said


def test_three_participants_run_notebook_07_at_once_each_in_their_container(room):
    """07 stops and restarts each one's redis2, fills their Redis and reads their API server."""
    everyone = (room.a, room.b, room.c)
    with ThreadPoolExecutor(3) as pool:
        runs = list(pool.map(lambda p: p.learner.run_notebook(NB07), everyone))
    for someone, cells in zip(everyone, runs):
        assert [c.error for c in cells if c.error] == [], someone.name
        assert len(cells) > 15 and "cell-36" in [c.cell_id for c in cells]  # 07's redis2 stop/start ran

"""A workshop in a room, for real: JupyterHub with three participants (system users when the test runs as
root with a Python every user can run, as `workshop up` needs; a dry run otherwise), each signed in through
the hub's login form, each running notebook 07 on their own
server at the same time (07 stops and restarts *their* redis2), none seeing another's data, the progress
board showing them, and a stopped server leaving no process behind.

It needs Redis, MariaDB, Node.js and npm (``.ci/run`` installs them); nothing here is skipped.
"""

from __future__ import annotations

import asyncio
import json
import os
import pwd
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import types
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from foundations import config as fconfig
from foundations import net, pids, state
from foundations.course import exercises, progress
from foundations.errors import ServiceError
from foundations.ops import packages, services
from foundations.workshop import auth, board, command, learner, participant, proxy
from foundations.workshop import hub as hub_module
from foundations.workshop.remote import Learner
from foundations.workshop.room import Room, Settings, parse_participants, unused_port

# System users need root and an interpreter they can reach (a venv of a Python under /root is not).
AS_ROOT = os.geteuid() == 0 and not hub_module.closed_to_others()
if os.environ.get("FOUNDATIONS_WORKSHOP_AS_USERS") == "1" and not AS_ROOT:  # CI's run as system users
    raise RuntimeError(
        "FOUNDATIONS_WORKSHOP_AS_USERS=1, but this run would be a dry run: run as root, from a checkout and a "
        f"venv every user may enter (closed to others: {[str(p) for p in hub_module.closed_to_others()]})"
    )
NB07 = f"{learner.COURSE_DIR}/notebooks/07_redis.ipynb"  # in a participant's home
CODE = f"room-{secrets.token_hex(3)}-42"  # strong enough for code.code_problem


def workshop(*args: str) -> subprocess.CompletedProcess:
    done = subprocess.run(
        [sys.executable, "-m", "foundations", "workshop", *args], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    return done


@pytest.fixture(scope="module")
def hub():
    """A running hub: (room, url, names, seconds `workshop up` took); down and users removed afterwards.
    The room is not under pytest's own temporary folder: that one is 0700, and as root `services` runs
    MariaDB as its own user, who must be able to reach its data directory inside the room."""
    names = [f"ws{secrets.token_hex(3)}" for _ in range(3)]
    root = Path(tempfile.mkdtemp(prefix="workshop-test-"))
    port = unused_port()
    started = time.perf_counter()
    try:
        workshop(
            "up",
            "--dir",
            str(root),
            "--participants",
            ",".join(names),
            "--code",
            CODE,
            "--port",
            str(port),
            *(["--backend", "users"] if AS_ROOT else ["--dry-run"]),
        )
        yield Room(root), f"http://127.0.0.1:{port}", names, started
    finally:
        workshop("down", "--dir", str(root))
        left = [name for name in names if AS_ROOT and _user_exists(name)] + [str(root)] * root.exists()
        for name in names if AS_ROOT else []:
            try:
                uid = pwd.getpwnam(name).pw_uid
            except KeyError:
                continue
            for pid in _processes_of(uid):  # only after a failure: the test users' leftovers, by PID
                os.kill(pid, signal.SIGKILL)
            subprocess.run(["userdel", "--remove", name], capture_output=True)
        shutil.rmtree(root, ignore_errors=True)
        assert not left, f"`workshop down` left {left} behind"


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def own_processes(who: participant.Participant) -> dict[str, int]:
    return {name: proc["pid"] for name, proc in state.read_raw(who.state_dir).get("processes", {}).items()}


@pytest.mark.slow
def test_three_participants_run_notebook_07_at_once_each_on_their_own_services(hub):
    room, url, names, started = hub
    learners = [Learner(url, name) for name in names]
    with pytest.raises(ServiceError, match="not this workshop's code"):  # a first sign-in needs the code
        learners[0].sign_in("a-good-password", code="wrong")
    with pytest.raises(ServiceError, match="not on the participant list"):  # said only to who has the code
        Learner(url, "stranger").sign_in("a-good-password", code=CODE)
    with pytest.raises(ServiceError, match="at least 8 characters"):
        learners[0].sign_in("short", code=CODE)
    for someone in learners:
        someone.sign_in(f"{someone.name}-password", code=CODE)
    with pytest.raises(ServiceError, match="signed in before with another password"):  # the name is claimed
        Learner(url, names[0]).sign_in("another-password", code=CODE)
    for name in (names[0], "stranger"):  # without the code: the same words, claimed name or unknown one
        with pytest.raises(ServiceError, match="Name or password not recognised"):
            Learner(url, name).sign_in("another-password")
    Learner(url, names[0]).sign_in(f"{names[0]}-password")  # later sign-ins: no code

    with ThreadPoolExecutor(3) as pool:
        list(pool.map(Learner.start_server, learners))
        first_cell = learners[0].kernel(NB07)
        with first_cell:
            assert first_cell.execute("print('hello')") is None
        up_to_first_cell = time.perf_counter() - started
        runs = list(pool.map(lambda someone: someone.run_notebook(NB07), learners))
    print(
        f"\n{'system users' if AS_ROOT else 'dry run'}: `workshop up` to a participant's first cell: "
        f"{up_to_first_cell:.1f} s"
    )
    for someone, cells in zip(learners, runs):
        assert [c.error for c in cells if c.error] == [], someone.name
        assert len(cells) > 15 and "cell-36" in [c.cell_id for c in cells]  # 07's redis2 stop/start ran

    who = [participant.Participant.of(room, name, room.settings()) for name in names]
    copies = {learner.course_path(p) for p in who}
    assert len(copies) == 3 and all((c / "notebooks" / "07_redis.ipynb").exists() for c in copies)
    assert not any((c / "notebooks" / "solutions").exists() for c in copies)
    if AS_ROOT:
        uids = {p.uid for p in who}
        assert uids == {pwd.getpwnam(n).pw_uid for n in names} and 0 not in uids

    # One participant's data is invisible to the others: Redis keys and their MariaDB database.
    secret = "from " + names[0]
    with learners[0].kernel(NB07) as kernel:
        assert (
            kernel.execute(
                _SETUP + f"r.set('ws:secret', {secret!r})\n"
                "db.cursor().execute('CREATE TABLE IF NOT EXISTS notes (t TEXT)')\n"
                "assert r.get('ws:secret') == " + repr(secret.encode())
            )
            is None
        )
    endpoints = state.read_raw(who[0].state_dir)["endpoints"]
    passwords = {urlsplit(endpoints[key]).password for key in ("redis_url", "redis1_url", "redis2_url")}
    assert len(passwords) == 3, "one password per Redis: a squatter on a freed port learns only that one's"
    their_redis = urlsplit(endpoints["redis_url"]).port
    for someone in learners[1:]:
        with someone.kernel(NB07) as kernel:
            assert (
                kernel.execute(
                    _SETUP + "assert r.get('ws:secret') is None\n"
                    "import redis\n"
                    "try:\n"
                    f"    redis.Redis(port={their_redis}).get('ws:secret')\n"
                    "except redis.exceptions.RedisError as exc:\n"
                    # NOAUTH, or (redis-py 8) HELLO refused
                    "    assert 'authenticat' in str(exc).lower(), exc\n"
                    "else:\n"
                    "    raise AssertionError('reached another participant s Redis')\n"
                    "assert r.dbsize() == 0, r.keys()\n"
                    "import pymysql\n"
                    "try:\n"
                    f"    db.cursor().execute('SELECT * FROM `{names[0]}`.notes')\n"
                    "except pymysql.err.OperationalError as exc:\n"
                    "    assert exc.args[0] in (1044, 1142), exc\n"
                    "else:\n"
                    "    raise AssertionError('read another participant s table')"
                )
                is None
            )

    # Kernels talk over Unix sockets in a 0700 folder of their participant's: no loopback port another user
    # reaches, none two servers starting kernels at once both pick. Participant 0's kernel connects to its own
    # shell socket (the positive control); the others' are refused as system users (in a dry run they are all
    # the hub's user, and connect).
    with learners[0].kernel(NB07) as kernel:
        assert kernel.execute(_OWN_SHELL + _connect("shell")) is None
        their_shell, reached = kernel.stdout.split()
        assert reached == "connected" and their_shell.startswith("/tmp/jr-"), kernel.stdout
        for someone in learners[1:]:
            with someone.kernel(NB07) as other:
                assert other.execute(_OWN_SHELL + _connect(repr(their_shell))) is None
                own_shell, reached = other.stdout.split()
                assert reached == ("refused" if AS_ROOT else "connected"), (someone.name, their_shell)
                assert Path(own_shell).parent != Path(their_shell).parent
    runtime = Path(their_shell).parent.stat()
    assert runtime.st_mode & 0o077 == 0 and runtime.st_uid == (who[0].uid if AS_ROOT else os.geteuid())
    last_runtime = Path(own_shell).parent  # participant 2's: removed when their server stops

    # Solutions after release only; a check's result lands on the board.
    workshop("release-solutions", "--dir", str(room.root))
    assert all((c / "notebooks" / "solutions" / "ch07.py").exists() for c in copies)
    with learners[0].kernel(NB07) as kernel:
        assert (
            kernel.execute(
                "from foundations.course.exercises import check\n"
                "exec(open('solutions/ch07.py').read())\n"
                "check('07.worst_gap', worst_gap())"
            )
            is None
        )
    assert progress.read(who[0].home)["07.worst_gap"]["passed"] is True
    assert progress.read(who[1].home) == {}  # Run All ran the blank exercises: no attempt

    os.kill(own_processes(who[1])["redis1"], signal.SIGTERM)  # a service that died under a running server
    deadline = time.monotonic() + 10
    while participant.running(who[1])["redis1"] and time.monotonic() < deadline:
        time.sleep(0.1)
    html = room.root / "board.html"
    status = workshop("status", "--dir", str(room.root), "--html", str(html)).stdout
    lines = {
        line.split()[0]: line for line in status.splitlines() if line.split()[:1] and line.split()[0] in names
    }
    assert set(lines) == set(names), status
    assert all(" running " in line for line in lines.values()), status
    # chapter 07's marks in the notebook's order: worst_gap (the first) passed, the blank ones not tried
    column = next(line for line in status.splitlines() if line.startswith("participant")).index(" 07 ") + 1
    count = len(exercises.registered("07"))
    marks = {name: lines[name][column : column + count + 1] for name in names}
    assert marks[names[0]] == "✓" + "·" * (count - 1) + " ", status
    assert all(marks[name] == "·" * count + " " for name in names[1:]), status
    assert all(name in html.read_text() for name in names)
    assert lines[names[1]].rstrip().endswith("redis1") and lines[names[0]].rstrip().endswith("-"), status

    # Stopping a server stops its services: no process of theirs is left.
    theirs = own_processes(who[2])
    assert set(theirs) == {"redis", "redis1", "redis2", "api"}
    assert all(pids.alive(p) for p in theirs.values())
    learners[2].stop_server()
    assert not any(pids.alive(p) for p in theirs.values()), theirs
    assert participant.running(who[2]) == {}
    assert not last_runtime.exists()
    if AS_ROOT:
        assert _processes_of(who[2].uid) == {}, "a process of the stopped participant is still running"
    status = workshop("status", "--dir", str(room.root)).stdout
    assert any(line.startswith(names[2]) and " stopped " in line for line in status.splitlines()), status

    # Guessing is throttled: a few failures a minute per client and name, then even the right password waits.
    for attempt in range(auth.FAILED_SIGN_INS_PER_MINUTE):
        with pytest.raises(ServiceError, match="could not sign in"):
            Learner(url, names[1]).sign_in(f"wrong-{attempt}")
    with pytest.raises(ServiceError, match="Too many failed sign-ins: wait"):
        Learner(url, names[1]).sign_in(f"{names[1]}-password")
    assert "too many failed attempts" in room.log_path.read_text()


_SETUP = (
    "from foundations import config, redisdb, mysqldb\n"
    "cfg = config.load(argv=[])\n"
    "r = redisdb.client(cfg.redis_url)\n"
    "import pymysql\n"
    "from foundations import net\n"
    "db = pymysql.connect(**net.mysql_params(cfg.mysql_dsn), autocommit=True)\n"
)

# In a kernel: print the shell socket of its own connection file (transport ipc), then whether it connects.
_OWN_SHELL = (
    "import json, socket\n"
    "from ipykernel.connect import get_connection_file\n"
    "info = json.load(open(get_connection_file()))\n"
    "assert info['transport'] == 'ipc', info['transport']\n"
    "shell = f\"{info['ip']}-{info['shell_port']}\"\n"
    "print(shell)\n"
)


def _connect(path: str) -> str:
    """Kernel code that prints whether it can connect to the Unix socket ``path`` (an expression)."""
    return (
        "try:\n"
        "    with socket.socket(socket.AF_UNIX) as s:\n"
        f"        s.connect({path})\n"
        "except PermissionError:\n"
        "    print('refused')\n"
        "else:\n"
        "    print('connected')\n"
    )


def _processes_of(uid: int) -> dict[int, str]:
    """``{pid: name and state}`` of the live processes of ``uid``."""
    found = {}
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
        except OSError:
            continue
        if f"\nUid:\t{uid}\t" in text and "\nState:\tZ" not in text:  # a zombie has exited, init reaps it
            found[int(status.parent.name)] = " ".join(text.splitlines()[:3])
    return found


def test_passwords_are_kept_as_salted_hashes():
    stored = auth.hash_password("correct horse")
    assert "correct horse" not in stored and stored != auth.hash_password("correct horse")
    assert auth.password_matches("correct horse", stored) and not auth.password_matches("wrong", stored)


def test_a_sign_in_hashes_its_password_off_the_hubs_event_loop(tmp_path, monkeypatch):
    """scrypt runs in a thread: while it works, the hub's event loop serves the others. Here the other is a
    coroutine the hash waits for; were the hash run on the loop, that coroutine could not run (5 s, then fail)."""
    for name, text in (("code", "orange-river-42"), ("instructor", "teach-well")):
        (tmp_path / name).write_text(text)
    authenticator = auth.WorkshopAuthenticator(
        passwords_file=str(tmp_path / "passwords.json"),
        code_file=str(tmp_path / "code"),
        instructor_file=str(tmp_path / "instructor"),
        allowed_users={"alice"},
        system_users=False,
    )
    hashing, others_served = threading.Event(), threading.Event()
    real_hash = auth.hash_password

    def watched_hash(password: str, salt: bytes | None = None) -> str:
        hashing.set()
        assert others_served.wait(5), "the event loop stood still while a password was hashed"
        return real_hash(password, salt)

    monkeypatch.setattr(auth, "hash_password", watched_hash)

    async def another_participant() -> None:
        while not hashing.is_set():
            await asyncio.sleep(0.01)
        others_served.set()

    async def sign_in_beside_another() -> str | None:
        handler = types.SimpleNamespace(request=types.SimpleNamespace(remote_ip="127.0.0.1"))
        form = {"username": "alice", "password": "correct horse", "otp": "orange-river-42"}
        signed_in, _ = await asyncio.gather(authenticator.authenticate(handler, form), another_participant())
        return signed_in

    assert asyncio.run(sign_in_beside_another()) == "alice"
    assert auth.password_matches(
        "correct horse", json.loads((tmp_path / "passwords.json").read_text())["alice"]
    )


def test_participant_names_must_be_safe_as_system_users_and_databases():
    assert parse_participants("alice, bob\ncarol\n# comment\nAlice") == ("alice", "bob", "carol")
    for bad in ("root;drop", "1abc", "a", "x" * 40, ""):
        with pytest.raises(Exception, match="participant|no participants"):
            parse_participants(bad)


def test_the_board_marks_passed_tried_and_untried(tmp_path):
    progress.record("07.key_router", False, home=tmp_path)
    progress.record("07.key_router", True, home=tmp_path)
    progress.record("07.key_router", False, home=tmp_path)  # passed once stays passed
    progress.record("07.worst_gap", False, home=tmp_path)
    row = board.Row("alice", "running", ["redis2"], progress.read(tmp_path))
    ids = ["07.worst_gap", "07.key_router", "08.x"]
    text = board.render_text([row], ids)
    assert "✗✓" in text and "1/3" in text and "redis2" in text
    assert row.results["07.key_router"]["attempts"] == 3
    for _ in range(board.STUCK_ATTEMPTS):
        progress.record("08.x", False, home=tmp_path)
    stuck = board.Row("bob", "running", [], progress.read(tmp_path))
    page = board.render_html([row, stuck], ids, "10:42:05", refresh=10)
    assert '<th class="name">alice</th>' in page and "updated 10:42:05" in page
    assert '<meta http-equiv="refresh" content="10">' in page
    assert f'class="stuck" title="08.x: {board.STUCK_ATTEMPTS} attempt(s)">✗{board.STUCK_ATTEMPTS}<' in page
    assert page.count("<td>1/3</td>") == 2  # passed, per participant
    passed, tried = re.findall(
        r'<tr class="totals"><th>\w+</th><td></td><td></td>(.*?)<td></td><td></td>', page
    )
    assert re.findall(r"<td>(\d+)</td>", passed) == ["0", "2", "0"]  # per exercise
    assert re.findall(r"<td>(\d+)</td>", tried) == ["2", "2", "1"]
    assert '<td class="wrap stuck">08.1</td>' in page and "refresh" not in board.render_html(
        [row], ids, "now"
    )


def test_the_instructor_is_not_a_participant_name():
    with pytest.raises(Exception, match="not instructor"):
        parse_participants("alice,instructor")


def test_z2jh_values_give_each_pod_the_services_workshop_up_gives():
    """Static: the chart's schema is not shipped here (docs/workshop.md says how it was checked); these are
    the cross-references no schema sees: every FOUNDATIONS_* variable is a real setting that parses, the ports
    are distinct and match the MariaDB container, postStart starts only known services, the image is built
    by a Dockerfile of ours, and the authenticator's config names the class the chart ships."""
    root = Path(__file__).resolve().parents[1]
    values = yaml.safe_load((root / "docker" / "z2jh-values.yaml").read_text())
    assert set(values) <= {"hub", "singleuser", "cull", "proxy", "scheduling", "prePuller", "ingress"}
    single = values["singleuser"]
    env = single["extraEnv"]
    known = {s.env for s in fconfig.SETTINGS} | {"PYTHONPATH"}
    assert set(env) <= known, set(env) - known
    cfg = fconfig.load(argv=[], environ=env, use_state=False)  # raises on a URL or port that does not parse
    keys = ("redis_url", "redis1_url", "redis2_url", "mysql_dsn", "api_url")
    endpoints = [cfg.endpoint(key) for key in keys]
    assert len({port for _, port in endpoints}) == 5 and cfg.port == cfg.endpoint("api_url")[1]
    assert {host for host, _ in endpoints} == {"127.0.0.1"}
    mariadb = next(c for c in single["extraContainers"] if c["name"] == "mariadb")
    assert cfg.endpoint("mysql_dsn")[1] == 3306 and "--bind-address=127.0.0.1" in mariadb["args"]
    mariadb_env = {e["name"]: e["value"] for e in mariadb["env"]}
    dsn = net.mysql_params(cfg.mysql_dsn)
    assert [mariadb_env[f"MARIADB_{k.upper()}"] for k in ("user", "password", "database")] == [
        dsn["user"],
        dsn["password"],
        dsn["database"],
    ]
    command = single["lifecycleHooks"]["postStart"]["exec"]["command"][-1]
    started = command.split("services up", 1)[1].split("--")[0]
    assert set(started.split()) <= set(services.SERVICES) and "redis2" in started.split()
    assert (root / "docker" / "workshop.Dockerfile").exists() and single["image"]["tag"]
    assert single["defaultUrl"] == f"/lab/tree/{learner.COURSE_DIR}/notebooks/00_index.ipynb"
    assert env["PYTHONPATH"].endswith("/" + learner.COURSE_DIR) and learner.COURSE_DIR in command
    assert values["hub"]["config"]["JupyterHub"]["authenticator_class"] == "firstuseauthenticator"
    assert values["hub"]["config"]["Authenticator"]["allowed_users"]
    assert values["cull"]["enabled"] and values["cull"]["timeout"] > 0
    policy = single["networkPolicy"]  # no pod reaches another's services: the isolation one machine has
    assert policy["enabled"] and not any(
        policy["egressAllowRules"][k] for k in ("privateIPs", "nonPrivateIPs")
    )


def test_a_learner_copy_keeps_outputs_leaves_exercises_blank_and_gets_solutions_on_release(tmp_path):
    who = participant.Participant("alice", tmp_path, None, None)
    assert learner.copy_course(who) is True
    assert (learner.course_path(who) / "foundations" / "registry.py").exists()  # chapters 09-11 reach it
    assert (learner.course_path(who) / "tests" / "test_registry.py").exists()
    assert not (learner.course_path(who) / ".venv").exists()
    copy = learner.course_path(who) / "notebooks"
    assert sorted(p.name for p in copy.glob("*.ipynb")) == sorted(
        p.name for p in learner.COURSE.glob(learner.NOTEBOOKS)
    )
    assert (copy / "data" / "example1.json").exists() and not (copy / "solutions").exists()
    cells = json.loads((copy / "07_redis.ipynb").read_text())["cells"]
    code = [c for c in cells if c["cell_type"] == "code"]
    assert sum(bool(c.get("outputs")) for c in code) > len(code) / 2  # outputs kept: they can read ahead
    answers = [code[i - 1] for i, c in enumerate(code) if re.search(r'check\("\d\d\.', "".join(c["source"]))]
    assert answers and all("".join(c["source"]).rstrip().endswith("...") for c in answers)  # exercises blank

    (copy / "07_redis.ipynb").write_text("my work")
    assert learner.copy_course(who) is False and (copy / "07_redis.ipynb").read_text() == "my work"
    assert learner.release_solutions(who) is True and (copy / "solutions" / "ch07.py").exists()
    later = participant.Participant("bob", tmp_path / "bob", None, None)
    (tmp_path / "bob").mkdir()
    assert learner.copy_course(later, with_solutions=True)
    assert (learner.course_path(later) / "notebooks" / "solutions" / "ch07.py").exists()


def test_a_file_removed_mid_copy_is_left_out_not_a_failed_spawn(tmp_path, monkeypatch):
    """The checkout may be in use while a room spawns (`make test` runs notebooks that rewrite coverage data
    in it): a file that goes between listing and reading is not the course, and must not fail the spawn."""
    src = tmp_path / "checkout"
    (src / "data").mkdir(parents=True)
    (src / "kept.py").write_text("kept")
    (src / "data" / "coverage.json").write_text("{}")
    (src / "data" / ".coverage.host.123.x").write_text("parallel data")  # coverage's own, never the course
    read = Path.read_bytes

    def removed_first(path: Path) -> bytes:  # as coverage does between our listing and our read
        if path.name == "coverage.json":
            path.unlink()
        return read(path)

    monkeypatch.setattr(Path, "read_bytes", removed_first)
    home = os.open(tmp_path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        learner._copy_tree(
            src, home, "copy", participant.Participant("alice", tmp_path, None, None), learner.NOT_COURSE
        )
    finally:
        os.close(home)
    copied = sorted(p.relative_to(tmp_path / "copy").as_posix() for p in (tmp_path / "copy").rglob("*"))
    assert copied == ["data", "kept.py"]


def test_progress_goes_where_the_variable_says_and_this_run_keeps_it_out_of_the_home(monkeypatch, tmp_path):
    assert progress.progress_path().parent.parent != Path.home()  # conftest: this run's checks are nobody's
    monkeypatch.setenv(progress.HOME_VARIABLE, str(tmp_path))
    progress.record("07.key_router", True)
    assert progress.read(tmp_path)["07.key_router"]["passed"] is True
    with progress.set_aside():  # a folder already set is kept
        assert progress.progress_path().parent.parent == tmp_path
    monkeypatch.delenv(progress.HOME_VARIABLE)
    assert progress.progress_path() == Path.home() / ".foundations" / "progress.json"
    with progress.set_aside():
        aside = progress.progress_path().parent.parent
        progress.record("07.key_router", True)
        assert aside != Path.home() and progress.read(aside)["07.key_router"]["passed"] is True
    assert not aside.exists() and progress.progress_path() == Path.home() / ".foundations" / "progress.json"


def test_a_home_that_cannot_be_written_loses_the_record_not_the_check(tmp_path):
    (tmp_path / ".foundations").write_text("a file where the folder should be")
    progress.record("07.key_router", True, home=tmp_path)  # no exception
    assert progress.read(tmp_path) == {}


def test_the_proxy_gets_node_and_npm_the_way_services_get_redis(monkeypatch, tmp_path):
    """A plain Debian without Node.js: as root apt-get installs nodejs and npm, then `npm ci` installs the
    pinned proxy (for real, from the lock); as an ordinary user it says what to install."""
    real_which = packages.which
    monkeypatch.setattr(packages, "which", lambda name: None if name in proxy.NODE else real_which(name))
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    with pytest.raises(ServiceError, match="missing node, npm|missing nodejs, npm") as missing:
        proxy.ensure(log=lambda line: None, proxy_dir=tmp_path / "proxy")
    assert "apt-get install -y nodejs npm" in str(missing.value)

    installed = []
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    monkeypatch.setattr(packages, "apt_install", lambda debs, log: installed.append(debs))
    monkeypatch.setattr(packages, "INSTALL_LOCK", tmp_path / "install.lock")
    exe = proxy.ensure(log=lambda line: None, proxy_dir=tmp_path / "proxy")
    assert installed == [["nodejs", "npm"]]
    version = subprocess.run([exe, "--version"], capture_output=True, text=True).stdout.strip()
    assert version == proxy.version()


def test_down_keep_says_what_it_keeps_and_how_to_remove_it(tmp_path):
    room = Room(tmp_path / "room")
    room.prepare()
    room.save(Settings(("alice", "bob"), system_users=False))
    said = command.left_behind(room)
    assert str(room.hub_dir) in said and str(room.homes_dir) in said
    assert "`workshop down` without --keep" in said
    room.save(Settings(("alice", "bob"), system_users=True))
    assert "the system users alice bob" in command.left_behind(room)


def test_a_container_each_drops_every_privilege_and_pulls_nothing(tmp_path):
    """What DockerSpawner is told (no engine needed; tests/docker_workshop.py attacks the real thing)."""
    from traitlets.config import Config

    from foundations.workshop import containers, hubconfig

    room = Room(tmp_path / "room")
    room.prepare()
    room.save(Settings(("alice",), system_users=False, containers=True))
    room.write_private(room.token_path, "token\n")
    c = Config()
    hubconfig.configure(c, room)
    assert c.JupyterHub.spawner_class == "docker"
    assert (c.DockerSpawner.image, c.DockerSpawner.pull_policy) == (containers.IMAGE, "never")
    assert c.DockerSpawner.extra_host_config["cap_drop"] == ["ALL"]
    assert c.DockerSpawner.extra_host_config["security_opt"] == ["no-new-privileges"]
    assert c.DockerSpawner.cmd == ["python", "-m", "foundations.workshop.inside"]
    assert c.ConfigurableHTTPProxy.api_url.startswith("http://127.0.0.1:")  # the proxy's API: host only


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root, to give folders to other users")
def test_down_removes_a_participants_lost_runtime_folders_and_nothing_else(tmp_path):
    """A restarted hub no longer knows the runtime folders it made; ``forget`` removes a participant's
    (``remove_runtime_dirs``): only folders that user owns, never one of another user's, never through a link."""
    mine, theirs, outside = (tmp_path / name for name in ("jr-mine", "jr-theirs", "outside"))
    for folder, uid in ((mine, 54321), (theirs, 54322), (outside, 0)):
        folder.mkdir()
        (folder / "kernel.json").write_text("{}")
        os.chown(folder, uid, uid)
    link = tmp_path / "jr-link"
    link.symlink_to(outside)
    os.lchown(link, 54321, 54321)  # the participant's own link, to a folder that is not theirs
    assert hub_module.remove_runtime_dirs(54321, tmp_path) == [mine]
    assert not mine.exists() and (theirs / "kernel.json").exists() and (outside / "kernel.json").exists()
    assert link.is_symlink()

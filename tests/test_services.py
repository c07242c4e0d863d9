"""services up/down/status against real local daemons, in state directories of their own."""

import contextlib
import socket
import subprocess
from pathlib import Path

import pytest
import redis

from foundations import config, net, pids, state
from foundations.errors import ServiceError
from foundations.ops import daemons, engine, hosting, mariadb, services


@pytest.fixture
def own_redis_cfg(tmp_path):
    """A config whose main Redis is ours alone, on a free port; stopped afterwards whatever happens."""
    cfg = config.load(
        argv=["--state-dir", str(tmp_path), "--redis-url", f"redis://127.0.0.1:{net.free_port()}/0"],
        environ={},
    )
    yield cfg
    services.down(cfg, log=lambda line: None)


def test_session_services_all_answer(cfg):
    rows = services.status(cfg)
    assert [r.name for r in rows] == list(services.SERVICES)
    assert all(r.answers for r in rows), rows


def test_up_twice_reuses_and_down_leaves_nothing(own_redis_cfg):
    lines = []
    services.up(own_redis_cfg, ["redis"], local=True, log=lines.append)
    pid = state.read(own_redis_cfg.state_dir)["processes"]["redis"]["pid"]
    services.up(own_redis_cfg, ["redis"], local=True, log=lines.append)
    assert state.read(own_redis_cfg.state_dir)["processes"]["redis"]["pid"] == pid
    assert "already running" in lines[-1]
    services.down(own_redis_cfg, log=lines.append)
    assert not pids.runs(pid, "redis-server")
    assert not services.check(own_redis_cfg, "redis").answers
    assert state.read_raw(own_redis_cfg.state_dir) == {}


def test_stale_state_is_not_trusted(own_redis_cfg):
    dead = 2**22 + 4242
    state.write(
        own_redis_cfg.state_dir,
        {
            "mode": "local",
            "endpoints": {"redis_url": "redis://127.0.0.1:1/0"},
            "processes": {"redis": {"pid": dead, "program": "redis-server"}},
        },
    )
    reloaded = config.load(
        argv=["--state-dir", own_redis_cfg.state_dir, "--redis-url", own_redis_cfg.redis_url], environ={}
    )
    services.up(reloaded, ["redis"], local=True, log=lambda line: None)
    current = state.read(own_redis_cfg.state_dir)
    assert current["processes"]["redis"]["pid"] != dead
    assert current["endpoints"]["redis_url"] == own_redis_cfg.redis_url
    assert services.check(own_redis_cfg, "redis").answers


def test_stop_and_start_one_service(own_redis_cfg):
    services.up(own_redis_cfg, ["redis"], local=True, log=lambda line: None)
    services.down(own_redis_cfg, ["redis"], log=lambda line: None)
    assert not services.check(own_redis_cfg, "redis").answers
    services.up(own_redis_cfg, ["redis"], local=True, log=lambda line: None)
    assert services.check(own_redis_cfg, "redis").answers


def test_explicit_port_taken_by_another_program(tmp_path):
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        cfg = config.load(
            argv=["--state-dir", str(tmp_path), "--redis-url", f"redis://127.0.0.1:{port}/0"], environ={}
        )
        with pytest.raises(ServiceError, match=f"127.0.0.1:{port} \\(FOUNDATIONS_REDIS_URL\\) is taken"):
            services.up(cfg, ["redis"], local=True, log=lambda line: None)
        assert (
            "taken by another program" in services.check(cfg, "redis").detail
            or not services.check(cfg, "redis").answers
        )


def test_default_port_taken_moves_to_a_free_one(tmp_path, monkeypatch):
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        monkeypatch.setitem(
            config.BY_NAME,
            "redis_url",
            config.Setting(
                "redis_url", f"redis://127.0.0.1:{port}/0", "main Redis", config.BY_NAME["redis_url"].parse
            ),
        )
        monkeypatch.setattr(config, "SETTINGS", tuple(config.BY_NAME.values()))
        cfg = config.load(argv=["--state-dir", str(tmp_path)], environ={})
        assert cfg.sources["redis_url"] == "default"
        started = services.up(cfg, ["redis"], local=True, log=lambda line: None)
        try:
            assert started.endpoint("redis_url")[1] != port
            assert services.check(started, "redis").answers
            assert config.load(argv=["--state-dir", str(tmp_path)], environ={}).redis_url == started.redis_url
        finally:
            services.down(started, log=lambda line: None)


def _bare_socket(address, cleanup):
    squatter = cleanup.enter_context(socket.socket())
    # as servers do: a TIME_WAIT left on the port does not stop it
    squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    squatter.bind(address)
    squatter.listen()


def _real_redis(address, cleanup):
    """Another user's Redis: it answers PING on the port, as ours would."""
    squatter = subprocess.Popen(daemons.redis_command(address[1]), stdout=subprocess.DEVNULL, cwd="/tmp")
    cleanup.callback(squatter.wait)
    cleanup.callback(squatter.terminate)
    pids.wait_until(
        lambda: redis.Redis(*address).ping(), squatter.pid, "the squatting Redis", Path("/dev/null")
    )


@pytest.fixture(params=[_bare_socket, _real_redis])
def squatted(request, monkeypatch):
    """Another program takes the claimed port after the free-port check, before our daemon binds it: the race
    of two users' `services up` at once. Yields the ports taken."""
    real_start, taken = services._start, []

    def start_after_a_squatter(cfg, name, state_dir, die_with_parent):
        if not taken:
            address = cfg.endpoint(services.SERVICES[name])
            request.param(address, cleanup)
            taken.append(address[1])
        return real_start(cfg, name, state_dir, die_with_parent)

    monkeypatch.setattr(services, "_start", start_after_a_squatter)
    with contextlib.ExitStack() as cleanup:
        yield taken


def test_default_port_taken_while_starting_moves_to_the_next(tmp_path, squatted):
    cfg = config.load(argv=["--state-dir", str(tmp_path)], environ={})
    assert cfg.sources["redis_url"] == "default"
    lines = []
    started = services.up(cfg, ["redis"], local=True, log=lines.append)
    try:
        assert started.endpoint("redis_url")[1] != squatted[0], "adopted the squatter's port"
        assert services.check(started, "redis").answers
        pid = state.read(tmp_path)["processes"]["redis"]["pid"]
        assert redis.Redis.from_url(started.redis_url).info("server")["process_id"] == pid
        assert any(f"port {squatted[0]} was taken while redis started" in line for line in lines), lines
    finally:
        services.down(started, log=lambda line: None)


def test_a_chosen_port_taken_while_starting_is_an_error(own_redis_cfg, squatted):
    with pytest.raises(ServiceError):
        services.up(own_redis_cfg, ["redis"], local=True, log=lambda line: None)
    assert len(squatted) == 1  # tried once: a port the user chose is not moved


def test_stop_ignores_a_pid_that_runs_something_else():
    import os

    pids.stop(os.getpid(), "redis-server")  # our own PID does not run redis-server: must survive
    assert pids.runs(os.getpid(), "python")


def test_stop_leaves_no_member_of_the_process_group_behind(tmp_path):
    """The leader gets SIGTERM; a worker that ignores it is SIGKILLed with the group once the leader ends."""
    import sys
    import time

    stubborn = (
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
        "print('ready', flush=True); time.sleep(60)"
    )
    leader = (
        "import subprocess, sys, time; w = subprocess.Popen([sys.executable, '-c', "
        f"{stubborn!r}]); print('worker', w.pid, flush=True); time.sleep(60)"
    )
    log = tmp_path / "out.log"
    pid = pids.spawn([sys.executable, "-c", leader, "--port", "1"], log)
    deadline = time.monotonic() + 10
    while "ready" not in log.read_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    worker = int(log.read_text().split("worker ")[1].split()[0])
    pids.stop(pid, "--port 1", timeout=5)
    time.sleep(0.1)  # the worker is init's child now; let it be reaped
    assert not pids.alive(pid) and not pids.alive(worker)


def test_down_of_a_service_started_elsewhere_says_where_to_stop_it(tmp_path):
    cfg = config.load(argv=["--state-dir", str(tmp_path)], environ={})
    with pytest.raises(
        ServiceError, match="redis2: not started by `services up`.*docker compose stop redis2"
    ):
        services.down(cfg, ["redis2"])


def test_compose_keeps_debug_to_the_lab_user_and_up_logs_in_as_it(tmp_path, monkeypatch):
    import yaml

    compose = yaml.safe_load((config.REPO_ROOT / "compose.yaml").read_text())
    command = " ".join(compose["x-redis"]["command"])
    assert "--user default on nopass ~* &* +@all -debug" in command  # no DEBUG without the password
    assert "--user lab on >${REDIS_LAB_PASSWORD:-lab}" in command
    for key, url in services.COMPOSE_ENDPOINTS.items():
        in_compose = compose["x-foundations-env"]["FOUNDATIONS_" + key.upper()]
        assert in_compose.startswith("redis://lab:${REDIS_LAB_PASSWORD:-lab}@")
        assert url.startswith("redis://lab:lab@")
    monkeypatch.setattr(engine, "docker_state", lambda: "answers")
    monkeypatch.setattr(engine, "compose_blocker", lambda engine_state: None)
    monkeypatch.setattr(services.compose, "up", lambda names: None)
    fresh = config.load(argv=["--state-dir", str(tmp_path)], environ={})
    started = services.up(fresh, ["redis"], log=lambda line: None)
    assert started.redis_url == "redis://lab:lab@127.0.0.1:6390/0"
    later = config.load(argv=["--state-dir", str(tmp_path)], environ={})  # the next command: the state file
    assert later.redis1_url == services.COMPOSE_ENDPOINTS["redis1_url"]


def test_an_engine_without_compose_means_local_daemons_and_says_why(tmp_path, monkeypatch):
    monkeypatch.setattr(engine, "docker_state", lambda: "answers")
    monkeypatch.setattr(services.compose, "command", lambda: None)
    cfg = config.load(
        argv=["--state-dir", str(tmp_path), "--redis-url", f"redis://127.0.0.1:{net.free_port()}/0"],
        environ={},
    )
    lines = []
    try:
        started = services.up(cfg, ["redis"], log=lines.append)
        assert services.check(started, "redis").answers
        assert state.read_raw(tmp_path)["mode"] == "local"
        assert "neither `docker compose` (v2) nor `docker-compose` (v1)" in lines[0]
    finally:
        services.down(cfg, log=lambda line: None)


def test_services_the_environment_names_are_stopped_where_they_run(monkeypatch):
    monkeypatch.setattr(engine, "in_compose", lambda compose_services, engine_state: False)
    named = {"FOUNDATIONS_REDIS2_URL": "redis://lab:lab@redis2:6379/0"}
    assert services.elsewhere(config.load(argv=[], environ=named), ["redis2"]) == "remote"  # the compose lab
    mine = {"FOUNDATIONS_REDIS2_URL": "redis://127.0.0.1:6400/0"}  # a port of the learner's choice
    assert services.elsewhere(config.load(argv=[], environ=mine), ["redis2"]) is None
    assert services.elsewhere(config.load(argv=[], environ={}), ["redis2"]) is None
    # CI's run from the host
    monkeypatch.setattr(engine, "in_compose", lambda compose_services, engine_state: True)
    assert services.elsewhere(config.load(argv=[], environ=mine), ["redis2"]) == "compose"


# The Docker lab's settings: its services are compose's containers, on hosts of the lab's network.
LAB = {
    "FOUNDATIONS_REDIS_URL": "redis://lab:lab@redis:6379/0",
    "FOUNDATIONS_REDIS1_URL": "redis://lab:lab@redis1:6379/0",
    "FOUNDATIONS_REDIS2_URL": "redis://lab:lab@redis2:6379/0",
    "FOUNDATIONS_MYSQL_DSN": "mysql://api:api@db1:3306/api",
    "FOUNDATIONS_API_URL": "http://api:8080",
}
# CI's run from the host: compose's published ports.
PUBLISHED = {
    "FOUNDATIONS_REDIS_URL": "redis://lab:lab@127.0.0.1:6390/0",
    "FOUNDATIONS_REDIS1_URL": "redis://lab:lab@127.0.0.1:6391/0",
    "FOUNDATIONS_REDIS2_URL": "redis://lab:lab@127.0.0.1:6392/0",
    "FOUNDATIONS_MYSQL_DSN": "mysql://api:api@127.0.0.1:3390/api",
    "FOUNDATIONS_API_URL": "http://127.0.0.1:8080",
}
DOCKER_SAYS = {
    "none": "Cannot connect to the Docker daemon",
    "denied": "permission denied while trying to connect",
}


def fake_docker(bin_dir: Path, engine_state: str, compose_installed: bool, containers: bool) -> Path:
    """A ``docker`` CLI in ``bin_dir`` whose ``info`` answers as ``engine_state`` says (each run logged in the
    file returned), whose ``compose version`` succeeds when compose is installed, and whose ``compose ... ps``
    lists a container, or none."""
    runs = bin_dir / "docker-info-runs"
    info = "exit 0" if engine_state == "answers" else f'echo "{DOCKER_SAYS[engine_state]}" >&2; exit 1'
    bin_dir.mkdir()
    (bin_dir / "docker").write_text(
        "#!/bin/sh\n"
        f'if [ "$1" = info ]; then echo run >> {runs}; {info}; fi\n'
        f'if [ "$1 $2" = "compose version" ]; then exit {0 if compose_installed else 1}; fi\n'
        f"echo {'f00d' if containers else ''}\n"
    )
    (bin_dir / "docker").chmod(0o755)
    runs.touch()
    return runs


@pytest.mark.parametrize(
    ("facts", "way", "row"),
    [
        # (docker info says, compose installed, compose.yaml here, the state file's mode, FOUNDATIONS_*,
        # compose has containers for them): plan's way and reason, and the doctor's row.
        # A-E': where the doctor's row said otherwise than up did
        (
            ("answers", False, True, "docker", {}, False),
            ("docker", "recorded, no compose"),
            "stops with an error",
        ),
        (("answers", True, False, None, {}, False), ("local", "no compose.yaml"), "no compose.yaml here"),
        (
            ("answers", True, True, None, LAB, False),
            ("remote", "named"),
            "engine answers, but FOUNDATIONS_* name",
        ),
        (
            ("none", False, True, "local", LAB, False),
            ("local", "recorded, on other hosts"),
            "yet services up keeps",
        ),
        (
            ("none", True, True, "docker", LAB, False),
            ("docker", "recorded, on other hosts"),
            "up goes back to the",
        ),
        (
            ("none", False, True, "docker", LAB, False),
            ("docker", "recorded, no compose"),
            "stops with an error",
        ),
        # where they agreed already
        (("answers", True, True, None, {}, False), ("docker", "engine answers"), "services up uses compose"),
        (("answers", True, True, None, PUBLISHED, True), ("compose", "named"), "services up uses compose"),
        (
            ("answers", False, True, None, {}, False),
            ("local", "no compose"),
            "an engine answers, but no compose",
        ),
        (
            ("answers", True, True, "local", {}, False),
            ("local", "recorded"),
            "keeps the local daemons it started",
        ),
        (("answers", True, True, "docker", {}, False), ("docker", "recorded"), "services up uses compose"),
        (
            ("none", True, True, "docker", {}, False),
            ("docker", "recorded"),
            "compose's containers and goes back",
        ),
        (("none", False, True, None, LAB, False), ("remote", "named"), "none needed here"),
        (
            ("none", False, True, "local", {}, False),
            ("local", "recorded"),
            "no engine: services up runs local",
        ),
        (("none", False, True, None, {}, False), ("local", "no engine"), "no engine: services up runs local"),
        (("denied", True, True, None, {}, False), ("local", "engine denied"), "may not use it"),
    ],
    ids=[
        "A",
        "B",
        "C",
        "E",
        "E-prime",
        "E-prime-without-compose",
        "compose",
        "ci-from-the-host",
        "engine-without-compose",
        "kept-local",
        "kept-compose",
        "docker-stopped",
        "docker-lab",
        "no-engine-kept-local",
        "no-engine",
        "denied",
    ],
)
def test_plan_is_the_way_up_goes_and_the_doctor_says_it(tmp_path, monkeypatch, facts, way, row):
    """plan follows up's order (the state file's way, then where FOUNDATIONS_* name the services, then
    compose or local daemons), up goes that way, and the doctor's docker row says it; each asks Docker once
    at most. On a docker CLI of the test's own, with up's ways stubbed out."""
    from foundations.ops import doctor

    engine_state, compose_installed, compose_yaml, recorded, environ, containers = facts
    runs = fake_docker(tmp_path / "bin", engine_state, compose_installed, containers)
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    if not compose_yaml:  # installed from a wheel
        monkeypatch.setattr(config, "REPO_ROOT", tmp_path)
    if recorded:
        state.write(tmp_path, {"mode": recorded, "endpoints": {}, "processes": {}})
    cfg = config.load(argv=["--state-dir", str(tmp_path)], environ=environ)
    names = tuple(config.SERVICES)
    went = []
    monkeypatch.setattr(services.compose, "up", lambda names: went.append("docker"))
    monkeypatch.setattr(services, "_up_local", lambda cfg, names, log, dwp: went.append("local") or cfg)
    monkeypatch.setattr(services, "_restart_elsewhere", lambda cfg, names, where, log: went.append(where))

    assert row in doctor.check_docker(cfg, names).detail
    assert len(runs.read_text().splitlines()) <= 1
    chosen = services.plan(cfg, names)
    assert (chosen.way, chosen.reason) == way
    assert len(runs.read_text().splitlines()) <= 2
    with contextlib.suppress(ServiceError):
        services.up(cfg, names, log=lambda line: None)
    assert went == ([] if chosen.reason == "recorded, no compose" else [chosen.way])  # A: up stops instead
    assert len(runs.read_text().splitlines()) <= 3


def test_up_says_what_to_do_when_compose_is_gone_from_under_its_containers(tmp_path, monkeypatch):
    """The state file says compose started the services, and no compose is installed now (case A): up stops
    with the fix, where it once ran compose, which failed on a missing command."""
    monkeypatch.setattr(services.compose, "command", lambda: None)
    state.write(tmp_path, {"mode": "docker", "endpoints": {}, "processes": {}})
    cfg = config.load(argv=["--state-dir", str(tmp_path)], environ={})
    with pytest.raises(ServiceError, match="started these with compose.*sudo apt-get install docker-compose"):
        services.up(cfg, ["redis"], log=lambda line: None)


def test_the_doctor_asks_docker_once_in_the_docker_lab(tmp_path, monkeypatch):
    """Each docker info may wait 5 s for an engine that does not answer: the doctor's row asks once, where it
    asked for itself and again for elsewhere's."""
    from foundations.ops import doctor

    runs = fake_docker(tmp_path / "bin", "none", compose_installed=True, containers=False)
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    lab = config.load(argv=["--state-dir", str(tmp_path)], environ=LAB)
    assert doctor.check_docker(lab, tuple(config.SERVICES)).detail.startswith("none needed here")
    assert len(runs.read_text().splitlines()) == 1


def test_a_remote_redis_is_shut_down_and_waited_for(own_redis_cfg, tmp_path, monkeypatch):
    """Chapter 7's live fault in the compose lab, which has no Docker: `down` sends SHUTDOWN, `up` waits for
    whoever runs it to start it again (there, compose's restart policy; here, the test)."""
    services.up(own_redis_cfg, ["redis"], local=True, log=lambda line: None)
    monkeypatch.setattr(services, "elsewhere", lambda cfg, names, ask_engine=None: "remote")
    elsewhere = config.load(
        argv=["--state-dir", str(tmp_path / "lab")],
        environ={"FOUNDATIONS_REDIS2_URL": own_redis_cfg.redis_url},
    )
    lines = []
    services.down(elsewhere, ["redis2"], log=lines.append)
    assert not services.check(elsewhere, "redis2").answers
    services.up(own_redis_cfg, ["redis"], local=True, log=lambda line: None)  # its "restart policy"
    services.up(elsewhere, ["redis2"], log=lines.append)
    host, port = own_redis_cfg.endpoint("redis_url")
    assert lines == [
        "stopped redis2 (SHUTDOWN NOSAVE)",
        f"redis2: started at {host}:{port} (restarted by whoever runs it)",
    ]
    assert not (tmp_path / "lab" / state.STATE_FILE).exists()  # nothing recorded: it is not ours


def test_clean_stops_mariadb_and_removes_its_data_wherever_it_lives(tmp_path):
    """As root, in pytest's 0700 tmp_path (as in a clone under /root), MariaDB's home is outside the state
    directory (mariadb.home): `make clean` removes it too."""
    state_dir = tmp_path
    dsn = f"mysql://api:api@127.0.0.1:{net.free_port()}/api"
    cfg = config.load(argv=["--state-dir", str(state_dir), "--mysql-dsn", dsn], environ={})
    try:
        services.up(cfg, ["mysql"], local=True, log=lambda line: None)
        home = mariadb.home(state_dir, daemons.run_as("mysql"))
        assert (home / "data").is_dir()
    finally:
        services.clean(cfg, log=lambda line: None)
    assert not services.check(cfg, "mysql").answers
    assert not home.exists() or home.is_relative_to(state_dir.resolve())


# A participant's server on the course's hub: JupyterHub's user, and the database the hub names for them.
WORKSHOP_ENVIRON = {"JUPYTERHUB_USER": "alice", "FOUNDATIONS_MYSQL_DSN": "mysql://alice:pw@db:3306/alice"}


@pytest.mark.parametrize(
    ("environ", "place"),
    [
        ({}, hosting.OWN),  # make lab, the dev container, the Docker lab
        ({"FOUNDATIONS_MYSQL_DSN": "mysql://api:api@db1:3306/api"}, hosting.OWN),  # the Docker lab's settings
        ({"JUPYTERHUB_USER": "jovyan"}, hosting.HUB),  # Binder: binder/start runs the services, names none
        (WORKSHOP_ENVIRON, hosting.WORKSHOP),
        ({"JUPYTERHUB_USER": ""}, hosting.OWN),
    ],
)
def test_where_tells_a_hub_and_the_workshop_from_a_machine_of_ones_own(monkeypatch, environ, place):
    monkeypatch.setattr(hosting.os, "environ", environ)
    assert hosting.where() == place
    assert hosting.where(environ) == place


def test_the_command_to_run_names_this_interpreter(monkeypatch):
    """`python` in a terminal may be another interpreter, or none (make lab activates no venv): the fix names
    the kernel's own, from the repository's folder for its .venv (with make there), else by its full path."""
    venv = config.REPO_ROOT / ".venv" / "bin" / "python"
    monkeypatch.setattr(hosting.sys, "executable", str(venv))
    assert services.up_command() == (
        "from the repository's folder, run .venv/bin/python -m foundations services up (or make services-up)"
    )
    other = str(config.REPO_ROOT / "env" / "bin" / "python")  # in the repository, but not the Makefile's
    assert hosting.command("doctor", make="doctor", executable=other) == (
        "from the repository's folder, run env/bin/python -m foundations doctor"
    )
    monkeypatch.setattr(hosting.sys, "executable", "/opt/lab env/bin/python")  # an image's, Binder's
    assert services.up_command() == "run '/opt/lab env/bin/python' -m foundations services up"


def test_a_service_that_does_not_answer_is_started_with_this_interpreter_not_make_lab(monkeypatch):
    """make lab would also start a second JupyterLab on the port the learner's own lab holds."""
    monkeypatch.setattr(hosting.os, "environ", {})
    monkeypatch.setattr(hosting.sys, "executable", str(config.REPO_ROOT / ".venv" / "bin" / "python"))
    here = config.load(argv=[], environ={"FOUNDATIONS_REDIS_URL": "redis://127.0.0.1:1/0"})
    fix = services.fix_up(here, "redis")
    assert fix == services.up_command() and "make lab" not in fix and "make services-up" in fix


def test_a_workshop_participant_restarts_their_server_and_asks_for_the_database(monkeypatch):
    """The hub starts a participant's services with their server (hubconfig's spawn hooks, or the container's
    start) and the room runs the database: no services up, and no docker compose in their container."""
    monkeypatch.setattr(hosting.os, "environ", WORKSHOP_ENVIRON)
    monkeypatch.setattr(engine, "in_compose", lambda compose_services, engine_state: False)
    cfg = config.load(argv=[], environ=WORKSHOP_ENVIRON)  # the container's DSN names the host db: "remote"
    assert services.elsewhere(cfg, ["mysql"]) == "remote"
    assert services.fix_up(cfg, "mysql") == "the room's database server: ask the instructor"
    fix = services.fix_up(cfg, "redis")
    assert "Hub Control Panel" in fix and "-m foundations" not in fix
    binder = {"JUPYTERHUB_USER": "jovyan"}  # local daemons that binder/start ran: services up again
    monkeypatch.setattr(hosting.os, "environ", binder)
    assert services.fix_up(config.load(argv=[], environ={}), "redis") == services.up_command()
    remote = config.load(argv=[], environ={"FOUNDATIONS_REDIS_URL": "redis://cache:6379/0"})
    assert "docker compose" not in services.fix_up(remote, "redis")

"""The command line as a person meets it: one-line errors, exit codes, doctor's fixes."""

import argparse
import os
import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

from foundations import cli, config


def run(*args, env=None):
    environ = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "foundations", *args], capture_output=True, text=True, env=environ, timeout=60
    )


@pytest.mark.parametrize(
    "args, env, expected",
    [
        (["services", "up", "--bogus"], {}, "error: unrecognized arguments: --bogus"),
        (["doctor"], {"FOUNDATIONS_PORT": "abc"}, "error: FOUNDATIONS_PORT='abc': expected a port number"),
        (
            ["config"],
            {"FOUNDATIONS_API_URL": "localhost:8080"},
            "error: FOUNDATIONS_API_URL='localhost:8080'",
        ),
        (["services", "restart"], {}, "error: argument action: invalid choice"),
    ],
)
def test_bad_input_is_one_line(args, env, expected):
    done = run(*args, env=env)
    assert done.returncode == 2
    assert done.stderr.startswith(expected), done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr


def test_doctor_names_the_redis_that_is_down_and_the_fix(tmp_path):
    done = run("doctor", "--redis-url", "redis://127.0.0.1:1/0", "--state-dir", str(tmp_path))
    assert done.returncode == 1
    line = next(line for line in done.stdout.splitlines() if " redis " in f" {line} ")
    assert line.startswith("FAIL") and "127.0.0.1:1" in line
    from foundations.ops import hosting

    # the interpreter this doctor ran on, never a bare `python`, and not make lab (a second JupyterLab)
    assert f"fix: {hosting.command('services up', 'services-up', sys.executable)}\n" in done.stdout
    assert "make lab" not in done.stdout


def test_doctor_passes_with_the_session_services():
    done = run("doctor")
    assert done.returncode == 0, done.stdout
    assert "ok  kernel" in done.stdout and "FAIL" not in done.stdout
    # each server names its version: the notebooks' outputs came from it (chapter 0's table shows them)
    assert ", Redis " in done.stdout and (", MariaDB " in done.stdout or ", MySQL " in done.stdout), (
        done.stdout
    )
    assert "MariaDB 5.5.5" not in done.stdout, "that is MariaDB's handshake prefix, not its version"


def test_status_and_config_dump():
    assert run("services", "status").returncode == 0
    done = run("config", "--port", "81", env={"PORT": "80"})
    assert '"value": 81' in done.stdout and '"source": "flag --port"' in done.stdout


def test_serve_refuses_a_taken_port(cfg):
    done = run("serve", "--port", str(cfg.endpoint("api_url")[1]))
    assert done.returncode == 2 and "is taken by another program" in done.stderr


def test_serve_passes_workers_and_threads_to_granian(monkeypatch, tmp_path):
    import granian

    from foundations import cli, net, serve

    seen = {}

    class FakeGranian:  # records the arguments instead of serving: the settings' plumbing is the point
        def __init__(self, target, **kwargs):
            seen.update(kwargs, target=target)

        def serve(self):
            pass

    monkeypatch.setattr(granian, "Granian", FakeGranian)
    environ = dict(os.environ)
    port = str(net.free_port())
    monkeypatch.setattr(os, "environ", dict(environ))  # serve exports its settings for the workers
    assert (
        cli.main(
            [
                "serve",
                "--interface",
                "wsgi",
                "--port",
                port,
                "--workers",
                "2",
                "--threads",
                "1",
                "--state-dir",
                str(tmp_path),
            ]
        )
        == 0
    )
    assert (seen["interface"], seen["workers"], seen["blocking_threads"]) == ("wsgi", 2, 1)
    assert seen["port"] == int(port)
    monkeypatch.setattr(os, "environ", dict(environ))
    assert cli.main(["serve", "--interface", "wsgi", "--port", port, "--state-dir", str(tmp_path)]) == 0
    assert seen["blocking_threads"] is None
    monkeypatch.setattr(os, "environ", dict(environ))  # the default: RSGI, the pipelined app in each worker
    assert cli.main(["serve", "--port", port, "--workers", "2", "--state-dir", str(tmp_path)]) == 0
    assert (seen["interface"], seen["target"], seen["workers"]) == ("rsgi", serve.FAST_APP, 2)


def test_doctor_reports_missing_load_generators_without_failing(monkeypatch):
    from foundations import bench
    from foundations.ops import doctor

    monkeypatch.setattr(bench, "available", lambda tool: tool == "builtin")
    check = doctor.check_load_generators()
    assert not check.ok and not check.needed and doctor.healthy([check])
    assert check.fix.startswith("sudo apt-get install -y apache2-utils wrk")
    assert "no  ab, wrk" in doctor.render([check])


@pytest.mark.parametrize(
    "installed, detail, debs",
    [
        ((), "ab, wrk missing: chapter 10 uses its built-in load generator instead", "apache2-utils wrk"),
        (("ab",), "wrk missing: chapter 10 loads with the book's ab, and with its built-in load gen", "wrk"),
        (("wrk",), "ab missing: chapter 10 loads with wrk in place of the book's ab", "apache2-utils"),
    ],
    ids=["both-missing", "wrk-missing", "ab-missing"],
)
def test_doctor_says_what_chapter_10_runs_without_ab_or_wrk(monkeypatch, installed, detail, debs):
    """Chapter 10 runs whichever of ab and wrk is installed (bench.available), the built-in generator in
    place of both only when neither is: the row says which, found as bench.available finds them."""
    from foundations import bench
    from foundations.ops import doctor

    monkeypatch.setattr(bench, "available", lambda tool: tool == "builtin" or tool in installed)
    check = doctor.check_load_generators()
    assert not check.ok and not check.needed
    assert check.detail.startswith(detail), check.detail
    assert check.fix.startswith(f"sudo apt-get install -y {debs} "), check.fix


def test_doctor_tells_the_docker_lab_it_needs_no_engine(monkeypatch, tmp_path):
    """The Docker lab has no docker command, and its services are compose's containers, not local daemons."""
    from foundations.ops import doctor, engine

    monkeypatch.setattr(engine, "docker_state", lambda: "none")
    monkeypatch.setattr(engine, "in_compose", lambda compose_services, engine_state: False)
    lab = {
        "FOUNDATIONS_REDIS_URL": "redis://lab:lab@redis:6379/0",
        "FOUNDATIONS_REDIS1_URL": "redis://lab:lab@redis1:6379/0",
        "FOUNDATIONS_REDIS2_URL": "redis://lab:lab@redis2:6379/0",
        "FOUNDATIONS_MYSQL_DSN": "mysql://api:api@db1:3306/api",
        "FOUNDATIONS_API_URL": "http://api:8080",
    }
    names = tuple(config.SERVICES)
    in_the_lab = doctor.check_docker(
        config.load(argv=["--state-dir", str(tmp_path / "lab")], environ=lab), names
    )
    assert in_the_lab.ok and "run elsewhere" in in_the_lab.detail and not in_the_lab.fix
    laptop = config.load(argv=["--state-dir", str(tmp_path)], environ={})
    monkeypatch.setattr(doctor.shutil, "which", lambda program: None)  # no docker command at all
    on_a_laptop = doctor.check_docker(laptop, names)
    assert (
        not on_a_laptop.ok and "local daemons" in on_a_laptop.detail and "install Docker" in on_a_laptop.fix
    )
    monkeypatch.setattr(
        doctor.shutil, "which", lambda program: f"/usr/bin/{program}"
    )  # installed, not running
    assert doctor.check_docker(laptop, names).fix.startswith("optional: start Docker")


def test_doctor_tells_a_user_outside_the_docker_group_how_to_get_in(monkeypatch, tmp_path):
    """An engine that runs but refuses this user is no engine to services up (local daemons), and "start
    Docker" would be a dead end: the fix is the docker group."""
    import subprocess

    from foundations.ops import doctor, engine

    denied = (
        "permission denied while trying to connect to the Docker daemon socket at unix:///var/run/docker.sock"
    )
    monkeypatch.setattr(
        engine, "_docker_info", lambda: subprocess.CompletedProcess(["docker", "info"], 1, "", denied)
    )
    assert engine.docker_state() == "denied" and not engine.docker_engine()
    old_cli = subprocess.CompletedProcess(
        ["docker", "info"],
        1,
        f"Client:\n Context: default\n\nServer:\nERROR: Got {denied}\n",
        "errors pretty printing info\n",
    )
    monkeypatch.setattr(engine, "_docker_info", lambda: old_cli)  # Debian 12's docker.io 20.10: on stdout
    assert engine.docker_state() == "denied"
    runs = []
    monkeypatch.setattr(
        engine,
        "_docker_info",
        lambda: runs.append(1) or subprocess.CompletedProcess(["docker", "info"], 1, "", denied),
    )
    laptop = config.load(argv=["--state-dir", str(tmp_path)], environ={})
    check = doctor.check_docker(laptop, tuple(config.SERVICES))
    assert len(runs) == 1  # one docker info: each may wait 5 s for an engine that does not answer
    assert "may not use it" in check.detail and check.fix.startswith("optional: sudo usermod -aG docker")
    stopped = (
        "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?"
    )
    monkeypatch.setattr(
        engine, "_docker_info", lambda: subprocess.CompletedProcess(["docker", "info"], 1, "", stopped)
    )
    assert engine.docker_state() == "none"  # an engine that is not running: "start Docker" is right there


def test_doctor_says_which_way_services_up_goes_with_an_engine(monkeypatch, tmp_path):
    """An engine alone does not mean compose: not without compose installed, nor while local daemons that
    services up started still run (it keeps managing them that way)."""
    from foundations import state
    from foundations.ops import compose, doctor, engine, services

    cfg = config.load(argv=["--state-dir", str(tmp_path)], environ={})
    names = tuple(config.SERVICES)
    monkeypatch.setattr(engine, "docker_state", lambda: "answers")
    monkeypatch.setattr(compose, "command", lambda: ["docker", "compose"])
    assert doctor.check_docker(cfg, names).detail == "engine answers: services up uses compose"
    state.write(tmp_path, {"mode": "local", "endpoints": {}, "processes": {}})
    kept = doctor.check_docker(cfg, names)
    assert "keeps the local daemons" in kept.detail and "make services-down" in kept.fix
    monkeypatch.setattr(compose, "command", lambda: None)
    assert "no compose: services up runs local daemons" in doctor.check_docker(cfg, names).detail
    monkeypatch.setattr(engine, "docker_state", lambda: "none")
    assert "then make services-down" in doctor.check_docker(cfg, names).fix  # the local daemons still run
    monkeypatch.setattr(compose, "command", lambda: ["docker", "compose"])  # compose is back, Docker is not
    state.write(tmp_path, {"mode": "docker", "endpoints": {}, "processes": {}})  # Docker stopped since
    stopped = doctor.check_docker(cfg, names)
    assert "goes back to them" in stopped.detail and stopped.fix.startswith("start Docker")
    services.down(cfg, log=lambda line: None)  # forgets them: nothing to stop without an engine
    assert (
        state.read_raw(tmp_path) == {} and "local daemons instead" in doctor.check_docker(cfg, names).detail
    )


def test_doctor_fixes_packages_in_a_venv_or_by_rebuilding_the_docker_labs_image(monkeypatch, tmp_path):
    """The Docker lab's packages are baked into its image (no venv, no make): after a pull that changed the
    lock, the fix is a rebuild from the host, not make reinstall."""
    from foundations.ops import doctor

    lock = tmp_path / "requirements.lock"
    lock.write_text("redis==0.0.1\n")
    monkeypatch.setattr(doctor, "DOCKER_MARKER", tmp_path / "no-such-marker")
    assert doctor.check_packages(lock).fix.startswith(
        "make reinstall"
    )  # on this machine: a venv, or no container
    marker = tmp_path / ".dockerenv"
    marker.touch()
    monkeypatch.setattr(doctor, "DOCKER_MARKER", marker)
    for prefix in ("/usr/local", "/opt/venv"):  # the lab image's Python, and the offline image's venv
        monkeypatch.setattr(sys, "prefix", prefix)
        in_the_lab = doctor.check_packages(lock)
        # every image: the API server's bakes in the lock and the package too
        assert not in_the_lab.ok and "docker compose build && docker compose up -d --wait " in in_the_lab.fix
        assert (
            "docker-compose build && docker-compose up -d;" in in_the_lab.fix
            and "build lab" not in in_the_lab.fix
        )
        assert "sudo make docker-images" in in_the_lab.fix and "COMPOSE_FILE=" in in_the_lab.fix
        assert ".venv" not in in_the_lab.fix  # the README's Docker path never makes one on the host
    monkeypatch.setattr(sys, "prefix", str(config.REPO_ROOT / ".venv"))  # the repo's own venv, in a container
    assert doctor.check_packages(lock).fix.startswith("make reinstall")


def test_doctor_says_where_to_start_a_service_that_runs_on_another_host(monkeypatch):
    """Inside the Docker lab the services are compose's containers: services up there can only wait for
    them, so a service that does not answer is started from the host."""
    from foundations.ops import doctor

    monkeypatch.setattr(
        doctor.services, "check", lambda cfg, name: doctor.services.Status(name, "x:1", False, "down")
    )
    in_the_lab = config.load(argv=[], environ={"FOUNDATIONS_REDIS_URL": "redis://redis:6379/0"})
    fix = doctor.check_service(in_the_lab, "redis").fix
    assert "runs on redis, not here" in fix and "docker compose up -d --wait" in fix
    here = config.load(argv=[], environ={"FOUNDATIONS_REDIS_URL": "redis://127.0.0.1:1/0"})
    assert doctor.check_service(here, "redis").fix == doctor.services.up_command()


def test_doctor_on_a_hub_tells_nothing_to_install_and_whom_to_ask(monkeypatch, tmp_path):
    """A workshop participant's server (or Binder's) has no Docker, no sudo and an image someone else built:
    the optional rows get no fix, the needed ones say what the participant can do, else whom to ask."""
    from foundations import bench, state
    from foundations.ops import doctor, engine, hosting

    monkeypatch.setattr(engine, "docker_state", lambda: "none")
    monkeypatch.setattr(engine, "in_compose", lambda compose_services, engine_state: False)
    monkeypatch.setattr(
        doctor.services, "check", lambda cfg, name: doctor.services.Status(name, "x:1", False, "down")
    )
    monkeypatch.setattr(bench, "available", lambda tool: tool == "builtin")  # no ab, no wrk
    monkeypatch.setattr(doctor, "KERNEL_NAME", "no-such-kernel")
    lock = tmp_path / "requirements.lock"
    lock.write_text("redis==0.0.1\n")
    # the participant's container: the hub names their database on the room's server, db
    workshop = {"JUPYTERHUB_USER": "alice", "FOUNDATIONS_MYSQL_DSN": "mysql://alice:pw@db:3306/alice"}
    cfg = config.load(argv=["--state-dir", str(tmp_path)], environ=workshop)
    state.write(tmp_path, {"mode": "local", "endpoints": {}, "processes": {}})  # services up --local
    names = ("redis", "mysql")
    install_kernel = hosting.command("course install-kernel", make="reinstall")

    monkeypatch.setattr(os, "environ", {})  # a laptop first: the fixes that a hub must not show
    laptop = {c.name: c.fix for c in doctor.run(cfg, names)}
    assert "Docker" in laptop["docker"] and "apt-get" in laptop["ab, wrk"]
    assert laptop["kernel"] == install_kernel and "docker compose up" in laptop["mysql"]

    monkeypatch.setattr(os, "environ", workshop)
    checks = doctor.run(cfg, names)
    assert [c.name for c in checks if not c.needed and c.fix] == []
    fixes = {c.name: c.fix for c in checks}
    assert fixes["kernel"] == "ask the instructor" and fixes["mysql"].endswith("ask the instructor")
    assert "Hub Control Panel" in fixes["redis"] and "compose" not in fixes["mysql"]
    assert doctor.check_packages(lock).fix == "the packages come with this server: ask the instructor"

    monkeypatch.setattr(os, "environ", {"JUPYTERHUB_USER": "jovyan"})  # Binder: its image is the repo's
    assert hosting.where() == hosting.HUB
    assert [c.name for c in doctor.run(cfg, names) if not c.needed and c.fix] == []
    assert "launch the repository again" in doctor.check_packages(lock).fix
    assert doctor.check_kernel().fix == install_kernel  # binder/postBuild registers it the same way


def test_ptrace_says_root_only_for_root_and_no_one_under_scope_3(monkeypatch, tmp_path):
    """The Docker lab grants CAP_SYS_PTRACE to a user that is not root (cap_add in compose.yaml)."""
    from foundations import profiling

    status = tmp_path / "status"
    status.write_text(f"Name:\tpython\nCapEff:\t{1 << profiling.CAP_SYS_PTRACE:016x}\n")
    monkeypatch.setattr(profiling, "PROC_STATUS", status)
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    assert profiling.ptrace() == (True, "CAP_SYS_PTRACE held")
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    assert profiling.ptrace() == (True, "CAP_SYS_PTRACE held (root)")
    scope = tmp_path / "ptrace_scope"
    monkeypatch.setattr(profiling, "YAMA_SCOPE", scope)
    scope.write_text("1\n")  # Debian's default: the capability is enough
    assert profiling.ptrace() == (True, "CAP_SYS_PTRACE held (root)")
    scope.write_text("3\n")  # Yama's "no attach": the capability is not
    allowed, why = profiling.ptrace()
    assert not allowed and "ptrace_scope is 3" in why and "not even by root" in why


def test_doctor_passes_a_lock_whose_marker_pins_do_not_apply_here(tmp_path):
    """Debian 12's Python 3.11.2 needs async-timeout (a marker pin) that 3.11.7 does not: the same lock must
    pass doctor on both."""
    from foundations.ops import doctor

    lock = tmp_path / "requirements.lock"
    lock.write_text(
        f'redis=={metadata.version("redis")}\nnot-installed-anywhere==1.0 ; python_version < "3"\n'
    )
    assert doctor.check_packages(lock).ok


def leaves(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every runnable command line, ``("workshop", "up")`` and the like, read from the parser itself."""
    groups = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not groups:
        return [path]
    return [leaf for name, sub in groups[0].choices.items() for leaf in leaves(sub, (*path, name))]


COMMANDS = leaves(cli._parser())
# The settings each command reads, so shows as flags; every other command shows none.
SETTINGS = {
    ("services",): set(config.BY_NAME),
    ("lab",): set(config.BY_NAME),
    ("doctor",): set(config.BY_NAME),
    ("config",): set(config.BY_NAME),
    ("serve",): set(config.BY_NAME) - {"api_url", "mysql_dsn"},
    ("bench",): {"api_url", "state_dir"},
}


def test_bare_invocation_lists_the_commands():
    done = run()
    assert done.returncode == 2 and done.stderr == ""
    for name in ("services", "serve", "doctor", "config", "bench", "compose", "images", "course", "workshop"):
        assert re.search(rf"^ +{name} +\S", done.stdout, re.M), done.stdout
    group = run("workshop")
    assert group.returncode == 2 and all(f"    {n}" in group.stdout for n in ("up", "down", "sizing"))


def test_every_command_is_found_and_the_old_entry_points_are_in_it():
    assert {("course", "navigation"), ("course", "refresh"), ("course", "install-kernel")} <= set(COMMANDS)
    assert {("compose", "up"), ("images",), ("workshop", "wheelhouse"), ("workshop", "sizing")} <= set(
        COMMANDS
    )
    assert len(COMMANDS) >= 20


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_help_shows_only_the_commands_own_options(command, capsys):
    with pytest.raises(SystemExit) as exited:
        cli.main([*command, "--help"])
    assert exited.value.code == 0
    shown = capsys.readouterr().out
    assert shown.startswith(f"usage: python -m foundations {' '.join(command)} "), shown
    flags = set(re.findall(r"\(env FOUNDATIONS_(\w+),", " ".join(shown.split())))  # lines wrap anywhere
    assert {flag.lower() for flag in flags} == SETTINGS.get(command, set()), shown
    assert ("--config FILE" in shown) == (command in SETTINGS)


def test_workshop_up_has_one_port_and_no_settings(capsys):
    with pytest.raises(SystemExit):
        cli.main(["workshop", "up", "--help"])
    shown = capsys.readouterr().out
    assert set(re.findall(r"--[\w-]*port\b", shown)) == {"--port"} and "--redis-url" not in shown


def test_help_has_no_side_effect(monkeypatch, capsys):
    """What navigation and refresh do without --help (rewrite notebooks; start services, re-execute them)
    must not happen with it."""
    from foundations.course import navigation, refresh
    from foundations.ops import harness

    done = []
    monkeypatch.setattr(navigation, "write_all", lambda *a: done.append("navigation"))
    monkeypatch.setattr(refresh, "refresh_all", lambda *a: done.append("refresh"))
    monkeypatch.setattr(harness, "temporary", lambda *a, **k: done.append("services"))
    for command in (["course", "navigation"], ["course", "refresh"], ["course", "refresh", "x.ipynb"]):
        with pytest.raises(SystemExit):
            cli.main([*command, "--help"])
    assert done == []
    assert cli.main(["course", "navigation"]) == 0 and done == ["navigation"]  # the control: it is patched


def test_navigation_help_leaves_the_notebooks_untouched():
    notebooks = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("*.ipynb"))
    before = [path.stat().st_mtime_ns for path in notebooks]
    done = run("course", "navigation", "--help")
    assert done.returncode == 0 and done.stdout.startswith("usage:")
    assert [path.stat().st_mtime_ns for path in notebooks] == before

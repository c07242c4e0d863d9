"""Chapter 1's "is everything there?", for workshops: one line per check and one line of fix per failure.

$ python -m foundations doctor
"""

from __future__ import annotations

import shutil
import sys
from dataclasses import dataclass, replace
from importlib import metadata
from pathlib import Path
from typing import Any

import redis

from foundations import bench, config, net, pins, redisdb
from foundations.config import Config
from foundations.ops import compose, engine, hosting, services

KERNEL_NAME = "api-foundations"
DOCKER_MARKER = Path("/.dockerenv")  # Docker makes it in every container


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""
    needed: bool = True  # a failure of a needed check makes doctor exit non-zero


def check_python() -> Check:
    ok = sys.version_info >= (3, 11)
    version = ".".join(map(str, sys.version_info[:3]))
    where = "virtual environment" if sys.prefix != sys.base_prefix else "system interpreter"
    place = hosting.where()
    fix = "use Python 3.11 or newer: make clean, then make lab PYTHON=python3.11"
    if place != hosting.OWN:
        fix = f"this server's Python comes with it: {hosting.ask(place)}"
    return Check("python", ok, f"{version} ({where})", "" if ok else fix)


def check_kernel() -> Check:
    try:
        from jupyter_client.kernelspec import KernelSpecManager
    except ImportError:
        return Check("kernel", False, "jupyter_client is not installed", _packages_fix())
    found = KERNEL_NAME in KernelSpecManager().find_kernel_specs()
    place = hosting.where()
    if place == hosting.WORKSHOP:
        fix = hosting.ask(place)
    else:  # make reinstall registers it too
        fix = hosting.command("course install-kernel", make="reinstall")
    return Check(
        "kernel", found, KERNEL_NAME + (" registered" if found else " not registered"), "" if found else fix
    )


def check_packages(lock_file: Path = pins.LOCK_FILE) -> Check:
    if not lock_file.exists():
        return Check("packages", True, "no requirements.lock here (installed from a wheel)", needed=False)
    wrong = []
    for name, wanted in pins.applying_here(lock_file).items():
        try:
            have = metadata.version(name)
        except metadata.PackageNotFoundError:
            have = "missing"
        if have != wanted:
            wrong.append(f"{name} {have} (pinned {wanted})")
    if wrong:
        return Check(
            "packages",
            False,
            f"{len(wrong)} differ from the pins: {', '.join(wrong[:3])}",
            _packages_fix(),
        )
    return Check("packages", True, "all match requirements.lock")


def _packages_fix() -> str:
    """``make reinstall`` for the repo's own ``.venv``; in a container whose image holds the packages (the
    Docker lab, with or without a venv of its own), a rebuild of the images from the host, since the mounted
    repo's lock may be newer than them (the API server's image bakes in the lock and the package too); on a
    hub's server, whoever runs the hub."""
    place = hosting.where()
    if place != hosting.OWN:
        return f"the packages come with this server: {hosting.ask(place)}"
    if DOCKER_MARKER.exists() and Path(sys.prefix).resolve() != config.REPO_ROOT / ".venv":
        return (
            "the packages are baked into the images (this container's and the API server's): rebuild them "
            "and start the new ones, from the host: docker compose build && docker compose up -d --wait "
            "(Compose v1: docker-compose build && docker-compose up -d; the offline image set: sudo make "
            "docker-images, then the same up with COMPOSE_FILE=compose.yaml:compose.offline.yaml exported)"
        )
    return "make reinstall (puts back the pins of requirements.lock), then restart the kernel: it holds the old ones"


def check_service(cfg: Config, name: str) -> Check:
    status = services.check(cfg, name)
    source = cfg.sources.get(config.SERVICES[name], "default")
    if status.answers:
        return Check(name, True, f"{status.address} answers ({status.detail}){server_version(cfg, name)}")
    return Check(name, False, f"{status.address} ({source}): {status.detail}", services.fix(cfg, status))


def server_version(cfg: Config, name: str) -> str:
    """``", Redis 7.0.15"``: the server behind the notebooks' outputs, for a service that answers."""
    import pymysql  # imported here: the CLI's other commands should not pay for it

    url = getattr(cfg, config.SERVICES[name])
    try:
        if name.startswith("redis"):
            return ", Redis " + redisdb.client(url).info("server")["redis_version"]
        if name == "mysql":
            # VERSION() is "10.11.6-MariaDB-0+deb12u1" or "8.4.3-3"; MariaDB's handshake says "5.5.5-10.11.6-..."
            with pymysql.connect(**net.mysql_params(url), connect_timeout=2) as conn, conn.cursor() as cur:
                cur.execute("SELECT VERSION()")
                version = cur.fetchone()[0]
            return f", {'MariaDB' if 'MariaDB' in version else 'MySQL'} {version.split('-')[0]}"
    except (redis.RedisError, pymysql.MySQLError, OSError) as exc:  # it answered a moment ago: say, not fail
        return f", version unknown ({exc})"
    return ""


def check_docker(cfg: Config, names: tuple[str, ...]) -> Check:
    """Which way ``services up`` goes and why (``services.plan``): compose's containers, local daemons, or
    services elsewhere. One ``docker info``, for the plan and the advice: each may wait 5 s for an engine."""
    docker = engine.docker_state()
    plan = services.plan(cfg, names, engine_state=docker)
    if plan.reason == "recorded, no compose":
        detail = "the state file says compose started the services, but no compose is installed: services up stops with an error"
        return Check("docker", False, detail, services.no_compose_fix(cfg), needed=False)
    if plan.reason == "recorded, on other hosts":  # the Docker lab, reading the state file of the host's up
        kept = "keeps the local daemons" if plan.way == "local" else "goes back to the compose containers"
        detail = f"FOUNDATIONS_* name services on other hosts, yet services up {kept} it started"
        fix = "optional: make services-down, then services up waits for the services on those hosts"
        return Check("docker", False, detail, fix, needed=False)
    if plan.way == "remote" and docker == "answers":
        detail = "engine answers, but FOUNDATIONS_* name services on other hosts: services up waits for them"
        return Check("docker", True, detail, needed=False)
    if plan.way == "remote":  # the Docker lab: its services are compose's containers
        detail = "none needed here: the services run elsewhere, services up waits for them"
        return Check("docker", True, detail, needed=False)
    if plan.way == "docker" and docker != "answers":  # Docker stopped (a reboot?) under services compose ran
        detail = "no engine answers, yet services up started compose's containers and goes back to them"
        fix = "start Docker; or make services-down (it forgets them), then services up runs local daemons"
        return Check("docker", False, detail, fix, needed=False)
    if plan.way != "local":  # compose: as recorded, as it runs them already, or now
        return Check("docker", True, "engine answers: services up uses compose", needed=False)
    if plan.reason == "no compose.yaml":
        detail = "engine answers, but no compose.yaml here (installed from a wheel): services up runs local daemons instead"
        fix = "optional: run the course from a clone of its repository, which has compose.yaml"
        return Check("docker", False, detail, fix, needed=False)
    if docker == "answers" and (plan.reason == "no compose" or compose.command() is None):
        detail = "an engine answers, but no compose: services up runs local daemons instead"
        return Check("docker", False, detail, "optional: sudo apt-get install docker-compose", needed=False)
    if docker == "answers":  # up keeps managing services the way they started, whatever is installed since
        detail = "engine answers, but services up keeps the local daemons it started"
        return Check(
            "docker", False, detail, "optional: make services-down, then services up uses compose", False
        )
    then = (
        "; then make services-down, so that services up starts compose" if plan.reason == "recorded" else ""
    )
    if docker == "denied":  # "start Docker" would be a dead end: it runs
        detail = "an engine runs, but this user may not use it (docker info: permission denied): services up runs local daemons instead"
        return Check(
            "docker",
            False,
            detail,
            f"optional: sudo usermod -aG docker $USER (root-level access to this machine), log in again, then restart make lab{then}",
            needed=False,
        )
    get_docker = (
        "start Docker" if shutil.which("docker") else "install Docker Engine (docs.docker.com/engine/install)"
    )
    return Check(
        "docker",
        False,
        "no engine: services up runs local daemons instead",
        f"optional: {get_docker} to run compose.yaml{then}",
        needed=False,
    )


# What chapter 10 (its part 4 and appendix, 11's appendix) runs when one tool is missing: each notebook asks
# bench.available, as this check does, and takes the one installed; the built-in generator when neither is
LOAD_GENERATORS_MISSING = {
    ("ab",): "chapter 10 loads with wrk in place of the book's ab, and leaves ab's loads out of its appendix",
    ("wrk",): (
        "chapter 10 loads with the book's ab, and with its built-in load generator where wrk would keep "
        "connections open"
    ),
    ("ab", "wrk"): "chapter 10 uses its built-in load generator instead",
}
BREW = {"ab": "httpd", "wrk": "wrk"}  # macOS: Homebrew's httpd brings ab


def check_load_generators() -> Check:
    missing = tuple(tool for tool in bench.LOAD_GENERATORS if not bench.available(tool))
    if not missing:
        return Check("ab, wrk", True, "installed: chapter 10 runs the book's ab", needed=False)
    debs = " ".join(bench.LOAD_GENERATORS[tool] for tool in missing)
    return Check(
        "ab, wrk",
        False,
        f"{', '.join(missing)} missing: {LOAD_GENERATORS_MISSING[missing]}",
        f"sudo apt-get install -y {debs} (macOS: brew install {' '.join(BREW[tool] for tool in missing)})",
        needed=False,
    )


def check_ptrace() -> Check:
    """Chapter 10's flame graph: py-spy must attach to the server (ptrace); without it the notebook shows
    pyinstrument's profile instead, so this check is optional."""
    from foundations import profiling

    allowed, why = profiling.ptrace()
    if allowed:
        return Check("ptrace", True, f"py-spy can attach: {why}", needed=False)
    return Check(
        "ptrace",
        False,
        f"py-spy cannot attach ({why}): chapter 10 shows pyinstrument instead",
        profiling.PTRACE_FIX,
        needed=False,
    )


def run(cfg: Config, names: tuple[str, ...] = tuple(config.SERVICES)) -> list[Check]:
    """Every check, in the order a person would fix them. On a hub's server (a workshop, Binder) the optional
    rows have no fix: Docker, apt-get and ptrace are not the participant's to change there."""
    checks = [
        check_python(),
        check_kernel(),
        check_packages(),
        *(check_service(cfg, name) for name in names),
        check_load_generators(),
        check_ptrace(),
        check_docker(cfg, names),
    ]
    if hosting.where() == hosting.OWN:
        return checks
    return [c if c.needed else replace(c, fix="") for c in checks]


def render(checks: list[Check]) -> str:
    lines = []
    for c in checks:
        mark = "ok " if c.ok else "FAIL" if c.needed else "no "  # a missing optional tool is no failure
        lines.append(f"{mark} {c.name:<9} {c.detail}")
        if not c.ok and c.fix:
            lines.append(f"     {'':<9} fix: {c.fix}")
    return "\n".join(lines)


def table(checks: list[Check]) -> Any:
    """The checks as a pandas DataFrame (for notebooks)."""
    import pandas as pd

    return pd.DataFrame([{"check": c.name, "ok": c.ok, "detail": c.detail, "fix": c.fix} for c in checks])


def healthy(checks: list[Check]) -> bool:
    return all(c.ok or not c.needed for c in checks)

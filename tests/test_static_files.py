"""Static checks of compose.yaml, the Dockerfiles, nginx.conf and the CI workflow.

No Docker engine is needed (none runs on the CI machines): schemas via check-jsonschema, Dockerfile
lint via hadolint, and the cross-references that no schema checks (an undefined network, volume or
depends_on target passes both compose-spec and docker-compose v1) via PyYAML. Each checker also runs
on a deliberately broken copy, so a checker that can no longer fail is caught too.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from foundations import config

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = ROOT / "compose.yaml"
WORKFLOW = ROOT / ".github" / "workflows" / "ci.yml"
NGINX_CONF = ROOT / "docker" / "nginx.conf"
DOCKERFILES = sorted((ROOT / "docker").rglob("*.Dockerfile"))  # docker/offline/ too
OFFLINE = ROOT / "compose.offline.yaml"
REQUIRED_NETWORK = "party"


# --- helpers -----------------------------------------------------------------------------------


def tool(name: str) -> str:
    """The tool installed next to this interpreter (the venv), else on PATH."""
    exe = Path(sys.executable).parent / name
    if exe.exists():
        return str(exe)
    found = shutil.which(name)
    if found is None:
        pytest.fail(
            f"{name} not found next to {sys.executable} nor on PATH; "
            f"install the test tools (make install-test)"
        )
    return found


def run(*cmd: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=120)


def schema_check(schema: str, path: Path) -> subprocess.CompletedProcess[str]:
    return run(tool("check-jsonschema"), "--builtin-schema", schema, str(path))


def hadolint(path: Path) -> subprocess.CompletedProcess[str]:
    # The default threshold is "info", which would fail on style notes such as DL3066.
    return run(tool("hadolint"), "--no-color", "--failure-threshold", "warning", str(path))


def report(proc: subprocess.CompletedProcess[str]) -> str:
    return f"`{' '.join(proc.args)}` exited {proc.returncode}:\n{proc.stdout}{proc.stderr}"


def _names(value: list | dict | None) -> list[str]:
    """Keys of the long form ({name: {...}}) or items of the short form ([name, ...])."""
    if value is None:
        return []
    return list(value) if isinstance(value, dict) else [str(v) for v in value]


def _named_volume(spec: str | dict) -> str | None:
    """The named volume a service volume uses, or None for a bind mount / anonymous volume."""
    if isinstance(spec, dict):
        return spec.get("source") if spec.get("type", "volume") == "volume" else None
    source, sep, _ = spec.partition(":")
    if not sep or source.startswith((".", "/", "~", "$")):
        return None
    return source


def _bind_source(spec: str | dict) -> str | None:
    if isinstance(spec, dict):
        return spec.get("source") if spec.get("type") == "bind" else None
    source, sep, _ = spec.partition(":")
    return source if sep and source.startswith((".", "/", "~")) else None


def _loopback_only(port: str | int | dict) -> bool:
    if isinstance(port, dict):
        return "published" not in port or port.get("host_ip") == "127.0.0.1"
    return str(port).startswith("127.0.0.1:")


def compose_problems(compose: dict, base: Path, required_network: str | None = REQUIRED_NETWORK) -> list[str]:
    """Everything wrong in a loaded compose file that a schema cannot see, one line per problem."""
    problems: list[str] = []
    services: dict = compose.get("services") or {}
    networks = set(compose.get("networks") or {})
    volumes = set(compose.get("volumes") or {})
    for name, svc in services.items():
        where = f"service {name!r}"
        svc_networks = _names(svc.get("networks"))
        for net in svc_networks:
            if net not in networks:
                problems.append(f"{where}: network {net!r} is not declared under top-level networks")
        if required_network and required_network not in svc_networks:
            problems.append(f"{where}: not on network {required_network!r}")
        for spec in svc.get("volumes") or []:
            vol = _named_volume(spec)
            if vol is not None and vol not in volumes:
                problems.append(f"{where}: named volume {vol!r} is not declared under top-level volumes")
            src = _bind_source(spec)
            if src is not None and not src.startswith(("/", "~")) and not (base / src).exists():
                problems.append(f"{where}: bind-mount source {src!r} does not exist")
        build = svc.get("build")
        if isinstance(build, dict):
            dockerfile = base / build.get("context", ".") / build.get("dockerfile", "Dockerfile")
            if not dockerfile.exists():
                problems.append(f"{where}: Dockerfile {dockerfile.relative_to(base)} does not exist")
        health = svc.get("healthcheck") or {}
        if not health.get("test") or health.get("disable"):
            problems.append(f"{where}: no healthcheck (depends_on ... service_healthy and --wait need one)")
        for port in svc.get("ports") or []:
            if not _loopback_only(port):
                problems.append(f"{where}: port {port!r} is not bound to 127.0.0.1")
        depends = svc.get("depends_on") or {}
        for target in _names(depends):
            if target not in services:
                problems.append(f"{where}: depends_on {target!r}, which is not a service")
                continue
            condition = depends[target].get("condition") if isinstance(depends, dict) else None
            if condition != "service_healthy":
                shown = condition or "service_started (default)"
                problems.append(f"{where}: depends_on {target!r} with condition {shown}, not service_healthy")
            # A service must not wait on one that its own profiles may leave disabled.
            target_profiles = set(services[target].get("profiles") or [])
            own_profiles = set(svc.get("profiles") or [])
            if target_profiles and not (own_profiles and own_profiles <= target_profiles):
                problems.append(
                    f"{where}: depends_on {target!r}, which only runs under profiles "
                    f"{sorted(target_profiles)}"
                )
    return problems


def nginx_upstream_hosts(conf_text: str) -> list[str]:
    """Host names of the `server` lines inside every `upstream { }` block."""
    hosts = []
    for block in re.findall(r"^\s*upstream\s+\S+\s*\{(.*?)^\s*\}", conf_text, re.S | re.M):
        for line in block.splitlines():
            line = line.split("#", 1)[0]
            match = re.match(r"\s*server\s+([A-Za-z0-9._-]+)(?::\d+)?[\s;]", line)
            if match:
                hosts.append(match.group(1))
    return hosts


def load_compose(path: Path = COMPOSE) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))  # safe_load resolves `<<: *anchor` merges


# --- the real files ------------------------------------------------------------------------------


def test_compose_matches_compose_spec() -> None:
    proc = schema_check("vendor.compose-spec", COMPOSE)
    assert proc.returncode == 0, report(proc)


def test_ci_workflow_matches_github_schema() -> None:
    proc = schema_check("vendor.github-workflows", WORKFLOW)
    assert proc.returncode == 0, report(proc)


def test_compose_cross_references() -> None:
    problems = compose_problems(load_compose(), COMPOSE.parent)
    assert problems == [], "compose.yaml:\n  " + "\n  ".join(problems)


def test_compose_stays_docker_compose_v1_compatible() -> None:
    # Debian's docker-compose 1.29 rejects these (valid in Compose v2); v1 predates the compose spec.
    compose = load_compose()
    assert "name" not in compose and "version" not in compose, "drop top-level name:/version:"
    offenders = [
        name
        for name, svc in compose["services"].items()
        if "start_interval" in (svc.get("healthcheck") or {})
    ]
    assert offenders == [], f"healthcheck.start_interval used by {offenders}"


def test_compose_v1_config() -> None:
    # v1 also resolves anchors/interpolation and rejects a depends_on on an undefined service.
    if shutil.which("docker-compose") is None:
        pytest.skip(
            "docker-compose v1 not installed: sudo apt-get install -y --no-install-recommends "
            "docker-compose (no Docker engine needed; .ci/run does)"
        )
    proc = run("docker-compose", "-f", str(COMPOSE), "--profile", "scale", "config", "-q")
    assert proc.returncode == 0, report(proc)
    proc = run("docker-compose", "-f", str(COMPOSE), "-f", str(OFFLINE), "--profile", "scale", "config", "-q")
    assert proc.returncode == 0, report(proc)


def test_the_offline_override_builds_every_image_here_but_nginx() -> None:
    """compose.offline.yaml names an image of the offline set (docker/offline/) for every service that
    compose.yaml runs from a registry image or builds; nginx (profile `scale`) alone has none."""
    offline = yaml.safe_load(OFFLINE.read_text(encoding="utf-8"))["services"]
    built = {p.stem.partition(".")[0] for p in (ROOT / "docker" / "offline").glob("*.Dockerfile")}
    for name in set(load_compose()["services"]) - {"nginx"}:
        image = offline.get(name, {}).get("image", "")
        assert image.startswith("api-foundations/") and image.split("/")[1].split(":")[0] in built, name


def test_dockerfiles_present() -> None:
    names = {p.name for p in DOCKERFILES}
    assert {"api.Dockerfile", "lab.Dockerfile"} <= names, f"docker/ has {sorted(names)}"


@pytest.mark.parametrize("dockerfile", ["api.Dockerfile", "offline/api.Dockerfile"])
def test_the_api_images_ship_granian_not_the_lesson_server(dockerfile: str, monkeypatch) -> None:
    """serve's default HTTP server is the course's loopserver; an image runs granian in front of the app,
    with worker processes (granian's supported mode), not one worker in serve's own process."""
    text = (ROOT / "docker" / dockerfile).read_text(encoding="utf-8")
    env = dict(re.findall(r"\b(FOUNDATIONS_[A-Z_]+)=(\S+)", text))
    assert "FOUNDATIONS_INTERFACE" in env, (
        f"{dockerfile} leaves serve on its default, the lesson's loopserver"
    )
    for name in ("FOUNDATIONS_INTERFACE", "FOUNDATIONS_WORKERS"):
        monkeypatch.setenv(name, env.get(name, ""))
    shipped = config.load(argv=[])
    assert (shipped.interface, shipped.workers >= 2) == ("rsgi", True), env


@pytest.mark.parametrize("dockerfile", ["api.Dockerfile", "offline/api.Dockerfile"])
def test_the_image_checks_liveness_and_compose_readiness(dockerfile: str) -> None:
    """The image's HEALTHCHECK asks /livez (no Redis call): under Swarm or a liveness probe, a Redis outage
    must not replace every API container. compose's api services keep /healthz (with Redis), which their
    dependents' service_healthy and `up --wait` need."""
    text = (ROOT / "docker" / dockerfile).read_text(encoding="utf-8")
    check = re.search(r"^HEALTHCHECK .*?\n\s+CMD (.*)$", text, re.M)
    assert check and "/livez'" in check[1], f"{dockerfile}'s HEALTHCHECK should ask /livez: {check}"
    services = load_compose()["services"]
    for name in ("api", "api-replica"):
        assert "/healthz'" in " ".join(services[name]["healthcheck"]["test"]), name


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: str(p.relative_to(ROOT / "docker")))
def test_dockerfile_lint(dockerfile: Path) -> None:
    proc = hadolint(dockerfile)
    assert proc.returncode == 0, report(proc)


def test_nginx_upstreams_are_compose_services() -> None:
    hosts = nginx_upstream_hosts(NGINX_CONF.read_text(encoding="utf-8"))
    services = set(load_compose()["services"])
    assert hosts, f"no `server` line inside an upstream block of {NGINX_CONF}"
    unknown = [h for h in hosts if h not in services]
    assert unknown == [], f"nginx upstream hosts {unknown} are not compose services ({sorted(services)})"


def test_mysql_init_avoids_mysql_only_collations() -> None:
    # utf8mb4_0900_* exist on MySQL 8 only; the same SQL must run on local MariaDB.
    sql_files = sorted((ROOT / "docker" / "mysql-init").glob("*.sql"))
    assert sql_files, "docker/mysql-init/ has no .sql file"
    for sql in sql_files:
        code = re.sub(r"--[^\n]*", "", sql.read_text(encoding="utf-8"))  # comments may name them
        assert "_0900_" not in code, f"{sql.name} uses a MySQL-only utf8mb4_0900_* collation"


# --- the checkers can fail -----------------------------------------------------------------------


def test_cross_reference_checker_catches_each_mistake(tmp_path: Path) -> None:
    broken = load_compose()
    broken["services"]["intruder"] = {
        "image": "busybox",
        "networks": ["nowhere"],
        "volumes": ["ghost-data:/data", "./no-such-dir:/x"],
        "ports": ["9999:9999"],
        "depends_on": ["redis", "phantom"],
        "build": {"context": ".", "dockerfile": "docker/missing.Dockerfile"},
    }
    broken["services"]["redis"]["depends_on"] = {"nginx": {"condition": "service_healthy"}}
    path = tmp_path / "compose.yaml"
    path.write_text(yaml.safe_dump(broken), encoding="utf-8")

    text = "\n".join(compose_problems(load_compose(path), ROOT))
    for expected in (
        "network 'nowhere' is not declared",
        "not on network 'party'",
        "named volume 'ghost-data' is not declared",
        "bind-mount source './no-such-dir'",
        "docker/missing.Dockerfile does not exist",
        "'intruder': no healthcheck",
        "port '9999:9999' is not bound to 127.0.0.1",
        "depends_on 'phantom', which is not a service",
        "depends_on 'redis' with condition service_started",
        "only runs under profiles ['scale']",
    ):
        assert expected in text, f"checker missed {expected!r}; it reported:\n{text}"


def test_schema_check_rejects_a_bad_compose_file(tmp_path: Path) -> None:
    bad = tmp_path / "compose.yaml"
    # A misspelt depends_on condition: docker would reject it at `up` time.
    bad.write_text(
        "services:\n  api:\n    image: x\n    depends_on:\n      redis:\n"
        "        condition: service_ready\n  redis:\n    image: redis\n",
        encoding="utf-8",
    )
    proc = schema_check("vendor.compose-spec", bad)
    assert proc.returncode != 0, report(proc)


def test_hadolint_rejects_a_bad_dockerfile(tmp_path: Path) -> None:
    bad = tmp_path / "bad.Dockerfile"
    bad.write_text("FROM python\nRUN pip install flask\n", encoding="utf-8")  # DL3006, DL3013, DL3042
    proc = hadolint(bad)
    assert proc.returncode != 0, report(proc)
    assert "DL3006" in proc.stdout, report(proc)


def test_nginx_parser_sees_an_unknown_upstream() -> None:
    conf = "http {\n  upstream api {\n    server not-a-service:8080 resolve;  # x\n    keepalive 8;\n  }\n}\n"
    assert nginx_upstream_hosts(conf) == ["not-a-service"]

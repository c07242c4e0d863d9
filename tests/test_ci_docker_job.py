"""CI's Docker path (.ci/docker, run by .ci/run here and by the GitHub job `docker` on the real images), read
without an engine: the FOUNDATIONS_* variables it exports must reach the harness (config.load, so conftest
starts nothing and every test and kernel uses them), name the ports compose.yaml publishes, and log in to
Redis as the ACL user allowed DEBUG (chapter 7). In the Docker run itself this file runs too."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from foundations import config
from foundations.ops import services

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / ".ci" / "docker"


def workflow() -> dict:
    return yaml.safe_load((ROOT / ".github" / "workflows" / "ci.yml").read_text())


def exported() -> dict[str, str]:
    """The FOUNDATIONS_* variables .ci/docker exports."""
    return dict(re.findall(r"^export (FOUNDATIONS_\w+)=(\S+)$", SCRIPT.read_text(), re.MULTILINE))


def compose_service(name: str) -> dict:
    return yaml.safe_load((ROOT / "compose.yaml").read_text())["services"][name]


def published_port(service: str) -> int:
    host_ip, host_port, _ = compose_service(service)["ports"][0].split(":")
    assert host_ip == "127.0.0.1"
    return int(host_port)


def test_the_scripts_environment_reaches_the_harness_and_names_the_published_ports():
    env = exported()
    cfg = config.load(argv=[], environ=env)
    assert services.named_by_environment(env), "conftest would start services of its own"
    for name, key in services.SERVICES.items():
        assert cfg.sources[key] == f"env {config.BY_NAME[key].env}", name
        host, port = cfg.endpoint(key)
        assert (host, port) == ("127.0.0.1", published_port(services.COMPOSE_NAMES.get(name, name))), name


def test_redis_is_reached_as_the_user_allowed_debug():
    command = compose_service("redis")["command"]
    users = " ".join(command).split("--user ")[1:]
    allowed = [u.split()[0] for u in users if "-debug" not in u.split()]
    for name in ("redis", "redis1", "redis2"):
        url = urlsplit(exported()[config.BY_NAME[services.SERVICES[name]].env])
        assert url.username in allowed, f"{name}: {url.username} may not run DEBUG (chapter 7)"
    assert services.COMPOSE_ENDPOINTS["redis_url"].startswith(f"redis://{allowed[0]}:")


def test_the_github_job_runs_the_same_script_on_the_real_images():
    steps = workflow()["jobs"]["docker"]["steps"]
    runs = [step for step in steps if ".ci/docker" in step.get("run", "")]
    assert len(runs) == 1 and runs[0]["env"]["COMPOSE_FILE"] == "compose.yaml"
    assert ".ci/docker" in (ROOT / ".ci" / "run").read_text()


def test_both_jobs_also_run_weekly():
    triggers = workflow()[True]  # YAML 1.1 reads the key `on` as True
    assert [entry["cron"].split()[2:] for entry in triggers["schedule"]] == [["*", "*", "1"]]
    assert set(workflow()["jobs"]) == {"test", "docker"}

"""The CI job that proves the Docker path (.github/workflows/ci.yml, job `docker`) cannot run here (no
Docker engine): what it sets is checked instead. Its FOUNDATIONS_* variables must reach the harness
(config.load, so conftest starts nothing and every test and kernel uses them) and name the ports
compose.yaml publishes, for every service the harness needs. In the job itself this file runs too."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import yaml

from foundations import config
from foundations.ops import services

ROOT = Path(__file__).resolve().parents[1]


def workflow() -> dict:
    return yaml.safe_load((ROOT / ".github" / "workflows" / "ci.yml").read_text())


def docker_job() -> dict:
    return workflow()["jobs"]["docker"]


def step_running(job: dict, pattern: str) -> str:
    runs = [step["run"] for step in job["steps"] if re.search(pattern, step.get("run", ""))]
    assert len(runs) == 1, f"expected one step running {pattern!r}, found {runs}"
    return runs[0]


def published_port(service: str) -> int:
    ports = yaml.safe_load((ROOT / "compose.yaml").read_text())["services"][service]["ports"]
    host_ip, host_port, _ = ports[0].split(":")
    assert host_ip == "127.0.0.1"
    return int(host_port)


def test_the_jobs_environment_reaches_the_harness():
    env = docker_job()["env"]
    cfg = config.load(argv=[], environ=env)
    assert services.named_by_environment(env), "conftest would start services of its own"
    for name, key in services.SERVICES.items():
        assert cfg.sources[key] == f"env {config.BY_NAME[key].env}", name
        host, port = cfg.endpoint(key)
        assert (host, port) == ("127.0.0.1", published_port(services.COMPOSE_NAMES.get(name, name))), name


def test_the_job_starts_every_service_the_harness_needs_and_runs_the_notebooks():
    job = docker_job()
    up = shlex.split(step_running(job, r"docker compose up"))
    assert up[:5] == ["docker", "compose", "up", "-d", "--wait"]
    assert set(up[5:]) == {services.COMPOSE_NAMES.get(name, name) for name in services.SERVICES}
    assert shlex.split(step_running(job, r"docker compose build"))[3:] == ["api", "lab"]  # both images
    tests = step_running(job, r"make test")
    assert "notebooks" in tests.split("PYTEST_ARGS=")[1] and Path(__file__).name in tests


def test_both_jobs_also_run_weekly():
    triggers = workflow()[True]  # YAML 1.1 reads the key `on` as True
    assert [entry["cron"].split()[2:] for entry in triggers["schedule"]] == [["*", "*", "1"]]
    assert set(workflow()["jobs"]) == {"test", "docker"}

"""The Docker lab is safe on a laptop, read from compose.yaml and docker/lab.Dockerfile (no engine needed):
no default token, the launcher `make lab` uses (Host check on, token through the environment), the port
published on 127.0.0.1 only. tests/test_lab.py shows the Host check answering 403 on 0.0.0.0."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

from foundations.ops import lab, services

ROOT = Path(__file__).resolve().parents[1]
LAUNCHER = ["python", "-m", "foundations", "lab", "--lab-ip", "0.0.0.0", "--lab-port", "8888"]


def lab_service() -> dict:
    return yaml.safe_load((ROOT / "compose.yaml").read_text())["services"]["lab"]


def dockerfile_cmd(text: str) -> list[str]:
    """The last CMD of a Dockerfile, in exec form."""
    lines = [line for line in text.splitlines() if line.startswith("CMD ")]
    return json.loads(lines[-1].removeprefix("CMD "))


def test_the_compose_lab_has_no_default_token():
    token = lab_service()["environment"]["JUPYTER_TOKEN"]
    assert re.fullmatch(r"\$\{JUPYTER_TOKEN(:?-)?\}", token), f"JUPYTER_TOKEN: {token!r} carries a default"
    assert lab.token({"JUPYTER_TOKEN": ""}) != "", "an empty JUPYTER_TOKEN must not turn authentication off"


def test_the_compose_lab_is_published_on_loopback_only_and_starts_no_services_of_its_own():
    svc = lab_service()
    assert svc["ports"] == ["127.0.0.1:8888:8888"]
    assert "command" not in svc, "the image's CMD (the launcher) is what runs"
    assert svc["user"] == "${LAB_USER:-1000:1000}", "by default the image's own user, not root"
    assert services.named_by_environment(svc["environment"])  # compose's own redis, db1, api


def test_the_lab_image_runs_the_launcher_as_an_ordinary_user():
    text = (ROOT / "docker" / "lab.Dockerfile").read_text()
    assert dockerfile_cmd(text) == LAUNCHER
    cmd = " ".join(dockerfile_cmd(text))
    assert not re.search(r"token|allow.remote.access=True|allow-root", cmd, re.IGNORECASE)
    assert re.search(r"^USER 1000", text, re.MULTILINE)
    assert "--ServerApp.allow_remote_access=False" in lab.command("0.0.0.0", 8888, as_root=False)


def test_the_readme_prints_no_token():
    readme = (ROOT / "README.md").read_text()
    assert not re.findall(r"token=(?!\.\.\.)\w+", readme)


def test_the_checks_see_a_default_token_and_a_shell_cmd():
    assert not re.fullmatch(r"\$\{JUPYTER_TOKEN(:?-)?\}", "${JUPYTER_TOKEN:-foundations}")
    assert dockerfile_cmd('CMD ["jupyter", "lab", "--ip=0.0.0.0"]\n') != LAUNCHER
    assert re.findall(r"token=(?!\.\.\.)\w+", "open http://127.0.0.1:8888/lab?token=foundations")

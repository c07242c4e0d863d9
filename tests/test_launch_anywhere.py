"""Launching with nothing installed: the dev container (Codespaces, VS Code) and Binder (repo2docker)
bring the same Debian packages, the same kernel and the same services as `make lab`."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from foundations import config
from foundations.ops import packages, services

ROOT = Path(__file__).resolve().parents[1]
BINDER = ROOT / "binder"


def apt_packages() -> set[str]:
    return set((BINDER / "apt.txt").read_text().split())


def test_binder_and_the_dev_container_install_what_services_up_would():
    assert apt_packages() == {*packages.PACKAGES.values(), *packages.LOAD_GENERATORS.values()}


def test_the_dev_container_is_debian_with_the_services_up_and_the_lab_port_forwarded():
    spec = json.loads((ROOT / ".devcontainer" / "devcontainer.json").read_text())  # plain JSON, no comments
    assert spec["image"].endswith("-bookworm"), "Debian 12, as CI and the Docker images"
    create = spec["postCreateCommand"]
    assert "apt-get install" in create and "$(cat binder/apt.txt)" in create
    assert create.endswith("make install")
    assert spec["postStartCommand"] == "make services-up"
    assert 8888 in spec["forwardPorts"]


def test_binder_builds_the_kernel_the_notebooks_name():
    post_build = (BINDER / "postBuild").read_text()
    assert (
        "python -m foundations course install-kernel" in post_build and "-r requirements.lock" in post_build
    )
    assert os.access(BINDER / "postBuild", os.X_OK) and os.access(BINDER / "start", os.X_OK)


def test_binder_start_brings_every_service_up_then_execs_its_argument(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(config.ENV_PREFIX)}
    env["HOME"] = str(tmp_path / "home")
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env["PATH"]])
    # Not the repo's .state, which a lab may use; outside pytest's 0700 tmp_path, as a clone's .state is.
    state_dir = Path(tempfile.mkdtemp(prefix="api-foundations-binder-"))
    state_dir.chmod(0o711)
    env["FOUNDATIONS_STATE_DIR"] = str(state_dir)
    # The argument reports its PID (the same as start's when start exec'd it) and every service's status.
    probe = "echo pid=$$; exec python -m foundations services status"
    started = time.monotonic()
    start = subprocess.Popen(
        [str(BINDER / "start"), "sh", "-c", probe],
        cwd=tmp_path,
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        out, _ = start.communicate(timeout=300)
    finally:
        subprocess.run([sys.executable, "-m", "foundations", "services", "down"], env=env, check=True)
        shutil.rmtree(state_dir, ignore_errors=True)
    print(f"binder/start: services up and its argument run in {time.monotonic() - started:.1f} s")
    assert start.returncode == 0, out
    assert f"pid={start.pid}" in out, out
    after_exec = out.partition(f"pid={start.pid}")[2]
    answering = [line.split()[0] for line in after_exec.splitlines() if "  answers  " in line]
    assert answering == list(services.SERVICES), out

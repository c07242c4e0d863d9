"""notebooks/examples/pyrun, chapter 1's port of the book's `go` runner: what it hands to docker."""

import os
import subprocess

from foundations.config import REPO_ROOT

RUNNER = REPO_ROOT / "notebooks" / "examples" / "pyrun"


def test_the_runner_runs_python_in_a_throwaway_container_with_the_callers_arguments(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake_docker = bin_dir / "docker"  # prints each argument on its own line instead of starting a container
    fake_docker.write_text('#!/bin/sh\nfor arg in "$@"; do echo "$arg"; done\n')
    fake_docker.chmod(0o755)
    done = subprocess.run(
        [str(RUNNER), "examples/hello_world.py", "two words"],
        cwd=tmp_path,
        env={**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.splitlines() == [
        "run", "--net=party", "--rm", "-it", "-v", f"{tmp_path}:/app", "-w", "/app",
        "python:3.11-slim", "python", "examples/hello_world.py", "two words",
    ]  # fmt: skip

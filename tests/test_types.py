"""mypy over foundations/, as ``[tool.mypy]`` in pyproject.toml configures it (docs/architecture.md, "House
style"): the package type-checks, and a type error fails the check."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def mypy(root: Path, *files: str) -> subprocess.CompletedProcess:
    """mypy with ``root``'s pyproject.toml, over its ``files`` (default: the whole package, as configured)."""
    return subprocess.run(
        [sys.executable, "-m", "mypy", *files], cwd=root, capture_output=True, text=True, timeout=600
    )


def test_the_package_type_checks():
    done = mypy(ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Success: no issues found" in done.stdout


def test_a_type_error_fails_the_check(tmp_path):
    shutil.copytree(
        ROOT / "foundations", tmp_path / "foundations", ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    with open(tmp_path / "foundations" / "net.py", "a") as source:
        source.write("\n\ndef planted() -> int:\n    return free_port(candidates=['8080'])\n")
    done = mypy(tmp_path, "--cache-dir", str(tmp_path / "cache"), "foundations/net.py")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "foundations/net.py:" in done.stdout and "[list-item]" in done.stdout

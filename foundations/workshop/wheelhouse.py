"""The offline kit: every pinned wheel and the proxy's npm packages in one folder, for rooms without a
network.

    $ make wheelhouse                                            # fills wheelhouse/ (needs the indexes once)
    $ python -m foundations workshop verify-wheelhouse wheelhouse   # a fresh venv from it, no index at all

On the workshop machine (from a USB stick, checkout and kit side by side):

    $ PIP_NO_INDEX=1 PIP_FIND_LINKS=$PWD/wheelhouse make install-workshop
    $ python -m foundations workshop up --offline-kit wheelhouse ...   (see docs/workshop.md)

``npm-cache/`` is npm's own cache filled by ``npm ci`` from our lock, so ``npm ci --offline`` installs the
proxy from it; ``configurable-http-proxy-*.tgz`` is the proxy's own tarball, for reference and audits.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
import tomllib
import venv
from pathlib import Path

from foundations.config import REPO_ROOT
from foundations.errors import CommandError
from foundations.ops import pins
from foundations.workshop import proxy


def build_requirements() -> list[str]:
    """pyproject's build backend (setuptools), for `pip install -e .` without an index."""
    return tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["build-system"]["requires"]


def _run(cmd: list[str], **kwargs) -> None:
    done = subprocess.run(cmd, capture_output=True, text=True, **kwargs)
    if done.returncode:
        raise CommandError(f"`{' '.join(cmd[:4])} ...` failed: {done.stderr.strip()[-600:]}")


def build(dest: Path) -> str:
    """Download every pinned wheel (building the few that are source-only), the build backend, and the
    proxy's npm packages into ``dest``; one line on what it holds."""
    start = time.perf_counter()
    dest.mkdir(parents=True, exist_ok=True)
    download_wheels(dest, [pins.WORKSHOP_LOCK_FILE])
    with tempfile.TemporaryDirectory() as scratch:
        proxy.ensure(log=lambda line: None, proxy_dir=Path(scratch) / "proxy", npm_cache=dest / "npm-cache")
        _run(
            [
                "npm",
                "pack",
                "--silent",
                f"--cache={dest / 'npm-cache'}",
                f"--pack-destination={dest}",
                f"configurable-http-proxy@{proxy.version()}",
            ],
            cwd=scratch,
        )
    files = list(dest.glob("*.whl")) + list(dest.glob("*.tgz"))
    size = sum(f.stat().st_size for f in dest.rglob("*") if f.is_file())
    return (
        f"{dest}: {len(files)} wheels and tarballs, {size / 2**20:.0f} MiB with the npm cache, "
        f"in {time.perf_counter() - start:.0f} s"
    )


def download_wheels(dest: Path, locks: list[Path]) -> None:
    """Every wheel ``locks`` pin (those for Debian 12's older 3.11 too) and the build backend, into ``dest``."""
    extra = [pin for lock in locks for pin in pins.for_other_patch_releases(lock)]
    requirements = [arg for lock in locks for arg in ("-r", str(lock))]
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check"]
    _run([*pip, "wheel", "--no-deps", "-q", "-w", str(dest), *requirements, *extra, *build_requirements()])


def offline_environ(wheelhouse: Path) -> dict[str, str]:
    """pip and npm with no index at all: only the kit (no pip config file either, so no other find-links)."""
    return {
        **os.environ,
        "PIP_NO_INDEX": "1",
        "PIP_FIND_LINKS": str(wheelhouse.resolve()),
        "PIP_CONFIG_FILE": os.devnull,
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    }


def verify(wheelhouse: Path) -> dict[str, float]:
    """Install the project into a fresh venv and the proxy into a fresh folder from ``wheelhouse`` alone;
    seconds each step took."""
    seconds = {}
    with tempfile.TemporaryDirectory() as scratch:
        target = Path(scratch) / "venv"
        start = time.perf_counter()
        venv.create(target, with_pip=True)
        py = str(target / "bin" / "python")
        env = offline_environ(wheelhouse)
        _run([py, "-m", "pip", "install", "-q", "-r", str(pins.WORKSHOP_LOCK_FILE)], env=env)
        _run([py, "-m", "pip", "install", "-q", "--no-deps", "-e", str(REPO_ROOT)], env=env, cwd=scratch)
        _run([py, "-c", "import foundations.server, jupyterhub, jupyterhub_idle_culler, jupyterlab"], env=env)
        seconds["pip install (venv, lock, project)"] = time.perf_counter() - start
        start = time.perf_counter()
        proxy.ensure(
            log=lambda line: None,
            proxy_dir=Path(scratch) / "proxy",
            npm_cache=wheelhouse / "npm-cache",
            offline=True,
        )
        seconds["npm ci --offline (proxy)"] = time.perf_counter() - start
    return seconds

"""The proxy in front of the hub: configurable-http-proxy, from npm, into the checkout's ``.workshop/proxy``.

Its version and every dependency's are pinned by ``npm/package-lock.json`` (``npm ci`` installs exactly that).
Node.js and npm come from Debian when missing, the way ``services up`` installs Redis and MariaDB. From an
offline kit (``make wheelhouse``), ``npm ci --offline`` installs from the kit's npm cache.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

from foundations import processes
from foundations.config import REPO_ROOT
from foundations.errors import CommandError
from foundations.ops import packages

LOCK_DIR = Path(__file__).resolve().parent / "npm"
PROXY_DIR = REPO_ROOT / ".workshop" / "proxy"
NODE = {"node": "nodejs", "npm": "npm"}
NODE_HINT = "Debian/Ubuntu: sudo apt-get install -y nodejs npm; macOS: brew install node; or nodejs.org"


def executable(proxy_dir: Path = PROXY_DIR) -> Path:
    return proxy_dir / "node_modules" / ".bin" / "configurable-http-proxy"


def _installed(proxy_dir: Path) -> bool:
    """The proxy is there, installed from the lock we ship now (a changed lock reinstalls)."""
    copied = proxy_dir / "package-lock.json"
    return (
        executable(proxy_dir).exists()
        and copied.exists()
        and copied.read_bytes() == (LOCK_DIR / "package-lock.json").read_bytes()
    )


def version() -> str:
    return json.loads((LOCK_DIR / "package.json").read_text())["dependencies"]["configurable-http-proxy"]


def ensure(
    log: Callable[[str], None] = print,
    proxy_dir: Path = PROXY_DIR,
    npm_cache: Path | None = None,
    offline: bool = False,
) -> Path:
    """Install the pinned proxy once, through ``npm_cache`` when given (only from it when ``offline``);
    its executable."""
    if _installed(proxy_dir):
        return executable(proxy_dir)
    packages.ensure(log, required=NODE, optional={}, hint=NODE_HINT)
    proxy_dir.mkdir(parents=True, exist_ok=True)
    for name in ("package.json", "package-lock.json"):
        shutil.copy2(LOCK_DIR / name, proxy_dir / name)
    cmd = ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"]
    if npm_cache:
        cmd.append(f"--cache={npm_cache.resolve()}")
    if offline:
        cmd.append("--offline")
    log(f"installing configurable-http-proxy into {proxy_dir} (once)...")
    processes.run(cmd, f"`{' '.join(cmd)}` in {proxy_dir}", cwd=proxy_dir)
    if not executable(proxy_dir).exists():
        raise CommandError(f"`{' '.join(cmd)}` in {proxy_dir} installed no {executable(proxy_dir).name}")
    return executable(proxy_dir)

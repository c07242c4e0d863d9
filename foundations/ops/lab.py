"""``make lab``: JupyterLab on the notebooks, opened logged in on ``00_index.ipynb``.

One token, made once here (or the learner's own ``JUPYTER_TOKEN``), reaches Jupyter through its
environment, never its command line, so ``ps`` does not show it. The project's Jupyter settings in
``jupyter/`` (no news pop-up, no update or news fetches) come in through
``JUPYTER_CONFIG_PATH``, so the local lab, the Docker lab, Binder and the browser test share them.
The shipped notebooks are trusted first, so their stored outputs show. The URL is printed once Jupyter
answers, so it works the moment it appears.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from foundations import net
from foundations.config import REPO_ROOT
from foundations.errors import ServiceError

JUPYTER_SETTINGS = REPO_ROOT / "jupyter"
NOTEBOOKS = REPO_ROOT / "notebooks"
FIRST_NOTEBOOK = "00_index.ipynb"
READY_TIMEOUT = 120.0  # seconds; a first start on a loaded machine takes ~10


def token(environ: Mapping[str, str]) -> str:
    """The learner's ``JUPYTER_TOKEN`` when set (an empty one would turn authentication off), else a new
    one."""
    return environ.get("JUPYTER_TOKEN") or secrets.token_hex(16)


def url(port: int, lab_token: str) -> str:
    """The address to open: logs in with the token and opens the first notebook."""
    return f"http://127.0.0.1:{port}/lab/tree/{FIRST_NOTEBOOK}?token={lab_token}"


def command(ip: str, port: int, as_root: bool) -> list[str]:
    """Jupyter's command line: nothing secret in it. The Host-header check stays on even on 0.0.0.0 (the
    Docker lab, published on 127.0.0.1 only), where Jupyter would turn it off: a page that rebinds its
    name to 127.0.0.1 then cannot drive the kernels. Warnings only: Jupyter's own start-up lines would
    show a URL with the token masked as ``...``, which does not log in."""
    cmd = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        f"--ip={ip}",
        f"--port={port}",
        f"--ServerApp.root_dir={NOTEBOOKS}",
        "--ServerApp.allow_remote_access=False",
        "--log-level=WARN",
    ]
    return cmd + (["--allow-root"] if as_root else [])


def environment(lab_token: str, base: Mapping[str, str]) -> dict[str, str]:
    """``base`` plus the token, the project's settings directory ahead of any the learner has, and this
    interpreter's folder first on ``PATH``: in the lab's terminals ``python`` is the course's, as in an
    activated venv, so ``python -m foundations ...`` runs there as the notebooks say."""
    paths = [str(JUPYTER_SETTINGS), *filter(None, [base.get("JUPYTER_CONFIG_PATH")])]
    search = [str(Path(sys.executable).parent), *filter(None, [base.get("PATH")])]
    return {
        **base,
        "JUPYTER_TOKEN": lab_token,
        "JUPYTER_CONFIG_PATH": os.pathsep.join(paths),
        "PATH": os.pathsep.join(search),
    }


def trust_command(folder: Path) -> list[str]:
    """``jupyter trust`` for the notebooks in ``folder``: their stored outputs (HTML, SVG) then show as they
    were made, and Jupyter does not warn that they are untrusted. Run as the learner: it signs them in
    their own Jupyter data folder."""
    return [sys.executable, "-m", "nbformat.sign", *map(str, sorted(folder.glob("*.ipynb")))]


def _say(line: str) -> None:
    print(line, flush=True)  # at once, also into a pipe (docker compose logs, a test reading it)


def run(port: int, ip: str = "127.0.0.1", log: Callable[[str], None] = _say) -> int:
    """Start JupyterLab, print its URL once it answers, and wait; Ctrl-C (or SIGTERM) stops it, exit code 0."""
    if net.port_open("127.0.0.1", port, timeout=0.2):
        raise ServiceError(
            f"127.0.0.1:{port} is taken by another program: stop it, or choose another port "
            f"(make lab LAB_PORT={port + 1})"
        )
    as_root = os.geteuid() == 0
    if as_root:
        log(
            "running as root: JupyterLab is started with --allow-root (a container or a CI box; on a "
            "desktop, run `make lab` as yourself)"
        )
    signal.signal(signal.SIGTERM, _interrupt)  # `kill` stops Jupyter too, as Ctrl-C does
    lab_token = token(os.environ)
    start = time.monotonic()
    # stdin closed: Jupyter then stops on the first Ctrl-C instead of asking for a confirmation.
    lab = subprocess.Popen(
        command(ip, port, as_root), env=environment(lab_token, os.environ), stdin=subprocess.DEVNULL
    )
    # The notebooks are trusted meanwhile (a few seconds on a busy machine), before the URL appears.
    trusting = subprocess.Popen(
        trust_command(NOTEBOOKS), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        _wait_ready(lab, port)
        trusting.wait()
        log(
            f"JupyterLab is ready ({time.monotonic() - start:.1f} s). Open:\n\n    {url(port, lab_token)}\n\n"
            "Ctrl-C stops JupyterLab; `make services-down` stops the services."
        )
        return lab.wait()
    except KeyboardInterrupt:  # the learner's way to stop it: a clean exit, so make reports no error
        return 0
    finally:
        _stop(lab)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _wait_ready(lab: subprocess.Popen, port: int) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    while lab.poll() is None and time.monotonic() < deadline:
        try:
            if net.http_get(f"http://127.0.0.1:{port}/api", timeout=1.0, what="JupyterLab")[0] == 200:
                return
        except ServiceError:
            pass
        time.sleep(0.2)
    if lab.poll() is not None:
        raise ServiceError(f"JupyterLab exited with code {lab.returncode}; its messages are above")
    raise ServiceError(f"JupyterLab did not answer on 127.0.0.1:{port} within {READY_TIMEOUT:.0f} s")


def _stop(lab: subprocess.Popen) -> None:
    """SIGTERM (Jupyter then shuts its kernels down), SIGKILL if that takes too long."""
    if lab.poll() is None:
        lab.terminate()
        try:
            lab.wait(timeout=15)
        except subprocess.TimeoutExpired:
            lab.kill()
            lab.wait()

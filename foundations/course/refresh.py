"""Re-execute notebooks in place, top to bottom on a fresh kernel, so their stored outputs are what nbval
will compare against (``make refresh-outputs``). Never hand-edit outputs. The services are the same kind
the test run uses (``harness.temporary()``: fresh, local daemons), but on the default ports, so the
outputs show the addresses the text names (nbval's sanitizer makes the ports irrelevant to the tests).
A default port held by another program (your own ``make lab`` services, say) moves to the next free one,
and this says so: stop that program and refresh again. The kernel talks over Unix sockets, not TCP ports:
a port picked free can be taken before the kernel binds it, and a kernel that lost its heartbeat port so
hung a refresh.

    $ python -m foundations course refresh notebooks/01_environment.ipynb
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from traitlets.config import Config

from foundations import config, pids
from foundations.course import progress
from foundations.ops import harness
from foundations.ops.doctor import KERNEL_NAME


def execute(nb: nbformat.NotebookNode, folder: Path, timeout: int = 600) -> None:
    """Run every cell of ``nb`` in place, with the project's kernel in ``folder``, over Unix sockets."""
    with tempfile.TemporaryDirectory(prefix=pids.TEMP_PREFIX + "kernel-") as sockets:
        NotebookClient(
            nb,
            timeout=timeout,
            kernel_name=KERNEL_NAME,
            record_timing=False,
            resources={"metadata": {"path": str(folder)}},
            config=Config({"KernelManager": over_unix_sockets(sockets)}),
        ).execute()


def refresh(path: Path, timeout: int = 600) -> float:
    """Execute ``path`` with the project's kernel in its own folder and write it back; returns seconds."""
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    execute(nb, path.parent, timeout)
    nbformat.write(nb, path)
    return time.perf_counter() - start


def over_unix_sockets(folder: str) -> dict[str, str]:
    """A KernelManager's settings that put its kernel's channels on Unix sockets in ``folder``."""
    return {"transport": "ipc", "ip": f"{folder}/kernel"}


def moved_ports(cfg: config.Config) -> list[str]:
    """One line for each service that could not take its default port."""
    defaults = config.load(argv=[], environ={}, use_state=False)
    return [
        f"{name}: {defaults.endpoint(key)[1]} is taken, so the outputs show {cfg.endpoint(key)[1]}"
        for name, key in config.SERVICES.items()
        if cfg.endpoint(key) != defaults.endpoint(key)
    ]


def refresh_all(paths: list[Path]) -> None:
    """Refresh each of ``paths`` on fresh services, saying how long each took."""
    with (
        harness.temporary(default_ports=True) as cfg,
        progress.set_aside(),  # after temporary(), which exports every setting: the checks are not your progress
    ):
        if cfg is None:
            print("using the services that FOUNDATIONS_* name; the outputs show their addresses")
        for line in moved_ports(cfg) if cfg else []:
            print(f"warning: {line}: stop what holds it (make services-down?) and refresh again", flush=True)
        for path in paths:
            print(f"{path}: {refresh(path):.1f} s", flush=True)

"""The test run's services: a fresh set in a throwaway state directory, on free ports (``temporary``), and the
sets of runs that died without stopping theirs, stopped and removed (``reap_orphans``). ``make
refresh-outputs`` uses the same, on the default ports, so stored and fresh outputs come from one setup.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator, MutableMapping
from pathlib import Path

from foundations import config, net, pids, state
from foundations.config import Config
from foundations.ops import services


def reap_orphans(parent: Path | None = None) -> list[Path]:
    """The throwaway directories (``temporary``'s state, ``processes``' logs) whose process is gone: the
    daemons they list stopped, by the PID and program recorded for each, and the directories removed.
    Those of a live process are left alone."""
    reaped = []
    for owner_file in Path(parent or tempfile.gettempdir()).glob(f"{pids.TEMP_PREFIX}*/{pids.OWNER_FILE}"):
        try:
            owner = json.loads(owner_file.read_text())
        except (OSError, ValueError):
            continue
        if pids.runs(owner["pid"], owner["cmdline"]):
            continue
        for proc in state.read_raw(owner_file.parent).get("processes", {}).values():
            pids.stop(proc["pid"], proc["program"])
        shutil.rmtree(owner_file.parent, ignore_errors=True)
        reaped.append(owner_file.parent)
    return reaped


@contextlib.contextmanager
def temporary(
    environ: MutableMapping[str, str] = os.environ, default_ports: bool = False
) -> Iterator[Config | None]:
    """Every service in a throwaway state directory, exported into ``environ`` as ``FOUNDATIONS_*`` for
    child processes (nbval's kernels), stopped and the directory deleted afterwards. The test run and
    ``make refresh-outputs`` both use it, so stored and fresh outputs come from the same kind of setup.

    The test run takes free ports (runs side by side never collide). ``default_ports`` (refresh-outputs)
    takes the ones the notebooks' text names (6390-6392, 3390, 8080), so the stored outputs show them; a
    default port held by another program moves to the next free one, as with ``services up``.

    Its daemons die with this process, even of SIGKILL (``die_with_parent``); and a run that died anyway
    before it could clean up is cleaned up by the next one (``reap_orphans``).
    When ``environ`` already names the services (the compose lab, CI's Docker job), it starts nothing."""
    if services.named_by_environment(environ):
        yield None
        return
    for orphan in reap_orphans():
        print(f"stopped the services of a run that died without stopping them ({orphan})", file=sys.stderr)
    state_dir = tempfile.mkdtemp(prefix=pids.TEMP_PREFIX)
    Path(state_dir).chmod(0o711)  # daemons running as users of their own reach their own 0700 directories
    pids.claim(Path(state_dir))
    argv = ["--state-dir", state_dir]
    if not default_ports:
        argv += [
            "--api-url",
            f"http://127.0.0.1:{net.free_port()}",
            "--mysql-dsn",
            f"mysql://api:api@127.0.0.1:{net.free_port()}/api",
            *(
                arg
                for n in ("redis", "redis1", "redis2")
                for arg in (f"--{n}-url", f"redis://127.0.0.1:{net.free_port()}/0")
            ),
        ]
    cfg = config.load(argv=argv, environ={})
    try:
        cfg = services.up(cfg, local=True, log=lambda line: None, die_with_parent=True)
        environ.update(config.as_environ(cfg))
        yield cfg
    finally:
        services.down(cfg, log=lambda line: None)
        shutil.rmtree(state_dir, ignore_errors=True)
        for setting in config.SETTINGS:
            environ.pop(setting.env, None)

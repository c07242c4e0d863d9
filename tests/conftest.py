"""Live services for the whole test run, shared with the notebooks that nbval executes.

Unless the environment already names them (compose, a CI with service containers: ``FOUNDATIONS_REDIS_URL``
is set), ``services up`` starts Redis ×3, MariaDB and the API server on free loopback ports with a state
directory of their own, and exports their endpoints as ``FOUNDATIONS_*`` variables before any test or
kernel starts, so nbval's kernels inherit them. Everything started here is stopped at the end.
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile

import pytest

from foundations import config as fconfig
from foundations import services

_started: dict = {}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def pytest_configure(config: pytest.Config) -> None:
    if hasattr(config, "workerinput") or fconfig.ENV_PREFIX + "REDIS_URL" in os.environ:
        return  # an xdist worker (the controller started them) or services given by the environment
    state_dir = tempfile.mkdtemp(prefix="foundations-test-")
    argv = ["--state-dir", state_dir,
            "--redis-url", f"redis://127.0.0.1:{_free_port()}/0",
            "--redis1-url", f"redis://127.0.0.1:{_free_port()}/0",
            "--redis2-url", f"redis://127.0.0.1:{_free_port()}/0",
            "--mysql-dsn", f"mysql://api:api@127.0.0.1:{_free_port()}/api",
            "--api-url", f"http://127.0.0.1:{_free_port()}"]
    cfg = services.up(fconfig.load(argv=argv, environ={}), local=True, log=lambda line: None)
    _started.update(cfg=cfg, state_dir=state_dir)
    os.environ.update(fconfig.as_environ(cfg))


def pytest_unconfigure(config: pytest.Config) -> None:
    if "cfg" in _started:
        services.down(_started["cfg"], log=lambda line: None)
        shutil.rmtree(_started["state_dir"], ignore_errors=True)
        for setting in fconfig.BY_NAME.values():
            os.environ.pop(setting.env, None)


def pytest_collectstart(collector) -> None:
    # Warnings on stderr change with library versions; what a cell must show goes to stdout or a result.
    if getattr(collector, "fspath", None) and collector.fspath.ext == ".ipynb":
        collector.skip_compare += ("stderr",)


@pytest.fixture(scope="session")
def cfg() -> fconfig.Config:
    """The configuration every test and notebook of this run sees."""
    return fconfig.load(argv=[])

"""Live services for the whole test run, shared with the notebooks that nbval executes.

``services.temporary()`` starts Redis ×3, MariaDB and the API server on free loopback ports (unless the
environment already names them, as compose or a CI with service containers would) and exports their
endpoints before any test or kernel starts, so nbval's kernels inherit them. All stopped at the end.
"""

from __future__ import annotations

import os
import uuid

import pytest

from foundations import config as fconfig
from foundations import redisdb
from foundations.ops import services
from foundations.registry import Registry, glob_escape

_running = []


def pytest_configure(config: pytest.Config) -> None:
    if not hasattr(config, "workerinput"):  # xdist workers inherit the controller's services
        context = services.temporary()
        context.__enter__()
        _running.append(context)


def pytest_unconfigure(config: pytest.Config) -> None:
    while _running:
        _running.pop().__exit__(None, None, None)


def pytest_collectstart(collector) -> None:
    # Warnings on stderr change with library versions; what a cell must show goes to stdout or a result.
    if getattr(collector, "fspath", None) and collector.fspath.ext == ".ipynb":
        collector.skip_compare += ("stderr",)


# A learner's `make test` skips the checks whose tool is missing (nginx, docker-compose v1, chromium), each
# with the install command in the summary (-rs); CI sets this so that every skip is a failure instead.
REQUIRE_ALL = "FOUNDATIONS_REQUIRE_ALL"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.skipped and not hasattr(report, "wasxfail") and os.environ.get(REQUIRE_ALL) == "1":
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        reason = reason.removeprefix("Skipped: ")
        report.longrepr = f"skipped, but {REQUIRE_ALL}=1 wants every check run: {reason}"


@pytest.fixture(scope="session")
def cfg() -> fconfig.Config:
    """The configuration every test and notebook of this run sees."""
    return fconfig.load(argv=[])


@pytest.fixture
def client(cfg):
    """A redis-py client on the run's main Redis."""
    client = redisdb.client(cfg.redis_url)
    yield client
    client.close()


@pytest.fixture
def prefix(request, client) -> str:
    """A key prefix no other test uses; every key under it is deleted afterwards."""
    prefix = f"{request.module.__name__.rsplit('.', 1)[-1]}_{uuid.uuid4().hex}"
    yield prefix
    for name in client.scan_iter(match=glob_escape(prefix) + "*", count=1000):
        client.delete(name)


@pytest.fixture
def reg(client, prefix) -> Registry:
    """A Registry of its own on the run's main Redis."""
    return Registry(client, prefix=prefix)

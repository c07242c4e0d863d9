"""Live services for the whole test run, shared with the notebooks that nbval executes.

``harness.temporary()`` starts Redis ×3, MariaDB and the API server on free loopback ports (unless the
environment already names them, as compose or a CI with service containers would) and exports their
endpoints before any test or kernel starts, so nbval's kernels inherit them. All stopped at the end, also
when the run is interrupted (Ctrl-C, or SIGTERM, which becomes an orderly pytest exit).

Under pytest-xdist (``make test`` runs ``-n 2 --dist loadscope``) each worker starts a set of its own: a
notebook stops a Redis, fills keys or counts the API server's requests, and must not see another worker's
notebook doing the same. The controller runs no test and starts nothing. Services the environment names are
shared, so a run against them stays serial.
"""

from __future__ import annotations

import contextlib
import functools
import os
import signal
import sys
import tempfile
import uuid

import nbval.kernel
import pytest
from jupyter_client.manager import KernelManager

from foundations import config as fconfig
from foundations import net, pids, redisdb
from foundations.course import progress, refresh
from foundations.errors import FoundationsError
from foundations.ops import harness, packages, services
from foundations.registry import Registry, glob_escape

_teardown = contextlib.ExitStack()  # what pytest_configure started, undone when the session ends


def _kernels_over_unix_sockets() -> None:
    """nbval's kernels talk over Unix sockets in a folder of this process, as ``refresh``'s do, not over TCP
    ports: jupyter_client picks a port free a moment before the kernel binds it, and a run that starts services
    on free ports can take one first. A kernel that lost its heartbeat port so left nbval's teardown waiting
    forever on a heartbeat that nobody answers (CI, once, inside the lab container)."""
    folder = _teardown.enter_context(tempfile.TemporaryDirectory(prefix=pids.TEMP_PREFIX + "kernel-"))
    _teardown.callback(setattr, nbval.kernel, "KernelManager", nbval.kernel.KernelManager)
    nbval.kernel.KernelManager = functools.partial(KernelManager, **refresh.over_unix_sockets(folder))


def _xdist_controller(config: pytest.Config) -> bool:
    return not hasattr(config, "workerinput") and config.getoption("dist", "no") != "no"


@pytest.hookimpl(tryfirst=True)  # before xdist's own pytest_configure reads the dist mode
def pytest_configure(config: pytest.Config) -> None:
    if services.named_by_environment(os.environ) and _xdist_controller(config):
        # Parallel notebooks would stop, fill and count one another's services: run serially instead.
        config.option.dist, config.option.tx, config.option.numprocesses = "no", [], 0
    _teardown.callback(signal.signal, signal.SIGTERM, signal.signal(signal.SIGTERM, _exit_on_sigterm))
    if not _xdist_controller(config):
        _teardown.enter_context(harness.temporary())
        _kernels_over_unix_sockets()
    elif not services.named_by_environment(os.environ):
        _install_packages(config)  # once, here, before any worker starts its services
    # after temporary(), which exports every setting: the exercise checks of this run are nobody's progress
    _teardown.enter_context(progress.set_aside())


def _install_packages(config: pytest.Config) -> None:
    """The services' system packages, installed by the controller (packages.ensure), speaking to the terminal
    past pytest's output capture so that a wait for the package manager is seen."""
    capture = config.pluginmanager.get_plugin("capturemanager")
    with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
        try:
            packages.ensure(log=lambda line: print(line, file=sys.stderr, flush=True))
        except FoundationsError as exc:
            raise pytest.UsageError(str(exc)) from None  # one message, not a traceback


_workers: list[int] = []  # xdist controller: its workers' PIDs


@pytest.hookimpl(optionalhook=True)  # a run without xdist (only the plugins it names) has no such hook
def pytest_xdist_newgateway(gateway) -> None:
    _workers.append(gateway.remote_exec("import os; channel.send(os.getpid())").receive())


def _exit_on_sigterm(signum, frame) -> None:
    # The controller passes SIGTERM on: xdist gives its workers 10 s, then SIGKILLs them, services and all.
    for pid in _workers:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signum)
    pytest.exit("terminated (SIGTERM)", returncode=128 + signum)  # unwinds through pytest_sessionfinish


@pytest.hookimpl(trylast=True)  # after the last kernel and session fixtures are torn down
def pytest_sessionfinish(session: pytest.Session) -> None:
    # Here, not in pytest_unconfigure: an xdist worker reports itself finished right after this hook, and
    # the controller then gives it a few seconds before interrupting it (and its cleanup) for good.
    _stop_all()


def pytest_unconfigure(config: pytest.Config) -> None:
    _stop_all()  # when the run ended before its session started


def _stop_all() -> None:
    """Stop what pytest_configure started; a second Ctrl-C waits until the services are down."""
    blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    try:
        _teardown.close()
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, blocked)


# Longest first, so that the workers finish together: loadscope (with --no-loadscope-reorder, as `make test`
# runs it) hands out whole files in this order, two to each worker at the start, then one as a worker frees up.
# Measured alone: 10 22 s, 06 14 s, 11 18 s, 09 11 s, 08 8 s, 07 5 s, the others 1-4 s. 10 and 11 load the
# CPU most; this order gives them to one worker, one after the other, while the other runs 06 (mostly waiting).
LONGEST_FIRST = tuple(
    f"{name}.ipynb"
    for name in (
        "10_first_api",
        "10_first_api_appendix",
        "06_parallel_fetching",
        "11_production",
        "11_production_appendix",
        "09_test_driven_api",
        "08_mysql",
        "07_redis",
    )
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        name = item.path.name
        return LONGEST_FIRST.index(name) if name in LONGEST_FIRST else len(LONGEST_FIRST)

    items.sort(key=rank)  # stable: every file's own items keep their order


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
    hub = getattr(item, "funcargs", {}).get("hub")  # a workshop test's: a spawn's error is in the hub's log
    log = getattr(hub[0], "log_path", None) if isinstance(hub, tuple) else None
    if report.failed and log is not None and log.exists():
        tail = "".join(log.read_text(errors="replace").splitlines(True)[-80:])
        report.sections.append(("the hub's log, last 80 lines", tail))


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


@pytest.fixture
def own_redis(tmp_path) -> fconfig.Config:
    """A Redis of our own on a free port, to stop or stall (DEBUG SLEEP) without disturbing the run's shared
    one; stopped afterwards whatever happens."""
    own = fconfig.load(
        argv=["--state-dir", str(tmp_path), "--redis-url", f"redis://127.0.0.1:{net.free_port()}/0"],
        environ={},
    )
    yield services.up(own, ["redis"], local=True, log=lambda line: None)
    services.down(own, log=lambda line: None)

"""Chapter 6, "Parallel fetching of data": the client side, calling upstream services one after another
or all at once, with a deadline, slow-call logging and errors that name the upstream that failed.

Go's goroutine + channel pair becomes a ``concurrent.futures`` thread pool and its futures; one shared
``requests.Session`` keeps connections to keep-alive servers open between calls (as Go's ``http.Get`` does).

    >>> calls = {"firstname": base + "/firstname?firstname=Tit", "lastname": base + "/lastname?lastname=Petric"}
    >>> fetch_parallel(session(), calls, timeout=1.0, timeline=Timeline(echo=print))
    [0.0000] Fetching url: http://127.0.0.1:8080/firstname?firstname=Tit
    ...
    {'firstname': {'firstname': 'Tit'}, 'lastname': {'lastname': 'Petric'}}
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable, Mapping
from concurrent.futures import FIRST_EXCEPTION, Executor, Future, ThreadPoolExecutor, wait
from contextlib import nullcontext
from typing import TYPE_CHECKING, Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import ReadTimeoutError

from foundations.errors import FoundationsError
from foundations.timer import Timeline

if TYPE_CHECKING:  # httpx is a lab dependency; only fetch_async needs it
    import httpx

log = logging.getLogger("foundations.fetch")
log.addHandler(logging.NullHandler())  # a library logs; the program (server, notebook) decides where to
SLOW_MS = 290.0  # logged with their URL ("measure first"); the book's 200 ms call stays 90 ms under it
DEADLINE_GRACE = 0.05  # fetch_parallel answers 504 this long after its budget, if no call has failed by then


class UpstreamError(FoundationsError):
    """An upstream call failed: ``status`` is 502 (down, bad answer) or 504 (no answer within the timeout)."""

    def __init__(self, upstream: str, url: str, status: int, reason: str) -> None:
        super().__init__(f"upstream {upstream} ({url}) {reason}")
        self.upstream, self.url, self.status = upstream, url, status
        self.public = f"upstream {upstream} {reason}"  # for a client: the name, not the address or the query


def session(pool_size: int = 20) -> requests.Session:
    """A ``Session`` that keeps up to ``pool_size`` connections per host open for parallel calls
    (requests keeps 10 by default and drops the rest with a warning)."""
    s = requests.Session()
    adapter = HTTPAdapter(pool_connections=4, pool_maxsize=pool_size)
    s.mount("http://", adapter)
    s.mount("https://", adapter)
    return s


def _logged(upstream: str, url: str, started: float, slow_ms: float) -> None:
    elapsed_ms = (time.perf_counter() - started) * 1000
    if elapsed_ms > slow_ms:
        log.warning("slow call: %s %s took %.1f ms", upstream, url, elapsed_ms)


def _payload(upstream: str, url: str, status: int, body: bytes | str, decode: Any) -> dict:
    if status != 200:
        raise UpstreamError(upstream, url, 502, f"answered HTTP {status}")
    try:
        return decode(body)
    except ValueError as exc:
        raise UpstreamError(upstream, url, 502, f"answered something that is not JSON ({exc})") from exc


def _failed(upstream: str, url: str, timeout: float, exc: Exception, timed_out: bool) -> UpstreamError:
    """504 when the upstream was too slow, 502 when it could not be reached (requests and httpx alike)."""
    if timed_out:
        return UpstreamError(upstream, url, 504, f"gave no answer within {timeout * 1000:.0f} ms")
    return UpstreamError(upstream, url, 502, f"is unreachable ({type(exc).__name__})")


def _over_budget(upstream: str, url: str, timeout: float) -> UpstreamError:
    """The 504 of a whole fan-out: the same words whether the calls ran one after the other or at once."""
    return UpstreamError(upstream, url, 504, f"gave no answer within the {timeout * 1000:.0f} ms budget")


def _timed_out(exc: requests.RequestException) -> bool:
    """A timeout, also when it struck while reading the body: requests raises that one as a
    ``ConnectionError`` wrapping urllib3's ``ReadTimeoutError``."""
    return isinstance(exc, requests.Timeout) or any(isinstance(arg, ReadTimeoutError) for arg in exc.args)


def fetch_json(
    http: requests.Session,
    upstream: str,
    url: str,
    timeout: float,
    timeline: Timeline | None = None,
    slow_ms: float = SLOW_MS,
) -> dict:
    """GET ``url`` and decode its JSON; ``UpstreamError`` names ``upstream`` when it fails or is too slow."""
    started = time.perf_counter()
    with timeline.span(f"Fetching url: {url}") if timeline else nullcontext():
        try:
            response = http.get(url, timeout=timeout)
        except requests.RequestException as exc:
            raise _failed(upstream, url, timeout, exc, _timed_out(exc)) from exc
        finally:
            _logged(upstream, url, started, slow_ms)
    return _payload(upstream, url, response.status_code, response.content, lambda body: response.json())


def fetch_sequential(
    http: requests.Session, calls: Mapping[str, str], timeout: float, timeline: Timeline | None = None
) -> dict[str, dict]:
    """The book's blocking version: one call after the other, each with the budget left as its timeout.

    That bounds upstreams that stay silent, not one that trickles its answer: ``requests``' timeout bounds
    each wait for data, so a trickle outlasts the budget (``fetch_parallel`` keeps a deadline of its own)."""
    deadline = time.monotonic() + timeout
    results = {}
    for upstream, url in calls.items():
        left = deadline - time.monotonic()
        if left <= 0:
            raise UpstreamError(
                upstream, url, 504, f"was not called: the {timeout * 1000:.0f} ms budget ran out"
            )
        try:
            results[upstream] = fetch_json(http, upstream, url, left, timeline)
        except UpstreamError as exc:
            if exc.status != 504:
                raise
            raise _over_budget(upstream, url, timeout) from exc
    return results


def fetch_parallel(
    http: requests.Session,
    calls: Mapping[str, str],
    timeout: float,
    timeline: Timeline | None = None,
    executor: Executor | None = None,
) -> dict[str, dict]:
    """Every call at once (the book's goroutines); returns when the slowest is done, fails at the first error."""
    if not calls:
        return {}
    deadline = time.monotonic() + timeout  # the budget runs from now, however long the threads take to start
    pool = executor or ThreadPoolExecutor(max_workers=len(calls))
    try:
        futures: dict[str, Future] = {
            name: pool.submit(fetch_json, http, name, url, timeout, timeline) for name, url in calls.items()
        }
        # the calls carry their own timeout too: the few ms of grace let one that ran out say so itself
        left = max(0.0, deadline - time.monotonic()) + DEADLINE_GRACE
        done, pending = wait(futures.values(), timeout=left, return_when=FIRST_EXCEPTION)
        for name, future in futures.items():  # the first failure, in call order, is the one reported
            if future in done and (error := future.exception()) is not None:
                if isinstance(error, UpstreamError) and error.status == 504:
                    raise _over_budget(name, calls[name], timeout) from error
                raise error
        for name, future in futures.items():
            if future in pending:  # its thread still runs: nothing in Python stops a thread from outside
                raise _over_budget(name, calls[name], timeout)
        return {name: future.result() for name, future in futures.items()}
    finally:
        if executor is None:  # our own pool: do not wait for calls still running after a failure
            pool.shutdown(wait=False, cancel_futures=True)


async def fetch_async(
    calls: Mapping[str, str],
    timeout: float,
    timeline: Timeline | None = None,
    client: httpx.AsyncClient | None = None,
) -> dict[str, dict]:
    """The same fan-out on one thread with asyncio and httpx: ``await fetch_async(calls, 1.0)``."""
    import httpx

    async def one(http: httpx.AsyncClient, upstream: str, url: str) -> dict:
        started = time.perf_counter()
        with timeline.span(f"Fetching url: {url}") if timeline else nullcontext():
            try:
                response = await http.get(url, timeout=timeout)
            except httpx.HTTPError as exc:
                raise _failed(upstream, url, timeout, exc, isinstance(exc, httpx.TimeoutException)) from exc
            finally:
                _logged(upstream, url, started, SLOW_MS)
        return _payload(upstream, url, response.status_code, response.content, lambda body: response.json())

    first_failure: BaseException | None = None
    async with httpx.AsyncClient() if client is None else nullcontext(client) as http:
        try:
            async with asyncio.TaskGroup() as group:  # a failed call cancels the others: nothing left running
                tasks = [group.create_task(one(http, name, url)) for name, url in calls.items()]
        except* UpstreamError as failed:  # raised in here, 3.11.2 (Debian 12's) would wrap it in a group
            first_failure = failed.exceptions[0]  # the first to fail in time (fetch_parallel: in call order)
    if first_failure is not None:
        raise first_failure
    return dict(zip(calls, (task.result() for task in tasks)))


def fan_out(http: requests.Session, urls: Iterable[str], pool_size: int, timeout: float = 5.0) -> list[dict]:
    """Call every URL with at most ``pool_size`` in flight: N calls of d seconds take about ceil(N/size)*d."""
    with ThreadPoolExecutor(max_workers=pool_size) as pool:
        return list(
            pool.map(lambda item: fetch_json(http, f"call {item[0]}", item[1], timeout), enumerate(urls))
        )

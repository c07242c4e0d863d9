"""Chapter 6, "A simple API service": ``/firstname`` and ``/lastname`` (slow on purpose, 200 and 300 ms)
and ``/fullname``, which calls both, one after the other or (``?mode=parallel``) at once. Two more for the
exercise checks: ``/together`` (answers once a whole group of calls is in flight) and ``/drip`` (trickles).

This is chapter 6's own upstream server, never the production API's routes (``?delay_ms=5000`` would let a
few clients park every worker thread there). The notebook runs it as separate processes, so every call is
real HTTP; ``/fullname`` calls its own port unless told where the others are, as the book calls ``localhost``:

    python -m foundations.fullname --port 8001 --lastname-delay 0.3
    python -m foundations.fullname --port 8002 --firstname-url http://127.0.0.1:8001 --timeout 0.5
"""

from __future__ import annotations

import argparse
import json
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from urllib.parse import urlencode

import requests

from foundations import fetch
from foundations.timer import Timeline
from foundations.web import App, Handler, Request, Response, error_response, json_response

MAX_DELAY = 5.0  # seconds: a ?delay_ms= larger than this is refused, so nobody parks the server's threads
MODES = ("sequential", "parallel")
MAX_TOGETHER = 1000  # the most calls /together waits for at once


@dataclass(frozen=True)
class Settings:
    """Delays of the two slow endpoints, the upstream deadline, and where ``/fullname`` finds them
    (``None``: this same server, on 127.0.0.1 and the port the request came in on)."""

    firstname_delay: float = 0.2
    lastname_delay: float = 0.3
    timeout: float = 1.0
    firstname_url: str | None = None
    lastname_url: str | None = None


def name_handler(field: str, delay: float) -> Handler:
    """``/firstname?firstname=Tit`` answers ``{"firstname": "Tit"}`` after ``delay`` s (or ``?delay_ms=``)."""

    def handler(request: Request) -> Response:
        raw = request.arg("delay_ms")
        wait = delay
        if raw is not None:
            try:
                wait = float(raw) / 1000
            except ValueError:
                wait = -1.0
            if not 0 <= wait <= MAX_DELAY:
                return error_response(
                    400, f"delay_ms={raw!r}: expected milliseconds from 0 to {MAX_DELAY * 1000:.0f}"
                )
        print(f"Request with {field}\n", end="", flush=True)  # one write: two threads' lines never interleave
        started = time.perf_counter()
        time.sleep(wait)
        slept_ms = (time.perf_counter() - started) * 1000  # as it ran: it can overrun, never fall short
        print(f"Response with {field}\n", end="", flush=True)
        response = json_response({field: request.arg(field, "")})
        response.headers.append(("Server-Timing", f"sleep;dur={slept_ms:.3f}"))
        return response

    return handler


def together_handler() -> Handler:
    """``/together?firstname=Tit&group=g&size=N&wait_ms=W`` answers ``{"firstname": "Tit"}`` once ``N`` calls of
    group ``g`` are waiting here at the same time: proof that the client had all of them in flight at once.
    Until then each call waits, at most ``W`` ms, then gets a 504 saying how many of the ``N`` it saw; the
    group has failed then, and its later calls get that 504 at once (a client's small pool is not waited
    out round after round)."""
    arrived = threading.Condition()
    waiting: Counter[str] = Counter()
    most: Counter[str] = Counter()  # the most calls of each group seen waiting together
    complete: set[str] = set()
    failed: dict[str, str] = {}  # group: its 504's message

    def handler(request: Request) -> Response:
        group = request.arg("group", "")
        try:
            size, wait = int(request.arg("size") or 0), float(request.arg("wait_ms") or 0) / 1000
        except ValueError:
            size, wait = 0, -1.0
        if not group or not 1 <= size <= MAX_TOGETHER or not 0 <= wait <= MAX_DELAY:
            return error_response(
                400,
                f"expected group=<name>, size=1..{MAX_TOGETHER} and wait_ms=0..{MAX_DELAY * 1000:.0f}",
            )
        with arrived:
            if group not in failed:
                waiting[group] += 1
                most[group] = max(most[group], waiting[group])
                if waiting[group] >= size:
                    complete.add(group)
                    arrived.notify_all()
                if not arrived.wait_for(lambda: group in complete, timeout=wait):
                    if len(failed) >= MAX_TOGETHER:  # remembered for the calls still to come, not forever
                        del failed[next(iter(failed))]
                    failed[group] = (
                        f"only {most[group]} of the {size} calls of group {group} were in flight at once"
                    )
                waiting[group] -= 1
                if not waiting[group]:  # the last of the group to leave forgets how many came
                    del waiting[group], most[group]
                    complete.discard(group)
        if group in failed:
            return error_response(504, failed[group])
        return json_response({"firstname": request.arg("firstname", "")})

    return handler


def _own_url(request: Request) -> str:
    # the port this request came in on, on loopback: never the Host header, which a client controls
    return f"http://127.0.0.1:{request.environ.get('SERVER_PORT', '80')}"


def fullname_handler(settings: Settings, http: requests.Session) -> Handler:
    """``/fullname?firstname=Tit&lastname=Petric[&mode=parallel]``: both names, or 502/504 naming the
    upstream that failed, within about ``settings.timeout`` (sequential mode: unless an upstream trickles, see
    ``fetch.fetch_sequential``). In parallel mode each request runs its two calls on a pool of its own, shut
    down when it answers (a pool per app would outlive the app)."""

    def handler(request: Request) -> Response:
        mode = request.arg("mode", "sequential")
        if mode not in MODES:
            return error_response(400, f"mode={mode!r}: expected one of {', '.join(MODES)}")
        query = urlencode(
            {"firstname": request.arg("firstname", ""), "lastname": request.arg("lastname", "")}
        )
        calls = {
            name: f"{base or _own_url(request)}/{name}?{query}"
            for name, base in (("firstname", settings.firstname_url), ("lastname", settings.lastname_url))
        }
        timeline = Timeline()
        try:
            if mode == "parallel":
                results = fetch.fetch_parallel(http, calls, settings.timeout, timeline)
            else:
                results = fetch.fetch_sequential(http, calls, settings.timeout, timeline)
        except fetch.UpstreamError as exc:
            print(f"Answered {exc.status}: {exc}", flush=True)  # the address for the server's console only
            kind = "gateway_timeout" if exc.status == 504 else "bad_gateway"
            return json_response(
                {"error": {"type": kind, "message": exc.public, "upstream": exc.upstream}}, exc.status
            )
        fetched = timeline.event("Done fetching")  # Server-Timing's fetch: the upstream calls, nothing after
        body = {name: results[name].get(name, "") for name in calls}
        print(
            "\n".join(
                [
                    *timeline.lines(together_by_label=True),
                    f"[{timeline.timer.now():.4f}] Done with response: {body}",
                ]
            ),
            flush=True,
        )
        response = json_response(body)
        response.headers.append(("Server-Timing", f"fetch;desc={mode};dur={fetched.start_ms:.1f}"))
        return response

    return handler


def routes(settings: Settings | None = None) -> dict[str, Handler]:
    """The routes, sharing one session (built here, at the edge)."""
    settings = settings or Settings()
    return {
        "/firstname": name_handler("firstname", settings.firstname_delay),
        "/lastname": name_handler("lastname", settings.lastname_delay),
        "/fullname": fullname_handler(settings, fetch.session()),
        "/together": together_handler(),
    }


def dripping(app: Callable) -> Callable:
    """``app`` plus ``/drip?lastname=Petric&bytes=10&every_ms=100``: a 200 that sends its JSON body after
    ``bytes`` spaces, one every ``every_ms``. An upstream that trickles: no single wait for data is long, the
    whole answer is (``requests``' ``timeout=`` bounds each wait, so it never fires here)."""

    def wsgi(environ: dict, start_response: Callable) -> Iterator[bytes] | list[bytes]:
        if environ.get("PATH_INFO") != "/drip":
            return app(environ, start_response)
        request = Request(environ)
        try:
            count, every = int(request.arg("bytes") or "10"), float(request.arg("every_ms") or "100") / 1000
        except ValueError:
            count, every = -1, 0.0
        if count < 0 or every < 0 or count * every > MAX_DELAY:
            refused = error_response(
                400,
                f"expected bytes >= 0 and every_ms >= 0, bytes * every_ms at most {MAX_DELAY * 1000:.0f} ms",
            )
            return App({"/drip": lambda _: refused})(environ, start_response)
        body = json.dumps({"lastname": request.arg("lastname", "")}).encode()
        start_response(
            "200 OK", [("Content-Type", "application/json"), ("Content-Length", str(count + len(body)))]
        )
        return _drip(count, every, body)

    return wsgi


def _drip(count: int, every: float, body: bytes) -> Iterator[bytes]:
    """The trickle; if the client hangs up first, the console says after how many spaces (the server closes
    this generator when a write to the gone client fails)."""
    sent = 0
    try:
        while sent < count:
            yield b" "  # JSON allows leading whitespace: the body stays valid, it only arrives slowly
            sent += 1  # resumed: the server wrote that space out
            time.sleep(every)
        yield body
    except GeneratorExit:
        print(f"/drip: the client hung up after {sent} of {count} spaces", flush=True)
        raise


def main(argv: Sequence[str] | None = None) -> None:
    from foundations import routing

    parser = argparse.ArgumentParser(
        prog="python -m foundations.fullname", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--port", type=int, default=8000)
    for name, default in (("firstname-delay", 0.2), ("lastname-delay", 0.3), ("timeout", 1.0)):
        parser.add_argument(f"--{name}", type=float, default=default, metavar="SECONDS")
    parser.add_argument("--firstname-url", help="where /fullname finds /firstname (default: this server)")
    parser.add_argument("--lastname-url", help="where /fullname finds /lastname (default: this server)")
    args = vars(parser.parse_args(argv))
    logging.basicConfig(level=logging.INFO, format="%(message)s")  # slow calls go to the server's console
    port = args.pop("port")
    try:
        routing.serve(dripping(App(routes(Settings(**args)))), port)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":  # pragma: no cover - run as a process
    main()

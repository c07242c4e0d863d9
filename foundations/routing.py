"""Chapter 5: serving HTTP requests and routing them, from net/http's ServeMux to Pat and Gorilla Mux.

The demo servers run as separate processes (``python -m foundations.routing DEMO --port N``, started by
``foundations.processes``) and print ``Request: /path`` as requests arrive, like the book's console:

- ``hello``: every path answers ``Hello world!`` (the book's first server);
- ``servemux``: ``/hello`` exactly, everything else falls through to ``/`` (net/http's ``HandleFunc``);
- ``pat``: Werkzeug rules with strict slashes, the book's Pat pitfalls, redirect included;
- ``mux``: Werkzeug rules without strict slashes, the book's Gorilla Mux ``/say`` routes;
- ``slow``: answers after ``?ms=`` milliseconds of sleep, or ``?spin=`` milliseconds of CPU; with
  ``--single-threaded`` it runs in wsgiref's own server, which serves one request at a time (``concurrent``
  shows the difference).

The API server does not route through Werkzeug (notebook 05 measures its lookup against a dict); it gets the
same behaviour from exact paths plus prefix handlers: ``routes()`` and ``prefixes()``.
"""

from __future__ import annotations

import argparse
import socket
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from foundations.timer import Timeline
from foundations.web import Handler, Request, Response, error_response, text_response

WSGIApp = Callable[[dict, Callable], Iterable[bytes]]


def hello(request: Request) -> Response:
    """The book's chapter 5 handler: ``Hello <name>!`` or ``Hello ... you.``"""
    return text_response(greeting(request.arg("name")))


def greeting(name: str | None) -> str:
    """The book's answer: ``Hello Tit!``, or ``Hello ... you.`` without a name."""
    return f"Hello {name}!" if name else "Hello ... you."


def _path_name(raw: str) -> str:
    """WSGI hands over the path as latin-1; names are UTF-8 on the wire."""
    return raw.encode("latin-1").decode("utf-8", "replace")


# --- the API server's routes: exact paths and prefixes, no router library on the hot path ---


def say(request: Request) -> Response:
    """``/say``, ``/say/``, ``/say/{name}`` and ``/say/{name}/``: one handler, no redirects; ``/say/a/b`` 404."""
    rest = request.path[len("/say/") :] if request.path.startswith("/say/") else ""
    name = rest[:-1] if rest.endswith("/") else rest
    if "/" in name or (rest and not name):  # /say/a/b, /say//
        return error_response(404, f"no route for {request.path} (expected /say or /say/NAME)")
    return text_response(greeting(_path_name(name)))


def hello_name(request: Request) -> Response:
    """``/hello/{name}`` only, as Pat's ``/hello/:name``: ``/hello/`` and ``/hello/a/`` are 404."""
    name = request.path[len("/hello/") :]
    if not name or "/" in name:
        return error_response(404, f"no route for {request.path} (expected /hello/NAME)")
    return text_response(greeting(_path_name(name)))


def routes() -> dict[str, Handler]:
    return {"/say": say, "/say/": say}


def prefixes() -> dict[str, Handler]:
    return {"/say/": say, "/hello/": hello_name}


# --- the demo servers ---


def _answer(start_response: Callable, status: str, text: str) -> list[bytes]:
    body = text.encode()
    start_response(
        status, [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))]
    )
    return [body]


def hello_world_app(environ: dict, start_response: Callable) -> list[bytes]:
    return _answer(start_response, "200 OK", "Hello world!")


def servemux_app(environ: dict, start_response: Callable) -> list[bytes]:
    """net/http's ServeMux: ``/hello`` matches only ``/hello``; ``/`` catches every other path."""
    if environ["PATH_INFO"] == "/hello":
        return _answer(start_response, "200 OK", greeting(Request(environ).arg("name")))
    return hello_world_app(environ, start_response)


def slow_app(environ: dict, start_response: Callable) -> list[bytes]:
    """Answers after ``?ms=`` milliseconds of sleep (300 by default), a stand-in for a handler that waits;
    with ``?spin=`` instead, after that many milliseconds of its thread's CPU time in a busy loop, a handler
    that computes, saying the server's GIL switch interval (what the threads' turns depend on)."""
    request = Request(environ)
    if spin := request.arg("spin"):
        done = time.thread_time() + int(spin) / 1000
        while time.thread_time() < done:  # pure Python: holds the GIL but for the interpreter's switches
            pass
        switch_ms = sys.getswitchinterval() * 1000
        return _answer(start_response, "200 OK", f"Computed {spin} ms (switch interval {switch_ms:g} ms)")
    ms = int(request.arg("ms") or 300)
    time.sleep(ms / 1000)  # releases the GIL, as waiting on a socket does
    return _answer(start_response, "200 OK", f"Slept {ms} ms")


def werkzeug_app(rules: Sequence[tuple[str, str]], strict_slashes: bool) -> WSGIApp:
    """A WSGI app routing ``(pattern, endpoint)`` rules through Werkzeug's ``Map`` (the teaching router)."""
    from werkzeug.exceptions import HTTPException  # a lab dependency: the API server never imports it
    from werkzeug.routing import Map, Rule

    url_map = Map(
        [Rule(pattern, endpoint=endpoint) for pattern, endpoint in rules], strict_slashes=strict_slashes
    )

    def app(environ: dict, start_response: Callable) -> Iterable[bytes]:
        try:
            endpoint, args = url_map.bind_to_environ(environ).match()
        except HTTPException as exc:  # 404, or the trailing-slash redirect (RequestRedirect, 308)
            return exc(environ, start_response)
        if endpoint == "root":
            return hello_world_app(environ, start_response)
        return _answer(start_response, "200 OK", greeting(args.get("name")))

    return app


PAT_RULES = [("/hello/<name>", "hello"), ("/", "root"), ("/hey/<name>/", "hello")]
MUX_RULES = [("/say", "hello"), ("/say/<name>", "hello")]


def logged(app: WSGIApp) -> WSGIApp:
    """Print ``Request: /path`` as each request arrives, as the book's handlers do; name the server
    ``foundations-demo`` (wsgiref would send its Python version, which changes from machine to machine)."""

    def wrapper(environ: dict, start_response: Callable) -> Iterable[bytes]:
        print(f"Request: {environ['PATH_INFO']}", flush=True)
        return app(
            environ,
            lambda status, headers, *exc: start_response(
                status, [*headers, ("Server", "foundations-demo")], *exc
            ),
        )

    return wrapper


class ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    """One thread per connection, like net/http's goroutine per connection."""

    daemon_threads = True
    request_queue_size = 512  # socketserver's 5 would drop a burst of connects (each retried 1 s later)


class QuietHandler(WSGIRequestHandler):
    """No access log on stderr: the app prints its own."""

    def log_message(self, format: str, *args: object) -> None:
        pass


def without_hop_by_hop(app: WSGIApp) -> WSGIApp:
    """``app`` minus ``Connection`` headers (``web.App`` sends ``Connection: close`` after a body it did not
    read): wsgiref refuses hop-by-hop headers from an app, and closes each connection after one answer."""

    def wrapper(environ: dict, start_response: Callable) -> Iterable[bytes]:
        return app(
            environ,
            lambda status, headers, *exc: start_response(
                status, [(k, v) for k, v in headers if k.lower() != "connection"], *exc
            ),
        )

    return wrapper


def make(app: WSGIApp, port: int, host: str = "127.0.0.1", threads: bool = True) -> WSGIServer:
    """The stdlib's WSGI server bound to host:port, with a thread per connection unless ``threads`` is false
    (wsgiref's own server: one request at a time); ``serve_forever()`` runs it."""
    server_class = ThreadingWSGIServer if threads else WSGIServer
    return make_server(host, port, without_hop_by_hop(app), server_class, QuietHandler)


def serve(app: WSGIApp, port: int, host: str = "127.0.0.1", threads: bool = True) -> None:
    """Serve ``app`` until interrupted, announcing where (the book's ``Starting server on port :80``)."""
    with make(app, port, host, threads) as httpd:
        print(f"Starting server on {host}:{port}", flush=True)
        httpd.serve_forever()


def raw_get(port: int, path: str, host: str = "127.0.0.1") -> str:
    """The book's telnet session: send ``GET path HTTP/1.0`` by hand, return the raw answer."""
    with socket.create_connection((host, port), timeout=5) as sock:
        sock.sendall(f"GET {path} HTTP/1.0\r\nHost: {host}:{port}\r\n\r\n".encode())
        chunks = iter(lambda: sock.recv(4096), b"")
        return b"".join(chunks).decode("utf-8", "replace").replace("\r\n", "\n")


def concurrent(url: str, clients: int) -> Timeline:
    """``clients`` GETs of ``url`` sent at the same moment: one span per request (``request 1``...), from
    sending it to its answer, on one ``Timeline`` whose clock starts just before the first is sent."""
    import requests

    timeline = Timeline()

    def get(number: int) -> None:
        with timeline.span(f"request {number}"):
            requests.get(url, timeout=30).raise_for_status()

    with ThreadPoolExecutor(clients) as pool:
        timeline.timer.now()
        list(pool.map(get, range(1, clients + 1)))
    return timeline


def answers(base_url: str, paths: Iterable[str]) -> list[dict]:
    """GET each path without following redirects: ``{path, status, location, body}`` rows for a table."""
    import requests

    rows = []
    with requests.Session() as http:
        for path in paths:
            response = http.get(base_url + path, allow_redirects=False, timeout=5)
            body = response.text if len(response.text) <= 40 else response.text[:37] + "..."
            rows.append(
                {
                    "path": path,
                    "status": response.status_code,
                    "location": response.headers.get("Location", ""),
                    "body": body,
                }
            )
    return rows


def server_cpu(url: str, clients: int = 4, min_cpu_s: float = 0.4, batch: int = 1_000) -> tuple[float, int]:
    """GET ``url`` from ``clients`` threads at once, each on a kept connection (the built-in load generator,
    ``bench.load``), ``batch`` requests after ``batch``, until the server behind ``url`` has used ``min_cpu_s``
    of CPU in all its processes: (its CPU seconds, the requests sent). The less CPU a request costs, the more
    requests the server gets, so that every server's figure averages over the same CPU time."""
    from foundations import bench, footprint

    def cpu_s() -> float:
        seconds = footprint.server_cpu_seconds(url)
        if seconds is None:
            raise ValueError(f"no local server to read the CPU of behind {url}")
        return seconds

    before, sent = cpu_s(), 0
    while cpu_s() - before < min_cpu_s:
        statuses = bench.load(url, batch, concurrency=clients).statuses
        if set(statuses) != {200}:
            raise ValueError(f"{url} answered {dict(statuses)}, not only 200s")
        sent += batch
    return cpu_s() - before, sent


DEMOS: dict[str, Callable[[], WSGIApp]] = {
    "hello": lambda: hello_world_app,
    "servemux": lambda: servemux_app,
    "pat": lambda: werkzeug_app(PAT_RULES, strict_slashes=True),
    "mux": lambda: werkzeug_app(MUX_RULES, strict_slashes=False),
    "slow": lambda: slow_app,
}


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m foundations.routing", description=__doc__.splitlines()[0]
    )
    parser.add_argument("demo", choices=sorted(DEMOS))
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument(
        "--single-threaded", action="store_true", help="wsgiref's own server: one request at a time"
    )
    args = parser.parse_args(argv)
    try:
        serve(logged(DEMOS[args.demo]()), args.port, args.host, threads=not args.single_threaded)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":  # pragma: no cover - run as a process; tests cover main() via processes
    main()

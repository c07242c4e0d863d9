"""A check's upstream whose URLs say nothing of how each call behaves: ``/<token>``, answered as the check
planned it (06's deadline exercise, whose answers must not tell the late calls from their URLs)."""

import contextlib
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Unlabelled(BaseHTTPRequestHandler):
    """Answers ``/<token>`` as the check planned it: after a silence, or trickled a space every 100 ms. The URL
    says nothing of which: an answer cannot tell from it which calls will be late."""

    plans: dict[str, tuple[float, int, bytes]] = {}  # token: (silence in s, spaces trickled first, JSON body)

    def do_GET(self):  # noqa: N802 - the name http.server calls
        plan = self.plans.get(self.path.lstrip("/"))
        if plan is None:
            self.send_error(404)
            return
        silence, spaces, body = plan
        time.sleep(silence)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(spaces + len(body)))
        self.end_headers()
        try:
            for _ in range(spaces):
                self.wfile.write(b" ")  # JSON allows leading whitespace
                self.wfile.flush()
                time.sleep(0.1)
            self.wfile.write(body)
        except OSError:  # the learner's function hung up: fine, the deadline did that
            pass

    def log_message(self, *args):  # nothing on the notebook's stderr
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # a trickle still going when the check ends does not hold it
    # socketserver's backlog of 5 drops a burst of connects on a busy machine, and the client retries 1 s later:
    # a right answer then came ~0.6 s after the slowest upstream, and the check refused it
    request_queue_size = 512


@contextlib.contextmanager
def serve():
    """A server of ``Unlabelled`` on a free port, running in a thread until the block ends: its base URL."""
    server = _Server(("127.0.0.1", 0), Unlabelled)
    threading.Thread(target=server.serve_forever, name="check 06 upstream", daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        Unlabelled.plans.clear()


def urls(base: str, plans: list[tuple[float, int, bytes]]) -> list[str]:
    """A fresh, unguessable URL of the server at ``base`` for each plan: (silence in s, spaces, JSON body)."""
    tokens = [secrets.token_urlsafe(12) for _ in plans]
    Unlabelled.plans.update(zip(tokens, plans))
    return [f"{base}/{token}" for token in tokens]

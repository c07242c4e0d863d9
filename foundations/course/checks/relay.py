"""A TCP relay in front of one Redis, for the checks of notebook 01's ping_all. It counts the connections and
PINGs passing through it: other tests and notebooks talk to the same Redis meanwhile, and the server's own
counters (INFO stats, commandstats) would count their traffic too, the relay sees only what the answer sends to
the URL it was given.

It also asks for a password, as a workshop's Redis does. The Redis behind it may ask for none (a local daemon;
compose's ACL default user is nopass), so the relay asks itself: its URL carries a user and a new random
password, and a connection's first command must be AUTH, or HELLO with AUTH, with those two. The relay answers
that AUTH itself (or takes the credentials out of the HELLO before passing it on) and logs in to the Redis with
the credentials of the Redis's own URL. Any other first command is refused, as Redis refuses it, and the
connection closed: the answer's clock, and ``expect_credentials``, see it."""

import contextlib
import secrets
import selectors
import socket
import threading
from collections.abc import Iterator
from urllib.parse import unquote, urlsplit, urlunsplit

from foundations import config
from foundations.course.exercises import expect

USER = "check"
NOAUTH, WRONGPASS = b"-NOAUTH Authentication required.\r\n", b"-WRONGPASS invalid username-password pair\r\n"


class Relay:
    def __init__(self, target: str) -> None:
        parts = urlsplit(target)
        self.target, self.upstream = target, (parts.hostname or "127.0.0.1", parts.port or 6379)
        self.login = [unquote(parts.username or "default"), unquote(parts.password)] if parts.password else []
        self.password = secrets.token_hex(8)  # hex: never holds "PING", which the relay counts
        self.listener = socket.create_server(("127.0.0.1", 0))
        where = f"{USER}:{self.password}@127.0.0.1:{self.listener.getsockname()[1]}"
        self.url = urlunsplit(parts._replace(netloc=where))
        self.connections, self.pings = 0, 0
        self.refused: list[tuple[str, str]] = []  # (a refused connection's first command, why)
        self._lock, self._stop = threading.Lock(), threading.Event()
        self._thread = threading.Thread(target=self._run, name="ping-relay", daemon=True)
        self._thread.start()

    def take(self) -> tuple[int, int]:
        """(connections, PINGs) since the last take."""
        with self._lock:
            counts, self.connections, self.pings = (self.connections, self.pings), 0, 0
        return counts

    def expect_credentials(self) -> None:
        """Every connection so far began with the user and password of the relay's URL."""
        with self._lock:
            refused = list(self.refused)
        for command, why in refused:
            expect(
                False,
                f"{config.redacted(self.url)}, the check's relay to {config.redacted(self.target)}, asks for the "
                f"user and password its URL carries, as a workshop's Redis does; a connection to it began with "
                f"{command} {why}: connect with everything the URL holds, credentials included",
            )

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        with selectors.DefaultSelector() as selector:
            selector.register(self.listener, selectors.EVENT_READ)
            try:
                while not self._stop.is_set():
                    for key, _ in selector.select(0.05):
                        if key.fileobj is self.listener:
                            self._accept(selector)
                        else:
                            self._pass(selector, key)
            finally:
                for key in list(selector.get_map().values()):
                    key.fileobj.close()  # type: ignore[union-attr]

    def _accept(self, selector: selectors.BaseSelector) -> None:
        client, _ = self.listener.accept()
        with self._lock:
            self.connections += 1
        try:
            server = socket.create_connection(self.upstream, timeout=5)
            if self.login:  # the Redis's own credentials, sent before anything of the answer's
                server.sendall(_resp([b"AUTH", *(word.encode() for word in self.login)]))
                if not server.recv(64).startswith(b"+OK"):
                    raise OSError(f"{config.redacted(self.target)} refused its own URL's password")
        except OSError:
            client.close()
            return
        # [peer, the client's last bytes, the client's bytes before its first command is whole (None after)]
        selector.register(client, selectors.EVENT_READ, [server, b"", b""])
        selector.register(server, selectors.EVENT_READ, [client, None, None])

    def _pass(self, selector: selectors.BaseSelector, key: selectors.SelectorKey) -> None:
        sock, (peer, pending, first) = key.fileobj, key.data
        try:
            data = sock.recv(65536)  # type: ignore[union-attr]
            if not data:
                raise OSError("closed")
            if first is not None:  # from a client that has not logged in yet
                data = self._log_in(sock, key, first + data)
            if data and pending is not None:  # from the client: count its PINGs before Redis can answer them
                # "PING" in any case, in RESP or inline; the last 3 bytes are kept, so that a PING split
                # between two reads is counted once, when it is whole (nothing else the check sends holds it)
                seen = (pending + data).upper()
                key.data[1] = seen[-3:]
                with self._lock:
                    self.pings += seen.count(b"PING")
            peer.sendall(data)
            return
        except OSError:
            pass
        for end in (sock, peer):
            with contextlib.suppress(KeyError, ValueError):
                selector.unregister(end)
            end.close()  # type: ignore[union-attr]

    def _log_in(self, sock, key: selectors.SelectorKey, data: bytes) -> bytes:
        """What to pass on of the client's ``data`` before it has logged in: b"" while its first command is
        incomplete, the rest after a right AUTH (answered here), a HELLO without its AUTH; OSError if refused."""
        try:
            command = _command(data)
        except ValueError:
            command = [b"?"], b""
        if command is None and len(data) < 65536:
            key.data[2] = data
            return b""
        words, rest = command or ([b"?"], b"")
        name = words[0].upper() if words else b""
        upper = [word.upper() for word in words]
        at = upper.index(b"AUTH") if name == b"HELLO" and b"AUTH" in upper else None
        given = words[1:] if name == b"AUTH" else words[at + 1 : at + 3] if at is not None else None
        if given == [USER.encode(), self.password.encode()]:
            key.data[2] = None
            if at is None:
                sock.sendall(b"+OK\r\n")
                return rest
            return _resp(words[:at] + words[at + 3 :]) + rest
        why = "without the password" if given is None else "with a user or password that is not the URL's"
        with self._lock:
            self.refused.append((name.decode(errors="replace") or "an empty line", why))
        sock.sendall(NOAUTH if given is None else WRONGPASS)
        raise OSError("refused")


def _command(data: bytes) -> tuple[list[bytes], bytes] | None:
    """The first command in ``data``, RESP or inline, and the bytes after it; None while it is incomplete."""
    if not data.startswith(b"*"):
        line, newline, rest = data.partition(b"\n")
        return (line.split(), rest) if newline else None
    head, newline, rest = data.partition(b"\r\n")
    words: list[bytes] = []
    for _ in range(int(head[1:]) if newline else 0):
        size, newline, rest = rest.partition(b"\r\n")
        if not newline or len(rest) < int(size[1:]) + 2:
            return None
        words.append(rest[: int(size[1:])])
        rest = rest[int(size[1:]) + 2 :]
    return (words, rest) if newline else None


def _resp(words: list[bytes]) -> bytes:
    return b"*%d\r\n" % len(words) + b"".join(b"$%d\r\n%s\r\n" % (len(word), word) for word in words)


@contextlib.contextmanager
def relay(url: str) -> Iterator[Relay]:
    relay = Relay(url)
    try:
        yield relay
    finally:
        relay.close()

"""Chapter 9: the book's ``Registry`` - string values in Redis under ``<name>:<key>``.

``get_all`` comes two ways: the book's (``KEYS name:*`` then one ``GET`` per key, N+1 round trips, and
``KEYS`` blocks Redis while it walks every key) and the production way (``SCAN`` pages with an escaped
``MATCH`` pattern, one ``MGET`` per page). Chapter 9's notebook measures both.

    >>> reg = Registry(redisdb.client(cfg.redis_url), prefix="api")
    >>> reg.set("name", "Tit Petric"); reg.get("name")
    'Tit Petric'
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar, cast

import hiredis

from foundations.errors import FIX_DOWN, FoundationsError, ServiceError

if TYPE_CHECKING:  # redis-py is the client of every server but the RSGI one, which never loads it
    import redis

# Redis glob metacharacters (redis/src/util.c stringmatchlen): a backslash makes each one literal.
_GLOB_ESCAPES = str.maketrans({c: "\\" + c for c in "\\*?[]"})


class NotFound(FoundationsError):
    """The key is not in the registry (the book's ``redigo: nil returned``)."""


class Unavailable(ServiceError):
    """Redis did not answer, no pooled connection came free, or Redis refuses this client (its password or
    permissions, a read-only replica, a data set still loading): names host:port and the fix."""


class WrongType(FoundationsError):
    """The key holds another Redis type than a string (another program wrote it): Redis's ``WRONGTYPE``."""


class Full(ServiceError):
    """Redis is over its ``maxmemory`` and stored nothing: Redis's ``OOM``."""


# Redis's error replies by their first word: the registry's error for each, and its message. Other replies
# are Unavailable with _OTHER: an error the registry does not expect still names itself.
_PASSWORD = (
    "{where} refused the password ({reply}): check the user and password in FOUNDATIONS_REDIS_URL "
    "(redis://USER:PASSWORD@host:port/0)"
)
_REPLIES = {
    "WRONGTYPE": (
        WrongType,
        "{where}: key {key!r} holds a value that is not a string (another program wrote it): "
        "delete it first (Registry.delete or /del)",
    ),
    "OOM": (Full, "{where} is full (over its maxmemory): nothing was stored; delete keys or raise maxmemory"),
    "READONLY": (Unavailable, "{where} is a read-only replica: point FOUNDATIONS_REDIS_URL at the primary"),
    "NOPERM": (
        Unavailable,
        "{where} refused a command ({reply}): let the user of FOUNDATIONS_REDIS_URL run it "
        "(ACL SETUSER <user> +@read +@write +@scripting) or give that setting another user",
    ),
    "NOAUTH": (Unavailable, _PASSWORD),
    "WRONGPASS": (Unavailable, _PASSWORD),
    "LOADING": (Unavailable, "{where} is loading its data set into memory: retry in a few seconds"),
}
_OTHER = "{where} answered an error ({reply}): see the Redis log"
# Registry.put's one command: Redis runs a script whole, whatever client sends it. A MULTI/EXEC is four commands
# that must follow each other on one connection, and if the ACL refuses the MULTI, the SET still runs.
_PUT = "local existed = redis.call('EXISTS', KEYS[1]) redis.call('SET', KEYS[1], ARGV[1]) return existed"


def _reply(exc: Exception) -> str | None:
    """Redis's error reply as Redis sent it (``"WRONGTYPE Operation against a key ..."``): hiredis's
    ``ReplyError`` as it is, redis-py's with the first word it moves to ``status_code``; None when Redis did
    not answer (down, timed out)."""
    if isinstance(exc, hiredis.ReplyError):
        return str(exc)
    if code := getattr(exc, "status_code", None):
        return f"{code} {exc}"
    response_error = getattr(sys.modules.get("redis.exceptions"), "ResponseError", ())
    return str(exc) if isinstance(exc, response_error) else None


def glob_escape(text: str) -> str:
    """``text`` as a Redis ``MATCH``/``KEYS`` pattern that matches only itself: ``a*b`` -> ``a\\*b``."""
    return text.translate(_GLOB_ESCAPES)


def _client_errors() -> tuple[type[Exception], ...]:
    """What a client raises when Redis does not answer, or answers with an error: ``ConnectionError``,
    ``TimeoutError`` and hiredis's ``ReplyError`` from ``pipelining``, and redis-py's own once redis-py is
    loaded (only its clients raise them). Looked up, not imported: the RSGI server never loads redis-py, a
    third of its memory (chapter 10)."""
    loaded = sys.modules.get("redis.exceptions")
    ours = (ConnectionError, TimeoutError, hiredis.ReplyError)
    return (
        ours if loaded is None else (*ours, loaded.ConnectionError, loaded.TimeoutError, loaded.ResponseError)
    )


def _text(value: bytes | str) -> str:
    # Clients built with decode_responses=True hand us str already; bytes that are not UTF-8 (another
    # program may have written them) are shown with U+FFFD rather than failing the request.
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


class Client(Protocol):
    """What ``Registry`` asks of its client: redis-py's commands by their names (a redis-py client, a cluster
    one, ``pipelining.Blocking``); ``get`` stands for them all."""

    def get(self, name: str) -> Any: ...


class AsyncClient(Protocol):
    """What ``AsyncRegistry`` asks of its client (``pipelining.Pipelined``, ``PerLoop``): a command's reply,
    awaited."""

    def execute(self, *args: str | bytes | int) -> Awaitable[Any]: ...


ClientT = TypeVar("ClientT", Client, AsyncClient)


class _Keyspace(Generic[ClientT]):
    """What both registries share: the keys under ``prefix:``, the counters, Redis's errors as theirs.

    ``on_call`` (optional) is told the name of every operation (``"registry.get"`` ...) and, for
    ``get_all``, ``"registry.getAll.get"`` once per key fetched; chapter 11 counts them for /metrics.
    """

    def __init__(
        self,
        client: ClientT,
        prefix: str = "api",
        on_call: Callable[[str], None] | None = None,
        page_size: int = 1000,
    ):
        self.client: ClientT = client
        self.prefix = prefix
        self.on_call = on_call
        self.page_size = page_size
        self._head = prefix + ":"
        self._errors = _client_errors()

    def _failed(self, exc: Exception, key: str) -> FoundationsError:
        """Redis's error reply as the registry's error (``_REPLIES``), or Unavailable when Redis did not answer."""
        reply = _reply(exc)
        if reply is None:
            return self._unavailable(exc)
        kind, message = _REPLIES.get(reply.partition(" ")[0], (Unavailable, _OTHER))
        return kind(message.format(where=self._where(), reply=reply, key=key))

    def _where(self) -> str:
        address = getattr(self.client, "address", None)  # pipelining's clients
        if address is None and getattr(self.client, "connection_pool", None) is not None:
            from foundations import redisdb  # a redis-py client: redis-py is loaded already

            address = redisdb.address(cast("redis.Redis", self.client))
        return f"registry {self.prefix!r}: " + (f"Redis at {address}" if address else "the Redis cluster")

    def _missing(self, key: str) -> NotFound:
        return NotFound(f"no key {key!r} in registry {self.prefix!r}: set it first (Registry.set or /set)")

    def _unavailable(self, exc: Exception) -> Unavailable:
        if isinstance(exc, (ConnectionError, TimeoutError)):  # pipelining's: it names the address already
            return Unavailable(f"registry {self.prefix!r}: {exc}; {FIX_DOWN}")
        from foundations import redisdb  # a redis-py client's error: redis-py is loaded already

        if getattr(self.client, "connection_pool", None) is None:  # a cluster client has one pool per node
            return Unavailable(
                f"Redis at the cluster does not answer for registry {self.prefix!r} ({exc}): {FIX_DOWN}"
            )
        return Unavailable(
            f"registry {self.prefix!r}: {redisdb.unavailable(cast('redis.Redis', self.client), exc)}"
        )


class Registry(_Keyspace[Client]):
    """Key/value pairs under ``prefix:`` in the Redis behind ``client``."""

    def key(self, key: str) -> str:
        """The Redis key for ``key`` (the book's ``GetKey``): ``api:name``."""
        return self._head + key

    def get(self, key: str) -> str:
        """The value of ``key``; raises ``NotFound`` when it is not set."""
        if self.on_call is not None:
            self.on_call("registry.get")
        try:
            value = self.client.get(self.key(key))
        except self._errors as exc:
            raise self._failed(exc, key) from exc
        if value is None:
            raise self._missing(key)
        return _text(value)

    def set(self, key: str, value: str) -> None:
        """Store ``value`` under ``key`` (the fixed ``Set`` of the book, with its ``value`` argument)."""
        self._call("registry.set", "set", self.key(key), value)

    def put(self, key: str, value: str) -> bool:
        """Store ``value`` under ``key`` as ``set`` does; True when this created the key, False when it replaced
        a value (``PUT /keys/{key}``'s 201 or 200). One command, ``_PUT``'s script: one round trip, and Redis
        runs nothing else between its ``EXISTS`` and ``SET``, so of racing writers only one created the key."""
        return not self._call("registry.set", "eval", _PUT, 1, self.key(key), value)

    def delete(self, key: str) -> bool:
        """Remove ``key``; True when it existed."""
        return bool(self._call("registry.del", "delete", self.key(key)))

    def ping(self) -> None:
        """Raise ``Unavailable`` unless Redis answers (``/healthz``)."""
        self._call(None, "ping")

    def get_all_book(self) -> dict[str, str]:
        """The book's ``GetAll``: ``KEYS prefix:*``, then one ``GET`` per key (keys gone since are skipped).

        Faithful to the listing, the pattern is not escaped: a prefix holding ``*``, ``?`` or ``[``
        matches other registries' keys (the notebook shows it)."""
        keys = self._call("registry.getAll", "keys", self._head + "*")
        result = {}
        for name in keys:
            value = self._call("registry.getAll.get", "get", name)
            if value is not None:
                result[_text(name)[len(self._head) :]] = _text(value)
        return result

    def get_all(self) -> dict[str, str]:
        """Every pair, the production way: ``SCAN MATCH <escaped prefix>:*`` pages, one ``MGET`` each."""
        result = {}
        pattern = glob_escape(self._head) + "*"
        cursor = 0
        first = True
        while first or cursor != 0:
            name = "registry.getAll" if first else None
            cursor, names = self._call(name, "scan", cursor, match=pattern, count=self.page_size)
            first = False
            if not names:  # SCAN may return empty pages before the cursor comes back to 0
                continue
            if self.on_call is not None:
                for _ in names:
                    self.on_call("registry.getAll.get")
            values = self._call(None, "mget", names)
            for name, value in zip(names, values):
                if value is not None:  # deleted (or not a string) between SCAN and MGET
                    result[_text(name)[len(self._head) :]] = _text(value)
        return result

    def _call(self, name: str | None, command: str, *args: Any, **kwargs: Any) -> Any:
        if name is not None and self.on_call is not None:
            self.on_call(name)
        try:
            return getattr(self.client, command)(*args, **kwargs)
        except self._errors as exc:
            key = _text(args[0])[len(self._head) :] if command == "get" else ""  # WRONGTYPE: only GET
            raise self._failed(exc, key) from exc


class AsyncRegistry(_Keyspace[AsyncClient]):
    """The same registry for a server's event loop, over ``pipelining.Pipelined`` (chapter 10, beyond the
    book): ``get``, ``set`` and ``delete`` are coroutines with the same keys, counters and errors."""

    async def get(self, key: str) -> str:
        if self.on_call is not None:
            self.on_call("registry.get")
        value = await self._await("GET", self._head + key)
        if value is None:
            raise self._missing(key)
        return _text(value)

    async def set(self, key: str, value: str) -> None:
        if self.on_call is not None:
            self.on_call("registry.set")
        await self._await("SET", self._head + key, value)

    async def delete(self, key: str) -> bool:
        if self.on_call is not None:
            self.on_call("registry.del")
        return bool(await self._await("DEL", self._head + key))

    async def _await(self, *command: str) -> Any:
        try:
            return await self.client.execute(*command)
        except self._errors as exc:
            raise self._failed(exc, command[1][len(self._head) :]) from exc

"""Chapter 11's configuration rules, used from chapter 1 on: one place resolves every setting.

Precedence, highest first: command-line flag (``--redis-url``), ``FOUNDATIONS_*`` environment variable
(``FOUNDATIONS_REDIS_URL``), config file (TOML, ``--config``), the state file written by ``services up``,
the default. An unprefixed variable (``PORT``) is ignored, as the book's namsral/flag table shows for
``GO_PORT``. Nothing else in the package reads a setting from the environment (docs/architecture.md, "Data
flow").

    >>> cfg = load(argv=[], environ={"FOUNDATIONS_PORT": "80"})
    >>> cfg.port, cfg.sources["port"]
    (80, 'env FOUNDATIONS_PORT')
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import urlsplit, urlunsplit

from foundations import state
from foundations.errors import ConfigError

ENV_PREFIX = "FOUNDATIONS_"
REPO_ROOT = Path(__file__).resolve().parent.parent


def _default_state_dir() -> str:
    """``.state/`` in a source checkout (what the lab uses), else the user's state directory."""
    if (REPO_ROOT / "pyproject.toml").exists():
        return str(REPO_ROOT / ".state")
    return str(Path.home() / ".local" / "state" / "api-foundations")


def _url(schemes: tuple[str, ...], example: str) -> Callable[[str], str]:
    def parse(value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in schemes or not parts.hostname:
            raise ValueError(f"expected a URL like {example}")
        try:
            parts.port  # noqa: B018 - raises ValueError on a port that is not a number
        except ValueError:
            raise ValueError(f"expected a URL like {example} (the port must be a number)") from None
        return value

    return parse


def _digits(value: str) -> bool:
    """Plain ASCII digits: str.isdigit() also passes "²" (which int() refuses) and "٨٠" (which it reads as 80)."""
    return value.strip().isascii() and value.strip().isdigit()


def _port(value: str) -> int:
    if not _digits(value) or not 0 <= int(value) <= 65535:
        raise ValueError("expected a port number from 0 to 65535")
    return int(value)


def _listen_address(value: str) -> str:
    """An IP address, as granian binds it: an empty value or a name (``localhost``) would pass here and
    crash the server with a traceback after it printed "serving on"."""
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        raise ValueError("expected an IP address to listen on, like 127.0.0.1 or 0.0.0.0") from None


def _directory(value: str) -> str:
    """A path; empty would be the current directory, wherever the command happens to run."""
    if not value.strip():
        raise ValueError("expected a directory")
    return value


def _positive(value: str) -> int:
    if not _digits(value) or int(value) < 1:
        raise ValueError("expected a whole number of at least 1")
    return int(value)


def _choice(*choices: str) -> Callable[[str], str]:
    def parse(value: str) -> str:
        if value.strip() not in choices:
            raise ValueError(f"expected one of {', '.join(choices)}")
        return value.strip()

    return parse


def _seconds(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        raise ValueError("expected a number of seconds, like 0.5") from None
    if seconds < 0:
        raise ValueError("expected a number of seconds, like 0.5")
    return seconds


def _bool(value: str) -> bool:
    text = value.strip().lower()
    if text not in ("true", "false", "1", "0", "yes", "no", "on", "off"):
        raise ValueError("expected true or false")
    return text in ("true", "1", "yes", "on")


@dataclass(frozen=True)
class Setting:
    name: str
    default: str
    help: str
    parse: Callable[[str], Any] = str

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    @property
    def env(self) -> str:
        return ENV_PREFIX + self.name.upper()


# The tutorial's services (``python -m foundations services up NAME``) and the setting that says where each is.
SERVICES = {
    "redis": "redis_url",
    "redis1": "redis1_url",
    "redis2": "redis2_url",
    "mysql": "mysql_dsn",
    "api": "api_url",
}
SETTINGS: tuple[Setting, ...] = (
    Setting(
        "redis_url", "redis://127.0.0.1:6390/0", "main Redis", _url(("redis",), "redis://127.0.0.1:6390/0")
    ),
    Setting(
        "redis1_url",
        "redis://127.0.0.1:6391/0",
        "first Redis of the pool (chapter 7)",
        _url(("redis",), "redis://127.0.0.1:6391/0"),
    ),
    Setting(
        "redis2_url",
        "redis://127.0.0.1:6392/0",
        "second Redis of the pool (chapter 7)",
        _url(("redis",), "redis://127.0.0.1:6392/0"),
    ),
    Setting(
        "mysql_dsn",
        "mysql://api:api@127.0.0.1:3390/api",
        "MySQL/MariaDB (chapter 8)",
        _url(("mysql",), "mysql://api:api@127.0.0.1:3390/api"),
    ),
    Setting(
        "api_url",
        "http://127.0.0.1:8080",
        "where clients find the API server",
        _url(("http", "https"), "http://127.0.0.1:8080"),
    ),
    Setting("host", "127.0.0.1", "address the API server listens on", _listen_address),
    Setting("port", "8080", "port the API server listens on", _port),
    Setting("workers", "1", "API server worker processes", _positive),
    # Chapter 10, beyond the book: loop and rsgi run the hot routes on an event loop over one auto-pipelined
    # Redis connection, loop on this process's one thread (loopserver), rsgi behind granian's Rust I/O thread;
    # several workers are granian's processes either way. wsgi is the threaded server chapters 5 and 10 teach.
    Setting(
        "interface",
        "loop",
        "API server: loop (one thread: uvloop + httptools, pipelined Redis), rsgi (the same app behind "
        "granian) or wsgi (granian's threads)",
        _choice("loop", "rsgi", "wsgi"),
    ),
    # Chapter 10's benchmark: 1 thread per worker stops threads fighting over the GIL (measured ab -c4 /get:
    # 11-18k vs 9-11k req/s), but then one slow request holds its whole worker.
    Setting(
        "threads",
        "0",
        "WSGI: blocking threads per worker (0: granian's default); RSGI, one worker: event-loop threads",
        lambda v: 0 if v.strip() == "0" else _positive(v),
    ),
    Setting("redis_timeout", "1.0", "Redis connect/read/write timeout in seconds (the book's 1 s)", _seconds),
    Setting(
        "state_dir",
        _default_state_dir(),
        "where `services up` keeps data, logs and its state file",
        _directory,
    ),
    # Chapter 11: production switches.
    Setting(
        "redis_cluster", "false", "redis_url names one node of a Redis Cluster (chapter 11 scale-out)", _bool
    ),
    # Off by default: a log line per request costs the server CPU (notebook 11's appendix measures it per request);
    # behind nginx, its access log already has every request with its duration.
    Setting("access_log", "false", "log every request with its duration (the access log)", _bool),
    Setting(
        "debug_endpoints",
        "false",
        "serve /debug/vars and /metrics to every client (by default only to "
        "loopback clients that did not come through a proxy, and to those with the debug token)",
        _bool,
    ),
    Setting(
        "debug_token",
        "",
        "a client sending `Authorization: Bearer TOKEN` may read /debug/vars and /metrics (empty: no token)",
    ),
    Setting("metrics_dir", "", "where server workers share their counters (`serve` makes one when empty)"),
    # The course: a test run and `make refresh-outputs` point their kernels' exercise checks elsewhere.
    Setting(
        "progress_home", "", "exercise checks record into DIR/.foundations/progress.json (empty: your home)"
    ),
)
BY_NAME = {s.name: s for s in SETTINGS}


@dataclass(frozen=True)
class Config:
    """Every resolved setting, plus where each value came from (``sources``)."""

    redis_url: str
    redis1_url: str
    redis2_url: str
    mysql_dsn: str
    api_url: str
    host: str
    port: int
    workers: int
    interface: str
    threads: int
    redis_timeout: float
    state_dir: str
    redis_cluster: bool
    access_log: bool
    debug_endpoints: bool
    debug_token: str
    metrics_dir: str
    progress_home: str
    sources: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    def as_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "sources"}

    def shown(self) -> dict[str, Any]:
        """``as_dict()`` fit to print: passwords in URLs and secret settings masked (``redacted``)."""
        return {
            name: (MASK if value and name in SECRET_SETTINGS else redacted(value))
            for name, value in self.as_dict().items()
        }

    def endpoint(self, name: str) -> tuple[str, int]:
        """``(host, port)`` of a URL setting, e.g. ``cfg.endpoint("redis2_url")``."""
        parts = urlsplit(getattr(self, name))
        return parts.hostname or "", parts.port or {"redis": 6379, "mysql": 3306, "https": 443}.get(
            parts.scheme, 80
        )


MASK = "***"
SECRET_SETTINGS = {"debug_token"}  # shown as MASK; URLs keep everything but their password


def redacted(value: Any) -> Any:
    """``value`` with the password of a URL masked: ``redis://:***@127.0.0.1:6390/0``. Notebook outputs get
    committed and shared, and a workshop participant's passwords must not reach another participant."""
    if not isinstance(value, str) or "://" not in value:
        return value
    parts = urlsplit(value)
    if not parts.password:
        return value
    userinfo, _, hostport = parts.netloc.rpartition("@")
    user = userinfo.split(":", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{user}:{MASK}@{hostport}"))


class _Parser(argparse.ArgumentParser):
    """argparse that raises instead of printing usage and exiting, so callers print one line."""

    def error(self, message: str) -> NoReturn:
        raise ConfigError(message)


def add_arguments(parser: argparse.ArgumentParser, names: Sequence[str] | None = None) -> None:
    """A flag for each setting (of ``names``, else all) and ``--config``; None when not given, for precedence."""
    group = parser.add_argument_group("settings (flag, else env, else --config file, else state file)")
    for s in SETTINGS if names is None else [BY_NAME[name] for name in names]:
        group.add_argument(
            s.flag,
            dest=s.name,
            metavar=s.name.split("_")[-1].upper(),
            help=f"{s.help} (env {s.env}, default {s.default})",
        )
    group.add_argument(
        "--config",
        dest="config_file",
        default=None,
        metavar="FILE",
        help=f"TOML file with settings (env {ENV_PREFIX}CONFIG)",
    )


def parser(prog: str = "foundations") -> argparse.ArgumentParser:
    p = _Parser(prog=prog)
    add_arguments(p)
    return p


def _read_config_file(path: str) -> dict[str, str]:
    try:
        data = tomllib.loads(Path(path).read_text())
    except FileNotFoundError:
        raise ConfigError(
            f"config file {path}: not found; pass an existing TOML file or drop --config"
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path}: not valid TOML ({exc})") from None
    unknown = sorted(set(data) - set(BY_NAME))
    if unknown:
        raise ConfigError(
            f"config file {path}: unknown setting(s) {', '.join(unknown)}; known: {', '.join(BY_NAME)}"
        )
    return {k: str(v) for k, v in data.items()}


def resolve(flags: Mapping[str, Any], environ: Mapping[str, str], use_state: bool = True) -> Config:
    """Resolve every setting from already-parsed ``flags`` (None = not given) and ``environ``."""
    config_file = flags.get("config_file") or environ.get(ENV_PREFIX + "CONFIG")
    from_file = _read_config_file(config_file) if config_file else {}
    raw: dict[str, tuple[str, str]] = {}
    for s in SETTINGS:
        if flags.get(s.name) is not None:
            raw[s.name] = (str(flags[s.name]), f"flag {s.flag}")
        elif s.env in environ:
            raw[s.name] = (environ[s.env], f"env {s.env}")
        elif s.name in from_file:
            raw[s.name] = (from_file[s.name], f"file {config_file}")
    if use_state:
        state_dir = raw.get("state_dir", (BY_NAME["state_dir"].default, ""))[0]
        for name, value in state.read(Path(state_dir)).get("endpoints", {}).items():
            if name in BY_NAME and name not in raw:
                raw[name] = (value, "state file")
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for s in SETTINGS:
        text, source = raw.get(s.name, (s.default, "default"))
        try:
            values[s.name] = s.parse(text)
        except ValueError as exc:
            where = {"flag": s.flag, "env": s.env}.get(source.split()[0], f"{s.name} ({source})")
            raise ConfigError(f"{where}={text!r}: {exc}") from None
        sources[s.name] = source
    return Config(**values, sources=sources)


def load(
    argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None, use_state: bool = True
) -> Config:
    """Parse ``argv`` (notebooks pass ``[]``: the kernel's argv is not ours) and resolve every setting."""
    flags = vars(parser().parse_args(list(argv) if argv is not None else None))
    return resolve(flags, os.environ if environ is None else environ, use_state)


def as_environ(cfg: Config) -> dict[str, str]:
    """The ``FOUNDATIONS_*`` variables that make a child process (a kernel, a server) see ``cfg``."""
    return {BY_NAME[k].env: str(v) for k, v in cfg.as_dict().items()}


def child_environ(cfg: Config | None = None, **extra: str) -> dict[str, str]:
    """The environment for a child process: ours without any ``FOUNDATIONS_*`` variable, then ``cfg``'s
    settings (when given), then ``extra``. The child sees exactly what we resolved, nothing stale."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(ENV_PREFIX)}
    return {**env, **(as_environ(cfg) if cfg is not None else {}), **extra}

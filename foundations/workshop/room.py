"""The workshop's room: where its files live and what the instructor set (participants, code, ports).

Everything sits in one directory (``.workshop/`` in the checkout unless ``--dir`` says otherwise):

    hub/         the hub's own files, readable by root (or the instructor) only: settings.json, the workshop
                 code, the instructor's password, participants' password hashes, the admin token, JupyterHub's database and log
    services/    the state directory of the one MariaDB that all participants share
    homes/NAME   participants' homes in a dry run (with system users: their real home directories)
"""

from __future__ import annotations

import dataclasses
import json
import os
import pwd
import random
import re
from dataclasses import dataclass
from pathlib import Path

from foundations import net
from foundations.config import REPO_ROOT
from foundations.errors import ConfigError

DEFAULT_DIR = REPO_ROOT / ".workshop"
# Ports for the hub and participants' services come from below Linux's ephemeral range (32768-60999), where
# the kernel hands out ports for outgoing connections and for every "any free port" bind on the machine.
PORTS = range(20000, 32000)
# Lower-case letters and digits: the same string is a system user, a MariaDB user and a database name.
NAME = re.compile(r"[a-z][a-z0-9]{1,30}")
RUNTIME_PREFIX = (
    "jr-"  # a participant's kernel runtime folder, /tmp/jr-XXXX (hubconfig makes, hub.forget removes)
)
INSTRUCTOR = "instructor"  # the hub's one admin: signs in to see the board, has no server of their own


@dataclass(frozen=True)
class Settings:
    """What ``workshop up`` was started with; the hub's config and ``workshop status`` read it back."""

    participants: tuple[str, ...]
    system_users: bool  # True: one system user per participant (LocalProcessSpawner, needs root)
    containers: bool = False  # True: a container per participant (DockerSpawner, needs root and an engine)
    ip: str = "127.0.0.1"
    port: int = 8000
    hub_port: int = 8081
    proxy_api_port: int = 8001
    idle_timeout: int = 3600  # seconds without activity before jupyterhub-idle-culler stops a server
    board_port: int = 0  # the board's page, a hub service (127.0.0.1 only; the proxy serves it)
    ssl_cert: str = ""
    ssl_key: str = ""

    @property
    def url(self) -> str:
        scheme = "https" if self.ssl_cert else "http"
        return f"{scheme}://{self.ip}:{self.port}"


def unused_port() -> int:
    """A port nothing listens on now, from ``PORTS`` at random: one another program is unlikely to take meanwhile."""
    return net.free_port(candidates=random.sample(PORTS, 50))


def parse_participants(text: str) -> tuple[str, ...]:
    """Names separated by commas, spaces or new lines (a file's content or ``--participants a,b,c``)."""
    text = "\n".join(line.split("#", 1)[0] for line in text.splitlines())  # comments in a file
    names = tuple(dict.fromkeys(n.lower() for n in re.split(r"[\s,]+", text) if n))
    bad = [n for n in names if not NAME.fullmatch(n) or n == INSTRUCTOR]
    if bad:
        raise ConfigError(
            f"participant name(s) {', '.join(bad)}: use 2-31 lower-case letters and digits, "
            f"starting with a letter (each becomes a system user and a database name), not {INSTRUCTOR}"
        )
    if not names:
        raise ConfigError("no participants: pass --participants alice,bob or --participants-file FILE")
    return names


class Room:
    def __init__(self, root: Path = DEFAULT_DIR):
        self.root = Path(root).resolve()
        self.hub_dir = self.root / "hub"
        self.services_dir = self.root / "services"
        self.homes_dir = self.root / "homes"

    settings_path = property(lambda self: self.hub_dir / "settings.json")
    code_path = property(lambda self: self.hub_dir / "workshop-code")
    instructor_path = property(lambda self: self.hub_dir / "instructor-password")
    passwords_path = property(lambda self: self.hub_dir / "passwords.json")
    token_path = property(lambda self: self.hub_dir / "admin-token")
    config_path = property(lambda self: self.hub_dir / "jupyterhub_config.py")
    released_path = property(lambda self: self.hub_dir / "solutions-released")
    created_users_path = property(lambda self: self.hub_dir / "created-users")  # system users we made
    log_path = property(lambda self: self.hub_dir / "jupyterhub.log")
    mariadb_socket = property(lambda self: self.services_dir / "mariadb" / "mysqld.sock")

    def prepare(self) -> None:
        """Create the directories. The hub's is private; the shared MariaDB's can be crossed, not listed
        (0711: as root, ``services`` runs MariaDB as its own user in a 0700 folder inside, whose socket lets
        the admin in without a password)."""
        for private, mode in ((self.hub_dir, 0o700), (self.services_dir, 0o711)):
            private.mkdir(parents=True, exist_ok=True)
            os.chmod(private, mode)
        self.homes_dir.mkdir(exist_ok=True)
        os.chmod(self.root, 0o755)
        os.chmod(self.homes_dir, 0o755)

    def write_private(self, path: Path, text: str) -> None:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(text)

    def save(self, settings: Settings) -> None:
        self.write_private(self.settings_path, json.dumps(dataclasses.asdict(settings), indent=1) + "\n")

    def settings(self) -> Settings:
        try:
            data = json.loads(self.settings_path.read_text())
        except FileNotFoundError:
            raise ConfigError(
                f"no workshop in {self.root}: start one with `python -m foundations workshop up`"
            ) from None
        return Settings(**{**data, "participants": tuple(data["participants"])})

    def home(self, name: str, settings: Settings | None = None) -> Path:
        """A participant's home: their system user's, or ``homes/NAME`` in a dry run."""
        if (settings or self.settings()).system_users:
            return Path(pwd.getpwnam(name).pw_dir)
        return self.homes_dir / name

    def token(self) -> str:
        return self.token_path.read_text().strip()

    def created_users(self) -> list[str]:
        """The system users the hub created (``workshop down`` removes them; never a user that existed)."""
        path = self.created_users_path
        return [n for n in path.read_text().split() if NAME.fullmatch(n)] if path.exists() else []

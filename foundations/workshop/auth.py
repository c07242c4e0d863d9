"""Who may sign in to the workshop's hub: the instructor's participant list, a workshop code, passwords set
at first use.

A participant's first sign-in needs their name (from the list), the workshop code the instructor announces in
the room, and a password they choose; the hub keeps only its scrypt hash. Later sign-ins need the name and
that password. Someone outside the room (no code) cannot claim a name, and a name already claimed cannot be
taken over. With ``system_users`` each participant is also a system user, created on first start (useradd),
so LocalProcessSpawner runs their server as them; without it (a dry run) the hub's user runs everything.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import secrets
import threading
from pathlib import Path
from typing import Any

from jupyterhub.auth import Authenticator, LocalAuthenticator
from jupyterhub.handlers.login import LoginHandler
from traitlets import Bool, Unicode

from foundations import files
from foundations.workshop.room import INSTRUCTOR
from foundations.workshop.throttle import Throttle

MIN_PASSWORD = 8
# Failed sign-ins allowed per minute: for one name (guessing a password or the code), and from one address
# (a room behind one NAT shares an address, so it allows a roomful of typos).
FAILED_SIGN_INS_PER_MINUTE = 5
FAILED_SIGN_INS_PER_MINUTE_PER_ADDRESS = 30


def hash_password(password: str, salt: bytes | None = None) -> str:
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1)
    return f"scrypt${salt.hex()}${digest.hex()}"


def password_matches(password: str, stored: str) -> bool:
    _, salt, _ = stored.split("$")
    return hmac.compare_digest(hash_password(password, bytes.fromhex(salt)), stored)


class WorkshopAuthenticator(LocalAuthenticator):
    """Participants listed in ``allowed_users``; first sign-in with the workshop code sets the password."""

    passwords_file = Unicode(help="JSON file of participants' password hashes (private to the hub)").tag(
        config=True
    )
    code_file = Unicode(help="file holding the workshop code the instructor announces").tag(config=True)
    created_users_file = Unicode(help="file listing the system users this hub created").tag(config=True)
    instructor_file = Unicode(help="file holding the instructor's password (an admin: the board)").tag(
        config=True
    )
    system_users = Bool(True, help="participants are system users (False: a dry run)").tag(config=True)
    request_otp = Bool(True)
    _per_name = Throttle(limit=FAILED_SIGN_INS_PER_MINUTE)
    _per_address = Throttle(limit=FAILED_SIGN_INS_PER_MINUTE_PER_ADDRESS)
    otp_prompt = Unicode("Workshop code (first sign-in only):")
    _one_at_a_time = threading.Lock()  # the password file's read, check and write (``_refusal``)

    def _passwords(self) -> dict[str, str]:
        path = Path(self.passwords_file)
        return json.loads(path.read_text()) if path.exists() else {}

    def _save(self, passwords: dict[str, str]) -> None:
        files.write_atomically(Path(self.passwords_file), json.dumps(passwords, indent=1) + "\n", mode=0o600)

    async def authenticate(self, handler: Any, data: dict[str, str]) -> str | None:
        name = self.normalize_username(data.get("username", ""))
        address = handler.request.remote_ip
        if wait := max(self._per_name.wait(name), self._per_address.wait(address)):
            self.log.warning(
                "sign-in refused: too many failed attempts from %s for %r (%.0f s)", address, name, wait
            )
            handler.refusal = f"Too many failed sign-ins: wait {wait:.0f} s, then try again"
            return None
        password, code = data.get("password", ""), data.get("otp", "").strip()
        # scrypt takes tens of milliseconds on purpose: in a thread, so the hub's event loop (every other
        # participant's page and kernel traffic) goes on meanwhile
        refused = await asyncio.get_running_loop().run_in_executor(None, self._refusal, name, password, code)
        if refused:
            self._per_name.failed(name)
            self._per_address.failed(address)
            self.log.warning("sign-in of %r refused: %s", name, refused)
            handler.refusal = refused  # the login page shows it (WorkshopLoginHandler)
            return None
        return name

    def _refusal(self, name: str, password: str, code: str) -> str | None:
        """What is wrong with this sign-in, in words for the person at the keyboard (None: let them in, after
        claiming the name on a first sign-in). Without the right code the answer is the same for every name,
        so nobody outside the room learns who is on the list or who has signed in. One at a time: two first
        sign-ins must not both read the password file and each write it without the other's name."""
        with self._one_at_a_time:
            return self._refusal_of(name, password, code)

    def _refusal_of(self, name: str, password: str, code: str) -> str | None:
        passwords = self._passwords()
        instructor = Path(self.instructor_file).read_text().strip().encode()
        if name == INSTRUCTOR and hmac.compare_digest(password.encode(), instructor):
            return None
        if name in passwords and name in self.allowed_users and password_matches(password, passwords[name]):
            return None
        expected = Path(self.code_file).read_text().strip()
        if not code:
            return (
                "Name or password not recognised. First sign-in? Also type the workshop code the "
                "instructor gave the room."
            )
        if not hmac.compare_digest(code.encode(), expected.encode()):
            return "That is not this workshop's code: ask the instructor for it (needed at the first sign-in only)"
        if name not in self.allowed_users or name == INSTRUCTOR:
            return f"{name!r} is not on the participant list: check its spelling, or ask the instructor"
        if name in passwords:
            return (
                f"{name} signed in before with another password: type that one (forgotten? the instructor "
                "can reset it)"
            )
        if len(password) < MIN_PASSWORD:
            return f"Choose a password of at least {MIN_PASSWORD} characters"
        passwords[name] = hash_password(password)
        self._save(passwords)
        self.log.info("%s claimed their name and set a password", name)
        return None

    def get_handlers(self, app: Any) -> list[tuple[str, type]]:
        return [("/login", WorkshopLoginHandler)]

    async def add_user(self, user: Any) -> None:
        """With system users: LocalAuthenticator's (creates the user when missing, and then we note it in
        ``created_users_file`` for ``workshop down``); else the plain one. The instructor has no server, so no
        system user."""
        if not self.system_users or user.name == INSTRUCTOR:
            Authenticator.add_user(self, user)
            return
        existed = self.system_user_exists(user)
        await super().add_user(user)
        if not existed and self.created_users_file:
            with open(self.created_users_file, "a") as created:
                created.write(user.name + "\n")


class WorkshopLoginHandler(LoginHandler):
    """The hub's login page, saying why a sign-in was refused instead of "Invalid username or password"."""

    def _render(self, login_error: str | None = None, username: str | None = None, **kwargs: Any) -> Any:
        return super()._render(getattr(self, "refusal", None) or login_error, username, **kwargs)

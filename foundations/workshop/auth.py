"""Who may sign in to the workshop's hub: the instructor's participant list, a workshop code, passwords set
at first use.

A participant's first sign-in needs their name (from the list), the workshop code the instructor announces in
the room, and a password they choose; the hub keeps only its scrypt hash. Later sign-ins need the name and
that password. Someone outside the room (no code) cannot claim a name, and a name already claimed cannot be
taken over. With ``system_users`` each participant is also a system user, created on first start (useradd),
so LocalProcessSpawner runs their server as them; without it (a dry run) the hub's user runs everything.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from pathlib import Path

from jupyterhub.auth import Authenticator, LocalAuthenticator
from traitlets import Bool, Unicode

from foundations.workshop.throttle import Throttle

MIN_PASSWORD = 8
FAILED_SIGN_INS_PER_MINUTE = 5  # per client address and per name


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
    system_users = Bool(True, help="participants are system users (False: a dry run)").tag(config=True)
    request_otp = Bool(True)
    _throttle = Throttle(limit=FAILED_SIGN_INS_PER_MINUTE)
    otp_prompt = Unicode("Workshop code (first sign-in only):")

    def _passwords(self) -> dict[str, str]:
        path = Path(self.passwords_file)
        return json.loads(path.read_text()) if path.exists() else {}

    def _save(self, passwords: dict[str, str]) -> None:
        path = Path(self.passwords_file)
        tmp = path.with_suffix(".tmp")
        tmp.touch(mode=0o600)
        tmp.write_text(json.dumps(passwords, indent=1) + "\n")
        tmp.replace(path)

    async def authenticate(self, handler, data: dict) -> str | None:
        name = self.normalize_username(data.get("username", ""))
        keys = (f"client:{handler.request.remote_ip}", f"name:{name}")
        if wait := self._throttle.wait(*keys):
            self.log.warning("sign-in refused: too many failed attempts from %s for %r (%.0f s)", *keys, wait)
            return None
        user = await self._authenticate(name, data)
        if user is None:
            self._throttle.failed(*keys)
        return user

    async def _authenticate(self, name: str, data: dict) -> str | None:
        password, code = data.get("password", ""), data.get("otp", "").strip()
        if name not in self.allowed_users:
            self.log.warning("sign-in refused: %r is not on the participant list", name)
            return None
        passwords = self._passwords()
        if name in passwords:
            return name if password_matches(password, passwords[name]) else None
        expected = Path(self.code_file).read_text().strip()
        if not hmac.compare_digest(code.encode(), expected.encode()):
            self.log.warning("first sign-in of %s refused: wrong workshop code", name)
            return None
        if len(password) < MIN_PASSWORD:
            self.log.warning("first sign-in of %s refused: password shorter than %d", name, MIN_PASSWORD)
            return None
        passwords[name] = hash_password(password)
        self._save(passwords)
        self.log.info("%s claimed their name and set a password", name)
        return name

    async def add_user(self, user) -> None:
        """With system users: LocalAuthenticator's (creates the user when missing, and then we note it in
        ``created_users_file`` for ``workshop down``); else the plain one."""
        if not self.system_users:
            Authenticator.add_user(self, user)
            return
        existed = self.system_user_exists(user)
        await super().add_user(user)
        if not existed and self.created_users_file:
            with open(self.created_users_file, "a") as created:
                created.write(user.name + "\n")

"""A participant at the hub, driven from Python the way their browser drives it: the hub's login form, their
server started and stopped through the hub's REST API, a notebook run cell by cell through their own Jupyter
server (REST API for the session, the kernel's websocket for the code). The workshop's test and its sizing
measurement use it; an instructor can use it to rehearse a room.

    >>> learner = Learner("http://127.0.0.1:8000", "alice")
    >>> learner.sign_in("a-password", code="orange-river-42")
    >>> learner.start_server()
    >>> [cell.error for cell in learner.run_notebook("notebooks/07_redis.ipynb")]
"""

from __future__ import annotations

import html
import json
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests
import websocket

from foundations.errors import ServiceError

KERNEL = "api-foundations"


@dataclass
class CellResult:
    cell_id: str
    seconds: float
    error: str | None  # "ename: evalue" of the cell's exception, None when it ran


class Learner:
    def __init__(self, hub_url: str, name: str):
        self.hub_url, self.name = hub_url.rstrip("/"), name
        self.http = requests.Session()
        self._token = ""

    def _xsrf(self) -> dict[str, str]:
        return {"X-XSRFToken": self.http.cookies.get("_xsrf", path="/hub/") or ""}

    def sign_in(self, password: str, code: str = "") -> None:
        """Submit the hub's login form (the workshop code matters on the first sign-in only)."""
        self.http.get(f"{self.hub_url}/hub/login", timeout=30).raise_for_status()
        form = {
            "username": self.name,
            "password": password,
            "otp": code,
            "_xsrf": self.http.cookies.get("_xsrf", path="/hub/"),
        }
        resp = self.http.post(
            f"{self.hub_url}/hub/login?next=/hub/home", data=form, timeout=60, allow_redirects=False
        )
        if resp.status_code != 302:
            said = re.search(r'class="login_error">(.*?)</p>', resp.text, re.DOTALL)
            reason = html.unescape(said.group(1).strip()) if said else f"HTTP {resp.status_code}"
            raise ServiceError(f"{self.name} could not sign in: {reason}")

    def api(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """The hub's REST API as the signed-in participant (cookie + XSRF header, as the hub's pages do)."""
        resp = self.http.request(
            method, f"{self.hub_url}/hub/api{path}", headers=self._xsrf(), timeout=60, **kwargs
        )
        if resp.status_code >= 400:  # the hub's JSON names the cause (a spawn's error, a missing user)
            raise ServiceError(f"{method} {path}: HTTP {resp.status_code}: {resp.text[:500]}")
        return resp

    def server(self) -> dict | None:
        return self.api("GET", f"/users/{self.name}").json().get("servers", {}).get("")

    def start_server(self, timeout: float = 180.0) -> None:
        """Ask the hub for the participant's server and wait until it is ready."""
        self.api("POST", f"/users/{self.name}/server")
        self._wait(lambda s: s is not None and s.get("ready"), "ready", timeout)

    def stop_server(self, timeout: float = 120.0) -> None:
        self.api("DELETE", f"/users/{self.name}/server")
        self._wait(lambda s: s is None, "stopped", timeout)

    def _wait(self, done: Callable[[Any], bool], what: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not done(self.server()):
            if time.monotonic() > deadline:
                raise ServiceError(f"{self.name}'s server not {what} after {timeout:.0f} s")
            time.sleep(0.25)

    @property
    def token(self) -> str:
        """A token of the participant's own (what the hub's Token page makes) for their server's APIs."""
        if not self._token:
            self._token = self.api(
                "POST", f"/users/{self.name}/tokens", json={"note": "workshop remote", "expires_in": 3600}
            ).json()["token"]
        return self._token

    def server_api(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        resp = requests.request(
            method,
            f"{self.hub_url}/user/{self.name}/api{path}",
            timeout=60,
            headers={"Authorization": f"token {self.token}"},
            **kwargs,
        )
        resp.raise_for_status()
        return resp

    def kernel(self, notebook: str) -> Kernel:
        """A fresh kernel for ``notebook`` (a path in the participant's home; it starts in that folder)."""
        session = self.server_api(
            "POST",
            "/sessions",
            json={"path": notebook, "type": "notebook", "name": notebook, "kernel": {"name": KERNEL}},
        ).json()
        ws_url = (
            self.hub_url.replace("http", "ws", 1)
            + f"/user/{self.name}/api/kernels/{session['kernel']['id']}/channels?session_id={uuid.uuid4().hex}"
        )
        return Kernel(
            self,
            session["id"],
            websocket.create_connection(ws_url, header=[f"Authorization: token {self.token}"], timeout=300),
        )

    def run_notebook(self, notebook: str) -> list[CellResult]:
        """Run every code cell of ``notebook`` (as stored in the participant's home) in a fresh kernel, in
        order, stopping at the first error; the kernel is shut down afterwards."""
        cells = self.server_api("GET", f"/contents/{notebook}").json()["content"]["cells"]
        results = []
        with self.kernel(notebook) as kernel:
            for cell in (c for c in cells if c["cell_type"] == "code"):
                start = time.perf_counter()
                error = kernel.execute(cell["source"])
                results.append(CellResult(cell.get("id", ""), time.perf_counter() - start, error))
                if error:
                    break
        return results


class Kernel:
    """One kernel, spoken to over its websocket (Jupyter's JSON messages, channel named in each)."""

    def __init__(self, learner: Learner, session_id: str, ws: websocket.WebSocket):
        self.learner, self.session_id, self.ws = learner, session_id, ws
        self.client_session = uuid.uuid4().hex
        self.stdout = ""  # what the last ``execute`` printed

    def execute(self, code: str) -> str | None:
        """Run ``code``; its error as ``"ename: evalue"``, or None. Waits for the reply and for idle."""
        msg_id = uuid.uuid4().hex
        self.ws.send(
            json.dumps(
                {
                    "header": {
                        "msg_id": msg_id,
                        "msg_type": "execute_request",
                        "username": self.learner.name,
                        "session": self.client_session,
                        "version": "5.3",
                    },
                    "parent_header": {},
                    "metadata": {},
                    "channel": "shell",
                    "buffers": [],
                    "content": {
                        "code": code,
                        "silent": False,
                        "store_history": True,
                        "user_expressions": {},
                        "allow_stdin": False,
                        "stop_on_error": True,
                    },
                }
            )
        )
        error, replied, idle, printed = None, False, False, []
        while not (replied and idle):
            msg = json.loads(self.ws.recv())
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind, content = msg["msg_type"], msg["content"]
            if kind == "stream" and content.get("name") == "stdout":
                printed.append(content["text"])
            if kind == "error" or (kind == "execute_reply" and content.get("status") == "error"):
                error = error or f"{content.get('ename')}: {content.get('evalue')}"
            replied = replied or kind == "execute_reply"
            idle = idle or (kind == "status" and content.get("execution_state") == "idle")
        self.stdout = "".join(printed)
        return error

    def __enter__(self) -> Kernel:
        return self

    def __exit__(self, *exc: object) -> None:
        self.ws.close()
        self.learner.server_api("DELETE", f"/sessions/{self.session_id}")

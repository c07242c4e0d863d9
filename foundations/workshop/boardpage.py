"""The progress board as a page of the hub, ``/services/board/``: the instructor signs in to the hub (an admin)
and leaves it on the projector; it reloads itself. A hub service: the hub starts this process, its proxy
routes the page here, and the hub's OAuth lets in only who holds ``access:services!service=board`` — the
hub's admins, not participants.

    $ python -m foundations workshop board ROOM_DIR     # the hub runs this (hubconfig.configure)
"""

from __future__ import annotations

import os
import secrets
import time
from pathlib import Path
from urllib.parse import urlsplit

from jupyterhub.services.auth import HubOAuthCallbackHandler, HubOAuthenticated
from jupyterhub.utils import url_path_join
from tornado import ioloop, web

from foundations.workshop import board
from foundations.workshop.room import Room

SERVICE = "board"
RELOAD_SECONDS = 10


class BoardHandler(HubOAuthenticated, web.RequestHandler):
    @web.authenticated
    def get(self) -> None:
        rows = board.collect(self.settings["room"])
        updated = time.strftime("%H:%M:%S")
        self.finish(board.render_html(rows, board.exercise_ids(), updated, refresh=RELOAD_SECONDS))


def main(root: str) -> None:
    prefix = os.environ["JUPYTERHUB_SERVICE_PREFIX"]
    app = web.Application(
        [(prefix, BoardHandler), (url_path_join(prefix, "oauth_callback"), HubOAuthCallbackHandler)],
        cookie_secret=secrets.token_bytes(32),
        room=Room(Path(root)),
    )
    url = urlsplit(os.environ["JUPYTERHUB_SERVICE_URL"])
    app.listen(url.port or 80, url.hostname or "")
    ioloop.IOLoop.current().start()

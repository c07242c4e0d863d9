"""The hub's configuration, from the room's settings: ``workshop up`` writes a ``jupyterhub_config.py`` whose
one line calls ``configure(c, Room(...))``.

- Sign-in: ``WorkshopAuthenticator`` (participant list + workshop code + first-use password); the
  instructor, the one admin, lands on the board.
- Spawner: DockerSpawner, a container per participant (``containers``); or LocalProcessSpawner, one
  system user per participant, a trusted rehearsal; in a dry run SimpleLocalProcessSpawner, everything as
  the hub's user, homes in the room.
- Spawn hooks: the learner's copy of the course (their kernels import the package from it), their own
  services and a private runtime folder (their kernels talk over Unix sockets in it) before their server
  starts (``pre_spawn_hook``), all of it stopped or removed after it stops (``post_stop_hook``), culled or
  not. Their server gets the project's Jupyter settings (``jupyter/``) and their notebooks are trusted.
- Services: jupyterhub-idle-culler (stops idle servers, so their services stop too), ``workshop-admin``,
  the token ``workshop status`` reads the hub's REST API with, and ``board``, the board's page.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from jupyterhub.utils import url_path_join

from foundations.errors import ServiceError
from foundations.ops import lab
from foundations.workshop import boardpage, containers, learner, participant, proxy
from foundations.workshop.room import INSTRUCTOR, RUNTIME_PREFIX, Room, Settings

ADMIN_SERVICE = "workshop-admin"
CULLER_SCOPES = ["list:users", "read:users:activity", "read:servers", "delete:servers"]  # the culler's README
ADMIN_SCOPES = ["list:users", "read:users", "read:users:activity", "read:servers", "admin:servers"]
RUNTIME_DIR = "JUPYTER_RUNTIME_DIR"  # where a server writes its kernels' connection files and sockets


def configure(c: Any, room: Room) -> None:  # c: JupyterHub's config object
    s = room.settings()
    c.JupyterHub.bind_url = s.url
    c.JupyterHub.hub_bind_url = f"http://127.0.0.1:{s.hub_port}"
    c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{s.proxy_api_port}"
    c.ConfigurableHTTPProxy.command = [str(proxy.executable())]
    if s.ssl_cert:
        c.JupyterHub.ssl_cert, c.JupyterHub.ssl_key = s.ssl_cert, s.ssl_key
    c.JupyterHub.db_url = f"sqlite:///{room.hub_dir / 'jupyterhub.sqlite'}"
    c.JupyterHub.cookie_secret_file = str(room.hub_dir / "jupyterhub_cookie_secret")

    c.JupyterHub.authenticator_class = "foundations.workshop.auth.WorkshopAuthenticator"
    c.Authenticator.allowed_users = {*s.participants, INSTRUCTOR}
    c.Authenticator.admin_users = {INSTRUCTOR}
    c.WorkshopAuthenticator.passwords_file = str(room.passwords_path)
    c.WorkshopAuthenticator.code_file = str(room.code_path)
    c.WorkshopAuthenticator.created_users_file = str(room.created_users_path)
    c.WorkshopAuthenticator.instructor_file = str(room.instructor_path)
    c.JupyterHub.default_url = _landing  # the instructor lands on the board, participants on their server
    c.WorkshopAuthenticator.system_users = s.system_users
    c.WorkshopAuthenticator.create_system_users = s.system_users

    c.Spawner.default_url = f"/lab/tree/{learner.COURSE_DIR}/notebooks/00_index.ipynb"
    c.Spawner.start_timeout = c.Spawner.http_timeout = 300  # a room spawning at once on a loaded machine
    # How long a start request waits for the server before answering 202 (JupyterHub's default: 10 s). A room
    # spawning at once took 10.6 s here, and a spawn ending at that boundary hit a race in JupyterHub 5's
    # handler (InvalidStateError, a 500); under the API client's 60 s timeout, the request waits it out.
    c.JupyterHub.tornado_settings = {"slow_spawn_timeout": 45}
    if s.containers:
        _containers(c, room, s)
    else:
        c.JupyterHub.spawner_class = "localprocess" if s.system_users else "simple"
        c.SimpleLocalProcessSpawner.home_dir_template = str(room.homes_dir / "{username}")
        c.Spawner.cmd = [str(Path(sys.executable).with_name("jupyterhub-singleuser"))]
        # Kernels on Unix sockets in a folder only the participant opens (``_before_spawn``), not on loopback
        # ports: those every local user reaches, and servers picking ports at once may pick the same one.
        args = ["--KernelManager.transport=ipc"]
        if not s.system_users and os.geteuid() == 0:
            args.append("--allow-root")  # a dry run as root: every server runs as the hub's user
        c.Spawner.args = args
        c.Spawner.pre_spawn_hook = lambda spawner: _before_spawn(room, s, spawner)
        c.Spawner.post_stop_hook = lambda spawner: _after_stop(room, s, spawner)

    c.JupyterHub.services = [
        {
            "name": "idle-culler",
            "command": [sys.executable, "-m", "jupyterhub_idle_culler", f"--timeout={s.idle_timeout}"],
        },
        {"name": ADMIN_SERVICE, "api_token": room.token()},
        {
            "name": boardpage.SERVICE,
            "url": f"http://127.0.0.1:{s.board_port}",
            "command": [sys.executable, "-m", "foundations", "workshop", "board", str(room.root)],
            "oauth_no_confirm": True,
        },
    ]
    c.JupyterHub.load_roles = [
        {"name": "idle-culler", "scopes": CULLER_SCOPES, "services": ["idle-culler"]},
        {"name": ADMIN_SERVICE, "scopes": ADMIN_SCOPES, "services": [ADMIN_SERVICE]},
    ]


def _containers(c: Any, room: Room, s: Settings) -> None:
    """DockerSpawner: each participant's container on their own internal network (``containers``)."""
    prefix = containers.prefix(room)
    # Containers reach the hub's API through their network's gateway, a host address: it answers only with
    # a token (the proxy's API stays on 127.0.0.1).
    c.JupyterHub.hub_bind_url = f"http://0.0.0.0:{s.hub_port}"
    c.JupyterHub.spawner_class = "docker"
    c.DockerSpawner.image = containers.IMAGE
    c.DockerSpawner.pull_policy = "never"  # the offline image set: no registry
    c.DockerSpawner.name_template = f"{prefix}-{{username}}"
    c.DockerSpawner.volumes = {f"{prefix}-{{username}}": containers.HOME}
    c.DockerSpawner.notebook_dir = containers.HOME
    c.DockerSpawner.remove = True  # the container goes when the server stops; the home volume stays
    c.DockerSpawner.use_internal_ip = True
    c.DockerSpawner.cmd = ["python", "-m", "foundations.workshop.inside"]
    c.DockerSpawner.extra_create_kwargs = {"labels": {containers.LABEL: str(room.root)}}
    c.DockerSpawner.extra_host_config = {
        "init": True,  # reaps the services notebook 07 stops
        "cap_drop": ["ALL"],
        "security_opt": ["no-new-privileges"],
        "pids_limit": 1024,
    }
    c.Spawner.pre_spawn_hook = lambda spawner: _before_container(room, s, spawner)


async def _before_container(room: Room, s: Settings, spawner: Any) -> None:
    name = spawner.user.name
    if name not in s.participants:
        raise ValueError(f"{name} has no server: the board is at /services/{boardpage.SERVICE}/")
    spawner.network_name, gateway = await asyncio.to_thread(containers.network, room, name)
    spawner.hub_connect_url = f"http://{gateway}:{s.hub_port}"
    home = await asyncio.to_thread(containers.home, room, name, True)
    who = participant.Participant(name, home, containers.UID, containers.UID)
    await asyncio.to_thread(learner.copy_course, who, room.released_path.exists())
    spawner.environment.update(await asyncio.to_thread(participant.container_environment, room, who, s))
    course = f"{containers.HOME}/{learner.COURSE_DIR}"
    spawner.environment["PYTHONPATH"] = course  # kernels import their own copy
    spawner.environment["JUPYTER_CONFIG_PATH"] = f"{course}/{lab.JUPYTER_SETTINGS.name}"


def _landing(handler: Any) -> str:
    user = handler.current_user
    return url_path_join(handler.base_url, f"services/{boardpage.SERVICE}/") if user and user.admin else ""


async def _before_spawn(room: Room, s: Settings, spawner: Any) -> None:
    if spawner.user.name not in s.participants:
        raise ServiceError(
            f"{spawner.user.name} has no server: the board is at /services/{boardpage.SERVICE}/"
        )
    who = participant.Participant.of(room, spawner.user.name, s)
    if who.uid is None:
        who.home.mkdir(parents=True, exist_ok=True)
    await asyncio.to_thread(learner.copy_course, who, room.released_path.exists())
    spawner.environment.update(await asyncio.to_thread(participant.start, room, who))
    await asyncio.to_thread(learner.trust, who)
    spawner.environment["PYTHONPATH"] = str(learner.course_path(who))  # kernels import their own copy
    spawner.environment["JUPYTER_CONFIG_PATH"] = str(lab.JUPYTER_SETTINGS)  # the settings `make lab` has
    spawner.environment[RUNTIME_DIR] = _runtime_dir(who)


def _runtime_dir(who: participant.Participant) -> str:
    """A new folder for the participant's kernel sockets, 0700 and theirs. Short, under /tmp: a socket's path
    has at most 107 bytes, and one in their home's runtime folder, named by the kernel's id, may be longer."""
    path = tempfile.mkdtemp(
        prefix=RUNTIME_PREFIX, dir="/tmp"
    )  # created here, never one that was there before
    if who.uid is not None and who.gid is not None:
        os.chown(path, who.uid, who.gid)
    return path


async def _after_stop(room: Room, s: Settings, spawner: Any) -> None:
    if runtime := spawner.environment.pop(RUNTIME_DIR, None):
        # Theirs, so they may have replaced it or put links in it: rmtree goes through no link (Linux).
        await asyncio.to_thread(shutil.rmtree, runtime, ignore_errors=True)
    await asyncio.to_thread(participant.stop, participant.Participant.of(room, spawner.user.name, s))

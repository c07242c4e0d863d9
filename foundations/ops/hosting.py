"""Where this process runs, for the fixes that doctor and a chapter's first cell print: a command the learner
can run there, and nothing to install on a server that someone else runs.

    >>> where({})
    'own'
    >>> command("services up", make="services-up", executable="/opt/lab env/bin/python")
    "run '/opt/lab env/bin/python' -m foundations services up"
"""

from __future__ import annotations

import os
import shlex
import sys
from collections.abc import Mapping
from pathlib import Path

from foundations import config

OWN = "own"  # a machine or container of the learner's own: make lab, the dev container, the Docker lab
WORKSHOP = "workshop"  # a participant's server on the course's hub (make workshop)
HUB = "hub"  # another JupyterHub's server: Binder's, whose binder/start runs the services as local daemons
VENV_PYTHON = Path(".venv/bin/python")  # the Makefile's $(PY)


def where(environ: Mapping[str, str] | None = None) -> str:
    """OWN, WORKSHOP or HUB. JupyterHub gives a single-user server, and the kernels and terminals it starts,
    ``JUPYTERHUB_USER``; the course's hub also names each participant's database (``FOUNDATIONS_MYSQL_DSN``,
    ``workshop.participant``), which Binder never does."""
    environ = os.environ if environ is None else environ
    if not environ.get("JUPYTERHUB_USER"):
        return OWN
    named = config.resolve({}, environ, use_state=False).sources["mysql_dsn"].startswith("env ")
    return WORKSHOP if named else HUB


def command(words: str, make: str = "", executable: str | None = None) -> str:
    """How to run ``python -m foundations <words>`` with this process's own interpreter, never whichever
    ``python`` a terminal of the learner's own finds first (Debian has no ``python`` at all). Named from
    the repository's folder when it lives there, with ``make <make>`` beside it for the Makefile's .venv;
    else by its absolute path, quoted for a shell."""
    given = Path(sys.executable if executable is None else executable)
    exe = given.parent.resolve() / given.name  # the folders' links resolved, not the venv's python link
    try:
        relative = exe.relative_to(config.REPO_ROOT)
    except ValueError:
        return f"run {shlex.quote(str(exe))} -m foundations {words}"
    alternative = f" (or make {make})" if make and relative == VENV_PYTHON else ""
    return f"from the repository's folder, run {shlex.quote(relative.as_posix())} -m foundations {words}{alternative}"


def ask(place: str) -> str:
    """Who changes what a participant cannot: packages, the interpreter, a server that runs elsewhere."""
    if place == WORKSHOP:
        return "ask the instructor"
    return "ask whoever runs this hub (on Binder: launch the repository again, which builds a new server)"

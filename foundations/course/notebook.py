"""The first cell of every notebook: resolve the config, check the services the chapter needs, make
``FoundationsError`` print as one line instead of a traceback wall, and tables show whole values.

    >>> cfg = setup("redis", "mysql")    # prints one line per service, raises ServiceError if one is down
"""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING

from foundations import config
from foundations.config import Config
from foundations.errors import FoundationsError, ServiceError
from foundations.ops import services
from foundations.registry import glob_escape

if TYPE_CHECKING:
    import redis

WIDTH = 100  # characters: fits JupyterLab's output area beside the file browser


def wrap(text: str) -> str:
    """``text`` folded between words at ``WIDTH``, continuation lines indented: JupyterLab breaks a line that
    is too long for the output area anywhere, mid-word."""
    return "\n".join(
        textwrap.fill(line, WIDTH, subsequent_indent="  ", break_long_words=False, break_on_hyphens=False)
        for line in text.splitlines()
    )


def _one_line(
    shell: object, etype: type[BaseException], value: BaseException, tb: object, tb_offset: int | None = None
) -> None:
    print(wrap(f"{etype.__name__}: {value}"))


def short_errors() -> None:
    """In IPython, show our own errors as ``ServiceError: message`` (other errors keep their traceback)."""
    try:
        shell = get_ipython()  # type: ignore[name-defined]  # noqa: F821 - defined inside IPython only
    except NameError:
        return
    shell.set_custom_exc((FoundationsError,), _one_line)


def whole_cells() -> None:
    """pandas shows every character of a cell: it cuts at 50 by default, which in a workshop is where a
    DSN's port and database are."""
    import pandas as pd

    pd.set_option("display.max_colwidth", None)


def setup(*needs: str) -> Config:
    """Config for this notebook; checks each service in ``needs`` (e.g. ``"redis"``, ``"api"``)."""
    short_errors()
    whole_cells()
    cfg = config.load(argv=[])
    for name in needs:
        status = services.check(cfg, name)
        if not status.answers:
            raise ServiceError(f"{status.detail}. Fix: {services.fix(cfg, status)}, then run this cell again")
        print(f"{name:<7} {status.address:<16} answers")
    return cfg


def delete_prefixed(target: redis.Redis, prefix: str) -> int:
    """Delete every key that starts with ``prefix``, found with SCAN (never KEYS), and say how many: what a
    notebook wrote, left over when a run was interrupted before its last cell."""
    deleted = 0
    for key in target.scan_iter(match=glob_escape(prefix) + "*", count=1000):
        deleted += target.delete(key)
    return deleted

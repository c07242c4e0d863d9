"""The first cell of every notebook: resolve the config, check the services the chapter needs, and make
``FoundationsError`` print as one line instead of a traceback wall.

    >>> cfg = setup("redis", "mysql")    # prints one line per service, raises ServiceError if one is down
"""

from __future__ import annotations

from foundations import config
from foundations.config import Config
from foundations.errors import FoundationsError, ServiceError
from foundations.ops import services


def _one_line(shell, etype, value, tb, tb_offset=None):
    print(f"{etype.__name__}: {value}")


def short_errors() -> None:
    """In IPython, show our own errors as ``ServiceError: message`` (other errors keep their traceback)."""
    try:
        shell = get_ipython()  # type: ignore[name-defined]  # noqa: F821 - defined inside IPython only
    except NameError:
        return
    shell.set_custom_exc((FoundationsError,), _one_line)


def setup(*needs: str) -> Config:
    """Config for this notebook; checks each service in ``needs`` (e.g. ``"redis"``, ``"api"``)."""
    short_errors()
    cfg = config.load(argv=[])
    for name in needs:
        status = services.check(cfg, name)
        if not status.answers:
            raise ServiceError(
                f"{status.detail}. Fix: {services.FIX_UP} (or make lab), then run this cell again"
            )
        print(f"{name:<7} {status.address:<16} answers")
    return cfg

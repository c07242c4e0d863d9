"""A package function swapped for a stand-in while a learner's answer runs, wherever the answer may reach it:
the modules that define or re-export it, the names the answer's globals bind to it, the cells of its closure.
Checks use it to count calls (``hmac.compare_digest``) or to refuse them (the chapter's own solution)."""

import contextlib
from collections.abc import Iterable, Iterator
from types import ModuleType


def _content(cell) -> object:
    try:
        return cell.cell_contents
    except ValueError:  # an empty cell
        return None


@contextlib.contextmanager
def swapped(answer, modules: Iterable[ModuleType], originals: Iterable[object], stand_in) -> Iterator[None]:
    """Every name or closure cell holding one of ``originals`` (by identity) holds ``stand_in`` until the block
    ends: in ``modules`` and in ``answer``'s globals and closure. All are put back, whatever happens."""
    wanted = {id(original) for original in originals}
    spaces = [vars(module) for module in modules] + [getattr(answer, "__globals__", {})]
    names = [
        (space, key, value) for space in spaces for key, value in list(space.items()) if id(value) in wanted
    ]
    cells = [(cell, _content(cell)) for cell in getattr(answer, "__closure__", None) or ()]
    cells = [(cell, value) for cell, value in cells if id(value) in wanted]
    for space, key, _ in names:
        space[key] = stand_in
    for cell, _ in cells:
        cell.cell_contents = stand_in
    try:
        yield
    finally:
        for space, key, value in names:
            space[key] = value
        for cell, value in cells:
            cell.cell_contents = value

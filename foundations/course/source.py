"""Show the lesson's code in a notebook: a function's or class's source as a highlighted block, with where
it lives, so a chapter whose lesson *is* the code shows it instead of hiding it in the package."""

from __future__ import annotations

import inspect
import textwrap
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from IPython.display import Markdown

from foundations.config import REPO_ROOT


def show(obj: Callable[..., Any] | ModuleType, first: str | None = None, last: str | None = None) -> Markdown:
    """``obj``'s source as a Python code block; ``first``/``last`` cut it to the lines from the first line
    containing ``first`` to the first later line containing ``last`` (the 5-line core, not the plumbing).
    A decorated function (``functools.cache``...) shows the function it wraps; a module, its lines."""
    if not isinstance(obj, ModuleType):
        obj = inspect.unwrap(obj)
    lines, start = inspect.getsourcelines(obj)
    start = max(start, 1)  # a module's lines start at 1, not at the 0 inspect gives
    begin = _find(lines, first, 0) if first else 0
    end = _find(lines, last, begin) + 1 if last else len(lines)
    path = Path(inspect.getsourcefile(obj) or "").resolve().relative_to(REPO_ROOT)
    code = textwrap.dedent("".join(lines[begin:end])).rstrip()
    return Markdown(f"`{path}`, line {start + begin}:\n\n```python\n{code}\n```")


def _find(lines: list[str], text: str, after: int) -> int:
    for number in range(after, len(lines)):
        if text in lines[number]:
            return number
    raise ValueError(f"{text!r} is not in the source shown")

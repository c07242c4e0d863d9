"""Every assert in a notebook tells the learner, when it fails, what went wrong and what to do: a bare value
(``assert x, x``) or no message at all leaves them with a traceback to decode."""

import ast

import nbformat
import pytest

from foundations.config import REPO_ROOT

NOTEBOOKS = sorted((REPO_ROOT / "notebooks").glob("*.ipynb"))
MIN_WORDS = 4  # "a busy machine? run it again" is the shortest kind of advice that helps


def _words(message: ast.expr) -> int:
    """How many words the message's literal text holds (the f-string's fixed parts, or a plain string)."""
    if isinstance(message, ast.Constant) and isinstance(message.value, str):
        return len(message.value.split())
    if isinstance(message, ast.JoinedStr):
        return sum(_words(part) for part in message.values)
    if isinstance(message, ast.BinOp):  # "..." + f"..." or "..." % values
        return _words(message.left) + _words(message.right)
    return 0


def silent_asserts(source: str) -> list[str]:
    """The asserts in a code cell whose failure would not say, in words, what went wrong."""
    code = "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())
    return [
        ast.get_source_segment(code, node) or f"line {node.lineno}"
        for node in ast.walk(ast.parse(code))
        if isinstance(node, ast.Assert) and (node.msg is None or _words(node.msg) < MIN_WORDS)
    ]


@pytest.mark.parametrize(
    "source",
    [
        "assert x",
        "assert x, x",
        "assert x, (x, y)",
        "assert x, f'{x}'",
        "assert x, 'wrong'",
        "%time\nassert x, x",
    ],
)
def test_a_silent_assert_is_found(source):
    assert silent_asserts(source)


@pytest.mark.parametrize(
    "source",
    [
        "assert x, f'expected two rows, got {x}: run the cell above first'",
        "assert x, 'the server did not answer: is it running?'",
        "assert x, 'the rate ' + f'{x} is low: a busy machine? run it again'",
        "%%time\nassert x, 'the cache missed: run the filling cell again'",
    ],
)
def test_an_assert_that_explains_itself_passes(source):
    assert not silent_asserts(source)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_notebook_assert_says_what_went_wrong(path):
    notebook = nbformat.read(path, as_version=4)
    silent = [
        f"[{index}] {text}"
        for index, cell in enumerate(notebook.cells)
        if cell.cell_type == "code"
        for text in silent_asserts(cell.source)
    ]
    assert not silent, (
        f"{path.name}: give these asserts a message that says what went wrong and what to do:\n"
        + ("\n".join(silent))
    )

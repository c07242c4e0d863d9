"""The package's layers and no import cycles (docs/architecture.md, "Layers"): import-linter's contracts in
pyproject.toml hold for the package, and a planted violation breaks them. And the environment is touched
only where docs/architecture.md, "Data flow", says."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(root: Path) -> subprocess.CompletedProcess:
    """lint-imports over the ``foundations`` package in ``root``, with ``root``'s pyproject.toml."""
    env = {**os.environ, "PYTHONPATH": str(root), "NO_COLOR": "1", "COLUMNS": "200"}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"], cwd=root, env=env, capture_output=True, text=True, timeout=120
    )


def test_the_contracts_hold():
    done = lint_imports(ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 kept, 0 broken" in done.stdout


@pytest.mark.parametrize(
    ("module", "planted", "broken"),
    [
        # a lesson reaching up into ops, from inside a function (lazy imports count)
        ("config.py", "def _planted():\n    from foundations.ops import services\n", "Layers"),
        # the HTTP kernel importing a chapter
        ("web.py", "from foundations import errors\n", "Layers"),
        # two lessons importing each other
        ("timer.py", "def _planted():\n    from foundations import fetch\n", "No import cycles"),
    ],
)
def test_a_planted_violation_breaks_the_contracts(tmp_path, module, planted, broken):
    shutil.copytree(
        ROOT / "foundations", tmp_path / "foundations", ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    with open(tmp_path / "foundations" / module, "a") as source:
        source.write("\n\n" + planted)
    done = lint_imports(tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert broken in done.stdout.split("Broken contracts")[-1]


# docs/architecture.md, "Data flow": config reads the settings; these read other programs' variables or
# hand the environment on to children.
TOUCH_THE_ENVIRONMENT = {
    "foundations.cli",
    "foundations.config",
    "foundations.course.progress",
    "foundations.course.testing",
    "foundations.ops.compose",
    "foundations.ops.daemons",
    "foundations.ops.harness",
    "foundations.ops.hosting",
    "foundations.ops.images",
    "foundations.ops.lab",
    "foundations.ops.packages",
    "foundations.serve",
    "foundations.workshop.boardpage",
    "foundations.workshop.inside",
    "foundations.workshop.learner",
    "foundations.workshop.wheelhouse",
}


def environment_users(package: Path) -> set[str]:
    """Modules that name ``os.environ``, ``os.getenv`` or ``os.putenv``."""
    found = set()
    for path in package.rglob("*.py"):
        tree = ast.parse(path.read_text(), str(path))
        if any(
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id == "os"
            and node.attr in ("environ", "getenv", "putenv")
            for node in ast.walk(tree)
        ):
            found.add(".".join(path.relative_to(package.parent).with_suffix("").parts))
    return found


def test_the_environment_is_touched_only_where_the_design_says():
    assert environment_users(ROOT / "foundations") == TOUCH_THE_ENVIRONMENT


def test_no_module_is_over_the_size_limit():
    """docs/architecture.md, "House style": 400 lines at most."""
    sizes = {
        p.relative_to(ROOT).as_posix(): len(p.read_text().splitlines())
        for p in (ROOT / "foundations").rglob("*.py")
    }
    assert {path: n for path, n in sizes.items() if n > 400} == {}

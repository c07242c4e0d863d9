"""conftest.py hands the longest notebooks out first, so that make test's workers finish together."""

import subprocess
import sys
from pathlib import Path

from conftest import LONGEST_FIRST  # the project's root conftest.py

ROOT = Path(__file__).resolve().parents[1]


def test_the_longest_notebooks_are_collected_first_and_every_notebook_once():
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "nbval.plugin", "--collect-only", "-q", "notebooks"],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    files = list(dict.fromkeys(line.split("::")[0] for line in done.stdout.splitlines() if "::" in line))
    on_disk = sorted(path.stem for path in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    assert sorted(Path(name).stem for name in files) == on_disk, done.stdout + done.stderr
    assert [Path(name).name for name in files[: len(LONGEST_FIRST)]] == list(LONGEST_FIRST)

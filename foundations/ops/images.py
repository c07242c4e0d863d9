"""The offline image set: every image compose needs, built on a machine with no container registry.

    $ make docker-images                      # or: python -m foundations images
    $ COMPOSE_FILE=compose.yaml:compose.offline.yaml docker-compose up -d    # (or services up, docker compose)

A base image from Debian's packages (``debootstrap``, cached as a tarball for the week), Python from Debian
on it, the wheelhouse (every pinned wheel downloaded on the host, where pip has its
index) as an image the others copy from, then Redis and MariaDB from Debian and the api, lab and workshop
images, whose pip runs with no index at all. Dockerfiles: docker/offline/.
"""

from __future__ import annotations

import datetime
import filecmp
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from foundations.config import REPO_ROOT
from foundations.errors import CommandError, ServiceError
from foundations.workshop import wheelhouse

BASE = "api-foundations/debian:bookworm"
SUITE = "bookworm"
MIRROR = "http://deb.debian.org/debian"
# debootstrap's minbase knows only the release; the images get its updates and security fixes too.
SOURCES = (
    f"deb {MIRROR} {SUITE} main\n"
    f"deb {MIRROR} {SUITE}-updates main\n"
    f"deb http://deb.debian.org/debian-security {SUITE}-security main\n"
)
OFFLINE = REPO_ROOT / "docker" / "offline"
LABEL = "api-foundations.image-set=offline"  # on every image the set rebuilds often
WHEELS_DIR = REPO_ROOT / "build" / "docker-wheels"  # in the repo, so the lab container sees it too
# In build order: each image starts FROM, or copies from, the ones above it. (tag, Dockerfile, context)
IMAGES = [
    ("api-foundations/python:bookworm", "python.Dockerfile", OFFLINE),
    ("api-foundations/wheels:offline", "wheels.Dockerfile", WHEELS_DIR),
    ("api-foundations/redis:offline", "redis.Dockerfile", OFFLINE),
    ("api-foundations/mariadb:offline", "mariadb.Dockerfile", OFFLINE),
    ("api-foundations/api:offline", "api.Dockerfile", REPO_ROOT),
    ("api-foundations/lab:offline", "lab.Dockerfile", REPO_ROOT),
    ("api-foundations/workshop:offline", "workshop.Dockerfile", REPO_ROOT),
]


def cache_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "api-foundations"


def _run(cmd: list[str], **kwargs) -> str:
    done = subprocess.run(cmd, capture_output=True, text=True, **kwargs)
    if done.returncode:
        output = (done.stdout + done.stderr).strip()
        raise CommandError(f"`{' '.join(cmd[:5])} ...` failed (exit {done.returncode}):\n{output[-3000:]}")
    return done.stdout


def tarball_name(day: datetime.date) -> str:
    """The base's cache key: the suite and the ISO week, so a week's builds share one (and its layer cache)."""
    year, week, _ = day.isocalendar()
    return f"debian-{SUITE}-minbase-{year}-W{week:02}.tar"


def base_tarball(cache: Path, today: datetime.date | None = None) -> Path:
    """Debian's minbase as a tarball, made once a week (about 2 minutes) and reused until the next; older
    ones are removed. Needs root (debootstrap) and the apt mirror."""
    tarball = cache / tarball_name(today or datetime.date.today())
    if tarball.exists():
        return tarball
    if not shutil.which("debootstrap"):
        raise ServiceError("no debootstrap: sudo apt-get install -y debootstrap")
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache) as scratch:
        rootfs = Path(scratch) / "rootfs"
        _run(["debootstrap", "--variant=minbase", SUITE, str(rootfs), MIRROR])
        (rootfs / "etc" / "apt" / "sources.list").write_text(SOURCES)
        partial = Path(scratch) / tarball.name
        _run(["tar", "-C", str(rootfs), "-cf", str(partial), "."])
        partial.rename(tarball)
    for old in cache.glob(f"debian-{SUITE}-minbase-*.tar"):
        if old != tarball:
            old.unlink()
    return tarball


def import_base(tarball: Path) -> bool:
    """``docker import`` the tarball as BASE unless BASE already is that tarball (its comment names it).
    True when it was imported."""
    done = subprocess.run(
        ["docker", "image", "inspect", "-f", "{{.Comment}}", BASE], capture_output=True, text=True
    )
    if done.returncode == 0 and done.stdout.strip() == tarball.name:
        return False
    _run(["docker", "import", "-m", tarball.name, str(tarball), BASE])
    return True


def lock_files() -> list[Path]:
    """requirements.lock and whichever of the other locks (test, workshop) the project has."""
    return sorted(REPO_ROOT.glob("requirements*.lock"))


def fill_wheelhouse(dest: Path = WHEELS_DIR) -> None:
    """Every wheel the locks pin, the build backend and the lock files, in ``dest`` (downloaded on the host,
    where pip has its index), unless ``dest`` already holds them for these very locks."""
    locks = lock_files()
    if all(
        (dest / lock.name).exists() and filecmp.cmp(lock, dest / lock.name, shallow=False) for lock in locks
    ):
        return
    dest.mkdir(parents=True, exist_ok=True)
    wheelhouse.download_wheels(dest, locks)
    for lock in locks:  # last: they mark the wheelhouse complete
        shutil.copy2(lock, dest / lock.name)


def build(log=print) -> dict[str, float]:
    """Build the whole set; seconds each step took."""
    seconds = {}
    start = time.perf_counter()
    tarball = base_tarball(cache_dir())
    imported = import_base(tarball)
    seconds[f"base image ({'imported ' if imported else 'kept '}{tarball.name})"] = (
        time.perf_counter() - start
    )
    start = time.perf_counter()
    fill_wheelhouse()
    seconds["wheelhouse (host)"] = time.perf_counter() - start
    for tag, dockerfile, context in IMAGES:
        start = time.perf_counter()
        _run(["docker", "build", "-q", "-t", tag, "-f", str(OFFLINE / dockerfile), str(context)])
        seconds[tag] = time.perf_counter() - start
    # The images of the set these builds replaced, untagged now: without this a CI machine fills its disk.
    _run(["docker", "image", "prune", "-f", "--filter", f"label={LABEL}"])
    for step, took in seconds.items():
        log(f"{step}: {took:.0f} s")
    return seconds


def missing() -> list[str]:
    """The images of the set that the engine does not have."""
    return [
        tag
        for tag, _, _ in IMAGES
        if subprocess.run(["docker", "image", "inspect", tag], capture_output=True).returncode
    ]

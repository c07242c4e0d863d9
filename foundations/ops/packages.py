"""The system packages behind the services (Redis, MariaDB; ab and wrk for chapter 10; Node.js for the
workshop's proxy): found on the PATH or in sbin, else installed with apt-get when we are root on Debian.

Installing is done with care, because a broken package manager outlives the tutorial:

- **Once.** Every process of ours takes ``INSTALL_LOCK`` before apt-get and looks again once it has it, so two
  test workers, or a test run beside ``make lab``, install once; the second finds the packages there.
- **Waiting.** A dpkg lock held by someone else (unattended-upgrades on a freshly booted VM) is waited for,
  and we say so, naming the holder; apt-get itself also waits (``DPkg::Lock::Timeout``) for the moment
  between our look and its start.
- **Never abandoned.** apt-get runs in a session of its own, out of reach of a terminal's Ctrl-C, and an
  interrupt (Ctrl-C, SIGTERM turned into an exception) that arrives while it runs waits for it to finish
  before it goes on: a dpkg killed halfway leaves packages "in a mess".
- **Repairable.** When apt-get fails, the message gives the command that repairs and retries.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import signal
import struct
import subprocess
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import psutil

from foundations.bench import LOAD_GENERATORS  # optional: chapter 10 falls back to its own
from foundations.errors import CommandError, FoundationsError, ServiceError

SBIN_DIRS = ("/usr/sbin", "/usr/local/sbin", "/sbin")
PACKAGES = {  # binary -> Debian package
    "redis-server": "redis-server",
    "mariadbd": "mariadb-server",
    "mariadb-install-db": "mariadb-server",
}
INSTALL_HINTS = (
    "Debian/Ubuntu: sudo apt-get install -y redis-server mariadb-server; "
    "macOS: brew install redis mariadb; Fedora: sudo dnf install -y redis mariadb-server"
)
INSTALL_LOCK = Path(
    "/run/foundations-apt.lock"
)  # /run: only root creates files there, and only root installs
DPKG_LOCKS = (
    Path("/var/lib/dpkg/lock-frontend"),
    Path("/var/lib/dpkg/lock"),
    Path("/var/lib/apt/lists/lock"),
)
LOCK_WAIT = 600.0  # seconds we (and apt-get) wait for a dpkg lock someone else holds


def which(binary: str) -> str | None:
    """Where ``binary`` is: on the PATH, or in an sbin directory an ordinary user's PATH leaves out."""
    return shutil.which(binary, path=os.pathsep.join([os.environ.get("PATH", ""), *SBIN_DIRS]))


def missing(packages: dict[str, str]) -> list[str]:
    """The Debian packages whose binary (a key of ``packages``) is not found."""
    return sorted({pkg for binary, pkg in packages.items() if not which(binary)})


def can_install() -> bool:
    """True as root on a system with apt-get."""
    return os.geteuid() == 0 and shutil.which("apt-get") is not None


def ensure(
    log: Callable[[str], None] = print,
    required: dict[str, str] = PACKAGES,
    optional: dict[str, str] = LOAD_GENERATORS,
    hint: str = INSTALL_HINTS,
) -> None:
    """Install what is missing of ``required`` and ``optional`` (binary -> Debian package) when we can;
    otherwise raise for a missing required one, saying how to install it (``hint``)."""
    if not (missing(required) or missing(optional)):
        return
    if not can_install():
        if missing(required):
            raise ServiceError(f"missing {', '.join(missing(required))}. Install them: {hint}")
        return
    with install_lock(log):
        needed, extra = (
            missing(required),
            missing(optional),
        )  # again: the lock's last holder may have installed them
        if not (needed or extra):
            return
        log(f"installing {' '.join(needed + extra)} with apt-get (once; a minute or two)...")
        try:
            apt_install(needed + extra, log)
        except FoundationsError as exc:  # apt-get failed, or dpkg stayed busy
            if needed:
                raise
            log(f"{exc}\nChapter 10 uses its built-in load generator instead.")


@contextlib.contextmanager
def install_lock(log: Callable[[str], None], path: Path | None = None) -> Iterator[None]:
    """Hold ``INSTALL_LOCK`` (an flock, freed when the process dies), saying so when we have to wait for it.
    Opened without following a link, as root must never follow one a user planted."""
    path = path or INSTALL_LOCK
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log("another process of this project is installing system packages: waiting for it...")
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def lock_holder(path: Path) -> str | None:
    """``"process PID (name)"`` holding ``path`` locked (fcntl, as dpkg and apt lock, or flock), ``"another
    process"`` when it cannot be named, ``None`` when it is free or does not exist."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        held = _fcntl_locked(fd) or _flock_locked(fd)
    finally:
        os.close(fd)  # also drops the shared flock _flock_locked may have taken
    return (_holder(path) or "another process") if held else None


_FLOCK = "hhqqi4x"  # struct flock on Linux: l_type, l_whence, l_start, l_len, l_pid


def _fcntl_locked(fd: int) -> bool:
    """True when a process holds a POSIX or open-file-description lock on ``fd``'s file (F_GETLK)."""
    try:
        answer = fcntl.fcntl(fd, fcntl.F_GETLK, struct.pack(_FLOCK, fcntl.F_WRLCK, 0, 0, 0, 0))
    except OSError:
        return False
    return struct.unpack(_FLOCK, answer)[0] != fcntl.F_UNLCK


def _flock_locked(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    return False


def _holder(path: Path) -> str | None:
    """Name a process holding a lock on ``path``, from /proc/locks (matched by inode)."""
    try:
        inode = str(path.stat().st_ino)
        lines = Path("/proc/locks").read_text().splitlines()
    except OSError:
        return None
    for fields in (line.split() for line in lines):
        if len(fields) > 5 and fields[5].rsplit(":", 1)[-1] == inode and fields[4].isdigit():
            return _describe(int(fields[4]))
    return None


def _describe(pid: int) -> str:
    try:
        return f"process {pid} ({psutil.Process(pid).name()})"
    except psutil.Error:
        return f"process {pid}"


def wait_for_dpkg(
    log: Callable[[str], None], locks: Iterable[Path] | None = None, timeout: float = LOCK_WAIT
) -> None:
    """Return once no one holds dpkg's and apt's locks (``DPKG_LOCKS``); say who we wait for; give up after
    ``timeout``."""
    locks, deadline, said = tuple(locks or DPKG_LOCKS), time.monotonic() + timeout, set()
    while holders := {str(lock): h for lock in locks if (h := lock_holder(lock))}:
        for lock, holder in holders.items():
            if (lock, holder) not in said:
                log(f"waiting for the package manager: {lock} is held by {holder} (up to {timeout:.0f} s)...")
                said.add((lock, holder))
        if time.monotonic() > deadline:
            raise ServiceError(
                f"the package manager stayed busy for {timeout:.0f} s ({', '.join(holders.values())}): "
                "let it finish (an automatic upgrade after boot can take a while), then run this again"
            )
        time.sleep(0.5)


def apt_install(packages: list[str], log: Callable[[str], None] = print) -> None:
    """``apt-get update`` and ``apt-get install -y packages``, each run to its end whatever happens here."""
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    wait = ["-o", f"DPkg::Lock::Timeout={LOCK_WAIT:.0f}"]
    repair = f"sudo dpkg --configure -a && sudo apt-get install -y {' '.join(packages)}"
    for cmd in (["apt-get", *wait, "update", "-qq"], ["apt-get", *wait, "install", "-y", "-qq", *packages]):
        wait_for_dpkg(log)
        returncode, stderr = run_to_the_end(cmd, env, log)
        if returncode:
            raise CommandError(
                f"`{' '.join(cmd)}` failed (exit {returncode}): {stderr.strip()[-300:]}\n"
                f"Repair the package manager and install again with: {repair}"
            )


INTERRUPTS = {signal.SIGINT, signal.SIGTERM}


def run_to_the_end(cmd: list[str], env: dict[str, str], log: Callable[[str], None]) -> tuple[int, str]:
    """Run ``cmd`` in a session of its own; an interrupt that arrives meanwhile waits for it to end, then is
    raised again. Returns the exit code and stderr.

    Ctrl-C and SIGTERM are held back while it starts (the child gets our usual mask back), so none can land
    between its start and the ``try`` that waits for it: we would then leave without it."""
    usual = signal.pthread_sigmask(signal.SIG_BLOCK, INTERRUPTS)
    try:
        proc = subprocess.Popen(
            cmd,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
            preexec_fn=lambda: signal.pthread_sigmask(signal.SIG_SETMASK, usual),
        )
    except BaseException:
        signal.pthread_sigmask(signal.SIG_SETMASK, usual)
        raise
    interrupted: BaseException | None = None
    while True:
        try:
            signal.pthread_sigmask(signal.SIG_SETMASK, usual)  # one held back lands here, in the try
            _, stderr = proc.communicate()
            break
        except BaseException as exc:  # noqa: BLE001 - Ctrl-C, SIGTERM as SystemExit, pytest.exit...
            if interrupted is None:
                log(
                    f"{cmd[0]} is still running: waiting for it to finish, so that dpkg is not left half done..."
                )
            interrupted = exc
    if interrupted is not None:
        raise interrupted
    return proc.returncode, stderr

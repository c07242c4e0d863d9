"""What one active participant costs: memory and CPU of everything that runs as them (single-user server,
kernel, three Redis, API server), measured on a real hub while they all run a chapter at once (07 by default).

    # as root: a container each (a Docker engine and `make docker-images`), or system users (a venv of a
    # Python every user can run, see docs/workshop.md)
    $ python -m foundations workshop sizing --participants 3 [--backend users] \
          [--notebook api-foundations/notebooks/10_first_api.ipynb]

Memory is USS (pages only that process has: what one more participant adds), PSS (shared pages split among
the processes sharing them) and RSS (with shared libraries, an upper bound); CPU is user+system seconds.
The hub, its proxy and the shared MariaDB are counted apart. Also: sign-in to a first cell run.
"""

from __future__ import annotations

import pwd
import secrets
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil

from foundations import state
from foundations.errors import ServiceError
from foundations.workshop import containers, hub, learner
from foundations.workshop.remote import Learner
from foundations.workshop.room import Room, unused_port

MIB = 2**20
KINDS = ("uss", "pss", "rss")
HEADINGS = ("idle USS", "idle PSS", "idle RSS", "peak USS", "peak PSS", "peak RSS")


class Sampler:
    """Polls the processes of every participant (``groups()``: their PIDs now): peak memory per participant,
    CPU seconds per process (last seen)."""

    def __init__(self, groups: Callable[[], dict[str, set[int]]], every: float = 0.5):
        self.groups, self.every = groups, every
        self.peak: dict[str, dict[str, int]] = {}  # participant -> {"uss", "pss", "rss"}
        self.cpu: dict[tuple[str, int, float], float] = {}  # (participant, pid, create time) -> cpu seconds
        self._stop = threading.Event()

    def snapshot(self) -> dict[str, dict[str, int]]:
        """``{participant: {"uss", "pss", "rss"}}`` now, summed over their processes; also remembers every
        process' CPU time."""
        now = {}
        for name, pids in self.groups().items():
            total = now[name] = {"uss": 0, "pss": 0, "rss": 0}
            for pid in pids:
                try:
                    proc = psutil.Process(pid)
                    mem, cpu = proc.memory_full_info(), proc.cpu_times()
                    self.cpu[(name, pid, proc.create_time())] = cpu.user + cpu.system
                except psutil.Error:
                    continue
                for kind in total:
                    total[kind] += getattr(mem, kind)
            peak = self.peak.setdefault(name, dict.fromkeys(total, 0))
            for kind, value in total.items():
                peak[kind] = max(peak[kind], value)
        return now

    def cpu_seconds(self, name: str) -> float:
        return sum(seconds for (owner, _, _), seconds in self.cpu.items() if owner == name)

    def run(self) -> None:
        while not self._stop.wait(self.every):
            self.snapshot()

    def stop(self) -> None:
        self._stop.set()


def by_user(names: list[str]) -> Callable[[], dict[str, set[int]]]:
    """Participants as system users: every process of their uid."""
    uids = {pwd.getpwnam(n).pw_uid: n for n in names}

    def groups() -> dict[str, set[int]]:
        found: dict[str, set[int]] = {n: set() for n in names}
        for proc in psutil.process_iter(["uids"]):
            if proc.info["uids"] and proc.info["uids"].real in uids:
                found[uids[proc.info["uids"].real]].add(proc.pid)
        return found

    return groups


def by_container(room: Room, names: list[str]) -> Callable[[], dict[str, set[int]]]:
    """A container per participant: every process in it (their PIDs on the host)."""
    return lambda: {n: set(containers.host_pids(room, n).values()) for n in names}


def shared_processes(room: Room) -> dict[str, int]:
    """The hub, its proxy and the shared MariaDB: ``{name: rss}``."""
    pids = {"jupyterhub": hub.hub_pid(room)}
    proxy_pid = room.hub_dir / "jupyterhub-proxy.pid"
    pids["proxy"] = int(proxy_pid.read_text()) if proxy_pid.exists() else None
    if room.settings().containers:
        db = containers.docker("top", containers.db_name(room), "-eo", "pid").split()[1:]
        pids["mariadb"] = int(db[0]) if db else None
    else:
        pids["mariadb"] = state.read_raw(room.services_dir).get("processes", {}).get("mysql", {}).get("pid")
    rss = {}
    for name, pid in pids.items():
        try:
            rss[name] = psutil.Process(pid).memory_info().rss if pid else 0
        except psutil.Error:
            rss[name] = 0
    return rss


def first_cell(someone: Learner, code: str) -> float:
    """Sign in, start the server, run a first cell in a fresh kernel: seconds it took."""
    start = time.perf_counter()
    someone.sign_in(f"{someone.name}-pw-123", code)
    someone.start_server()
    with someone.kernel(f"{learner.COURSE_DIR}/notebooks/00_index.ipynb") as kernel:
        if error := kernel.execute("1"):
            raise ServiceError(f"{someone.name}'s first cell failed: {error}")
    return time.perf_counter() - start


def measure(count: int, notebook: str, in_containers: bool) -> None:
    if not in_containers and hub.closed_to_others():
        raise ServiceError("sizing needs system users: run as root with a venv every user can enter")
    names = [f"sz{secrets.token_hex(3)}" for _ in range(count)]
    code, room = f"sz-{secrets.token_hex(6)}", Room(Path(tempfile.mkdtemp(prefix="workshop-sizing-")))
    port = unused_port()
    started = time.perf_counter()
    try:
        hub.up(
            room, tuple(names), code=code, port=port, system_users=not in_containers,
            containers=in_containers, log=lambda line: None,
        )  # fmt: skip
        hub_up = time.perf_counter() - started
        learners = [Learner(f"http://127.0.0.1:{port}", n) for n in names]
        with ThreadPoolExecutor(count) as pool:
            to_first_cell = list(pool.map(lambda someone: first_cell(someone, code), learners))
            sampler = Sampler(by_container(room, names) if in_containers else by_user(names))
            idle = sampler.snapshot()
            shared = shared_processes(room)
            thread = threading.Thread(target=sampler.run, daemon=True)
            thread.start()
            run_start = time.perf_counter()
            runs = list(pool.map(lambda someone: someone.run_notebook(notebook), learners))
            wall = time.perf_counter() - run_start
            sampler.stop()
            thread.join()
        errors = [c.error for cells in runs for c in cells if c.error]
        print(
            f"{count} participants, {'a container each' if in_containers else 'system users'}; hub up in "
            f"{hub_up:.1f} s; sign-in to first cell run, all at once: "
            f"{', '.join(f'{t:.1f}' for t in to_first_cell)} s; {notebook} by all at once in {wall:.1f} s wall"
            f"{'' if not errors else f', ERRORS: {errors}'}"
        )
        print("shared: " + ", ".join(f"{name} {rss / MIB:.0f} MiB RSS" for name, rss in shared.items()))
        print(f"{'participant':<12} " + " ".join(f"{h:>9}" for h in HEADINGS) + f" {'CPU s (run)':>11}")
        for name in names:
            figures = [idle[name][k] for k in KINDS] + [sampler.peak[name][k] for k in KINDS]
            print(
                f"{name:<12} "
                + " ".join(f"{v / MIB:>8.0f}M" for v in figures)
                + f" {sampler.cpu_seconds(name):>11.1f}"
            )
    finally:
        hub.down(room, log=lambda line: None)
        for name in [] if in_containers else names:
            subprocess.run(["userdel", "--remove", name], capture_output=True)
        shutil.rmtree(room.root, ignore_errors=True)

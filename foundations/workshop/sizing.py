"""What one active participant costs: memory and CPU of everything that runs as them (single-user server,
kernel, three Redis, API server), measured on a real hub while they all run a chapter at once (07 by default).

    # as root, with a venv of a Python every user can run (see docs/workshop.md)
    $ python -m foundations workshop sizing --participants 3 [--notebook notebooks/10_first_api.ipynb]

Memory is USS (pages only that process has: what one more participant adds) and RSS (with shared libraries,
an upper bound); CPU is user+system seconds. The hub, its proxy and the shared MariaDB are counted apart.
"""

from __future__ import annotations

import pwd
import secrets
import shutil
import subprocess
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil

from foundations import state
from foundations.errors import ServiceError
from foundations.workshop import hub
from foundations.workshop.remote import Learner
from foundations.workshop.room import Room, unused_port

MIB = 2**20


class Sampler:
    """Polls every process of the given uids: peak memory per uid, CPU seconds per process (last seen)."""

    def __init__(self, uids: list[int], every: float = 0.25):
        self.uids, self.every = uids, every
        self.peak_uss = dict.fromkeys(uids, 0)
        self.peak_rss = dict.fromkeys(uids, 0)
        self.cpu: dict[tuple[int, int, float], float] = {}  # (uid, pid, create time) -> cpu seconds
        self._stop = threading.Event()

    def snapshot(self) -> dict[int, tuple[int, int]]:
        """``{uid: (uss, rss)}`` now; also remembers every process' CPU time."""
        now = {uid: [0, 0] for uid in self.uids}
        for proc in psutil.process_iter(["uids", "create_time"]):
            uid = proc.info["uids"].real if proc.info["uids"] else None
            if uid not in now:
                continue
            try:
                mem, cpu = proc.memory_full_info(), proc.cpu_times()
            except psutil.Error:
                continue
            now[uid][0] += mem.uss
            now[uid][1] += mem.rss
            self.cpu[(uid, proc.pid, proc.info["create_time"])] = cpu.user + cpu.system
        for uid, (uss, rss) in now.items():
            self.peak_uss[uid] = max(self.peak_uss[uid], uss)
            self.peak_rss[uid] = max(self.peak_rss[uid], rss)
        return {uid: (uss, rss) for uid, (uss, rss) in now.items()}

    def cpu_seconds(self, uid: int) -> float:
        return sum(seconds for (owner, _, _), seconds in self.cpu.items() if owner == uid)

    def run(self) -> None:
        while not self._stop.wait(self.every):
            self.snapshot()

    def stop(self) -> None:
        self._stop.set()


def shared_processes(room: Room) -> dict[str, int]:
    """The hub, its proxy and the shared MariaDB: ``{name: rss}``."""
    pids = {"jupyterhub": hub.hub_pid(room)}
    proxy_pid = room.hub_dir / "jupyterhub-proxy.pid"
    pids["proxy"] = int(proxy_pid.read_text()) if proxy_pid.exists() else None
    pids["mariadb"] = state.read_raw(room.services_dir).get("processes", {}).get("mysql", {}).get("pid")
    rss = {}
    for name, pid in pids.items():
        try:
            rss[name] = psutil.Process(pid).memory_info().rss if pid else 0
        except psutil.Error:
            rss[name] = 0
    return rss


def measure(count: int, notebook: str) -> None:
    if hub.closed_to_others():
        raise ServiceError("sizing needs system users: run as root with a venv every user can enter")
    names = [f"sz{secrets.token_hex(3)}" for _ in range(count)]
    code, room = secrets.token_hex(4), Room(Path(tempfile.mkdtemp(prefix="workshop-sizing-")))
    port = unused_port()
    started = time.perf_counter()
    try:
        hub.up(room, tuple(names), code=code, port=port, system_users=True, log=lambda line: None)
        hub_up = time.perf_counter() - started
        learners = [Learner(f"http://127.0.0.1:{port}", n) for n in names]
        with ThreadPoolExecutor(count) as pool:
            list(pool.map(lambda learner: learner.sign_in(f"{learner.name}-pw-123", code), learners))
            spawn_start = time.perf_counter()
            list(pool.map(Learner.start_server, learners))
            spawned = time.perf_counter() - spawn_start
            uids = [pwd.getpwnam(n).pw_uid for n in names]
            sampler = Sampler(uids)
            idle = sampler.snapshot()
            shared = shared_processes(room)
            thread = threading.Thread(target=sampler.run, daemon=True)
            thread.start()
            run_start = time.perf_counter()
            runs = list(pool.map(lambda learner: learner.run_notebook(notebook), learners))
            wall = time.perf_counter() - run_start
            sampler.stop()
            thread.join()
        errors = [c.error for cells in runs for c in cells if c.error]
        print(
            f"{count} participants, system users; hub up in {hub_up:.1f} s, {count} servers spawned at "
            "once "
            f"in {spawned:.1f} s, {notebook} by all at once in {wall:.1f} s wall"
            f"{'' if not errors else f', ERRORS: {errors}'}"
        )
        print("shared: " + ", ".join(f"{name} {rss / MIB:.0f} MiB RSS" for name, rss in shared.items()))
        print(
            f"{'participant':<12} {'idle USS':>9} {'idle RSS':>9} {'peak USS':>9} {'peak RSS':>9} "
            f"{'CPU s (spawn+run)':>17}"
        )
        for name, uid in zip(names, uids):
            print(
                f"{name:<12} {idle[uid][0] / MIB:>8.0f}M {idle[uid][1] / MIB:>8.0f}M "
                f"{sampler.peak_uss[uid] / MIB:>8.0f}M {sampler.peak_rss[uid] / MIB:>8.0f}M "
                f"{sampler.cpu_seconds(uid):>17.1f}"
            )
    finally:
        hub.down(room, log=lambda line: None)
        for name in names:
            subprocess.run(["userdel", "--remove", name], capture_output=True)
        shutil.rmtree(room.root, ignore_errors=True)

"""Chapter 7: why one connection's rate at pipeline depth 1 moves so much from run to run. A client that
waits for each answer, and the server that waits for each command, sleep in turn; every round trip wakes
each of them once, and waking a process that sleeps on another core costs far more than switching to it
on the same core.

    >>> round_trip_rate(client_core=0, echo_core=1)   # round trips per second over loopback TCP

And the same with a real server: ``local_process`` finds it on this machine, ``same_core_or_not`` pins it to
one core and runs a measurement from that core and from another (``pinned`` puts every affinity back).

    >>> pid = local_process("127.0.0.1", 6390, "redis-server")
    >>> same_core_or_not(pid, lambda: redisspeed.pipelined_pings(url, 0.2, batch=1))   # (same, other) PINGs/s
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import socket
import time
from collections.abc import Callable, Iterator
from multiprocessing.connection import Connection

import psutil

from foundations import footprint, net
from foundations.errors import ServiceError

_END = b"x"  # the byte that ends the echo


def _echo(core: int, port_out: Connection) -> None:
    """The other side, pinned to ``core``: listen on loopback, report the port, send back every byte until
    the end mark or a closed connection."""
    os.sched_setaffinity(0, {core})
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port_out.send(listener.getsockname()[1])
        conn, _ = listener.accept()
    with conn:
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        while (byte := conn.recv(1)) not in (b"", _END):
            conn.sendall(byte)


def round_trip_rate(client_core: int, echo_core: int, seconds: float = 0.2) -> float:
    """Round trips per second of one byte over loopback TCP between this process, pinned to ``client_core``
    while it runs, and a child process pinned to ``echo_core``: each waits for the other's byte, as a
    client one command deep waits for Redis. This process's own affinity is put back afterwards."""
    usable = os.sched_getaffinity(0)
    if not {client_core, echo_core} <= usable:
        raise ValueError(
            f"cores {client_core} and {echo_core}: this process may run on {sorted(usable)} only"
        )
    port_in, port_out = multiprocessing.Pipe(duplex=False)
    child = multiprocessing.get_context("spawn").Process(
        target=_echo, args=(echo_core, port_out), daemon=True
    )
    child.start()
    try:
        if not port_in.poll(30):
            raise ServiceError(
                "the echo process did not start within 30 s: a very busy machine? run it again"
            )
        with socket.create_connection(("127.0.0.1", port_in.recv()), timeout=5) as sock:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            os.sched_setaffinity(0, {client_core})
            trips, start = 0, time.perf_counter()
            while (took := time.perf_counter() - start) < seconds:
                sock.sendall(b".")
                if not sock.recv(1):
                    raise ServiceError("the echo process closed the connection: did it crash? run it again")
                trips += 1
            sock.sendall(_END)
    finally:
        os.sched_setaffinity(0, usable)
        child.join(timeout=5)
        if child.is_alive():
            child.kill()
    return trips / took


def local_process(host: str, port: int, name: str) -> int | None:
    """The PID of the program ``name`` (``redis-server``) listening on ``port`` on this machine, as
    ``services up`` starts it; None for a server on another host, or in a container (its port is held by
    ``docker-proxy``, or by no process this user may see)."""
    if host not in net.LOOPBACK_NAMES:
        return None
    for pid in footprint.listeners(port):
        with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
            if psutil.Process(pid).name() == name:
                return pid
    return None


@contextlib.contextmanager
def pinned(pid: int, core: int) -> Iterator[None]:
    """Every thread of process ``pid`` runs on ``core`` only, inside the block (``pid`` 0: the calling thread
    only, as ``os.sched_setaffinity`` takes it); each thread's own affinity is put back afterwards.
    PermissionError where this user may not re-pin the process (another user's)."""
    threads = [0] if pid == 0 else [thread.id for thread in psutil.Process(pid).threads()]
    before: dict[int, set[int]] = {}
    try:
        for thread in threads:
            cores = os.sched_getaffinity(thread)
            os.sched_setaffinity(thread, {core})
            before[thread] = cores
        yield
    finally:
        for thread, cores in before.items():
            with contextlib.suppress(ProcessLookupError):  # a thread that ended meanwhile
                os.sched_setaffinity(thread, cores)


def same_core_or_not(pid: int, measure: Callable[[], float], tries: int = 3) -> tuple[float, float]:
    """Process ``pid`` (a server) pinned to the first core this thread may use, ``measure()`` run from that
    core and from the next one, in turn, ``tries`` times each: (the best run on the server's core, the best on
    the other). Every affinity is put back afterwards. ValueError with fewer than two usable cores;
    PermissionError where this user may not re-pin ``pid``."""
    cores = sorted(os.sched_getaffinity(0))
    if len(cores) < 2:
        raise ValueError(f"this thread may run on core {cores[0]} only: there is no other core to compare")
    server_core, other_core = cores[:2]
    same: list[float] = []
    other: list[float] = []
    with pinned(pid, server_core):
        for _try in range(tries):
            for core, rates in ((server_core, same), (other_core, other)):
                with pinned(0, core):
                    rates.append(measure())
    return max(same), max(other)

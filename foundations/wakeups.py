"""Chapter 7: why one connection's rate at pipeline depth 1 moves so much from run to run. A client that
waits for each answer, and the server that waits for each command, sleep in turn; every round trip wakes
each of them once, and waking a process that sleeps on another core costs far more than switching to it
on the same core.

    >>> round_trip_rate(client_core=0, echo_core=1)   # round trips per second over loopback TCP
"""

from __future__ import annotations

import multiprocessing
import os
import socket
import time
from multiprocessing.connection import Connection

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
            raise RuntimeError("the echo process did not start within 30 s (a very busy machine?)")
        with socket.create_connection(("127.0.0.1", port_in.recv()), timeout=5) as sock:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            os.sched_setaffinity(0, {client_core})
            trips, start = 0, time.perf_counter()
            while (took := time.perf_counter() - start) < seconds:
                sock.sendall(b".")
                if not sock.recv(1):
                    raise RuntimeError("the echo process closed the connection (did it crash?)")
                trips += 1
            sock.sendall(_END)
    finally:
        os.sched_setaffinity(0, usable)
        child.join(timeout=5)
        if child.is_alive():
            child.kill()
    return trips / took

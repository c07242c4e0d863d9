"""foundations.wakeups: a real round trip between two pinned processes, pinning another process and putting
its cores back, and finding a server's process by its port (no timing asserted: speed is measured in
notebook 07, not tested)."""

import os
import socket
import subprocess
import sys
import time

import psutil
import pytest

from foundations.wakeups import local_process, pinned, round_trip_rate, same_core_or_not


def test_round_trips_happen_and_the_callers_cores_are_given_back():
    cores = os.sched_getaffinity(0)
    core = min(cores)
    assert round_trip_rate(core, core, seconds=0.05) > 0
    assert os.sched_getaffinity(0) == cores


def test_a_core_this_process_may_not_use_is_refused_at_once():
    unusable = max(os.sched_getaffinity(0)) + 1
    with pytest.raises(ValueError, match="may run on"):
        round_trip_rate(unusable, unusable)


needs_two_cores = pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="needs two usable cores")


@pytest.fixture
def sleeper():
    """Another process, of two threads, to pin."""
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import threading, time; threading.Thread(target=time.sleep, args=(60,)).start()",
        ]
    )
    while len(psutil.Process(child.pid).threads()) < 2:
        time.sleep(0.01)
    yield child.pid
    child.kill()
    child.wait()


def affinities(pid):
    return {thread.id: os.sched_getaffinity(thread.id) for thread in psutil.Process(pid).threads()}


def test_pinned_moves_every_thread_of_a_process_and_gives_each_its_own_cores_back(sleeper):
    core = max(os.sched_getaffinity(0))
    first, *others = sorted(affinities(sleeper))
    os.sched_setaffinity(
        first, {core}
    )  # one thread with cores of its own: it gets them back, not the others'
    before = affinities(sleeper)
    with pinned(sleeper, min(os.sched_getaffinity(0))):
        assert set(map(frozenset, affinities(sleeper).values())) == {
            frozenset({min(os.sched_getaffinity(0))})
        }
    assert affinities(sleeper) == before


def test_pinned_0_is_the_calling_thread_only():
    cores = os.sched_getaffinity(0)
    with pinned(0, min(cores)):
        assert os.sched_getaffinity(0) == {min(cores)}
    assert os.sched_getaffinity(0) == cores


@needs_two_cores
def test_same_core_or_not_runs_the_measure_on_the_servers_core_then_on_another_and_puts_all_back(sleeper):
    where = []
    server = affinities(sleeper)
    mine = os.sched_getaffinity(0)

    def measure():
        where.append((frozenset(os.sched_getaffinity(0)), frozenset(os.sched_getaffinity(sleeper))))
        return float(len(where))

    first, second = sorted(mine)[:2]
    assert same_core_or_not(sleeper, measure, tries=2) == (3.0, 4.0)  # each way's best run
    on_server, elsewhere = frozenset({first}), frozenset({second})
    assert where == [(on_server, on_server), (elsewhere, on_server)] * 2
    assert affinities(sleeper) == server and os.sched_getaffinity(0) == mine


def test_local_process_finds_the_program_listening_on_a_port_and_nothing_elsewhere():
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]
        name = psutil.Process().name()
        assert local_process("127.0.0.1", port, name) == os.getpid()
        assert local_process("127.0.0.1", port, "redis-server") is None  # another program holds it
        assert local_process("10.0.0.1", port, name) is None  # another host

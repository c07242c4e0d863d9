"""foundations.cpubound: chapter 6's measurement of CPU-bound work on threads and processes."""

import os
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor

import psutil
import pytest

from foundations import cpubound, footprint


def test_fastest_keeps_each_ways_least_disturbed_run_after_one_untimed_run():
    calls = {"slow": 0, "quick": 0}
    sleeps = {"slow": iter([0.2, 0.06, 0.04, 0.05]), "quick": iter([0.2, 0.05, 0.01, 0.03])}

    def way(label):
        def run():
            calls[label] += 1
            time.sleep(next(sleeps[label]))
            return "same"

        return run

    took = cpubound.fastest({label: way(label) for label in calls}, rounds=3)
    assert calls == {"slow": 4, "quick": 4}  # the untimed first run (0.2 s) is never the one kept
    assert 10 <= took.loc["quick", "wall ms"] < 150 and 40 <= took.loc["slow", "wall ms"] < 180
    assert took.loc["slow", "x first way"] == 1.0
    assert took.loc["quick", "x first way"] > 1.0  # faster than the first way


def test_fastest_refuses_ways_that_do_not_compute_the_same_thing():
    with pytest.raises(ValueError, match="disagree"):
        cpubound.fastest({"right": lambda: [1, 2], "wrong": lambda: [1, 3]}, rounds=1)


def test_fastest_runs_real_pools_and_returns_one_row_per_way():
    jobs = [range(200_000)] * 2
    with ProcessPoolExecutor(2) as procs:
        took = cpubound.fastest(
            {"loop": lambda: [sum(job) for job in jobs], "processes": lambda: list(procs.map(sum, jobs))},
            rounds=2,
        )
    assert list(took.index) == ["loop", "processes"] and (took["wall ms"] > 0).all()


def _cpu_s(process):
    times = process.cpu_times()
    return times.user + times.system


def test_with_others_cores_counts_another_program_busy_meanwhile():
    """A busy loop that is not our child (its shell exits at once, so it belongs to init, as another program
    would): the cores reported cover at least most of the CPU it used meanwhile, however busy the machine."""
    started = subprocess.run(
        ["sh", "-c", "timeout 3 sh -c 'while :; do :; done' >/dev/null 2>&1 & echo $!"],
        check=True,
        capture_output=True,
        text=True,
    )
    under_timeout = psutil.Process(int(started.stdout))
    deadline = time.monotonic() + 2
    while not under_timeout.children() and time.monotonic() < deadline:  # timeout starts the loop
        time.sleep(0.01)
    (busy,) = under_timeout.children()
    before, start = _cpu_s(busy), time.perf_counter()
    _, others = cpubound.with_others_cores(lambda: time.sleep(1.0))
    wall, used = time.perf_counter() - start, _cpu_s(busy) - before
    busy.terminate()
    assert used > 0.2 and others * wall > 0.8 * used, (
        f"the loop used {used:.2f} CPU s; reported {others * wall:.2f}"
    )


def test_with_others_cores_leaves_out_our_own_work_and_our_pool_workers():
    """What the machine spent less what is reported as others' is at least most of what we and our pool's
    workers spent: our own work is not counted as another program's."""
    jobs = [range(20_000_000)] * 2
    with ProcessPoolExecutor(2) as procs:
        procs.submit(sum, range(10)).result()  # the workers exist before the measurement
        ours = [psutil.Process(), *psutil.Process().children(recursive=True)]
        before, machine = sum(map(_cpu_s, ours)), footprint.machine_cpu_seconds()
        start = time.perf_counter()
        _, others = cpubound.with_others_cores(lambda: (sum(jobs[0]), list(procs.map(sum, jobs))))
        wall = time.perf_counter() - start
        spent, machine = sum(map(_cpu_s, ours)) - before, footprint.machine_cpu_seconds() - machine
    assert spent > 0.3 and machine - others * wall > 0.8 * spent, (
        f"we spent {spent:.2f} CPU s, the machine {machine:.2f}, others reported {others * wall:.2f}"
    )


def test_usable_cores_follows_the_affinity_mask():
    script = "from foundations import cpubound; print(cpubound.usable_cores())"
    pinned = subprocess.run(
        ["taskset", "-c", "0", sys.executable, "-c", script], capture_output=True, text=True
    )
    assert pinned.returncode == 0, pinned.stderr
    assert pinned.stdout.split() == ["1"]


@pytest.mark.parametrize(
    ("cpu_max", "expected"),
    [("max 100000\n", "all"), ("50000 100000\n", 1), ("150000 100000\n", 2), ("", "all"), (None, "all")],
    ids=["no-quota", "half-a-core", "one-and-a-half", "unreadable", "no-cgroup-v2"],
)
def test_usable_cores_rounds_a_cgroup_quota_up_and_never_exceeds_the_mask(tmp_path, cpu_max, expected):
    path = tmp_path / "cpu.max"
    if cpu_max is not None:
        path.write_text(cpu_max)
    mask = len(os.sched_getaffinity(0))
    assert cpubound.usable_cores(str(path)) == (mask if expected == "all" else min(mask, expected))


def test_cores_of_caps_a_process_by_the_quota_of_its_cgroup_and_those_above(tmp_path):
    """A database server is a process of its own: its cgroup (or one above it) may carry a quota ours does not."""
    pid, mask = os.getpid(), len(os.sched_getaffinity(os.getpid()))
    proc, root = tmp_path / "proc", tmp_path / "cgroup"
    (proc / str(pid)).mkdir(parents=True)
    (root / "system.slice" / "mariadb.service").mkdir(parents=True)
    (root / "system.slice" / "mariadb.service" / "cpu.max").write_text("max 100000\n")
    (root / "cpu.max").write_text("max 100000\n")

    def cores(cgroup, slice_cpu_max="50000 100000\n"):
        (proc / str(pid) / "cgroup").write_text(cgroup)
        (root / "system.slice" / "cpu.max").write_text(slice_cpu_max)
        return cpubound.cores_of(pid, proc=str(proc), cgroup_root=str(root))

    assert cores("0::/system.slice/mariadb.service\n") == 1  # half a core on the slice above: rounded up
    assert cores("0::/system.slice/mariadb.service\n", "300000 100000\n") == min(mask, 3)
    assert cores("0::/\n") == mask  # the root's "max": the affinity alone
    assert cores("0::/../../elsewhere\n") == mask  # outside our view: not read
    assert cores("1:cpu:/\n") == mask  # cgroup v1 only: not read, as usable_cores does not


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="needs two cores to pin a process to one")
def test_cores_of_reads_the_other_processs_affinity_not_ours():
    pinned = subprocess.Popen(["taskset", "-c", "0", sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        deadline = time.monotonic() + 5
        while len(os.sched_getaffinity(pinned.pid)) != 1 and time.monotonic() < deadline:
            time.sleep(0.01)  # taskset sets the mask, then execs Python
        assert cpubound.cores_of(pinned.pid) == 1  # though this process may run on two or more
    finally:
        pinned.kill()
        pinned.wait()

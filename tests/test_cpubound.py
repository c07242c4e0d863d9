"""foundations.cpubound: chapter 6's measurement of CPU-bound work on threads and processes."""

import subprocess
import time
from concurrent.futures import ProcessPoolExecutor

import pytest

from foundations import cpubound


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


def _others_cores_while_sleeping(seconds=1.0):
    return cpubound.with_others_cores(lambda: time.sleep(seconds))[1]


def test_with_others_cores_counts_another_program_busy_meanwhile():
    idle = _others_cores_while_sleeping()
    # a busy loop that is not our child: its shell exits at once, so it belongs to init, as another program would
    subprocess.run(["sh", "-c", "timeout 1.5 sh -c 'while :; do :; done' >/dev/null 2>&1 &"], check=True)
    busy = _others_cores_while_sleeping()
    assert busy > idle + 0.4, f"other programs' cores: {idle:.2f} idle, {busy:.2f} beside a busy loop"


def test_with_others_cores_leaves_out_our_own_work_and_our_pool_workers():
    idle = _others_cores_while_sleeping()
    jobs = [range(20_000_000)] * 2
    with ProcessPoolExecutor(2) as procs:
        total, others = cpubound.with_others_cores(lambda: (sum(jobs[0]), list(procs.map(sum, jobs))))
    assert total[0] == sum(range(20_000_000))
    assert others < idle + 0.4, f"other programs' cores: {idle:.2f} idle, {others:.2f} while we computed"

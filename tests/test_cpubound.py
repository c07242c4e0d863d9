"""foundations.cpubound: chapter 6's measurement of CPU-bound work on threads and processes."""

import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import pytest

from foundations import cpubound

JOBS = [range(300_000)] * 2


def test_fastest_keeps_each_ways_least_disturbed_run_after_one_untimed_run():
    calls = {"quick": 0, "slow": 0}
    sleeps = {"quick": iter([0.2, 0.05, 0.01, 0.03]), "slow": iter([0.2, 0.06, 0.04, 0.05])}

    def way(label):
        def run():
            calls[label] += 1
            time.sleep(next(sleeps[label]))
            return "same"

        return run

    took = cpubound.fastest({label: way(label) for label in calls}, rounds=3)
    assert calls == {"quick": 4, "slow": 4}  # the untimed first run (0.2 s) is never the one kept
    assert 10 <= took.loc["quick", "wall ms"] < 150 and 40 <= took.loc["slow", "wall ms"] < 180
    assert took.loc["quick", "wall ms"] < took.loc["slow", "wall ms"]
    assert (took["CPU ms"] < took["wall ms"]).all()  # sleeping costs no CPU


def test_fastest_refuses_ways_that_do_not_compute_the_same_thing():
    with pytest.raises(ValueError, match="disagree"):
        cpubound.fastest({"right": lambda: [1, 2], "wrong": lambda: [1, 3]}, rounds=1)


def test_job_cpu_ms_counts_the_work_not_the_waiting():
    assert cpubound.job_cpu_ms(range(2_000_000)) > cpubound.job_cpu_ms(range(10))
    start = time.perf_counter()
    assert cpubound.job_cpu_ms(range(10)) < 5
    assert time.perf_counter() - start < 1


def test_one_thread_never_keeps_more_than_one_cpu_busy():
    with ThreadPoolExecutor(1) as one:
        jobs, others = cpubound.cpus_busy(one, JOBS * 3)
    assert 0 < jobs <= 1.02  # one thread cannot spend more CPU time than wall time
    assert others > -0.1


def test_process_workers_report_their_own_cpu_time():
    with ProcessPoolExecutor(2) as procs:
        list(procs.map(abs, [1, 2]))
        jobs, _ = cpubound.cpus_busy(procs, JOBS)
    assert jobs > 0  # the workers' CPU time came back: the parent's own thread did no summing

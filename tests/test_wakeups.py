"""foundations.wakeups: a real round trip between two pinned processes (no timing asserted: speed is
measured in notebook 07, not tested)."""

import os

import pytest

from foundations.wakeups import round_trip_rate


def test_round_trips_happen_and_the_callers_cores_are_given_back():
    cores = os.sched_getaffinity(0)
    core = min(cores)
    assert round_trip_rate(core, core, seconds=0.05) > 0
    assert os.sched_getaffinity(0) == cores


def test_a_core_this_process_may_not_use_is_refused_at_once():
    unusable = max(os.sched_getaffinity(0)) + 1
    with pytest.raises(ValueError, match="may run on"):
        round_trip_rate(unusable, unusable)

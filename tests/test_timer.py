"""foundations.timer: the book's Now() semantics and the timeline recorder, on a fake clock (pure logic)."""

import threading
import time

import pytest

from foundations.timer import Event, Timeline, Timer, per_call_us, per_call_us_by_turns


class FakeClock:
    """Nanoseconds that advance only when the test says so."""

    def __init__(self, start_ns: int = 5_000_000_000) -> None:
        self.ns = start_ns

    def __call__(self) -> int:
        return self.ns

    def advance(self, ms: float) -> None:
        self.ns += int(ms * 1_000_000)


def test_first_call_starts_the_clock_and_later_calls_count_milliseconds():
    clock = FakeClock()
    timer = Timer(clock)
    clock.advance(1000)  # creation does not start the count: the first now() does, as in the book
    assert timer.now() == 0.0
    clock.advance(202.3157)
    assert timer.now() == pytest.approx(202.3157)
    clock.advance(0.5)
    assert timer.now() == pytest.approx(202.8157)


def test_reset_is_the_books_start_time_zero():
    clock = FakeClock()
    timer = Timer(clock)
    timer.now()
    clock.advance(50)
    timer.reset()
    clock.advance(7)
    assert timer.now() == 0.0
    clock.advance(3)
    assert timer.now() == pytest.approx(3.0)


def test_default_clock_is_real_and_monotonic():
    timer = Timer()
    assert timer.now() == 0.0
    time.sleep(0.002)
    later = timer.now()
    assert later >= 2.0
    assert timer.now() >= later


def test_two_timers_do_not_share_a_start():
    clock = FakeClock()
    a, b = Timer(clock), Timer(clock)
    a.now()
    clock.advance(10)
    assert b.now() == 0.0
    assert a.now() == pytest.approx(10.0)


def test_events_and_spans_print_like_the_book():
    clock = FakeClock()
    echoed = []
    tl = Timeline(Timer(clock), echo=echoed.append)
    tl.event("Fetching url: http://localhost/firstname")
    clock.advance(202.3157)
    with tl.span("GET /lastname"):
        clock.advance(301.507)
    tl.event("Done fetching")
    expected = [
        "[0.0000] Fetching url: http://localhost/firstname",
        "[202.3157] GET /lastname",
        "[503.8227] GET /lastname done",
        "[503.8227] Done fetching",
    ]
    assert echoed == expected
    assert tl.lines() == expected


def test_a_span_does_not_count_the_printing_of_its_start_line():
    clock = FakeClock()

    def slow_echo(line: str) -> None:  # printing takes 5 ms
        clock.advance(5)

    tl = Timeline(Timer(clock), echo=slow_echo)
    tl.event("before")
    with tl.span("block"):
        clock.advance(1)
    (span,) = [e for e in tl.events if e.span]
    assert span.end_ms - span.start_ms == pytest.approx(1.0)


def test_lines_are_in_time_order_even_when_spans_overlap():
    clock = FakeClock()
    tl = Timeline(Timer(clock))
    outer = tl.span("outer")
    outer.__enter__()
    clock.advance(1)
    with tl.span("inner"):
        clock.advance(1)
    clock.advance(1)
    outer.__exit__(None, None, None)
    assert tl.lines() == ["[0.0000] outer", "[1.0000] inner", "[2.0000] inner done", "[3.0000] outer done"]
    # events are kept in the order they ended; the frame sorts them by start for plotting
    assert [e.label for e in tl.events] == ["inner", "outer"]
    assert list(tl.frame()["label"]) == ["outer", "inner"]


def test_starts_together_can_be_listed_by_label_whatever_order_the_threads_ran_in():
    clock = FakeClock()
    tl = Timeline(Timer(clock))
    tl.event("begin")
    second, first = tl.span("b: lastname"), tl.span("a: firstname")
    second.__enter__()  # the thread started second ran first
    clock.advance(1)
    first.__enter__()
    clock.advance(200)
    first.__exit__(None, None, None)
    later = tl.span("c: after the first ended")
    later.__enter__()
    clock.advance(100)
    second.__exit__(None, None, None)
    later.__exit__(None, None, None)
    assert tl.lines()[1:3] == ["[0.0000] b: lastname", "[1.0000] a: firstname"]  # time order
    assert tl.lines(together_by_label=True) == [
        "[0.0000] begin",
        "[1.0000] a: firstname",
        "[0.0000] b: lastname",
        "[201.0000] a: firstname done",
        "[201.0000] c: after the first ended",
        "[301.0000] b: lastname done",
        "[301.0000] c: after the first ended done",
    ]


def test_a_zero_length_span_still_has_its_done_line():
    tl = Timeline(Timer(FakeClock()))
    with tl.span("instant"):
        pass
    assert tl.lines() == ["[0.0000] instant", "[0.0000] instant done"]


def test_span_records_even_when_the_block_raises():
    clock = FakeClock()
    tl = Timeline(Timer(clock))
    with pytest.raises(ZeroDivisionError):
        with tl.span("boom"):
            clock.advance(4)
            1 / 0  # noqa: B018 - the error the span must survive
    assert tl.events == [Event("boom", 0.0, 4.0, span=True)]


def test_frame_has_the_columns_for_plots():
    clock = FakeClock()
    tl = Timeline(Timer(clock))
    tl.event("start")
    with tl.span("GET /firstname"):
        clock.advance(200)
    frame = tl.frame()
    assert list(frame.columns) == ["label", "start_ms", "end_ms", "duration_ms"]
    assert frame.to_dict("records") == [
        {"label": "start", "start_ms": 0.0, "end_ms": 0.0, "duration_ms": 0.0},
        {"label": "GET /firstname", "start_ms": 0.0, "end_ms": 200.0, "duration_ms": 200.0},
    ]


def test_empty_timeline():
    tl = Timeline()
    assert tl.lines() == []
    assert tl.frame().empty
    assert list(tl.frame().columns) == ["label", "start_ms", "end_ms", "duration_ms"]


def test_reset_forgets_events_and_restarts_the_timer():
    clock = FakeClock()
    tl = Timeline(Timer(clock))
    tl.event("a")
    clock.advance(10)
    tl.reset()
    clock.advance(10)
    tl.event("b")
    assert tl.lines() == ["[0.0000] b"]


def test_threads_record_without_losing_events():
    tl = Timeline()
    barrier = threading.Barrier(8)

    def work(n: int) -> None:
        barrier.wait()
        for i in range(200):
            with tl.span(f"t{n}-{i}"):
                pass

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(tl.events) == 1600
    assert all(e.end_ms >= e.start_ms >= 0.0 for e in tl.events)


def test_elapsed_and_best_ms_measure_real_time():
    from foundations.timer import best_ms, elapsed_ms

    assert 20 <= elapsed_ms(lambda: time.sleep(0.02)) < 1000
    calls = []
    assert 0 <= best_ms(lambda: calls.append(1), repeat=4) < 1000 and len(calls) == 4
    delays = iter([0.03, 0.001, 0.03])
    assert best_ms(lambda: time.sleep(next(delays))) < 25  # the fastest run wins


def test_median_ms_is_the_middle_call_not_the_fastest_nor_the_slowest():
    from foundations.timer import median_ms

    delays = iter([0.001, 0.06, 0.02])
    assert 15 <= median_ms(lambda: time.sleep(next(delays)), times=3) < 55


def test_per_call_us_is_the_best_round_per_call():
    ticks = iter([0.0, 0.010, 1.0, 1.004, 2.0, 2.020])  # three rounds of 2 calls: 10, 4 and 20 ms
    calls = []
    assert per_call_us(lambda: calls.append(1), 2, clock=lambda: next(ticks)) == pytest.approx(2000)
    assert len(calls) == 6


def test_per_call_us_by_turns_alternates_the_ways_and_keeps_each_ones_best():
    calls = []
    ticks = iter(
        [0.0, 0.010, 1.0, 1.002, 2.0, 2.004, 3.0, 3.001]
    )  # a 10, b 2, a 4, b 1 ms (one call a round)
    best = per_call_us_by_turns(
        {"a": lambda: calls.append("a"), "b": lambda: calls.append("b")},
        1,
        rounds=2,
        clock=lambda: next(ticks),
    )
    assert calls == ["a", "b", "a", "b"]  # turns, not all of a's rounds first
    assert best == pytest.approx({"a": 4000, "b": 1000})


def test_median_ms_by_turns_alternates_the_ways_and_keeps_each_ones_median(monkeypatch):
    from foundations import timer

    calls = []
    took = iter([5.0, 1.0, 9.0, 2.0, 7.0, 3.0])  # a, b, a, b, a, b
    monkeypatch.setattr(timer, "elapsed_ms", lambda fn: (fn(), next(took))[1])
    medians = timer.median_ms_by_turns(
        {"a": lambda: calls.append("a"), "b": lambda: calls.append("b")}, times=3
    )
    assert calls == ["a", "b"] * 3  # turns, not all of a's calls first
    assert medians == {"a": 7.0, "b": 2.0}

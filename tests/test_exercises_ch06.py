"""Chapter 6's exercise checks reject plausible wrong answers, each with a message that helps."""

import asyncio
import contextlib
import functools
import inspect
import json
import math
import multiprocessing
import queue
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed, wait
from multiprocessing.pool import ThreadPool
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import requests

import foundations.fetch as chapter
from foundations import fetch
from foundations.course import exercises
from foundations.fetch import fan_out as fan
from foundations.fetch import fetch_parallel as parallel


def sequential(urls):
    return [requests.get(url, timeout=5).json() for url in urls]


def in_finishing_order(urls):
    with ThreadPoolExecutor(len(urls)) as pool:
        futures = [pool.submit(lambda u: requests.get(u).json(), u) for u in urls]
        return [f.result() for f in as_completed(futures)]


def undecoded(urls):
    with ThreadPoolExecutor(len(urls)) as pool:
        return list(pool.map(lambda u: requests.get(u).text, urls))


def fixed_pool(size):  # a pool of a round size: enough for every list of up to that many URLs
    def fetch_all(urls):
        with ThreadPoolExecutor(size) as pool:
            return list(pool.map(lambda u: requests.get(u).json(), urls))

    return fetch_all


def pool_made_before(size):  # made once, outside the function, as at a notebook's top level
    pool = ThreadPoolExecutor(size)

    def fetch_all(urls):
        return list(pool.map(lambda u: requests.get(u).json(), urls))

    return fetch_all


def multiprocessing_thread_pool(size):  # multiprocessing's ThreadPool, made at the first call and kept
    pools = []

    def fetch_all(urls):
        pools.append(pools[0] if pools else ThreadPool(size))
        return pools[0].map(lambda u: requests.get(u).json(), urls)

    fetch_all.pools = pools
    return fetch_all


def thread_pool(size_for):  # multiprocessing's ThreadPool of size_for(urls) workers, and 3 threads of its own
    def fetch_all(urls):
        with ThreadPool(size_for(urls)) as pool:
            return pool.map(lambda u: requests.get(u).json(), urls)

    return fetch_all


def thread_pool_by(
    size_for, leaks=False
):  # with a deadline: multiprocessing's TimeoutError is not the builtin
    def fetch_all_by(urls, budget):
        deadline = time.monotonic() + budget
        with ThreadPool(size_for(urls)) as pool:  # leaving it terminates the pool: it waits for no call
            calls = pool.map_async(lambda u: requests.get(u).json(), urls)
            try:
                return calls.get(timeout=max(0.0, deadline - time.monotonic()))
            except multiprocessing.TimeoutError:
                if leaks:
                    raise
                raise TimeoutError("too slow") from None

    return fetch_all_by


def _own_pool(size, urls, deadline=None):
    """A fixed pool of the learner's own making: ``size`` threads taking URLs off a queue."""
    jobs, answers = queue.Queue(), [None] * len(urls)
    for job in enumerate(urls):
        jobs.put(job)

    def work():
        while True:
            try:
                i, url = jobs.get_nowait()
            except queue.Empty:
                return
            answers[i] = requests.get(url).json()

    threads = [threading.Thread(target=work, daemon=True) for _ in range(size)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
    if any(thread.is_alive() for thread in threads):
        raise TimeoutError("too slow")
    return answers


def own_thread_pool(size):
    return lambda urls: _own_pool(size, urls)


def own_thread_pool_by(size):
    return lambda urls, budget: _own_pool(size, urls, time.monotonic() + budget)


def own_thread_pool_made_before(size, through="requests"):
    """A fixed pool of the learner's own making, started once before any call (as at a notebook's top level):
    ``size`` threads taking jobs off a queue. They call through ``requests``, or through one ``httpx.Client``
    with no cap on its connections (httpx never goes through ``http.client``). Its function only hands out the
    URLs and collects the answers, with an optional budget (for ``fetch_all_by``). ``start`` and ``stop``
    bracket the test."""
    jobs: queue.Queue = queue.Queue()
    threads: list[threading.Thread] = []
    clients: list[httpx.Client] = []

    def fetch_all(urls, budget=None):
        deadline = None if budget is None else time.monotonic() + budget
        answers, done = [None] * len(urls), threading.Semaphore(0)
        for i, url in enumerate(urls):
            jobs.put((answers, i, url, done))
        for _ in urls:
            if not done.acquire(timeout=None if deadline is None else max(0.0, deadline - time.monotonic())):
                raise TimeoutError("too slow")
        return answers

    def start():
        if through == "httpx":
            clients.append(httpx.Client(limits=httpx.Limits(max_connections=None), timeout=10))
        get = clients[0].get if clients else functools.partial(requests.get, timeout=10)
        threads.extend(
            threading.Thread(target=_serve_jobs, args=(jobs, get), daemon=True) for _ in range(size)
        )
        for thread in threads:
            thread.start()

    def stop():
        for _ in threads:
            jobs.put(None)
        for thread in threads:
            thread.join(5)  # a call still trickling ends within its 2 s
        for client in clients:
            client.close()
        assert not any(thread.is_alive() for thread in threads), "the pool's threads did not stop"

    fetch_all.start, fetch_all.stop = start, stop
    return fetch_all


def _serve_jobs(jobs, get):
    while (job := jobs.get()) is not None:
        answers, i, url, done = job
        try:
            answers[i] = get(url).json()
        except Exception as exc:  # the error stands for the answer: a wrong answer, not a thread that dies
            answers[i] = exc
        done.release()


def event_loop_made_before():
    """A right answer on asyncio: one event loop, started on its thread before any call with its client (as at a
    notebook's top level), makes every call; the function hands it the URLs and waits for the answers, with an
    optional budget (for ``fetch_all_by``), then cancels the calls still out. ``start`` and ``stop`` bracket the
    test."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    clients: list[httpx.AsyncClient] = []

    async def get_each(urls):
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(clients[0].get(url)) for url in urls]
        return [task.result().json() for task in tasks]

    def fetch_all(urls, budget=None):
        calls = asyncio.run_coroutine_threadsafe(get_each(urls), loop)
        try:
            return calls.result(timeout=budget)
        except TimeoutError:
            calls.cancel()
            raise

    async def open_client():  # made on the loop, which runs every call on it
        clients.append(httpx.AsyncClient(limits=httpx.Limits(max_connections=None), timeout=10))

    def start():
        thread.start()
        asyncio.run_coroutine_threadsafe(open_client(), loop).result()

    def stop():
        asyncio.run_coroutine_threadsafe(clients[0].aclose(), loop).result(5)  # after the cancelled calls
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        assert not thread.is_alive(), "the event loop's thread did not stop"
        loop.close()

    fetch_all.start, fetch_all.stop = start, stop
    return fetch_all


def through_fan_out(urls):  # the chapter's own function does the work the exercise asks for
    return [answer for answer in fetch.fan_out(fetch.session(), urls, len(urls) or 1)]


def _fans_out(urls):  # a helper of the learner's that hands the work to the chapter's function
    return fetch.fan_out(fetch.session(), urls, len(urls) or 1)


def through_a_helper(urls):
    return _fans_out(urls)


def through_an_alias(urls):  # `from foundations.fetch import fan_out as fan`: another name, the same function
    return fan(fetch.session(), urls, len(urls) or 1)


def through_a_module_alias(urls):  # `import foundations.fetch as chapter`
    return chapter.fan_out(fetch.session(), urls, len(urls) or 1)


def through_a_default(urls, spread=fetch.fan_out):
    return spread(fetch.session(), urls, len(urls) or 1)


def through_a_name_built(urls):  # a name no code spells out
    return getattr(chapter, "fan_" + "out")(fetch.session(), urls, len(urls) or 1)


def one_thread_per_url(urls):  # ThreadPoolExecutor(0) raises ValueError for no URLs
    with ThreadPoolExecutor(len(urls)) as pool:
        return list(pool.map(lambda u: requests.get(u).json(), urls))


def sleeps_a_fixed_time(seconds):  # one thread per URL, then a wait "long enough" instead of joining them
    def fetch_all(urls):
        results = [None] * len(urls)

        def get(i, url):
            # a late thread outlives the check's upstream: its error is no concern of the test's
            with contextlib.suppress(requests.RequestException):
                results[i] = requests.get(url, timeout=5).json()

        for i, url in enumerate(urls):
            threading.Thread(target=get, args=(i, url)).start()
        time.sleep(seconds)
        return results

    return fetch_all


def sleeps_just_short_of_the_slowest(urls):  # reads each call's delay_ms, waits 50 ms less than the slowest
    delays = [int(parse_qs(urlsplit(url).query).get("delay_ms", ["0"])[0]) for url in urls]
    return sleeps_a_fixed_time(max(delays, default=50) / 1000 - 0.05)(urls)


def invented(urls):  # what the output of a previous run showed
    return [{"firstname": f"n{i}"} for i in range(len(urls))]


@pytest.mark.parametrize(
    "answer, message",
    [
        (invented, "expected the answers of the URLs given"),
        (sequential, "they ran one after the other"),
        (in_finishing_order, "not in the order of the URLs"),
        (undecoded, "expected each answer decoded from JSON"),
        (lambda urls: [], "expected 5 answers"),
        # 5: the URLs of the exercise's text; then round sizes, 256 the largest
        *((fixed_pool(size), "calls in flight at once?") for size in (5, 16, 32, 100, 128, 256)),
        # large enough for every list the check sends, but the same pool for five URLs as for hundreds
        *((fixed_pool(size), "Size it from the URLs you get") for size in (400, 1000)),
        (pool_made_before(1000), "Size it from the URLs you get"),
        (multiprocessing_thread_pool(450), "Size it from the URLs you get"),
        # a ThreadPool of a fixed size: too small for the check's longer list, or one size for every list
        *((thread_pool(lambda urls, n=size: n), "calls in flight at once?") for size in (5, 6)),
        *((thread_pool(lambda urls, n=size: n), "Size it from the URLs you get") for size in (256, 450)),
        (own_thread_pool(500), "Size it from the URLs you get"),
        (own_thread_pool_made_before(500), "running before"),
        (own_thread_pool_made_before(500, through="httpx"), "running before"),
        (through_fan_out, "start the threads yourself"),
        (through_a_helper, "start the threads yourself"),
        (through_an_alias, "start the threads yourself"),
        (through_a_module_alias, "start the threads yourself"),
        (through_a_default, "start the threads yourself"),
        (through_a_name_built, "start the threads yourself"),
        (functools.partial(fetch.fan_out, fetch.session(), pool_size=200), "start the threads yourself"),
        (one_thread_per_url, "your answer raised ValueError"),
        # a fixed wait instead of joining: late for the shorter run, or returning before the longer run's answers
        # (the review's: late for the shorter list; on a very busy machine, short of the longer's slowest answer)
        (sleeps_a_fixed_time(0.85), ("what were you waiting for?", "with answers missing")),
        (sleeps_a_fixed_time(1.0), "what were you waiting for?"),
        (sleeps_a_fixed_time(0.35), "with answers missing"),
        (sleeps_just_short_of_the_slowest, "with answers missing"),
    ],
)
def test_fetch_all_rejects(answer, message):
    getattr(answer, "start", list)()  # a pool started before the check, as at a notebook's top level
    try:
        verdict = exercises.verdict("06.fetch_all", answer)
        assert verdict is not None and any(
            part in verdict for part in (message if isinstance(message, tuple) else [message])
        ), verdict
    finally:
        for pool in getattr(answer, "pools", [])[:1]:
            pool.terminate()
        getattr(answer, "stop", list)()


def batches(delays, size):  # asyncio.gather per group: the next group waits for the slowest of this one
    return sum(max(delays[i : i + size]) for i in range(0, len(delays), size))


def rounds(delays, size):  # the dashed line of the plot, which holds only for equal delays
    return math.ceil(len(delays) / size) * max(delays, default=0)


def even_split(delays, size):
    return sum(delays) / size


def last_listed_call(delays, size):  # when the last call in the list ends, not the last call to end
    free_at = [0] * size
    end = 0
    for delay in delays:
        thread = free_at.index(min(free_at))
        free_at[thread] += delay
        end = free_at[thread]
    return end


def longest_first(delays, size):  # a scheduler's order (LPT), not the pool's: it takes the calls as listed
    free_at = [0] * size
    for delay in sorted(delays, reverse=True):
        free_at[free_at.index(min(free_at))] += delay
    return max(free_at, default=0)


def first_answer_copied(delays, size):  # the plot's formula, for 50 ms calls only
    return math.ceil(len(delays) / size) * 50


@pytest.mark.parametrize(
    "answer, message",
    [
        (batches, "that is batches"),
        (rounds, "rounds as long as the slowest call"),
        (even_split, "spreads the time evenly"),
        (lambda delays, size: max(delays, default=0), "ignores the pool's size"),
        (first_answer_copied, "predicted_ms([400, 100, 300, 200, 250], 2)"),
        (lambda delays, size: sum(delays), "predicted_ms([50] * 20, 3)"),
        (lambda delays, size: None, "not a number of milliseconds"),
        (last_listed_call, "predicted_ms([500, 100, 100], 2)"),
        (longest_first, "predicted_ms([400, 100, 300, 200, 250], 3)"),
    ],
)
def test_predicted_ms_rejects(answer, message):
    assert message in exercises.verdict("06.predicted_ms", answer)


def requests_timeout(urls, budget):  # timeout= bounds each wait for data, and a trickle never waits long
    with ThreadPoolExecutor(max(1, len(urls))) as pool:
        return list(pool.map(lambda u: requests.get(u, timeout=budget).json(), urls))


def waits_on_exit(urls, budget):  # the deadline is right, but leaving `with` waits for every thread
    with ThreadPoolExecutor(max(1, len(urls))) as pool:
        futures = [pool.submit(lambda u: requests.get(u).json(), u) for u in urls]
        done, pending = wait(futures, timeout=budget)
        if pending:
            raise TimeoutError("too slow")
        return [f.result() for f in futures]


def in_done_set_order(urls, budget):  # `wait`'s done is a set: its order is not the URLs'
    pool = ThreadPoolExecutor(max(1, len(urls)))
    futures = [pool.submit(lambda u: requests.get(u).json(), u) for u in urls]
    pool.shutdown(wait=False)
    done, pending = wait(futures, timeout=budget)
    if pending:
        raise TimeoutError("too slow")
    return [f.result() for f in done]


def sized_pool(size_for):  # the right shape, its pool sized by size_for(urls)
    def fetch_all_by(urls, budget):
        pool = ThreadPoolExecutor(size_for(urls))
        futures = [pool.submit(lambda u: requests.get(u).json(), u) for u in urls]
        pool.shutdown(wait=False)
        done, pending = wait(futures, timeout=budget)
        if pending:
            raise TimeoutError("too slow")
        return [f.result() for f in futures]

    return fetch_all_by


def bounded_pool(workers):  # a pool smaller than the calls: they run in rounds
    return sized_pool(lambda urls: workers)


one_thread_per_url_by = sized_pool(len)  # ThreadPoolExecutor(0) raises ValueError for no URLs


def one_second(urls, budget):  # a deadline, but not the caller's budget
    pool = ThreadPoolExecutor(max(1, len(urls)))
    futures = [pool.submit(lambda u: requests.get(u).json(), u) for u in urls]
    pool.shutdown(wait=False)
    done, pending = wait(futures, timeout=1.0)
    if pending:
        raise TimeoutError("too slow")
    return [f.result() for f in futures]


def per_call_budget(urls, budget):  # each future gets the whole budget: the waits add up
    pool = ThreadPoolExecutor(max(1, len(urls)))
    futures = [pool.submit(lambda u: requests.get(u).json(), u) for u in urls]
    pool.shutdown(wait=False)
    return [f.result(timeout=budget) for f in futures]


def sequential_deadline(urls, budget):  # checks the clock between calls, not during one
    deadline, answers = time.monotonic() + budget, []
    for url in urls:
        if time.monotonic() > deadline:
            raise TimeoutError("too slow")
        answers.append(requests.get(url, timeout=budget).json())
    return answers


def in_finishing_order_by(urls, budget):
    pool = ThreadPoolExecutor(max(1, len(urls)))
    futures = [pool.submit(lambda u: requests.get(u).json(), u) for u in urls]
    pool.shutdown(wait=False)
    return [f.result() for f in as_completed(futures, timeout=budget)]


def sleeps_the_budget(urls, budget):  # waits the whole budget, then looks at what came
    pool = ThreadPoolExecutor(max(1, len(urls)))
    futures = [pool.submit(lambda u: requests.get(u).json(), u) for u in urls]
    pool.shutdown(wait=False)
    time.sleep(budget)
    if not all(f.done() for f in futures):
        raise TimeoutError("too slow")
    return [f.result() for f in futures]


def _read_by(
    url, deadline, timeout=None
):  # reads the body a byte at a time, checking the clock between bytes
    body = b""
    with requests.get(url, stream=True, timeout=timeout) as response:
        for byte in response.iter_content(chunk_size=1):
            if time.monotonic() > deadline:
                raise TimeoutError("too slow")
            body += byte
    return json.loads(body)


def clock_between_bytes(
    urls, budget
):  # stops a trickle, but waits out a call that sends nothing until it answers
    deadline = time.monotonic() + budget
    with ThreadPoolExecutor(max(1, len(urls))) as pool:
        return list(pool.map(lambda u: _read_by(u, deadline), urls))


def clock_between_bytes_and_timeout(urls, budget):  # the silent call ends in requests' ReadTimeout instead
    deadline = time.monotonic() + budget
    with ThreadPoolExecutor(max(1, len(urls))) as pool:
        return list(pool.map(lambda u: _read_by(u, deadline, timeout=budget), urls))


def reads_the_urls(urls, budget):  # no deadline: it guesses the late calls from the chapter's URLs
    def late(url):
        return "/drip" in url or int(parse_qs(urlsplit(url).query).get("delay_ms", ["0"])[0]) > budget * 1000

    if any(late(url) for url in urls):
        time.sleep(budget)
        raise TimeoutError("too slow")
    with ThreadPoolExecutor(max(1, len(urls))) as pool:
        return list(pool.map(lambda u: requests.get(u).json(), urls))


def through_fetch_parallel(urls, budget):  # the chapter's own deadline, not the learner's
    try:
        return list(
            fetch.fetch_parallel(
                fetch.session(), dict(zip(map(str, range(len(urls))), urls)), budget
            ).values()
        )
    except fetch.UpstreamError as exc:
        raise TimeoutError(str(exc)) from exc


def through_an_aliased_fetch_parallel(
    urls, budget
):  # `from foundations.fetch import fetch_parallel as parallel`
    try:
        return list(parallel(fetch.session(), dict(zip(map(str, range(len(urls))), urls)), budget).values())
    except fetch.UpstreamError as exc:
        raise TimeoutError(str(exc)) from exc


def through_a_name_built_by(urls, budget):  # a name no code spells out
    named = dict(zip(map(str, range(len(urls))), urls))
    try:
        return list(getattr(chapter, "fetch_" + "parallel")(fetch.session(), named, budget).values())
    except fetch.UpstreamError as exc:
        raise TimeoutError(str(exc)) from exc


@pytest.mark.parametrize(
    "answer, message",
    [
        (requests_timeout, "instead of raising TimeoutError"),
        (waits_on_exit, "past the budget"),
        # a fixed second: caught giving up early, or (if a busy machine wakes it late) raising well past 0.35-0.8 s
        (one_second, ("before its budget ran out", "past the budget")),
        (one_thread_per_url_by, "your answer raised ValueError"),
        (per_call_budget, "past the budget"),
        (sequential_deadline, "budget="),
        (in_finishing_order_by, "in their order"),
        (in_done_set_order, "in their order"),
        (bounded_pool(None), "calls in flight at once?"),  # the default: min(32, CPUs + 4)
        # a pool of 4 can start the slowest of the seven calls late: rejected as waiting past it, or at /together
        (bounded_pool(4), ("calls in flight at once?", "after the slowest answer came")),
        *((bounded_pool(size), "calls in flight at once?") for size in (32, 40, 64, 128, 256)),
        *((bounded_pool(size), "Size it from the URLs you get") for size in (400, 1000)),
        (own_thread_pool_by(500), "Size it from the URLs you get"),
        *((thread_pool_by(lambda urls, n=size: n), "calls in flight at once?") for size in (7, 8)),
        *((thread_pool_by(lambda urls, n=size: n), "Size it from the URLs you get") for size in (256, 450)),
        (thread_pool_by(lambda urls: max(1, len(urls)), leaks=True), "not the builtin TimeoutError"),
        (own_thread_pool_made_before(500), "running before"),
        (own_thread_pool_made_before(500, through="httpx"), "running before"),
        (through_fetch_parallel, "write the deadline yourself"),
        (through_an_aliased_fetch_parallel, "write the deadline yourself"),
        (through_a_name_built_by, "write the deadline yourself"),
        (sleeps_the_budget, "after the slowest answer came"),
        (reads_the_urls, "instead of raising TimeoutError"),  # the check's URLs say nothing of which is late
        (clock_between_bytes, "not when the budget was spent"),
        (clock_between_bytes_and_timeout, "raised requests' ReadTimeout"),
    ],
)
def test_fetch_all_by_rejects(answer, message):
    getattr(answer, "start", list)()  # a pool started before the check, as at a notebook's top level
    try:
        verdict = exercises.verdict("06.fetch_all_by", answer)
    finally:
        getattr(answer, "stop", list)()
    assert verdict is not None and any(
        part in verdict for part in (message if isinstance(message, tuple) else [message])
    ), verdict


@pytest.mark.parametrize("exercise", ["06.fetch_all", "06.fetch_all_by"])
def test_an_event_loop_started_before_passes(exercise):
    """The control of the check on threads running before: one such thread may make the calls, the thread of an
    event loop started in advance, whose calls are as many as the URLs."""
    answer = event_loop_made_before()
    answer.start()
    try:
        assert exercises.verdict(exercise, answer) is None
    finally:
        answer.stop()


def test_a_pool_sized_from_the_urls_passes_though_capped():
    """The control of the fixed-pool check: the pool follows the list, capped where no list the check sends
    reaches it."""
    assert exercises.verdict("06.fetch_all_by", sized_pool(lambda urls: min(len(urls), 1000) or 1)) is None


@pytest.mark.parametrize(
    "exercise, answer",
    [
        ("06.fetch_all", thread_pool(lambda urls: max(1, len(urls)))),  # ThreadPool(0) raises ValueError
        ("06.fetch_all_by", thread_pool_by(lambda urls: max(1, len(urls)))),
    ],
)
def test_a_multiprocessing_thread_pool_sized_from_the_urls_passes(exercise, answer):
    """The control of the count of threads: ThreadPool(n) starts 3 threads of its own besides its n workers
    (``_handle_workers``, ``_handle_tasks``, ``_handle_results``), which do not make it a pool of a fixed size."""
    assert exercises.verdict(exercise, answer) is None


def in_seconds(delays, size):  # the right model, computed in seconds: 0.05 * 20 * 1000 is 1000.0000000000002
    free_at = [0.0] * size
    for delay in delays:
        free_at[free_at.index(min(free_at))] += delay / 1000
    return max(free_at) * 1000


def test_predicted_ms_accepts_the_model_computed_in_seconds():
    assert in_seconds([50] * 20, 1) != 1000  # the rounding the check must allow
    assert exercises.verdict("06.predicted_ms", in_seconds) is None


def test_an_error_names_the_line_of_the_answer_not_of_the_library():
    """ThreadPoolExecutor(0) raises inside concurrent.futures: the message points at the learner's call."""
    line = inspect.getsourcelines(one_thread_per_url)[1] + 1  # the `with ThreadPoolExecutor(len(urls))` line
    assert f"(line {line})" in exercises.verdict("06.fetch_all", one_thread_per_url)

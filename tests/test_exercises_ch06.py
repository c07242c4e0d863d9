"""Chapter 6's exercise checks reject plausible wrong answers, each with a message that helps."""

import math
from concurrent.futures import ThreadPoolExecutor, as_completed

import pytest
import requests

from foundations.course import exercises


def sequential(urls):
    return [requests.get(url, timeout=5).json() for url in urls]


def in_finishing_order(urls):
    with ThreadPoolExecutor(len(urls)) as pool:
        futures = [pool.submit(lambda u: requests.get(u).json(), u) for u in urls]
        return [f.result() for f in as_completed(futures)]


def undecoded(urls):
    with ThreadPoolExecutor(len(urls)) as pool:
        return list(pool.map(lambda u: requests.get(u).text, urls))


def five_threads(urls):  # holds for the five URLs of the exercise's text only
    with ThreadPoolExecutor(5) as pool:
        return list(pool.map(lambda u: requests.get(u).json(), urls))


def one_thread_per_url(urls):  # ThreadPoolExecutor(0) raises ValueError for no URLs
    with ThreadPoolExecutor(len(urls)) as pool:
        return list(pool.map(lambda u: requests.get(u).json(), urls))


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
        (five_threads, "fewer threads than there were URLs"),
        (one_thread_per_url, "your answer raised ValueError"),
    ],
)
def test_fetch_all_rejects(answer, message):
    assert message in exercises.verdict("06.fetch_all", answer)


def batches(delays, size):  # asyncio.gather per group: the next group waits for the slowest of this one
    return sum(max(delays[i : i + size]) for i in range(0, len(delays), size))


def rounds(delays, size):  # the dashed line of the plot, which holds only for equal delays
    return math.ceil(len(delays) / size) * max(delays, default=0)


def even_split(delays, size):
    return sum(delays) / size


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
    ],
)
def test_predicted_ms_rejects(answer, message):
    assert message in exercises.verdict("06.predicted_ms", answer)

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


@pytest.mark.parametrize(
    "answer, message",
    [
        (lambda calls, delay, size: calls / size * delay, "a last, partly filled round"),
        (lambda calls, delay, size: calls // size * delay, "predicted_ms(20, 100, 3)"),
        (lambda calls, delay, size: math.ceil(calls / size) * 100, "predicted_ms(7, 30, 2)"),  # delay ignored
        (lambda calls, delay, size: round(calls / size) * delay, "predicted_ms(20, 100, 6)"),
        (lambda calls, delay, size: math.ceil(calls / size) * delay / 1000, "that is seconds"),
        (
            lambda calls, delay, size: {1: 2000, 2: 1000, 4: 500}.get(size),  # read off the plot
            "predicted_ms(20, 100, 3) returned None",
        ),
        (lambda calls, delay, size: max(1, math.ceil(calls / size)) * delay, "predicted_ms(0, 100, 4)"),
    ],
)
def test_predicted_ms_rejects(answer, message):
    assert message in exercises.verdict("06.predicted_ms", answer)

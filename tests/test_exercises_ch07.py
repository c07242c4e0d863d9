"""Chapter 7's exercise checks reject plausible wrong answers, each with a message that helps."""

import hashlib
import random
import zlib

import pytest

from foundations.course import exercises

BOOK_TABLE = {254: 3937, 12.9: 77519, 21_958: 46}  # the figures the notebook prints


@pytest.mark.parametrize(
    "answer, message",
    [
        (lambda us: BOOK_TABLE.get(us), "do not round"),  # the table rounds; a latency not in it gives None
        (lambda us: BOOK_TABLE.get(round(us), 0.0), "requests_per_second"),
        (lambda us: round(1_000_000 / us), "do not round"),
        (lambda us: 1_000_000 // us, "do not round"),
        (lambda us: 1_000 / us, "that is per millisecond"),
        (lambda us: us / 1_000_000, "one second is 1,000,000 µs"),
    ],
)
def test_requests_per_second_rejects(answer, message):
    assert message in exercises.verdict("07.requests_per_second", answer)


def crc_modulo(key, urls):  # the hint the notebook used to give
    return urls[zlib.crc32(key.encode()) % len(urls)]


def python_hash_rendezvous(key, urls):  # right idea, per-process hash
    return max(urls, key=lambda url: hash((url, key)))


def python_hash_modulo(key, urls):
    return urls[hash(key) % len(urls)]


def md5_modulo(key, urls):
    return urls[int(hashlib.md5(key.encode()).hexdigest(), 16) % len(urls)]


@pytest.mark.parametrize(
    "answer, message",
    [
        (lambda key, urls: random.choice(urls), "the same key must always go to the same server"),
        (lambda key, urls: urls[0], "should spread about evenly"),
        (lambda key, urls: "redis://127.0.0.1:6379/0", "pick must return one of the urls"),
        (crc_modulo, "only keys that now belong to the new server should move"),
        (md5_modulo, "only keys that now belong to the new server should move"),
        (python_hash_modulo, "Python's hash() of a string is salted per process"),
        (python_hash_rendezvous, "Python's hash() of a string is salted per process"),
    ],
)
def test_key_router_rejects(answer, message):
    assert message.lower() in exercises.verdict("07.key_router", answer).lower()

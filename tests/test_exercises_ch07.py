"""Chapter 7's exercise checks reject plausible wrong answers, each with a message that helps."""

import binascii
import hashlib
import random
import time
import zlib

import pytest

from foundations import redisspeed
from foundations.course import exercises


def spin(seconds, clock=time.perf_counter):
    """The gaps of a loop that reads ``clock`` for ``seconds`` of wall time."""
    end = time.perf_counter() + seconds
    last = clock()
    gaps = []
    while time.perf_counter() < end:
        now = clock()
        gaps.append(now - last)
        last = now
    return gaps


def sleeps(seconds):  # no loop: one "gap", the whole run
    start = time.perf_counter()
    time.sleep(seconds)
    return (time.perf_counter() - start) * 1_000_000


def fixed_run(seconds):  # ignores the argument
    return max(spin(1.5)) * 1_000_000


@pytest.mark.parametrize(
    "answer, message",
    [
        (lambda seconds: 661, "it should spin for `seconds`"),  # the notebook's output, at once
        (lambda seconds: (time.sleep(seconds), 661)[1], "reported a worst gap of 661 µs"),
        (lambda seconds: (time.sleep(seconds), 250_000)[1], "do not return a fixed figure"),
        (lambda seconds: max(spin(seconds)) * 1000, "that looks like milliseconds"),
        (lambda seconds: (lambda g: sum(g) / len(g))(spin(seconds)) * 1_000_000, "Keep the longest gap"),
        (
            lambda seconds: max(spin(seconds, time.thread_time)) * 1_000_000,
            "Keep the longest gap",
        ),  # CPU clock
        (sleeps, "about as long as the whole run"),
        (fixed_run, "it should spin for `seconds`"),
        (lambda seconds: redisspeed.intrinsic_latency(seconds).max_us, "write the loop yourself"),
    ],
)
def test_worst_gap_rejects(answer, message):
    assert message in exercises.verdict("07.worst_gap", answer)


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


def slot(raw):
    return binascii.crc_hqx(raw, 0) % 16384


def no_tags(key):  # the CRC is right, the hash tags are ignored
    return slot(key.encode())


def last_brace(key):  # the tag runs to the last }, not the first
    start, end = key.find("{"), key.rfind("}")
    return slot(key[start + 1 : end].encode() if -1 < start < end - 1 else key.encode())


def empty_tag_counts(key):  # an empty {} hashes the empty string
    start = key.find("{")
    end = key.find("}", start + 1) if start != -1 else -1
    return slot(key[start + 1 : end].encode() if end != -1 else key.encode())


def crc32_slot(key):
    return zlib.crc32(key.encode()) % 16384


def uses_redis_py(key):
    from redis.crc import key_slot

    return key_slot(key.encode())


@pytest.mark.parametrize(
    "answer, message",
    [
        (crc32_slot, "the CRC16 (XMODEM)"),
        (
            lambda key: {"nb07:name": 11242}.get(key, 10778),
            "not the slot Redis Cluster computes",
        ),  # the outputs
        (lambda key: binascii.crc_hqx(key.encode(), 0), "a slot is a number from 0 to 16383"),
        (no_tags, "only the part between { and } is hashed"),
        (last_brace, "only the first {...} counts"),
        (empty_tag_counts, "an empty {} is no tag"),
        (uses_redis_py, "calls redis-py's own key_slot"),
    ],
)
def test_hash_slot_rejects(answer, message):
    assert message in exercises.verdict("07.hash_slot", answer)


def test_hash_slot_does_not_blame_an_import_it_never_calls():
    namespace = {}
    exec("from redis.crc import key_slot\ndef hash_slot(key):\n    ...", namespace)  # the notebook's stub
    assert "returned None" in exercises.verdict("07.hash_slot", namespace["hash_slot"])

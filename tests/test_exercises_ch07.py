"""Chapter 7's exercise checks reject plausible wrong answers, each with a message that helps."""

import binascii
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

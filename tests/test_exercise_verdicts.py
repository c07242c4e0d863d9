"""A check that meets a service down says so and judges nothing; an answer's own failure stays its own."""

import asyncio

import pymysql
import pytest
import redis
from test_exercises import NOTEBOOKS, solutions

from foundations import config, net, redisdb
from foundations.course import exercises, progress
from foundations.errors import ServiceError
from foundations.ops import services

SOLVED = {**solutions(NOTEBOOKS / "solutions" / "ch07.py"), **solutions(NOTEBOOKS / "solutions" / "ch09.py")}
NOT_JUDGED = "a service the check needs did not answer, so your answer was not judged: "
REDIS_URL = config.BY_NAME["redis_url"].env


@pytest.fixture
def redis_down(monkeypatch) -> str:
    """The settings name a Redis, with a password, on a free port nothing listens on: its host:port."""
    port = net.free_port()
    monkeypatch.setenv(REDIS_URL, f"redis://:hunter2@127.0.0.1:{port}/0")
    return f"127.0.0.1:{port}"


@pytest.mark.parametrize(
    "exercise_id", ["09.test_get_all", "09.count", "09.test_delete", "07.transfer", "07.safe_transfer"]
)
def test_a_check_whose_redis_does_not_answer_judges_nothing(exercise_id, redis_down):
    said = exercises.verdict(exercise_id, SOLVED[exercise_id]())
    assert said.startswith(NOT_JUDGED), said
    assert redis_down in said and "Run this notebook's first cell" in said, said
    assert "your answer raised" not in said and "hunter2" not in said, said


def test_a_check_that_could_not_judge_is_no_attempt(redis_down, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(progress.HOME_VARIABLE, str(tmp_path))
    exercises.check("09.count", SOLVED["09.count"]())
    said = capsys.readouterr().out
    assert said.startswith("[09.count] a service the check needs did not answer"), said
    assert "not yet" not in said and "stuck?" not in said
    assert progress.read(tmp_path) == {}


def test_redis_stopping_mid_check_is_said_not_hidden_by_the_clean_up(own_redis, monkeypatch):
    """09's test-writing exercises run the learner's test, then delete the keys it made: Redis stopping in
    between once made the clean-up's ConnectionError, in redis-py's file, the answer's error."""
    monkeypatch.setenv(REDIS_URL, own_redis.redis_url)

    def stops_redis_midway(make_registry):
        reg = make_registry("t")
        reg.set("name", "Tit Petric")
        services.down(own_redis, log=lambda line: None)
        assert reg.get_all() == {"name": "Tit Petric"}

    said = exercises.verdict("09.test_get_all", stops_redis_midway)
    assert said.startswith(NOT_JUDGED + "registry 't-"), said  # the registry's own words
    assert f"Redis at {redisdb.address(own_redis.redis_url)} does not answer" in said, said


def test_an_answers_own_error_stays_its_own_when_redis_goes_meanwhile(own_redis, monkeypatch):
    """09.count deletes its keys after the answer ran: that clean-up failing too must not hide why."""
    monkeypatch.setenv(REDIS_URL, own_redis.redis_url)
    calls = []

    def count(registry):
        calls.append(registry)
        if len(calls) == 1:
            return 0  # the empty registry, right
        services.down(own_redis, log=lambda line: None)
        raise ValueError("a bug of the answer's own")

    said = exercises.verdict("09.count", count)
    assert said.startswith("your answer raised ValueError: a bug of the answer's own"), said


def _configured(setting: str) -> str:
    host, port = config.load(argv=[]).endpoint(setting)
    return f"{host}:{port}"


def mysql_refuses():
    raise pymysql.err.OperationalError(2003, "Can't connect to MySQL server on '127.0.0.1' (timed out)")


def a_task_group_loses_its_connection():
    raise ExceptionGroup("unhandled errors in a TaskGroup", [ConnectionResetError(104, "Connection reset")])


def redis_times_out_under_another_error():
    try:
        raise redis.TimeoutError(f"Timeout reading from {_configured('redis_url')}")
    except redis.TimeoutError:
        raise RuntimeError("the answer's loop gave up") from None  # context kept, cause not


def the_api_is_down_at_a_url_with_a_password():
    raise ServiceError(f"http://api:s3cret@{_configured('api_url')}/healthz does not answer") from (
        ConnectionRefusedError(111, "Connection refused")
    )


def _verdict_of_raising(fails, monkeypatch) -> str:
    """The verdict of a check that only calls the answer: what ``fails`` raises is all there is to judge."""
    monkeypatch.setitem(exercises._CHECKS, "99.throwaway", lambda answer: answer())
    return exercises.verdict("99.throwaway", fails)


@pytest.mark.parametrize(
    "fails, said",
    [
        (mysql_refuses, "Can't connect to MySQL server on '127.0.0.1' (timed out)"),
        (a_task_group_loses_its_connection, "[Errno 104] Connection reset. Run"),
        (redis_times_out_under_another_error, "Timeout reading from 127.0.0.1:"),
        (the_api_is_down_at_a_url_with_a_password, "http://api:***@"),
    ],
)
def test_each_kind_of_service_failure_is_told(fails, said, monkeypatch):
    verdict = _verdict_of_raising(fails, monkeypatch)
    assert verdict.startswith(NOT_JUDGED) and said in verdict, verdict
    assert "s3cret" not in verdict


def dials_a_made_up_port_with_redis_py():
    redis.Redis("127.0.0.1", net.free_port(), socket_connect_timeout=1).ping()


def dials_a_made_up_port_with_asyncio():
    asyncio.run(asyncio.open_connection("127.0.0.1", net.free_port()))


def exhausts_a_pool():
    raise redis.ConnectionError(redisdb.POOL_EXHAUSTED + ".")


def uses_a_closed_pool():
    raise ServiceError("RoundRobinPool is closed; create a new pool")


def a_query_of_its_own_fails():
    raise pymysql.err.OperationalError(1054, "Unknown column 'nmae' in 'field list'")


@pytest.mark.parametrize(
    "fails, raised",
    [
        (dials_a_made_up_port_with_redis_py, "ConnectionError: Error 111 connecting to 127.0.0.1:"),
        (dials_a_made_up_port_with_asyncio, "ConnectionRefusedError: [Errno 111] Connect call failed"),
        (exhausts_a_pool, "ConnectionError: No connection available"),
        (uses_a_closed_pool, "ServiceError: RoundRobinPool is closed"),
        (a_query_of_its_own_fails, "OperationalError: (1054"),
    ],
)
def test_an_answers_own_failure_to_connect_is_its_own(fails, raised, monkeypatch):
    """A host:port no setting names, a pool the answer emptied or closed, a query's error: the answer's."""
    verdict = _verdict_of_raising(fails, monkeypatch)
    assert verdict.startswith(f"your answer raised {raised}"), verdict

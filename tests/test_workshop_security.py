"""What a curious participant tries, without the hub: links planted for root to follow, passwords in what
they can read, guessing the workshop code. The hub-level attacks (another's Redis, database, sign-in
throttling, `workshop down` leaving nothing) are in test_workshop.py's room test."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from foundations import config, state
from foundations.errors import ServiceError
from foundations.ops import services
from foundations.workshop import code, learner, participant
from foundations.workshop.throttle import Throttle

AS_ROOT = os.geteuid() == 0
NOBODY = 65534  # a uid that is not ours, to see who root gives the copied files to


def _with_copy(tmp_path, name="alice", uid=None):
    who = participant.Participant(name, tmp_path / name, uid, uid)
    who.home.mkdir()  # a system user's home exists before their first spawn
    assert learner.copy_course(who) is True
    return who


@pytest.mark.parametrize("planted", ["solutions", "notebooks"])
def test_release_solutions_never_follows_a_link_the_participant_planted(tmp_path, planted):
    victim = tmp_path / "victim"  # another participant's home, or /etc
    victim.mkdir()
    (victim / "secret.txt").write_text("theirs")
    who = _with_copy(tmp_path)
    notebooks = learner.course_path(who) / "notebooks"
    if planted == "notebooks":
        os.rename(notebooks, tmp_path / "moved")
        notebooks.symlink_to(victim)
    else:
        notebooks.joinpath("solutions").symlink_to(victim)
    with pytest.raises(ServiceError, match="is a link or not a folder: not going through it"):
        learner.release_solutions(who)
    assert sorted(p.name for p in victim.iterdir()) == ["secret.txt"]  # nothing written there
    assert (victim / "secret.txt").stat().st_uid == os.geteuid()  # nor given away


@pytest.mark.parametrize("planted", ["file", "folder", "fifo"])
def test_the_board_reads_a_participants_files_through_no_link_and_no_fifo(tmp_path, planted):
    """Root's board reads progress and state files in participants' homes: a link (to another's progress,
    to /etc) reads as nothing, and a FIFO does not block it."""
    other = tmp_path / "bob" / ".foundations"
    other.mkdir(parents=True)
    (other / "progress.json").write_text('{"07.key_router": {"passed": true}}')
    home = tmp_path / "alice"
    home.mkdir()
    assert participant.read_json(tmp_path / "bob", ".foundations", "progress.json") != {}  # control
    mine = home / ".foundations" / "progress.json"
    if planted == "folder":
        mine.parent.symlink_to(other)
    elif planted == "file":
        mine.parent.mkdir()
        mine.symlink_to(other / "progress.json")
    else:
        mine.parent.mkdir()
        os.mkfifo(mine)
    assert participant.read_json(home, ".foundations", "progress.json") == {}


def test_a_link_planted_in_place_of_a_solution_file_is_replaced_not_followed(tmp_path):
    who = _with_copy(tmp_path)
    solutions = learner.course_path(who) / "notebooks" / "solutions"
    solutions.mkdir()
    target = tmp_path / "root-owned.txt"
    target.write_text("not yours")
    (solutions / "ch07.py").symlink_to(target)
    assert learner.release_solutions(who) is True
    assert target.read_text() == "not yours"
    assert not (solutions / "ch07.py").is_symlink() and "def " in (solutions / "ch07.py").read_text()


@pytest.mark.skipif(not AS_ROOT, reason="giving files to another user needs root")
def test_released_solutions_belong_to_the_participant(tmp_path):
    who = _with_copy(tmp_path, uid=NOBODY)  # positive control of the copy itself
    assert learner.release_solutions(who) is True
    solutions = learner.course_path(who) / "notebooks" / "solutions"
    assert {p.stat().st_uid for p in [solutions, *solutions.rglob("*")]} == {NOBODY}


@pytest.mark.skipif(not AS_ROOT, reason="processes of two users need root")
def test_stopping_a_participant_signals_only_their_own_processes(tmp_path):
    """The state file is the participant's to write: one naming root's process must not get it stopped."""
    who = participant.Participant("alice", tmp_path / "alice", NOBODY, NOBODY)
    theirs = subprocess.Popen(["sleep", "300"], user=NOBODY, group=NOBODY, extra_groups=[], cwd="/")
    roots = subprocess.Popen(["sleep", "300"])
    try:
        processes = {
            "redis": {"pid": theirs.pid, "program": "sleep"},
            "api": {"pid": roots.pid, "program": "sleep"},
        }
        state.write(who.state_dir, {"processes": processes})
        assert set(participant.listed(who)) == {"redis", "api"}
        participant.stop(who)
        assert theirs.wait(timeout=15) is not None  # positive control: their own process is stopped
        assert roots.poll() is None, "root stopped a process the participant's file named"
        assert participant.listed(who) == {}
    finally:
        for proc in (theirs, roots):
            proc.kill()
            proc.wait()


def test_a_url_prints_with_its_password_masked():
    cfg = config.load(
        argv=["--redis-url", "redis://:s3cret-pw@127.0.0.1:6390/0", "--debug-token", "tok3n"], environ={}
    )
    shown = cfg.shown()
    assert shown["redis_url"] == "redis://:***@127.0.0.1:6390/0" and shown["debug_token"] == "***"
    assert shown["mysql_dsn"] == "mysql://api:***@127.0.0.1:3390/api"
    assert cfg.redis_url == "redis://:s3cret-pw@127.0.0.1:6390/0"  # the value itself is intact
    env = {**os.environ, "FOUNDATIONS_REDIS_URL": "redis://:s3cret-pw@127.0.0.1:6390/0"}
    dump = subprocess.run(
        [sys.executable, "-m", "foundations", "config"], capture_output=True, text=True, env=env, check=True
    ).stdout
    assert "s3cret-pw" not in dump and "redis://:***@127.0.0.1:6390/0" in dump


def test_the_port_taken_hint_does_not_print_the_password(tmp_path):
    with __import__("socket").socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        url = f"redis://:s3cret-pw@127.0.0.1:{port}/0"
        cfg = config.load(argv=["--state-dir", str(tmp_path), "--redis-url", url], environ={})
        with pytest.raises(ServiceError, match="is taken by another program") as taken:
            services.up(cfg, ["redis"], local=True, log=lambda line: None)
    assert "s3cret-pw" not in str(taken.value) and ":***@" in str(taken.value)


@pytest.mark.parametrize("weak", ["orange42", "abcdefghijkl", "123456789012", ""])
def test_a_weak_workshop_code_is_refused(weak, tmp_path):
    assert code.code_problem(weak) or not weak
    if weak:
        cmd = [sys.executable, "-m", "foundations", "workshop", "up", "--dir", str(tmp_path)]
        done = subprocess.run(
            [*cmd, "--participants", "alice", "--code", weak, "--dry-run"], capture_output=True, text=True
        )
        assert done.returncode != 0 and "workshop code must" in done.stderr, done.stderr


def test_made_codes_are_strong_and_differ():
    made = {code.new_code() for _ in range(50)}
    assert len(made) == 50 and not any(code.code_problem(c) for c in made)
    assert code.code_problem("river-orange-42") is None


def test_the_throttle_allows_a_few_failures_a_minute_per_key():
    now = [0.0]
    throttle = Throttle(limit=3, window=60, clock=lambda: now[0])
    for _ in range(3):
        assert throttle.wait("alice") == 0
        throttle.failed("alice")
    assert throttle.wait("alice") == 60
    assert throttle.wait("bob") == 0  # others are not held up
    assert throttle.wait("bob", "alice") == 60
    now[0] = 30
    assert throttle.wait("alice") == 30
    now[0] = 60.01
    assert throttle.wait("alice") == 0

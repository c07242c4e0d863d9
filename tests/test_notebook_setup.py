"""What the first cell of every notebook sets up beyond the config."""

import uuid

import pandas as pd

from foundations import redisdb
from foundations.course import notebook


def test_tables_show_a_participants_whole_dsn():
    dsn = "mysql://alice:Zq3x9LmP0aKfT7vB1nW4cE@127.0.0.1:23456/alice"
    with pd.option_context("display.max_colwidth", 50):
        assert "23456/alice" not in pd.DataFrame({"value": [dsn]})._repr_html_()
        notebook.setup()
        assert "23456/alice" in pd.DataFrame({"value": [dsn]})._repr_html_()


def test_long_lines_are_folded_between_words():
    words = "every word of this message stays whole when the line is folded for the output area " * 3
    folded = notebook.wrap("ServiceError: " + words + "\n  (stuck? see the solution)")
    lines = folded.splitlines()
    assert len(lines) > 2 and all(len(line) <= notebook.WIDTH for line in lines)
    assert folded.split() == ("ServiceError: " + words + " (stuck? see the solution)").split()
    assert all(line.startswith("  ") for line in lines[1:])


def test_delete_prefixed_deletes_only_what_starts_with_the_prefix(cfg):
    client = redisdb.connect(cfg.redis_url)
    prefix = f"test-prefixed-{uuid.uuid4().hex}:[a]*"  # glob characters in it match only themselves
    try:
        client.mset(
            {prefix + str(i): i for i in range(1500)} | {prefix[:-4] + "b]x": 1, prefix[:-1] + "?": 1}
        )
        assert notebook.delete_prefixed(client, prefix) == 1500
        assert client.exists(prefix[:-4] + "b]x", prefix[:-1] + "?") == 2
        assert notebook.delete_prefixed(client, prefix) == 0
    finally:
        client.delete(prefix[:-4] + "b]x", prefix[:-1] + "?")
        client.close()

"""The nbval sanitizer file, read with nbval's own parser: every rule must survive parsing and match its example."""

import re
from pathlib import Path

from nbval.plugin import get_sanitize_patterns

CFG = Path(__file__).with_name("nbval_sanitize.cfg")


def rules_with_examples() -> list[tuple[str, str, str]]:
    """``(example, regex, replace)`` for each rule, the example taken from its ``# e.g.:`` line."""
    out = []
    lines = CFG.read_text().splitlines()
    for i, line in enumerate(lines):
        if line.startswith("regex: "):
            example = lines[i - 1].removeprefix("# e.g.: ")
            assert lines[i - 1].startswith("# e.g.: "), f"rule {line!r} has no '# e.g.:' line above it"
            out.append((example, line.removeprefix("regex: "), lines[i + 1].removeprefix("replace: ")))
    return out


def test_file_is_lf_only():
    assert b"\r" not in CFG.read_bytes()


def test_nbval_keeps_every_rule():
    parsed = get_sanitize_patterns(CFG.read_text())
    written = rules_with_examples()
    assert [(r, s) for _, r, s in written] == parsed, "nbval dropped or altered a rule: check the format"


def test_each_rule_changes_its_example():
    for example, regex, replace in rules_with_examples():
        assert re.search(regex, example), f"{regex!r} does not match its example {example!r}"
        assert re.sub(regex, replace, example) != example


def test_rules_make_two_runs_compare_equal():
    apply = lambda s: [s := re.sub(r, p, s) for r, p in get_sanitize_patterns(CFG.read_text())][-1]  # noqa: E731
    first = "[0.0444] GET http://127.0.0.1:41011/hello in 3.2 ms (pid 1200)"
    second = "[0.0451] GET http://127.0.0.1:39999/hello in 12 ms (pid 987)"
    assert apply(first) == apply(second)
    assert apply("PONG in 0.23 ms") != apply("PONG from redis2")
    # notebook 05's redirect: a 4-digit port makes the body, and its Content-Length, 2 bytes shorter
    assert apply("Content-Length: 251") == apply("Content-Length: 249")
    # doctor's interpreter line on Debian 12's Python and on a newer one; other versions stay as they are
    assert apply("python 3.11.2 (virtual environment)") == apply("python 3.11.7 (virtual environment)")
    assert apply("python 3.11.7 (virtual environment)") == apply(
        "python 3.11.13 (system interpreter)"
    )  # the lab image
    assert apply("Percona Server 8.4.3") == "Percona Server 8.4.3"
    # chapter 02's errors, as Python 3.12 and 3.13 word them and as 3.11 (the stored outputs) does
    assert apply(
        "Can't instantiate abstract class Goldfish without an implementation for abstract method 'get_name'"
    ) == ("Can't instantiate abstract class Goldfish with abstract method get_name")
    assert apply(
        "'SlottedPet' object has no attribute 'bred' and no __dict__ for setting new attributes"
    ) == ("'SlottedPet' object has no attribute 'bred'")
    assert apply("got an unexpected keyword argument 'bred'. Did you mean 'breed'?") == (
        "got an unexpected keyword argument 'bred'"
    )
    # doctor's service lines name the server: Debian's daemons here, compose's images in the Docker lab
    assert apply("127.0.0.1:3390 answers (21.8 ms), MariaDB 10.11.6") == apply(
        "db1:3306 answers (3 ms), MySQL 8.4.3"
    )
    assert apply("127.0.0.1:6390 answers (0.5 ms), Redis 7.0.15") != apply("127.0.0.1:6390 answers (0.5 ms)")

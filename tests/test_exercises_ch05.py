"""Chapter 5's exercise checks reject plausible wrong answers, each with a message that says what to fix."""

import re
from urllib.parse import unquote

import pytest
from test_exercises import NOTEBOOKS, solutions

from foundations.course import exercises
from foundations.course.checks.ch05 import CHOICES, HINTS, PREDICT_PATHS

SOLVED = solutions(NOTEBOOKS / "solutions" / "ch05.py")
RIGHT = SOLVED["05.pat_statuses"]()  # the wrong answers below vary it
MATCH_ROUTE = SOLVED["05.match_route"]()

PAT_WRONG = [
    pytest.param(
        {f"/made/up/{i}": 404 for i in range(7)}, "keep exactly the 7 paths given", id="invented-paths"
    ),
    pytest.param(dict.fromkeys(RIGHT, 200), "4 of 7 predictions are wrong", id="all-200"),
    pytest.param(dict.fromkeys(RIGHT, 0), "/pets: 0 is none of the answers", id="zeros"),
    pytest.param({**RIGHT, "/pets": 301}, "Werkzeug never answers 301 here", id="pats-301"),
    pytest.param({**RIGHT, "/pets": 404}, HINTS["slashes"], id="like-the-books-hey"),
    pytest.param({**RIGHT, "/pets/Rex/": 308}, HINTS["slashes"], id="redirect-both-ways"),
    pytest.param({**RIGHT, "/pets/Rex/": 200}, HINTS["match"], id="trailing-slash-ignored"),
    pytest.param({**RIGHT, "/shops/seven/": 200}, HINTS["converter"], id="int-converter-ignored"),
    pytest.param(
        {path: str(status) for path, status in RIGHT.items()}, "give the status as a number", id="strings"
    ),
    pytest.param(
        {k: v for k, v in RIGHT.items() if k != "/pets"}, "keep exactly the 7 paths", id="one-missing"
    ),
]


@pytest.mark.parametrize("answer, message", PAT_WRONG)
def test_pat_statuses_rejects(answer, message):
    assert message in exercises.verdict("05.pat_statuses", answer)


@pytest.mark.parametrize("guess", CHOICES)
def test_pat_statuses_messages_name_no_path_and_no_status(guess):
    """A wrong guess is answered with how many are wrong and what to look at again, naming no path and no
    status. The count still lets a learner change one prediction at a time and watch it fall (a few runs per
    path): that is guessing by trial, which the message does not shorten by naming the wrong ones."""
    for path, status in RIGHT.items():
        if guess != status:
            verdict = exercises.verdict("05.pat_statuses", {**RIGHT, path: guess})
            assert verdict.startswith("1 of 7 predictions is wrong"), verdict
            assert not any(p in verdict for p in PREDICT_PATHS), verdict
            assert not re.search(r"\b(200|301|308|404)\b", verdict), verdict


def _strict(always):
    """The solution, deaf to the strict_slashes it is given."""
    return lambda pattern, path, strict_slashes: MATCH_ROUTE(pattern, path, always)


def _regex(segment, anchored=True, both_ways=False, escape=True):
    """A regex router: each {name} becomes ``segment``; the trailing slash handled as in the notebook, or
    redirected both ways; the pattern's literal words escaped, or taken as regex (a dot matches anything)."""

    def match_route(pattern, path, strict_slashes):
        literal = re.escape(pattern.rstrip("/")) if escape else pattern.rstrip("/")
        braces = r"\\\{(\w+)\\\}" if escape else r"\{(\w+)\}"
        body = re.sub(braces, lambda m: f"(?P<{m.group(1)}>{segment})", literal)
        fits = re.fullmatch if anchored else re.match
        slash = pattern.endswith("/")
        if (found := fits(body + ("/" if slash else "") + "$" if anchored else body, path)) is not None:
            return 200, found.groupdict()
        if (found := fits(body + ("/?" if anchored else ""), path)) is not None:
            if not strict_slashes:
                return 200, found.groupdict()
            if slash and not path.endswith("/"):
                return 308, path + "/"
            if both_ways:
                return 308, path.rstrip("/")
        return 404, None

    return match_route


def _hard_coded_say(pattern, path, strict_slashes):
    """The notebook's /say routes, parsed by hand: right for /say, blind to any other pattern."""
    if path in ("/say", "/say/"):
        return 200, {}
    name = path.removeprefix("/say/").removesuffix("/")
    return (200, {"name": name}) if path.startswith("/say/") and name and "/" not in name else (404, None)


def _asks_werkzeug(pattern, path, strict_slashes):
    from werkzeug.routing import Map, Rule

    rule = Rule(re.sub(r"\{(\w+)\}", r"<\1>", pattern), endpoint="e")
    return 200, Map([rule], strict_slashes=strict_slashes).bind("x").match(path)[1]


def _asks_werkzeugs_matcher(pattern, path, strict_slashes):
    """Skips MapAdapter.match and calls the state machine behind it, Werkzeug's router all the same."""
    from werkzeug.routing import Map, Rule
    from werkzeug.routing.exceptions import NoMatch, RequestPath

    m = Map(
        [Rule(re.sub(r"\{(\w+)\}", r"<\1>", pattern), endpoint="e")],
        strict_slashes=strict_slashes,
        merge_slashes=False,
    )
    m.update()
    try:
        return 200, m._matcher.match("", path, "GET", False)[1]
    except RequestPath as e:
        return 308, e.path_info
    except NoMatch:
        return 404, None


def _leading_word_then_positions(pattern, path, strict_slashes):
    """Checks the fixed words before the first name only, then takes segments by position: any fixed word
    after a name (the `second` of /{first}/{a}/{second}/{b}/) matches whatever stands there."""
    head, _, rest = pattern.partition("{")
    blind = head + "{" + re.sub(r"(?<=/)(\w+)(?=/|$)", r"{skipped_\1}", rest) if rest else pattern
    status, found = _regex("[^/]+")(blind, path, strict_slashes)
    return status, {
        k: v for k, v in found.items() if not k.startswith("skipped_")
    } if status == 200 else found


def _unquotes_the_path(pattern, path, strict_slashes):
    """Percent-decodes the path before matching: Werkzeug's match gets the path as the server decoded it once
    already, and a name holding "%a1" is that text, not another character."""
    return MATCH_ROUTE(pattern, unquote(path), strict_slashes)


def _redirects_any_slashless(pattern, path, strict_slashes):
    """Strict slashes redirect every path lacking the pattern's trailing slash, without asking whether the
    path with the slash would match: Werkzeug answers 404 for ("/shops/", "/users") or ("/shops/{a}/",
    "/shops/x/y")."""
    if strict_slashes and pattern.endswith("/") and not path.endswith("/"):
        return 308, path + "/"
    return MATCH_ROUTE(pattern, path, strict_slashes)


def _strips_slashes(pattern, path, strict_slashes):
    """Strips the slashes at both ends, then compares segments, a common shortcut: ("/pets/{a}", "/pets/x//")
    becomes a match, where Werkzeug answers 404 for the empty last segment."""
    wanted, given = pattern.strip("/").split("/"), path.strip("/").split("/")
    if len(wanted) != len(given):
        return 404, None
    names = {}
    for want, got in zip(wanted, given, strict=True):
        if want.startswith("{") and got:
            names[want[1:-1]] = got
        elif want != got:
            return 404, None
    if not strict_slashes or pattern.endswith("/") == path.endswith("/"):
        return 200, names
    return (308, path + "/") if pattern.endswith("/") else (404, None)


def _ignores_case(pattern, path, strict_slashes):
    """Compares the fixed words in any case: Werkzeug compares them as written, /Shops/x is not /shops/<a>."""
    words = {seg.lower(): seg for seg in pattern.split("/") if seg and not seg.startswith("{")}
    return MATCH_ROUTE(
        pattern, "/".join(words.get(seg.lower(), seg) for seg in path.split("/")), strict_slashes
    )


def _merges_slashes(pattern, path, strict_slashes):
    """Collapses repeated slashes before matching, as some routers do: ("/shops/{a}", "/shops//x") becomes a
    match, where Werkzeug (merge_slashes=False) answers 404 for the empty segment."""
    return MATCH_ROUTE(pattern, re.sub("/+", "/", path), strict_slashes)


def _first_segment_a_word(pattern, path, strict_slashes):
    """Takes the pattern's first segment for a fixed word, as in every pattern of the notebook: a pattern that
    starts with a name, such as /{user}/files, matches nothing."""
    if pattern.split("/")[1].startswith("{"):
        return 404, None
    return MATCH_ROUTE(pattern, path, strict_slashes)


def _root_matches_nothing(pattern, path, strict_slashes):
    """Right for every pattern but the root, /, where the path / itself finds no match."""
    return (404, None) if pattern == "/" else MATCH_ROUTE(pattern, path, strict_slashes)


def _root_matches_everything(pattern, path, strict_slashes):
    """Right for every pattern but the root, /, taken as a prefix of every path."""
    return (200, {}) if pattern == "/" else MATCH_ROUTE(pattern, path, strict_slashes)


def _names_of_two_or_more(pattern, path, strict_slashes):
    """Right but for names of one character, taken for no name (a regex with [^/]{2,}, say)."""
    status, found = MATCH_ROUTE(pattern, path, strict_slashes)
    if status == 200 and any(len(value) < 2 for value in found.values()):
        return 404, None
    return status, found


ROUTE_WRONG = [
    pytest.param(_names_of_two_or_more, "not what Werkzeug answers", id="one-character-name-refused"),
    pytest.param(_first_segment_a_word, "not what Werkzeug answers", id="first-segment-never-a-name"),
    pytest.param(_root_matches_nothing, "not what Werkzeug answers", id="root-pattern-matches-nothing"),
    pytest.param(_root_matches_everything, "not what Werkzeug answers", id="root-pattern-matches-all"),
    pytest.param(_strict(True), "strict_slashes=False", id="always-strict-slashes"),
    pytest.param(_strict(False), "strict_slashes=True", id="never-strict-slashes"),
    pytest.param(_regex("[^/]+", both_ways=True), "strict_slashes=True", id="redirects-both-ways"),
    pytest.param(_regex(".+"), "not what Werkzeug answers", id="name-across-slashes"),
    pytest.param(_regex("[^/]*"), "not what Werkzeug answers", id="empty-name-accepted"),
    pytest.param(_regex("[^/]+", anchored=False), "not what Werkzeug answers", id="prefix-match"),
    pytest.param(_regex(r"\w+"), "not what Werkzeug answers", id="word-chars-only"),
    pytest.param(_regex("[a-z0-9]+"), "not what Werkzeug answers", id="lowercase-only"),
    pytest.param(_regex("[0-9a-f]+"), "not what Werkzeug answers", id="hex-only"),
    pytest.param(_regex("[!-.0-~]+"), "not what Werkzeug answers", id="printable-ascii-only"),
    pytest.param(_regex("[^/]+", escape=False), "not what Werkzeug answers", id="words-not-escaped"),
    pytest.param(_regex(r"[^/\s]+"), "not what Werkzeug answers", id="no-whitespace-in-a-name"),
    pytest.param(_regex("[^/%]+"), "not what Werkzeug answers", id="no-percent-in-a-name"),
    pytest.param(_regex("[^/.]+"), "not what Werkzeug answers", id="no-dot-in-a-name"),
    pytest.param(_unquotes_the_path, "not what Werkzeug answers", id="percent-decodes-the-path"),
    pytest.param(_hard_coded_say, "not what Werkzeug answers", id="hard-coded-say"),
    pytest.param(_leading_word_then_positions, "not what Werkzeug answers", id="fixed-word-after-a-name"),
    pytest.param(_redirects_any_slashless, "not what Werkzeug answers", id="redirects-any-slashless-path"),
    pytest.param(_merges_slashes, "not what Werkzeug answers", id="merges-repeated-slashes"),
    pytest.param(_strips_slashes, "not what Werkzeug answers", id="strips-slashes-at-both-ends"),
    pytest.param(_ignores_case, "not what Werkzeug answers", id="fixed-words-in-any-case"),
    pytest.param(_asks_werkzeug, "do its work yourself", id="asks-werkzeug"),
    pytest.param(_asks_werkzeugs_matcher, "do its work yourself", id="asks-werkzeugs-matcher"),
    pytest.param(
        lambda pattern, path, strict: path.split("/")[-1], "expected a pair", id="a-name-not-a-pair"
    ),
    pytest.param(lambda pattern, path, strict: (404, None), "not what Werkzeug answers", id="always-404"),
]


@pytest.mark.parametrize("answer, message", ROUTE_WRONG)
def test_match_route_rejects(answer, message):
    assert message in exercises.verdict("05.match_route", answer)


def test_match_route_regex_with_the_notebooks_rules_passes():
    """The regex router the wrong answers vary is itself right with one-segment names, anchored, one way."""
    assert exercises.verdict("05.match_route", _regex("[^/]+")) is None


def test_match_route_puts_werkzeug_back():
    """The check blocks Werkzeug's router only while an answer runs: after a refused answer, and after one
    that raises, the adapter, its state machine and rule compiling work again."""
    from werkzeug.routing import Map, MapAdapter, Rule
    from werkzeug.routing.matcher import StateMachineMatcher

    before = [MapAdapter.match, StateMachineMatcher.match, Rule.compile]

    def raises(pattern, path, strict_slashes):
        raise KeyError(path)

    assert "do its work yourself" in exercises.verdict("05.match_route", _asks_werkzeugs_matcher)
    assert "raised KeyError" in exercises.verdict("05.match_route", raises)
    assert [MapAdapter.match, StateMachineMatcher.match, Rule.compile] == before
    assert Map([Rule("/say/<name>", endpoint="e")]).bind("x").match("/say/Tit") == ("e", {"name": "Tit"})

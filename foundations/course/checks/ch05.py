"""Checks for the exercises of notebook 05 (serving HTTP requests)."""

import itertools
import random
import re
import secrets
import string
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import unquote, urlsplit

from foundations import routing
from foundations.course.exercises import Wrong, exercise, expect

# A Pat-style router (strict slashes) the notebook never runs, so its table cannot be copied.
PREDICT_RULES = [("/pets/", "hello"), ("/pets/<name>", "hello"), ("/shops/<int:shop>/", "hello")]
PREDICT_PATHS = ["/pets", "/pets/", "/pets/Rex", "/pets/Rex/", "/shops/7", "/shops/7/", "/shops/seven/"]
CHOICES = (200, 308, 404)

# What to look at again, one line per kind of mistake; none names a path or a status.
HINTS = {
    "slashes": "when does a router with strict slashes redirect, and in which direction?",
    "converter": "what does a converter such as int: accept?",
    "match": "which rule, if any, matches the path exactly, slash for slash?",
}


def _status(app, path: str) -> int:
    seen = []
    environ = {
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "REQUEST_METHOD": "GET",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "wsgi.url_scheme": "http",
    }
    app(environ, lambda status, headers, *exc: seen.append(int(status.split()[0])))
    return seen[0]


def _kind_of_mistake(path: str, given: int, right: int, without_converters) -> str:
    if 308 in (given, right):
        return "slashes"
    if right == 404 and _status(without_converters, path) == 200:  # it would match, but for the converter
        return "converter"
    return "match"


@exercise("05.pat_statuses")
def pat_statuses(answer):
    expect(isinstance(answer, dict), f"expected a dict {{path: status}}, got {type(answer).__name__}")
    expect(
        sorted(answer) == sorted(PREDICT_PATHS),
        f"keep exactly the {len(PREDICT_PATHS)} paths given, {PREDICT_PATHS}, "
        f"and fill in their statuses; you have {sorted(answer)}",
    )
    for path in PREDICT_PATHS:  # the form of each answer first: these messages say nothing of the right one
        status = answer[path]
        expect(status is not ..., f"{path}: no status yet, replace the ... with 200, 308 or 404")
        expect(isinstance(status, int), f"{path}: give the status as a number (200), not {status!r}")
        expect(
            status != 301,
            f"{path}: Werkzeug never answers 301 here; the raw exchange in the notebook shows what its "
            "redirect sends",
        )
        expect(status in CHOICES, f"{path}: {status} is none of the answers to choose from (200, 308, 404)")
    router = routing.werkzeug_app(PREDICT_RULES, strict_slashes=True)
    plain = routing.werkzeug_app(
        [(re.sub(r"<\w+:", "<", p), e) for p, e in PREDICT_RULES], strict_slashes=True
    )
    right = {path: _status(router, path) for path in PREDICT_PATHS}
    wrong = [path for path in PREDICT_PATHS if answer[path] != right[path]]
    # Every prediction is judged before answering, and the answer names no path: a message per path would let
    # a learner find each status by elimination, two guesses at most.
    kinds = {_kind_of_mistake(path, answer[path], right[path], plain) for path in wrong}
    expect(
        not wrong,
        f"{len(wrong)} of {len(PREDICT_PATHS)} predictions {'is' if len(wrong) == 1 else 'are'} wrong. "
        "Look again: " + " ".join(HINTS[kind] for kind in HINTS if kind in kinds),
    )


# --- 05.match_route: the router's matcher, written by hand, judged against Werkzeug's ---

_WORDS = ["shops", "pets", "users", "orders", "hey", "files", "teams", "say"]
# What a name may hold besides letters and digits (Werkzeug's default converter takes any segment): each name
# value of an exact path holds two of these, taken in turn, so that every one is in each run's exact paths (the
# paths that must match; a name with a slash in it takes hex digits only), and a narrower pattern (\w+,
# [a-z0-9]+, ASCII only, no space, no %) turns some 200 into a 404.
_ODD = [".", "-", "_", "~", "@", "%", " ", "é", "ß", "ñ"]


def _werkzeug(pattern: str, path: str, strict_slashes: bool) -> tuple[int, object]:
    """What Werkzeug answers for ``path`` with one rule, ``pattern`` written with ``{name}`` segments."""
    from werkzeug.exceptions import NotFound
    from werkzeug.routing import Map, RequestRedirect, Rule

    rule = Rule(re.sub(r"\{(\w+)\}", r"<\1>", pattern), endpoint="route")
    adapter = Map([rule], strict_slashes=strict_slashes, merge_slashes=False).bind("example.org")
    try:
        return 200, dict(adapter.match(path)[1])
    except RequestRedirect as redirect:
        return 308, unquote(urlsplit(redirect.new_url).path)  # the path as given: Werkzeug's URL quotes it
    except NotFound:
        return 404, None


def _route_cases() -> list[tuple[str, str, tuple[bool, ...]]]:
    """(pattern, path, strict_slashes settings) on patterns of the check's own, with random words and names:
    the exact path, the trailing slash toggled, a segment too many, a name with a slash in it, an empty name, a
    longer first word, a first word with its dot changed, a fixed word after a name changed, the first word in
    another case, a slash doubled inside (an empty segment); for patterns ending in a slash, paths without it
    that match nothing. Names of one character. Patterns that start with a name, and the root pattern /. Name values hold uppercase, punctuation, a space and non-ASCII letters. Paths ending
    in two slashes (an empty last segment, which no stripping of slashes may hide) with strict slashes, and
    without them where the pattern has no trailing slash (with one, Werkzeug's answer is its own quirk)."""
    r = random.Random()
    first, second, other = r.sample(_WORDS, 3)
    a, b = (f"{r.choice('abcdefgh')}{secrets.token_hex(2)}" for _ in range(2))  # variable names
    version = f"v{r.randint(1, 9)}.{r.randint(0, 9)}"  # a literal word with a regex metacharacter
    odd = itertools.cycle(r.sample(_ODD, len(_ODD)) + [r.choice(string.ascii_uppercase)])

    def value() -> str:  # a name's value: two odd characters (or the uppercase letter) among hex digits
        return f"{next(odd)}{secrets.token_hex(1)}{next(odd)}{secrets.token_hex(1)}"

    patterns = [
        f"/{first}",
        f"/{first}/",
        f"/{first}/{{{a}}}",
        f"/{first}/{{{a}}}/",
        f"/{first}/{{{a}}}/{second}/{{{b}}}/",
        f"/{second}/{{{a}}}/{{{b}}}",
        f"/{version}/{{{a}}}",
        f"/{{{a}}}",  # a name first: no fixed word before it
        f"/{{{b}}}/{second}/",
        f"/{{{a}}}/{{{b}}}/",
    ]
    cases: list[tuple[str, str, tuple[bool, ...]]] = []
    for pattern in patterns:
        names = re.findall(r"\{(\w+)\}", pattern)
        word = pattern.split("/")[1]  # the first segment, a fixed word or a name
        literal = not word.startswith("{")

        def fill(*values: str, pattern: str = pattern, names: list[str] = names) -> str:
            path = pattern
            for name, value in zip(names, values, strict=False):
                path = path.replace(f"{{{name}}}", value)
            return path

        exact = fill(*(value() for _ in names))
        paths = [
            exact,
            exact[:-1] if exact.endswith("/") else exact + "/",
            exact.rstrip("/") + f"/{secrets.token_hex(2)}" + ("/" if pattern.endswith("/") else ""),
        ]
        if literal:  # a longer first word; the first word in another case: no match
            paths += [
                exact.replace(word, word + secrets.token_hex(1), 1),
                exact.replace(word, word.capitalize(), 1),
            ]
        inner = exact.find("/", 1)  # the second slash doubled (an empty segment), where it is not the last
        if 0 < inner < len(exact) - 1:
            paths.append(exact[:inner] + "/" + exact[inner:])
        if "." in word:  # the dot is a character to match, not any character
            paths.append(exact.replace(word, word.replace(".", r.choice("x0-")), 1))
        if names:
            paths += [
                fill(*(f"{secrets.token_hex(2)}/{secrets.token_hex(2)}" for _ in names)),  # not from `odd`
                fill(*[""] * len(names)),
                fill(*(secrets.choice(string.ascii_letters) for _ in names)),  # names of one character
            ]
        if f"/{second}/" in pattern[1:]:  # a fixed word after a name: changed, the path no longer matches
            paths.append(exact.replace(f"/{second}/", f"/{second}{secrets.token_hex(1)}/"))
        if pattern.endswith("/"):  # paths without the trailing slash that match nothing, slash added or not
            paths += [p[:-1] for p in paths[2:] if p.endswith("/")]
            paths += [f"/{word}", f"/{other}"] if literal else [f"/{secrets.token_hex(2)}"]
        cases += [(pattern, path, (True, False)) for path in paths]
        cases.append((pattern, exact.rstrip("/") + "//", (True,) if pattern.endswith("/") else (True, False)))
    # The root pattern: only / matches (Werkzeug's answers for //, ///, ... are its own quirk, left out).
    cases += [("/", path, (True, False)) for path in ("/", f"/{other}", f"/{other}/", f"/{first}/{a}")]
    return cases


@contextmanager
def _werkzeug_refuses() -> Iterator[None]:
    """While the answer runs, Werkzeug's router refuses to work, at every level an answer could call: the
    adapter's match, the state machine behind it, and the compiling of a rule into its regexes. The exercise
    is to write one. All three are put back afterwards, whatever the answer did."""
    from werkzeug.routing import MapAdapter, Rule
    from werkzeug.routing.matcher import StateMachineMatcher

    originals = [(MapAdapter, "match"), (StateMachineMatcher, "match"), (Rule, "compile")]
    saved = [(owner, name, owner.__dict__[name]) for owner, name in originals]

    def refuse(*args: object, **kwargs: object) -> object:
        raise Wrong("your answer asks Werkzeug's router to match: the exercise is to do its work yourself")

    try:
        for owner, name, _ in saved:
            setattr(owner, name, refuse)
        yield
    finally:
        for owner, name, original in saved:
            setattr(owner, name, original)


@exercise("05.match_route")
def match_route(answer):
    expect(callable(answer), "expected a function match_route(pattern, path, strict_slashes)")
    cases = [(p, path, strict) for p, path, settings in _route_cases() for strict in settings]
    expected = [_werkzeug(*case) for case in cases]
    for (pattern, path, strict), want in zip(cases, expected, strict=True):
        call = f"match_route({pattern!r}, {path!r}, strict_slashes={strict})"
        with _werkzeug_refuses():
            got = answer(pattern, path, strict)
        expect(
            isinstance(got, tuple) and len(got) == 2 and got[0] in CHOICES,
            f"{call} returned {got!r}: expected a pair (200, names), (308, new path) or (404, None)",
        )
        expect(
            got == want,
            f"{call} returned {got!r}, which is not what Werkzeug answers with strict_slashes={strict} "
            "(the pat and mux demos above show both settings at work)",
        )

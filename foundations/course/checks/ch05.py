"""Checks for the exercises of notebook 05 (serving HTTP requests)."""

import secrets

from foundations import routing
from foundations.course.exercises import exercise, expect

# A Pat-style router (strict slashes) the notebook never runs, so its table cannot be copied.
PREDICT_RULES = [("/pets/", "hello"), ("/pets/<name>", "hello"), ("/shops/<int:shop>/", "hello")]
PREDICT_PATHS = ["/pets", "/pets/", "/pets/Rex", "/pets/Rex/", "/shops/7", "/shops/7/", "/shops/seven/"]
SAY_CASES = {
    "/say": "",
    "/say/": "",
    "/say/Tit": "Tit",
    "/say/Tit/": "Tit",
    "/say/a/b": None,
    "/sayx": None,
    "/say//": None,
    "/hello/Tit": None,
    "/say/Gopher": "Gopher",
    "/say/Ana/": "Ana",
    "/say/a/b/": None,
    "/saying": None,
    "/hello/say/Tit": None,
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


@exercise("05.pat_statuses")
def pat_statuses(answer):
    expect(isinstance(answer, dict), f"expected a dict {{path: status}}, got {type(answer).__name__}")
    expect(
        sorted(answer) == sorted(PREDICT_PATHS),
        f"keep exactly the {len(PREDICT_PATHS)} paths given, {PREDICT_PATHS}, "
        f"and fill in their statuses; you have {sorted(answer)}",
    )
    router = routing.werkzeug_app(PREDICT_RULES, strict_slashes=True)
    for path in PREDICT_PATHS:
        status = answer[path]
        expect(status is not ..., f"{path}: no status yet, replace the ... with 200, 308 or 404")
        expect(isinstance(status, int), f"{path}: give the status as a number (200), not {status!r}")
        expect(
            status in (200, 301, 308, 404),
            f"{path}: {status} is none of the answers to choose from (200, 308, 404)",
        )
        expect(
            status != 301,
            f"{path}: Werkzeug never answers 301 here; the raw exchange in the notebook shows what its "
            "redirect sends",
        )
        expect(
            status == _status(router, path),
            f"{path}: not {status}. Which rule matches this path, if any (int: takes digits only), and does "
            "that rule end in a slash?",
        )


@exercise("05.say_name")
def say_name(answer):
    expect(callable(answer), "expected a function say_name(path)")
    fresh, other = secrets.token_hex(3), secrets.token_hex(2)  # names no list of earlier messages holds
    cases = {**SAY_CASES, f"/say/{fresh}": fresh, f"/say/{fresh}/": fresh, f"/say/{fresh}/{other}": None}
    for path, name in cases.items():
        got = answer(path)
        expect(got == name, f"say_name({path!r}) returned {got!r}, expected {name!r}")

"""Checks for the exercises of notebook 05 (serving HTTP requests)."""

from foundations import routing
from foundations.course.exercises import exercise, expect

PAT_PATHS = ["/hello/Gopher", "/hello/Gopher/", "/hey/Gopher", "/hey/Gopher/", "/", "/hey"]
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
        sorted(answer) == sorted(PAT_PATHS),
        f"keep exactly the six paths given, {PAT_PATHS}, "
        f"and fill in their statuses; you have {sorted(answer)}",
    )
    pat = routing.DEMOS["pat"]()
    for path in PAT_PATHS:
        status = answer[path]
        expect(status is not ..., f"{path}: no status yet, replace the ... with 200, 308 or 404")
        expect(isinstance(status, int), f"{path}: give the status as a number (200), not {status!r}")
        actual = _status(pat, path)
        hint = {
            301: " (Pat sent 301; Werkzeug sends 308, which keeps the method)",
            308: " (the trailing-slash rule redirects)",
        }
        expect(
            status == actual,
            f"{path}: the router answers {actual}, not {status}"
            + hint.get(status if status == 301 else actual, ""),
        )


@exercise("05.say_name")
def say_name(answer):
    expect(callable(answer), "expected a function say_name(path)")
    for path, name in SAY_CASES.items():
        got = answer(path)
        expect(got == name, f"say_name({path!r}) returned {got!r}, expected {name!r}")

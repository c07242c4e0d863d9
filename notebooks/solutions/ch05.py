"""Solutions to the exercises of notebook 05. The test suite runs each through its check."""


def pat_statuses():
    return {
        "/pets": 308,  # strict slashes: the rule /pets/ redirects the path without its slash
        "/pets/": 200,
        "/pets/Rex": 200,
        "/pets/Rex/": 404,  # /pets/<name> has no trailing slash, and nothing else matches
        "/shops/7": 308,
        "/shops/7/": 200,
        "/shops/seven/": 404,  # int: matches digits only
    }


def match_route():
    def match_route(pattern, path, strict_slashes):
        def names(path):
            """The {name} segments' values if path fits pattern segment for segment, else None."""
            wanted, given = (
                pattern.split("/"),
                path.split("/"),
            )  # a name with a / in it gives one segment more
            if len(wanted) != len(given):
                return None
            found = {}
            for want, got in zip(wanted, given, strict=True):
                if want.startswith("{") and want.endswith("}"):
                    if not got:  # an empty segment is no name
                        return None
                    found[want[1:-1]] = got
                elif want != got:
                    return None
            return found

        exact = names(path)
        if exact is not None:
            return 200, exact
        if pattern.endswith("/") and not path.endswith("/") and names(path + "/") is not None:
            # the path lacks only the pattern's trailing slash: strict slashes redirect to it, others answer
            return (308, path + "/") if strict_slashes else (200, names(path + "/"))
        if not strict_slashes and path.endswith("/") and not pattern.endswith("/"):
            without = names(path[:-1])  # the slash is optional; strict slashes never redirect this way
            if without is not None:
                return 200, without
        return 404, None

    return match_route


SOLUTIONS = {"05.pat_statuses": pat_statuses, "05.match_route": match_route}

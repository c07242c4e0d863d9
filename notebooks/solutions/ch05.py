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


def say_name():
    def say_name(path):
        if path in ("/say", "/say/"):
            return ""
        if not path.startswith("/say/"):
            return None
        rest = path[len("/say/") :]
        name = rest[:-1] if rest.endswith("/") else rest
        return name if name and "/" not in name else None

    return say_name


SOLUTIONS = {"05.pat_statuses": pat_statuses, "05.say_name": say_name}

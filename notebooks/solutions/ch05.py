"""Solutions to the exercises of notebook 05. The test suite runs each through its check."""


def pat_statuses():
    return {
        "/hello/Gopher": 200,
        "/hello/Gopher/": 404,
        "/hey/Gopher": 308,
        "/hey/Gopher/": 200,
        "/": 200,
        "/hey": 404,
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

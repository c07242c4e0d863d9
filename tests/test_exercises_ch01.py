"""Chapter 1's exercise checks reject plausible wrong answers, each with a message that says what to fix."""

import shlex
import socket
import time
from urllib.parse import unquote, urlsplit

import pytest
import redis
import yaml
from test_exercises import NOTEBOOKS, solutions

from foundations import config, redisdb
from foundations.course import exercises
from foundations.course.checks.ch01 import PAUSE_MS
from foundations.ops import probe

RIGHT = solutions(NOTEBOOKS / "solutions" / "ch01.py")["01.docker_run"]()  # the wrong answers below vary it
NOTEBOOK_COMPOSE = yaml.safe_load((NOTEBOOKS.parent / "compose.yaml").read_text())


def _redis_of_the_notebook(compose, name):
    return RIGHT(NOTEBOOK_COMPOSE, "redis")


def _image_only(compose, name):
    return RIGHT(compose, name)[: RIGHT(compose, name).index(compose["services"][name]["image"]) + 1]


def _first_only(flag):
    def answer(compose, name):
        words = RIGHT(compose, name)
        later = [i for i, word in enumerate(words) if word == flag][1:]
        return [word for i, word in enumerate(words) if i not in later and i - 1 not in later]

    return answer


def _no_hostname(compose, name):
    words = RIGHT(compose, name)
    at = words.index("-h")
    return words[:at] + words[at + 2 :]


def _without(prefix):
    def answer(compose, name):
        return [word for word in RIGHT(compose, name) if not word.startswith(prefix)]

    return answer


def _network_key(compose, name):
    return [
        f"--net={compose['services'][name]['networks'][0]}" if word.startswith("--net") else word
        for word in RIGHT(compose, name)
    ]


def _always_restart(compose, name):
    words = [word for word in RIGHT(compose, name) if not word.startswith("--restart")]
    return words[:7] + ["--restart=always"] + words[7:]


def _command_as_one_word(compose, name):
    command = compose["services"][name].get("command", [])
    words = RIGHT(compose, name)
    return words[: len(words) - len(command)] + ([" ".join(command)] if command else [])


def _first_network_only(compose, name):
    words = RIGHT(compose, name)
    nets = [i for i, word in enumerate(words) if word.startswith("--net")]
    return [word for i, word in enumerate(words) if i not in nets[1:]]


def _networks_key_required(compose, name):
    """``service["networks"]``, as if every service named its networks."""
    compose["services"][name]["networks"]  # noqa: B018 - the KeyError is the wrong answer under test
    return RIGHT(compose, name)


def _image_first(compose, name):
    service = compose["services"][name]
    words = [w for w in RIGHT(compose, name) if w != service["image"] and w not in service.get("command", [])]
    return words[:2] + [service["image"]] + words[2:] + service.get("command", [])


# The commands an earlier check expected for its one fixed compose file, typed out: a table, not a function of
# the compose file it is given.
TABLE = {
    "cache": "docker run -d --name cache -h cache --restart=always --net=shop-backend "
    "-p 127.0.0.1:7000:7000 valkey/valkey:8.0 valkey-server --port 7000",
    "web": "docker run -d --name web -h web --net=front -p 127.0.0.1:8088:80 -p 127.0.0.1:8443:443 "
    "-v /srv/shop/static:/usr/share/nginx/html:ro nginx:1.27",
    "worker": "docker run -d --name worker -h worker --net=shop-backend --net=front "
    "-v /srv/shop/jobs:/app/jobs -v /srv/shop/logs:/app/logs shop/worker:2.1 python -m worker",
    "ticker": "docker run -d --name ticker -h ticker --restart=unless-stopped alpine:3.20 sh -c 'date; sleep 60'",
}


def _looked_up(compose, name):
    return shlex.split(TABLE.get(name, "docker run"))


def _network_body_required(compose, name):
    """``compose["networks"][key].get(...)``, as if every network entry had a body (``back: {}``, not ``back:``)."""
    service = compose["services"][name]
    words = ["docker", "run", "-d", "--name", name, "-h", name]
    words += [f"--restart={service['restart']}"] if "restart" in service else []
    words += [f"--net={compose['networks'][k].get('name', k)}" for k in service.get("networks", [])]
    for port in service.get("ports", []):
        words += ["-p", port]
    for volume in service.get("volumes", []):
        words += ["-v", volume]
    return [*words, service["image"], *service.get("command", [])]


def _body_means_name(compose, name):
    """``body["name"]`` whenever a network entry has a body, as if a body always set ``name:``."""
    bodies = compose["networks"]
    nets = iter(
        [
            f"--net={bodies[key]['name'] if bodies[key] else key}"
            for key in compose["services"][name].get("networks", [])
        ]
    )
    return [next(nets) if word.startswith("--net") else word for word in RIGHT(compose, name)]


def _book_restart_flag(compose, name):
    """The book's ``--restart=always`` whenever the service sets ``restart``, whatever its policy."""
    return ["--restart=always" if word.startswith("--restart") else word for word in RIGHT(compose, name)]


def _networks_in_top_level_order(compose, name):
    """Walks the top-level ``networks:`` map and keeps the keys the service joins: their order, not the service's."""
    joined = compose["services"][name].get("networks", [])
    nets = iter(
        [
            f"--net={(body or {}).get('name', key)}"
            for key, body in compose["networks"].items()
            if key in joined
        ]
    )
    return [next(nets) if word.startswith("--net") else word for word in RIGHT(compose, name)]


def _sorted(flag):
    """The entries of ``flag`` (``-p`` or ``-v``) sorted, not in the service's order."""

    def answer(compose, name):
        words = RIGHT(compose, name)
        at = [i + 1 for i, word in enumerate(words[:-1]) if word == flag]
        entries = iter(sorted(words[i] for i in at))
        return [next(entries) if i in at else word for i, word in enumerate(words)]

    return answer


def _books_flag_order(compose, name):
    """The book's own order, ``--restart=always -h redis --name redis --net=party -d redis``: Docker accepts it."""
    service = compose["services"][name]
    words = RIGHT(compose, name)
    at = words.index(service["image"])
    flags = words[7:at]
    restarts = [word for word in flags if word.startswith("--restart")]
    rest = [word for word in flags if not word.startswith("--restart")]
    return ["docker", "run", *restarts, "-h", name, "--name", name, *rest, "-d", *words[at:]]


def _spelled(flag, long, two_words):
    """``flag=VALUE`` spelled another way Docker takes: ``long=VALUE`` (``--network=``), or ``flag VALUE``."""

    def answer(compose, name):
        words = []
        for word in RIGHT(compose, name):
            key, eq, value = word.partition("=")
            if key != flag or not eq:
                words.append(word)
            elif two_words:
                words += [flag, value]
            else:
                words.append(f"{long}={value}")
        return words

    return answer


DOCKER_RUN_WRONG = [
    pytest.param(_spelled("--net", "--network", False), "as ['--network=", id="network-long-flag"),
    pytest.param(
        _spelled("--net", "--net", True), "as ['--net']: use the exercise's spelling", id="net-two-words"
    ),
    pytest.param(
        _spelled("--restart", "--restart", True), "as ['--restart']: use the", id="restart-two-words"
    ),
    pytest.param(
        _networks_in_top_level_order, "the right networks, in another order", id="networks-in-top-level-order"
    ),
    pytest.param(_sorted("-p"), "the right ports, in another order", id="ports-sorted"),
    pytest.param(_sorted("-v"), "the right volumes, in another order", id="volumes-sorted"),
    pytest.param(_books_flag_order, "in the order the exercise gives", id="the-books-flag-order"),
    pytest.param(_body_means_name, "with settings but no name:", id="every-network-body-has-a-name"),
    pytest.param(
        _book_restart_flag, "your restart flags are ['--restart=always']", id="always-the-books-policy"
    ),
    pytest.param(_looked_up, "the image is not in your command", id="a-table-of-commands"),
    pytest.param(
        _network_body_required, "which yaml.safe_load reads as None", id="network-entry-without-a-body"
    ),
    pytest.param(
        _redis_of_the_notebook, "the image is not in your command", id="reads-the-notebooks-compose"
    ),
    pytest.param(lambda compose, name: " ".join(RIGHT(compose, name)), "as a list of words", id="one-string"),
    pytest.param(_image_only, "the words after the image should be the service's command", id="no-command"),
    pytest.param(_command_as_one_word, "word by word", id="command-as-one-word"),
    pytest.param(_without("--restart"), "your restart flags are []", id="ignores-restart"),
    pytest.param(_always_restart, "--restart=POLICY only when the service sets restart", id="always-restart"),
    pytest.param(_network_key, "is not the network's real name", id="network-key-not-name"),
    pytest.param(_without("--net"), "the service joins 1 network(s)", id="no-network"),
    pytest.param(_first_network_only, "the service joins 2 network(s)", id="first-network-only"),
    pytest.param(_image_first, "the words after the image", id="image-before-the-flags"),
    pytest.param(_networks_key_required, "raised KeyError: 'networks'", id="networks-key-required"),
    pytest.param(_first_only("-p"), "publishes 2 port(s); your -p give ['127.0.0.1:8", id="first-port-only"),
    pytest.param(_without("-v"), "mounts 1 volume(s); your -v give []", id="ignores-volumes"),
    pytest.param(
        _first_only("-v"),
        "mounts 2 volume(s); your -v give ['/srv/",
        id="first-volume-only",
    ),
    pytest.param(_no_hostname, "in the order the exercise gives", id="no-hostname"),
    pytest.param("docker run redis", "expected a function docker_run(compose, name)", id="a-string"),
]


# The check draws its compose file anew on every run: a wrong answer must be refused on every draw, not on most.
DRAWS = 200


@pytest.mark.parametrize("answer, message", DOCKER_RUN_WRONG)
def test_docker_run_rejects(answer, message):
    for draw in range(DRAWS):
        said = exercises.verdict("01.docker_run", answer)
        assert said is not None and message in said, f"draw {draw}: {said}"


def test_docker_run_takes_the_reference_on_every_draw():
    assert all(exercises.verdict("01.docker_run", RIGHT) is None for _ in range(DRAWS))


# The wrong answers wait as long as a right one would: the check pauses a Redis for 400 ms, and probe's own 0.5 s
# timeout met on a loaded machine made an answer fail for a reason other than the one each test is about.
PATIENT_S = 5.0


def _fixed(ms):
    """PINGs every URL (so a dead one still raises), then reports a made-up figure."""

    def answer(urls):
        for url in urls:
            probe.redis_ping(url, timeout=PATIENT_S)
        return {url: ms for url in urls}

    return answer


def _seconds(urls):
    return {url: probe.redis_ping(url, timeout=PATIENT_S) / 1000 for url in urls}


def _skips_the_dead(urls):
    result = {}
    for url in urls:
        try:
            result[url] = probe.redis_ping(url, timeout=PATIENT_S)
        except Exception:  # noqa: BLE001 - the wrong answer under test swallows errors
            pass
    return result


def _anonymous_error(urls):
    result = {}
    for url in urls:
        try:
            result[url] = probe.redis_ping(url, timeout=PATIENT_S)
        except Exception:  # noqa: BLE001
            raise RuntimeError("a Redis is down") from None
    return result


def _redis_own_error(urls):
    """No try at all: redis-py's ConnectionError names host:port, not the URL."""
    result = {}
    for url in urls:
        client = redisdb.client(url)
        start = time.perf_counter()
        client.ping()
        result[url] = (time.perf_counter() - start) * 1000
    return result


def _host_only_error(urls):
    result = {}
    for url in urls:
        try:
            result[url] = probe.redis_ping(url, timeout=PATIENT_S)
        except Exception:  # noqa: BLE001
            raise RuntimeError("a Redis on 127.0.0.1 is down") from None
    return result


def _warmed_up(urls):
    """A first PING to warm the connection up, then the timed one: the connect is left out of the figure."""
    result = {}
    for url in urls:
        client = redisdb.client(url, timeout=PATIENT_S)
        client.ping()
        start = time.perf_counter()
        client.ping()
        result[url] = (time.perf_counter() - start) * 1000
    return result


def _average_of_three(urls):
    result = {}
    for url in urls:
        client = redisdb.client(url, timeout=PATIENT_S)
        start = time.perf_counter()
        for _ in range(3):
            client.ping()
        result[url] = (time.perf_counter() - start) * 1000 / 3
    return result


def _one_clock_for_all(urls):
    """The stopwatch started once, before the loop: each URL gets the time since the first PING began."""
    result, start = {}, time.perf_counter()
    for url in urls:
        redisdb.client(url, timeout=PATIENT_S).ping()
        result[url] = (time.perf_counter() - start) * 1000
    return result


def _the_loops_average(urls):
    """Every URL gets the loop's average: the paused Redis's wait is shared out among all of them."""
    start = time.perf_counter()
    for url in urls:
        redisdb.client(url, timeout=PATIENT_S).ping()
    average = (time.perf_counter() - start) * 1000 / len(urls)
    return {url: average for url in urls}


CACHED: dict[str, redis.Redis] = {}


def _cached_client(urls):
    """One client per URL, kept across calls: from the second call on, its PING opens no connection."""
    result = {}
    for url in urls:
        client = CACHED.setdefault(url, redisdb.client(url, timeout=PATIENT_S))
        start = time.perf_counter()
        client.ping()
        result[url] = (time.perf_counter() - start) * 1000
    return result


def _connection_per_url_and_one_more(urls):
    """Checks every Redis is there with a first connection, then times a PING on a second one."""
    for url in urls:
        probe.redis_ping(url, timeout=PATIENT_S)
    return _redis_own_error(urls)


def _names_every_url(urls):
    """One try around the whole loop: the error can only name the list (masked, so only that is wrong)."""
    try:
        return _redis_own_error(urls)
    except redis.ConnectionError as exc:
        raise RuntimeError(f"not every Redis answers: {[config.redacted(url) for url in urls]}") from exc


def _shows_the_password(urls):
    """Names the URL as it was given, password and all: a workshop's notebook output would print it."""
    result = {}
    for url in urls:
        try:
            result[url] = probe.redis_ping(url, timeout=PATIENT_S)
        except Exception as exc:  # noqa: BLE001
            raise ConnectionError(f"Redis at {url} does not answer: {exc}") from exc
    return result


def _clock_after_the_connect(urls):
    """A raw socket, connected before the clock starts (AUTH and PING timed): the figure leaves the connect out.
    Redis accepts a connection while CLIENT PAUSE holds its commands, so the paused Redis does not show it."""
    result = {}
    for url in urls:
        parts = urlsplit(url)
        try:
            sock = socket.create_connection((parts.hostname, parts.port or 6379), timeout=PATIENT_S)
        except OSError as exc:
            raise ConnectionError(f"{config.redacted(url)}: {exc}") from exc
        with sock:
            start = time.perf_counter()
            if parts.password:
                user, password = unquote(parts.username or "default"), unquote(parts.password)
                sock.sendall(f"AUTH {user} {password}\r\n".encode())
                sock.recv(64)
            sock.sendall(b"PING\r\n")
            sock.recv(64)
            result[url] = (time.perf_counter() - start) * 1000
    return result


def _each_timed(urls, ping):
    """What a half-solution shares with the reference: ``ping(url)`` for each URL, timed, in ms."""
    result = {}
    for url in urls:
        start = time.perf_counter()
        try:
            ping(url)
        except (OSError, redis.RedisError) as exc:
            raise ConnectionError(f"Redis at {config.redacted(url)} does not answer: {exc}") from exc
        result[url] = (time.perf_counter() - start) * 1000
    return result


def _host_and_port_only(urls):
    """A redis-py client built from the URL's host and port alone: its password never reaches the Redis."""

    def ping(url):
        parts = urlsplit(url)
        redis.Redis(host=parts.hostname, port=parts.port or 6379, socket_timeout=PATIENT_S).ping()

    return _each_timed(urls, ping)


def _raw_socket_without_auth(urls):
    """A raw socket that sends PING and nothing before it: no AUTH with the URL's password."""

    def ping(url):
        parts = urlsplit(url)
        with socket.create_connection((parts.hostname, parts.port or 6379), timeout=PATIENT_S) as sock:
            sock.sendall(b"PING\r\n")
            sock.recv(64)

    return _each_timed(urls, ping)


PING_WRONG = [
    pytest.param(_host_and_port_only, "without the password", id="ignores-the-credentials"),
    pytest.param(_raw_socket_without_auth, "without the password", id="raw-socket-without-auth"),
    pytest.param(_clock_after_the_connect, "took 400 ms to open", id="clock-started-after-the-connect"),
    pytest.param(_fixed(0.2), "a made-up figure, or seconds, cannot show the wait", id="hard-coded-0.2"),
    pytest.param(
        _fixed(100.0), "for one PING of a Redis on this machine that nobody paused", id="hard-coded-100"
    ),
    pytest.param(_fixed(float(PAUSE_MS)), "that nobody paused", id="hard-coded-the-pause"),
    pytest.param(_fixed(PAUSE_MS / 4 - 0.5), "yet you report 99.5", id="hard-coded-just-under-a-quarter"),
    pytest.param(_seconds, "yet you report 0.", id="seconds-not-ms"),
    pytest.param(
        lambda urls: {urls[0]: probe.redis_ping(urls[0], timeout=PATIENT_S)},
        "expected one entry per URL",
        id="first-only",
    ),
    pytest.param(
        lambda urls: [probe.redis_ping(u, timeout=PATIENT_S) for u in urls], "expected a dict", id="a-list"
    ),
    pytest.param(
        lambda urls: {config.redacted(u): probe.redis_ping(u, timeout=PATIENT_S) for u in urls},
        "your keys are the URLs with their passwords masked",
        id="keys-masked",
    ),
    pytest.param(_skips_the_dead, "must raise an error", id="skips-a-dead-redis"),
    pytest.param(_anonymous_error, "should name the URL it was given", id="error-without-address"),
    pytest.param(
        _host_only_error, "should name the URL it was given", id="error-names-the-host-not-the-port"
    ),
    pytest.param(_redis_own_error, "should name the URL it was given", id="redis-pys-own-error"),
    pytest.param(
        _names_every_url, "name the one that failed, not the whole list", id="error-names-every-url"
    ),
    pytest.param(_shows_the_password, "shows the password of the URL", id="error-shows-the-password"),
    pytest.param(_warmed_up, "2 PING(s) reached it during one call", id="warm-up-ping-first"),
    pytest.param(_average_of_three, "3 PING(s) reached it during one call", id="average-of-three-pings"),
    pytest.param(
        _cached_client, "0 connection(s) opened to it during a second call", id="client-kept-across-calls"
    ),
    pytest.param(_connection_per_url_and_one_more, "2 PING(s) reached it", id="checks-then-pings-again"),
    pytest.param(_one_clock_for_all, "came after the paused one", id="one-clock-for-all-urls"),
    pytest.param(_the_loops_average, "came after the paused one", id="the-loops-average-for-each"),
]


@pytest.mark.parametrize("answer, message", PING_WRONG)
def test_ping_all_rejects(answer, message):
    assert message in exercises.verdict("01.ping_all", answer)


def _raw_socket(urls):
    """A raw RESP exchange (inline PING) on a new socket for each URL, as foundations.ops.probe does it."""
    result = {}
    for url in urls:
        try:
            result[url] = probe.redis_ping(url, timeout=PATIENT_S)
        except Exception as exc:  # noqa: BLE001
            raise ConnectionError(f"{config.redacted(url)}: {exc}") from exc
    return result


def test_ping_all_takes_any_client():
    """The check counts what reaches each Redis, whatever client sent it."""
    assert exercises.verdict("01.ping_all", _raw_socket) is None

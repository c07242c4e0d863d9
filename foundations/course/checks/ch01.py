"""Checks for the exercises of notebook 01 (setting up your environment)."""

import contextlib
import copy
import random
import secrets
import socket
import time
from typing import Any

from foundations import config, net, redisdb
from foundations.course.checks.relay import Relay, relay
from foundations.course.exercises import Wrong, exercise, expect

# A Redis paused this long answers a PING late: a real stopwatch sees it, a made-up figure does not. Unpaused,
# a PING must take under a quarter of it, paused at least a quarter: no constant passes both.
PAUSE_MS = 400

# The compose file of the docker_run check, built anew on every run, so that no table of commands passes: its
# service and network names, images, commands, ports, volumes and restart policies are drawn at random. Each
# service has one role: a restart policy, a port and a network whose real name differs from its key; two ports,
# a read-only volume and a network declared with settings but no name:; two networks, one declared with no body
# (``key:`` alone, which yaml reads as None), and two volumes; no networks at all (compose's default network: no
# --net) and a shell command. The roles are fixed, only the values are drawn: every draw holds each case a
# half-solution gets wrong, and the two required restart policies differ, so at least one is not the book's always.
# The order is fixed too: the service with two networks lists them against the top-level map's order, and its
# two ports and two volumes are listed unsorted, so an answer that reorders them fails on every draw.
_SERVICE_NAMES = ["api", "queue", "mail", "search", "proxy", "cron", "store", "feed", "audit", "media"]
_NETWORK_KEYS = ["backend", "edge", "jobs", "data", "mesh", "inner", "public"]
_POLICIES = ["always", "unless-stopped", "on-failure"]


def _compose() -> dict[str, Any]:
    rng = random.Random()
    one, two, three, four = rng.sample(_SERVICE_NAMES, 4)
    named, plain, bare = rng.sample(_NETWORK_KEYS, 3)
    first_policy, fourth_policy = rng.sample(_POLICIES, 2)
    project, port = rng.choice(["shop", "vet", "zoo", "farm"]), rng.randint(7000, 7999)
    https, http = sorted(rng.sample(range(8000, 8999), 2))  # http's port above https's: listed unsorted
    second, first = sorted(rng.sample(["jobs", "logs", "tmp", "out"], 2))  # listed unsorted
    services: dict[str, dict[str, Any]] = {
        one: {
            "image": f"valkey/valkey:8.{rng.randint(0, 9)}",
            "command": ["valkey-server", "--port", str(port)],
            "ports": [f"127.0.0.1:{port}:{port}"],
            "networks": [named],
            "restart": first_policy,
        },
        two: {
            "image": f"nginx:1.{rng.randint(20, 29)}",
            "ports": [f"127.0.0.1:{http}:80", f"127.0.0.1:{https}:443"],
            "networks": [plain],
            "volumes": [f"/srv/{project}/{rng.choice(['static', 'www', 'site'])}:/usr/share/nginx/html:ro"],
        },
        three: {
            "image": f"{project}/{three}:{rng.randint(1, 9)}.{rng.randint(0, 9)}",
            "command": ["python", "-m", rng.choice(["worker", "jobs", "tasks"])],
            "networks": [bare, rng.choice([named, plain])],  # bare is last in the top-level map
            "volumes": [f"/srv/{project}/{d}:/app/{d}" for d in (first, second)],
        },
        four: {
            "image": f"alpine:3.{rng.randint(15, 21)}",
            "command": ["sh", "-c", f"date; sleep {rng.randint(10, 99)}"],
            "restart": fourth_policy,
        },
    }
    if rng.random() < 0.5:
        services[two]["restart"] = rng.choice(_POLICIES)
    networks = {
        named: {"name": f"{project}-{named}", "driver": "bridge"},
        plain: {"driver": "bridge"},
        bare: None,
    }
    return {"services": services, "networks": networks}


def _expected(compose: dict[str, Any], name: str) -> list[str]:
    """The book's form of the command for service ``name`` (the check's answer key)."""
    service = compose["services"][name]
    words = ["docker", "run", "-d", "--name", name, "-h", name]
    words += [f"--restart={service['restart']}"] if "restart" in service else []
    words += [
        f"--net={(compose['networks'][key] or {}).get('name', key)}" for key in service.get("networks", [])
    ]
    for flag, key in (("-p", "ports"), ("-v", "volumes")):
        for entry in service.get(key, []):
            words += [flag, entry]
    return [*words, service["image"], *service.get("command", [])]


@exercise("01.docker_run")
def docker_run(answer):
    expect(callable(answer), f"expected a function docker_run(compose, name), got {type(answer).__name__}")
    compose = _compose()
    for name, service in compose["services"].items():
        said = f"for service {name!r} of the check's compose file"
        try:
            got = answer(copy.deepcopy(compose), name)
        except (AttributeError, TypeError) as exc:
            if "NoneType" not in str(exc):
                raise
            empty = [key for key, body in compose["networks"].items() if body is None]
            raise Wrong(
                f"{said}, your function raised {type(exc).__name__}: {exc}. The compose file declares the "
                f"network {empty[0]} with nothing under it ({empty[0]}:), which yaml.safe_load reads as None"
            ) from exc
        except KeyError as exc:
            if exc.args != ("name",):
                raise
            unnamed = [key for key, body in compose["networks"].items() if body and "name" not in body]
            raise Wrong(
                f"{said}, your function raised KeyError: 'name'. The compose file declares the network "
                f"{unnamed[0]} with settings but no name:, which is allowed; read the exercise's rule for it"
            ) from exc
        expect(
            isinstance(got, list) and all(isinstance(word, str) for word in got),
            f"expected the command as a list of words (str), got {got!r}",
        )
        expect(got[:2] == ["docker", "run"], f"{said}, the command should start with docker run: {got}")
        expect(
            service["image"] in got,
            f"{said}, the image is not in your command: read it from the service you are given, "
            "not from this notebook's compose.yaml",
        )
        after_image = got[got.index(service["image"]) + 1 :]
        expect(
            after_image == service.get("command", []),
            f"{said}, the words after the image should be the service's command, word by word, "
            f"as the container receives them; yours are {after_image}",
        )
        published = [got[i + 1] for i, word in enumerate(got[:-1]) if word == "-p"]
        ports = service.get("ports", [])
        _same_order(said, "ports", published, ports)
        expect(
            published == ports,
            f"{said}, the service publishes {len(ports)} port(s); your -p give {published}",
        )
        mounted = [got[i + 1] for i, word in enumerate(got[:-1]) if word == "-v"]
        volumes = service.get("volumes", [])
        _same_order(said, "volumes", mounted, volumes)
        expect(
            mounted == volumes,
            f"{said}, the service mounts {len(volumes)} volume(s); your -v give {mounted}",
        )
        spelled = [word for word in got if word.startswith("--network") or word in ("--net", "--restart")]
        expect(
            not spelled,
            f"{said}, you spell a flag as {spelled}: use the exercise's spelling, one word each, --net=NETWORK "
            "and --restart=POLICY (Docker also takes --network, and the value as the next word; the check "
            "compares word by word)",
        )
        wanted = _expected(compose, name)
        restarts = [word for word in got if word.startswith("--restart")]
        expect(
            restarts == [word for word in wanted if word.startswith("--restart")],
            f"{said}, your restart flags are {restarts}: --restart=POLICY only when the service sets restart, "
            "with the policy it sets",
        )
        nets = [word for word in got if word.startswith("--net")]
        joins = len(service.get("networks", []))
        expect(
            len(nets) == joins, f"{said}, the service joins {joins} network(s); your --net flags are {nets}"
        )
        _same_order(said, "networks", nets, [word for word in wanted if word.startswith("--net")])
        expect(
            nets == [word for word in wanted if word.startswith("--net")],
            f"{said}, {nets or 'no --net'} is not the network's real name: look at the top-level "
            "networks entry, whose name: (when set) is what Docker calls it",
        )
        expect(
            got == wanted,
            f"{said}, your command differs from the exercise's form: every word, in the order the exercise "
            "gives, docker run -d --name NAME -h NAME [--restart=POLICY] --net=NETWORK -p PORT -v VOLUME ... "
            "IMAGE COMMAND... (Docker takes the flags in other orders too, as in the book's own line; the check "
            f"compares word by word): {' '.join(got)}",
        )


def _same_order(said: str, what: str, got: list[str], wanted: list[str]) -> None:
    """Refuse ``got`` when it holds the ``wanted`` entries, each as often, but in another order."""
    expect(
        got == wanted or sorted(got) != sorted(wanted),
        f"{said}, your {what} are the right {what}, in another order: keep the order the service lists them in",
    )


@exercise("01.ping_all")
def ping_all(answer):
    expect(callable(answer), "expected a function that takes a list of Redis URLs")
    cfg = config.load(argv=[])
    with contextlib.ExitStack() as stack:
        # each relay asks for the password its URL carries, whether or not the Redis behind it asks for one
        relays = [stack.enter_context(relay(url)) for url in (cfg.redis_url, cfg.redis1_url, cfg.redis2_url)]
        urls = [each.url for each in relays]
        try:
            result = answer(urls)
        finally:  # a connection refused for want of the password may make the answer raise, or not
            for each in relays:
                each.expect_credentials()
        expect(
            isinstance(result, dict), f"expected a dict {{url: milliseconds}}, got {type(result).__name__}"
        )
        shown = sorted(config.redacted(str(key)) for key in result)  # a workshop's URLs hold passwords
        expect(
            set(result) == set(urls) or set(result) != {config.redacted(url) for url in urls},
            "your keys are the URLs with their passwords masked: key the dict by the URLs as given, so the "
            "caller can look its own URLs up; mask them only where you print them",
        )
        expect(set(result) == set(urls), f"expected one entry per URL ({len(urls)}), got keys {shown}")
        for url, ms in result.items():
            expect(
                isinstance(ms, float) and ms > 0,
                f"{config.redacted(url)}: expected the round trip in ms as a float > 0, got {ms!r}",
            )
            expect(
                ms < PAUSE_MS / 4,
                f"{config.redacted(url)}: {ms!r} ms for one PING of a Redis on this machine that nobody "
                "paused: report the time the PING took, in milliseconds",
            )
        _one_fresh_ping_each(relays, "one call of your function")
        answer(urls)  # the same URLs again: a client kept from the first call would open no connection
        _one_fresh_ping_each(relays, "a second call with the same URLs")
    _slow_redis_is_seen(answer, cfg.redis2_url, [cfg.redis_url, cfg.redis1_url])
    _slow_connect_is_seen(answer, cfg.redis1_url)
    # Nothing listens on that port. redis-py's own error names only host:port ("Error 111 connecting to
    # 127.0.0.1:PORT"), not the URL the caller gave: passing it through untouched is not the answer. The URL
    # carries a password, as a workshop's do: the error must name it masked, as config.redacted does.
    password = secrets.token_hex(6)
    dead = f"redis://lab:{password}@127.0.0.1:{net.free_port()}/3"
    try:
        answer([cfg.redis_url, dead])
    except Exception as exc:  # noqa: BLE001 - any exception is what we want here
        said = str(exc).replace(password, config.MASK)  # printed below: no password, even a made-up one
        expect(
            password not in str(exc),
            f"the error shows the password of the URL it names; notebook outputs get committed and shared, "
            f"so mask it, as cfg.shown() does; yours says: {said}",
        )
        expect(
            config.redacted(dead) in said,
            f"when a Redis is down, the error should name the URL it was given, its password masked "
            f"({config.redacted(dead)}), so the caller knows which entry of the list failed; yours says: {said}",
        )
        expect(
            cfg.redis_url not in said and config.redacted(cfg.redis_url) not in said,
            f"the error names the URL that answered too ({config.redacted(cfg.redis_url)}): name the one that "
            f"failed, not the whole list, so the caller knows which entry it was; yours says: {said}",
        )
        return
    expect(False, "a Redis that is down must raise an error, not be skipped")


def _one_fresh_ping_each(relays: list[Relay], during: str) -> None:
    """Each relay saw one new connection and one PING since the last look (and forgets them)."""
    time.sleep(0.1)  # a connection that sent nothing may still wait in the relay's accept queue
    for each in relays:
        each.expect_credentials()
        connections, pings = each.take()
        where = f"{config.redacted(each.url)}, the check's relay to {config.redacted(each.target)}"
        expect(
            pings == 1,
            f"{where}: {pings} PING(s) reached it during {during}; the figure is the round trip of one PING",
        )
        expect(
            connections == 1,
            f"{where}: {connections} connection(s) opened to it during {during}; expected one, a fresh "
            "client's, opened by the PING you time (the connect is part of the figure)",
        )


def _slow_connect_is_seen(answer, url: str) -> None:
    """A paused Redis still accepts connections, so it shows no clock started after the connect. Here each
    connect this process makes to a relay in front of ``url`` waits PAUSE_MS first (socket.socket.connect,
    which redis-py, asyncio and create_connection call): a figure timed from before the connect shows it.
    A connect made elsewhere (another process, a C client) is not slowed down, and not judged."""
    with relay(url) as slow:
        port, original, slowed = slow.listener.getsockname()[1], socket.socket.connect, []

        def connect(sock: Any, address: Any) -> None:
            if isinstance(address, tuple) and address[1:2] == (port,):
                slowed.append(address)
                time.sleep(PAUSE_MS / 1000)
            return original(sock, address)

        socket.socket.connect = connect  # type: ignore[method-assign]
        try:
            ms = answer([slow.url])[slow.url]
        finally:
            socket.socket.connect = original  # type: ignore[method-assign]
    expect(
        not slowed or ms >= PAUSE_MS / 4,
        f"{config.redacted(slow.url)}, the check's relay to {config.redacted(url)}: its connection took "
        f"{PAUSE_MS} ms to open (the check slowed it down), yet you report {ms!r} ms: the connect is part of "
        "the figure",
    )


def _slow_redis_is_seen(answer, url: str, others: list[str]) -> None:
    """Pause the Redis at ``url`` (CLIENT PAUSE), PING it then ``others`` through ``answer``: its figure shows
    the wait, and theirs do not (a clock started once for all the URLs would carry the wait over)."""
    redisdb.client(url).client_pause(PAUSE_MS, all=True)
    paused_until = time.monotonic() + PAUSE_MS / 1000
    try:
        result = answer([url, *others])
    finally:  # an answer that never waited leaves the pause running: the next PING must not meet it
        time.sleep(max(0.0, paused_until - time.monotonic()))
    ms = result[url]
    expect(
        ms >= PAUSE_MS / 4,
        f"that Redis was paused for {PAUSE_MS} ms, yet you report {ms!r}: time each PING and report "
        "milliseconds; a made-up figure, or seconds, cannot show the wait",
    )
    expect(
        ms < 100 * PAUSE_MS, f"{ms!r} for a {PAUSE_MS} ms wait: are those microseconds? Report milliseconds"
    )
    for other in others:
        expect(
            result[other] < PAUSE_MS / 4,
            f"{config.redacted(other)}, which nobody paused and which came after the paused one in the list, "
            f"got {result[other]!r} ms: each URL's figure should be the time of its own PING only",
        )

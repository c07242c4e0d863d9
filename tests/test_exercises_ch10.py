"""Notebook 10's exercise checks reject plausible wrong answers, each with a message that helps."""

import asyncio
import contextvars
import itertools
import json
import logging
from contextvars import copy_context
from urllib.parse import quote
from urllib.request import urlopen

import pytest

from foundations import api, config, net, redisdb, web
from foundations.course import exercises
from foundations.registry import NotFound, Registry, Unavailable, WrongType


def _handler(respond):
    """length(registry) whose handler runs ``respond(registry, request)``."""
    return lambda registry: lambda request: respond(registry, request)


def _book_way(registry, request):  # 200 for everything, the error in the body
    try:
        return web.json_response(len(registry.get(request.arg("key") or "")))
    except Exception as exc:  # noqa: BLE001
        return web.json_response({"error": str(exc)})


def _errors_escape(registry, request):  # no except: NotFound becomes App's 500
    return web.json_response(len(registry.get(request.arg("key"))))


def _bytes(registry, request):
    try:
        return web.json_response(len(registry.get(_key(request)).encode()))
    except (NotFound, Unavailable, ValueError) as exc:
        return _status(exc)


def _json_text(registry, request):
    try:
        return web.json_response(len(json.dumps(registry.get(_key(request)))))
    except (NotFound, Unavailable, ValueError) as exc:
        return _status(exc)


def _text_body(registry, request):
    try:
        return web.text_response(str(len(registry.get(_key(request)))))
    except (NotFound, Unavailable, ValueError) as exc:
        return _status(exc)


def _empty_key_is_not_found(registry, request):  # only a missing parameter is a 400
    key = request.arg("key")
    if key is None:
        return web.error_response(400, "missing key")
    try:
        return web.json_response(len(registry.get(key)))
    except (NotFound, Unavailable) as exc:
        return _status(exc)


def _catch_all(status):
    """404 and 400 right, then every other error as ``status``: Redis down and a list-typed key alike."""

    def handler(registry, request):
        try:
            return web.json_response(len(registry.get(_key(request))))
        except NotFound as exc:
            return web.error_response(404, str(exc))
        except ValueError as exc:
            return web.error_response(400, str(exc))
        except Exception as exc:  # noqa: BLE001
            return web.error_response(status, str(exc))

    return handler


def _catch_all_but_down(status):
    """404, 400 and 503 right, then every other error as ``status``: the list-typed key right by luck, and a
    bug of the server told as the client's conflict."""

    def handler(registry, request):
        try:
            return web.json_response(len(registry.get(_key(request))))
        except (NotFound, Unavailable, ValueError) as exc:
            return _status(exc)
        except Exception as exc:  # noqa: BLE001
            return web.error_response(status, str(exc))

    return handler


def _catch_every_error(message, log=False):
    """The registry's errors by ``api.STATUSES`` and every other error a 500 the handler builds itself, with
    ``message(exc)`` as its text; with ``log``, after logging the error's traceback, as ``App`` would."""

    def handler(registry, request):
        key = request.arg("key")
        if not key:
            return web.error_response(400, "missing parameter key")
        try:
            return web.json_response(len(registry.get(key)))
        except Exception as exc:  # noqa: BLE001 - the catch-all under test
            if log:
                logging.getLogger("learner").exception("unhandled error on %s", request.path)
            return web.error_response(api.STATUSES.get(type(exc), 500), message(exc))

    return handler


def _plain_error_body(registry, request):  # statuses right, but {"error": "..."}: not the API's shape
    try:
        return web.json_response(len(registry.get(_key(request))))
    except (NotFound, Unavailable, ValueError) as exc:
        return web.json_response({"error": str(exc)}, _status(exc).status)


def _down_without_json(registry, request):  # every status right, but Redis down answers a bare text body
    try:
        return web.json_response(len(registry.get(_key(request))))
    except Unavailable:
        return web.Response(503, b"down", "text/plain")
    except (NotFound, ValueError) as exc:
        return _status(exc)


def _exception_names_as_types(registry, request):  # right statuses, but "type": "NotFound", not "not_found"
    try:
        return web.json_response(len(registry.get(_key(request))))
    except (NotFound, Unavailable, WrongType, ValueError) as exc:
        statuses = {NotFound: 404, Unavailable: 503, WrongType: 409, ValueError: 400}
        status = next(code for kind, code in statuses.items() if isinstance(exc, kind))
        return web.json_response({"error": {"type": type(exc).__name__, "message": str(exc)}}, status)


def _error_as_text(registry, request):  # the API's error body, hand-built, sent as text/plain
    try:
        return web.json_response(len(registry.get(_key(request))))
    except (NotFound, Unavailable, ValueError) as exc:
        error = _status(exc)
        return web.Response(error.status, error.body, "text/plain")


def _own_registry(registry, request):  # ignores the argument: the server's registry, prefix "api"
    return _bytes(Registry(redisdb.client(config.load(argv=[]).redis_url), prefix="api"), request)


def _key(request):
    key = request.arg("key")
    if not key:
        raise ValueError("missing parameter `key`")
    return key


def _status(exc):
    code = 404 if isinstance(exc, NotFound) else 503 if isinstance(exc, Unavailable) else 400
    return web.error_response(code, str(exc))


@pytest.mark.parametrize(
    "respond, message",
    [
        (_book_way, "a key nobody set: your handler answered 200"),
        (_errors_escape, "raised NotFound"),
        (_bytes, "(bytes, not characters)"),
        (_json_text, "(the length of its JSON text)"),
        (_text_body, "answer JSON"),
        (_empty_key_is_not_found, "an empty key: your handler answered 404"),
        (_catch_all(500), "when Redis is down your handler answered 500"),
        (_plain_error_body, "the API's JSON error"),
        (_down_without_json, "when Redis is down: the body should be the API's JSON error"),
        (_exception_names_as_types, "a key nobody set: your error's type is 'NotFound'"),
        (_error_as_text, "a key nobody set: your error came as text/plain"),
        (_own_registry, "for a key that is set your handler answered 404"),
        (_catch_all(503), "a key that holds a list (another program wrote it): your handler answered 503"),
        (_catch_all_but_down(409), "as a bug would) your handler answered 409: only a 500"),
        (_catch_every_error(str), "shows the client the bug's message ('a bug in the server"),
        (_catch_every_error(str, log=True), "shows the client the bug's message ('a bug in the server"),
        (_catch_every_error(lambda exc: "internal error"), "and nothing logged the error's traceback"),
    ],
    ids=[
        "book-200",
        "errors-escape",
        "bytes",
        "json-text",
        "text-body",
        "empty-key",
        "down-500",
        "error-shape",
        "down-without-json",
        "error-type",
        "error-as-text",
        "own-registry",
        "catch-all-503",
        "bug-as-409",
        "own-500-with-the-bug's-text",
        "own-500-logged-with-the-bug's-text",
        "own-500-unlogged",
    ],
)
def test_length_rejects(respond, message):
    verdict = exercises.verdict("10.length", _handler(respond))
    assert verdict is not None and message in verdict, verdict


def test_length_accepts_its_own_500_when_it_does_what_app_does():
    """A handler that logs the bug's traceback and answers a 500 without its text, as ``App.respond`` does for
    an error that escapes, passes: the client and the operator see what they would see from App."""
    verdict = exercises.verdict(
        "10.length", _handler(_catch_every_error(lambda exc: "internal error", log=True))
    )
    assert verdict is None, verdict


def _keeps_separators(base_url, key):  # quotes, but leaves '&' and '?' as URL syntax: the key is cut
    status, body = net.http_get(f"{base_url}/get?key={quote(key, safe='&?')}")
    return json.loads(body) if status == 200 else None


def _unquoted(base_url, key):  # the key as it is: a space, '&', '?', '+', '%' or '#' breaks the URL
    status, body = net.http_get(f"{base_url}/get?key={key}")
    return json.loads(body) if status == 200 else None


def _escapes_named_only(base_url, key):  # escapes the three characters the exercise names, by hand
    escaped = key.replace(" ", "%20").replace("&", "%26").replace("?", "%3F")
    status, body = net.http_get(f"{base_url}/get?key={quote(escaped, safe='%+#&?=')}")  # ž as UTF-8
    return json.loads(body) if status == 200 else None


def _raw_body(base_url, key):  # returns the JSON text, quotes and all
    status, body = net.http_get(f"{base_url}/get?key={quote(key)}")
    return body.decode() if status == 200 else None


def _strips_quotes(base_url, key):  # the JSON text without its quotes: right for a plain value only
    status, body = net.http_get(f"{base_url}/get?key={quote(key)}")
    return body.decode().strip('"') if status == 200 else None


def _none_for_any_status(base_url, key):  # right for 404, but a 400 or 503 also becomes "not set"
    status, body = net.http_get(f"{base_url}/get?key={quote(key)}")
    return json.loads(body) if status == 200 else None


def _none_on_any_error(base_url, key):  # hides a 400 (or a 503) as "not set"
    try:
        status, body = net.http_get(f"{base_url}/get?key={quote(key)}")
    except Exception:  # noqa: BLE001
        return None
    return json.loads(body) if status == 200 else None


def _raises_on_400_only(base_url, key):  # a 409's (or a 503's) JSON error comes back as the value
    status, body = net.http_get(f"{base_url}/get?key={quote(key)}")
    if status == 400:
        raise ValueError(body)
    return None if status == 404 else json.loads(body)


def _raises_on_client_errors_only(base_url, key):  # a 503's JSON error comes back as the value
    status, body = net.http_get(f"{base_url}/get?key={quote(key)}")
    if status == 404:
        return None
    if 400 <= status < 500:
        raise ValueError(body)
    return json.loads(body)


def _urlopen_none_on_error(base_url, key):  # urllib raises on 404; catching everything hides failures
    try:
        with urlopen(f"{base_url}/get?key={quote(key)}", timeout=2) as response:
            return json.loads(response.read())
    except Exception:  # noqa: BLE001
        return None


@pytest.mark.parametrize(
    "answer, message",
    [
        (lambda base_url, key: "Tit Petric", "for a key that is set to"),  # hard-coded
        (_keeps_separators, "quote the key"),
        (_unquoted, "your answer raised InvalidURL"),  # urllib refuses the space
        (_escapes_named_only, "quote the key"),
        (_raw_body, "the answer is JSON"),
        (_strips_quotes, "the answer is JSON"),
        (_none_for_any_status, "a 400 (an empty key) must raise"),
        (_none_on_any_error, "must raise"),
        (_urlopen_none_on_error, "must raise"),
        (_raises_on_400_only, "a 409 (a key that holds a list) must raise"),
        (_raises_on_client_errors_only, "a 503 (the API's Redis is down) must raise"),
    ],
    ids=[
        "hard-coded",
        "keeps-separators",
        "unquoted",
        "escapes-named-only",
        "raw-json",
        "strips-quotes",
        "none-for-any-status",
        "none-on-any-error",
        "urlopen-swallows",
        "raises-on-400-only",
        "raises-on-client-errors-only",
    ],
)
def test_fetch_rejects(answer, message):
    verdict = exercises.verdict("10.fetch", answer)
    assert verdict is not None and message in verdict, verdict


def _stacks(collapsed):
    for line in collapsed.splitlines():
        stack, _, count = line.rpartition(" ")
        yield [frame.split(" (")[0] for frame in stack.split(";")], int(count)


def _lines_not_samples(collapsed, function):  # every line counts one, whatever its number of samples
    stacks = [frames for frames, _ in _stacks(collapsed) if "App.__call__" in frames]
    return sum(function in frames for frames in stacks) / len(stacks)


def _all_samples(collapsed, function):  # idle threads in the denominator: the wall-clock trap
    return sum(
        n for frames, n in _stacks(collapsed) if function in frames and "App.__call__" in frames
    ) / sum(n for _, n in _stacks(collapsed))


def _every_occurrence(collapsed, function):  # a recursive stack counts twice
    requests = [(frames, n) for frames, n in _stacks(collapsed) if "App.__call__" in frames]
    return sum(frames.count(function) * n for frames, n in requests) / sum(n for _, n in requests)


def _substring(collapsed, function):  # "recv" also matches recv_into
    requests = [line.rpartition(" ") for line in collapsed.splitlines() if "App.__call__" in line]
    return sum(int(n) for stack, _, n in requests if function in stack) / sum(int(n) for _, _, n in requests)


def _suffix(collapsed, function):  # "Registry.get (" also ends the frame "CachedRegistry.get (...)"
    requests = [line.rpartition(" ") for line in collapsed.splitlines() if "App.__call__" in line]
    holding = sum(int(n) for stack, _, n in requests if f"{function} (" in stack)
    return holding / sum(int(n) for _, _, n in requests)


def _app_substring(collapsed, function):  # "App.__call__" as a substring of the line: StaticApp.__call__ too
    requests = [
        (frames, n)
        for (frames, n), line in zip(_stacks(collapsed), collapsed.splitlines())
        if "App.__call__" in line
    ]
    return sum(n for frames, n in requests if function in frames) / sum(n for _, n in requests)


def _idle_counted(collapsed, function):  # the numerator takes the idle threads' frames too
    requests = sum(n for frames, n in _stacks(collapsed) if "App.__call__" in frames)
    return sum(n for frames, n in _stacks(collapsed) if function in frames) / requests


def _percent(collapsed, function):
    requests = [(frames, n) for frames, n in _stacks(collapsed) if "App.__call__" in frames]
    return 100 * sum(n for frames, n in requests if function in frames) / sum(n for _, n in requests)


@pytest.mark.parametrize(
    "answer, message",
    [
        (lambda collapsed, function: 0.5, "your share is"),
        (_lines_not_samples, "that function: a line stands for as many samples"),
        (_all_samples, "that function: only stacks with App.__call__"),
        (_every_occurrence, "that function: a stack counts once"),
        (_substring, "that function: a frame's function is the name before"),
        (_suffix, "that function: a frame's function is the name before ' (', whole ('Registry.get' is not"),
        (
            _app_substring,
            "that function: a frame's function is the name before ' (', whole, for App.__call__ too",
        ),
        (_idle_counted, "your share is"),
        (_percent, "not a percentage"),
    ],
    ids=[
        "hard-coded",
        "lines",
        "all-samples",
        "occurrences",
        "substring",
        "suffix",
        "app-substring",
        "idle-counted",
        "percent",
    ],
)
def test_request_share_rejects(answer, message):
    verdict = exercises.verdict("10.request_share", answer)
    assert verdict is not None and message in verdict, verdict


# 10.run_without_task: half-solutions of the appendix's exercise, each a way to get server 5's stepping wrong


def _stepper(
    context_for,
    on_none="call_soon",
    on_future="wait",
    on_error="set_exception",
    result_of=lambda returned: returned.value,
    first="now",
    carries=(),
):
    """run_without_task, with one part done another way: ``context_for(step)`` gives the context a step runs in
    (None: the caller's); ``on_none`` what a bare yield does, ``on_future`` what an awaited future does;
    ``on_error`` what a raised error does (``"keeps every error"``: a SystemExit too, in the future; ``"keeps it
    later"``: only after the first step; ``"keeps KeyboardInterrupt"``: that one, letting SystemExit pass);
    ``result_of(stop)`` what its future gets from the StopIteration that ends it; ``first`` when the first
    step runs (``"in a copy"``: inside ``copy_context().run``, leaving the callbacks to carry a copy of that
    copy to each later step; ``carries`` names the callbacks, ``"call_soon"`` or ``"done"``, given that copy
    as ``context=``). ``on_future="first only"`` waits for the first future a coroutine awaits, and answers
    every later step with ``call_soon``; ``on_future="cancel ends it"`` cancels the run when that future is
    cancelled, without stepping the coroutine again (its ``except``/``finally`` never runs)."""

    def run_without_task(coroutine):
        loop = asyncio.get_running_loop()
        finished = loop.create_future()
        contexts = iter(context_for())
        waited = []  # the futures it waited for
        steps = itertools.count()
        first_copy = copy_context()  # with first="in a copy": the first step's context
        # no context= at all, not context=None: a C future would copy the context where it is done instead
        on_soon, on_done = (
            {"context": first_copy} if name in carries else {} for name in ("call_soon", "done")
        )

        def step(*_):
            context = next(contexts)
            later = next(steps) > 0
            try:
                awaited = context.run(coroutine.send, None) if context is not None else coroutine.send(None)
            except StopIteration as returned:
                finished.set_result(result_of(returned))
            except asyncio.CancelledError:
                if on_error == "exceptions only":  # CancelledError is no Exception: it escapes into the loop
                    raise
                finished.cancel()
            except Exception as error:
                if on_error == "raise" or on_error == "raise at first" and not _:
                    raise
                finished.set_result(error) if on_error == "set_result" else finished.set_exception(error)
            except BaseException as error:  # SystemExit, KeyboardInterrupt: kept, or let pass
                keeps = {
                    "keeps every error": True,
                    "keeps it later": later,
                    "keeps KeyboardInterrupt": isinstance(error, KeyboardInterrupt),
                }
                if keeps.get(on_error, False):
                    finished.set_exception(error)
                else:
                    raise
            else:
                if awaited is None and on_none == "at once":  # no turn for the loop in between
                    step()
                elif awaited is None and on_none == "call_soon" or on_none == "always":
                    loop.call_soon(step, **on_soon)
                elif on_future == "first only" and waited:
                    loop.call_soon(step)
                elif on_future == "poll":
                    loop.call_soon(poll, awaited)
                elif on_future == "timer":
                    loop.call_later(0.03, wake, awaited)
                elif on_future == "cancel ends it":
                    awaited.add_done_callback(lambda done: finished.cancel() if done.cancelled() else step())
                else:
                    waited.append(awaited)
                    awaited.add_done_callback(step, **on_done)

        def poll(awaited):  # looks at the future every turn of the loop, which then never sleeps
            loop.call_soon(poll, awaited) if not awaited.done() else step()

        def wake(
            awaited,
        ):  # looks at the future every 30 ms: the loop sleeps, but the request waits for the timer
            loop.call_later(0.03, wake, awaited) if not awaited.done() else step()

        if first == "now":
            step()
        elif first == "in a copy":  # the callbacks it schedules carry a copy of that copy to each later step
            first_copy.run(step)
        else:
            loop.call_soon(step)
        return finished

    return run_without_task


def _one_copy():  # the right context: one copy per request, for all its steps
    context = copy_context()
    return itertools.repeat(context)


def _empty_context():  # a context of its own, but not a copy of the caller's
    return itertools.repeat(contextvars.Context())


def _copy_per_step():
    return (copy_context() for _ in itertools.count())


def _callers_context():
    return itertools.repeat(None)


_SHARED = copy_context()


def _shared_copy():  # copied once, for every request
    return itertools.repeat(_SHARED)


def _as_task(coroutine):
    return asyncio.ensure_future(coroutine)


def _task_behind_a_future(coroutine):
    loop = asyncio.get_running_loop()
    finished = loop.create_future()
    task = loop.create_task(coroutine)
    task.add_done_callback(
        lambda done: (
            finished.set_exception(done.exception())
            if done.exception()
            else finished.set_result(done.result())
        )
    )
    return finished


def _run_until_complete(coroutine):
    loop = asyncio.get_event_loop()
    future = loop.create_future()
    future.set_result(loop.run_until_complete(coroutine))
    return future


def _first_step_only(coroutine):  # in a copy of the context, but never stepped again
    finished = asyncio.get_running_loop().create_future()
    try:
        copy_context().run(coroutine.send, None)
    except StopIteration as returned:
        finished.set_result(returned.value)
    except Exception as error:
        finished.set_exception(error)
    return finished


# a KeyboardInterrupt out of the check's loop: the check's thread keeps it, pytest never sees it
def _interrupts(coroutine):
    raise KeyboardInterrupt


@pytest.mark.filterwarnings("ignore:coroutine .* was never awaited:RuntimeWarning")  # the runs it never ended
@pytest.mark.parametrize(
    "answer, message",
    [
        (_as_task, "it returned Task"),
        (_task_behind_a_future, "Take the first step inside the call"),  # a Task takes it on a later turn
        (_run_until_complete, "This event loop is already running"),
        (_first_step_only, "never finished: step it again"),
        (_stepper(_copy_per_step), "read 'none' after its awaits"),
        (_stepper(_callers_context), "its caller's context held"),
        (  # as below: a request whose second future is done already reads right, and then cannot reset
            _stepper(_shared_copy),
            (
                "after its awaits: every step of a request runs in that request's one copy",
                "a later step ran in another context than the first",
            ),
        ),
        (_stepper(_empty_context), "a request's context is a copy of its caller's, not an empty one"),
        (_stepper(_one_copy, on_none="future"), "AttributeError"),
        (_stepper(_one_copy, on_none="always"), "await wasn't used with future"),
        (_stepper(_one_copy, on_none="at once"), "ran in one turn of the loop"),
        (_stepper(_one_copy, on_future="poll"), "instead of sleeping"),
        (_stepper(_one_copy, on_future="timer"), "not on a timer"),
        (_stepper(_one_copy, on_future="cancel ends it"), "coro.throw"),
        (_stepper(_one_copy, first="next turn"), "Take the first step inside the call"),
        (_stepper(_one_copy, on_error="raise"), "itself raised LookupError"),
        (_stepper(_one_copy, on_error="set_result"), "its future should hold that exception"),
        (
            _stepper(_one_copy, on_error="exceptions only"),
            "raised in one of the loop's callbacks: CancelledError",
        ),
        (_stepper(_one_copy, on_error="raise at first"), "run_without_task itself raised LookupError"),
        (
            _stepper(_one_copy, on_error="keeps every error"),
            "at its first step, and run_without_task returned a",
        ),
        (_stepper(_one_copy, on_error="keeps it later"), "at a later step, stepped from a done callback"),
        (
            _stepper(_one_copy, on_error="keeps KeyboardInterrupt"),
            "raised KeyboardInterrupt(",  # a stepper that lets SystemExit pass, and only SystemExit
        ),
        (_stepper(_one_copy, on_future="first only"), "ended in RuntimeError: await wasn't used with future"),
        (_stepper(_one_copy, result_of=lambda returned: None), "its future holds None"),
        (_stepper(_callers_context, first="in a copy"), "a later step ran in another context than the first"),
        (  # the copy on the bare yields' callbacks only: the done callbacks carry a copy of it
            _stepper(_callers_context, first="in a copy", carries=("call_soon",)),
            "a later step ran in another context than the first",
        ),
        (  # the copy on the done callbacks only: after a bare yield, a step runs in a copy of the copy. Which
            # message depends on the shuffled order: a second future already done when awaited keeps the step
            # that set the variable going (it reads right, then cannot reset); one still pending does not
            _stepper(_callers_context, first="in a copy", carries=("done",)),
            ("read 'request 0' after its awaits", "a later step ran in another context than the first"),
        ),
        (_stepper(_one_copy, result_of=lambda returned: returned.args[0]), "itself raised IndexError"),
        (_interrupts, "your code let KeyboardInterrupt() out of the loop"),
    ],
)
def test_run_without_task_rejects(answer, message):
    verdict = exercises.verdict("10.run_without_task", answer)
    either = message if isinstance(message, tuple) else (message,)
    assert verdict is not None and any(m in verdict for m in either), verdict


def test_run_without_task_control():
    """The stepper the half-solutions vary, with every part done right, passes: each rejection above is the
    part it changes."""
    assert exercises.verdict("10.run_without_task", _stepper(_one_copy)) is None

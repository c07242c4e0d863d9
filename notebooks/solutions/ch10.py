"""Solutions to the exercises of notebook 10. The test suite runs each through its check."""

import asyncio
import json
from contextvars import copy_context
from urllib.parse import quote

from foundations import api, net, web
from foundations.registry import NotFound, Unavailable, WrongType


def length():
    def length(registry):
        def handler(request):
            key = request.arg("key")
            if not key:
                return web.error_response(400, "missing parameter `key`: e.g. /len?key=name")
            try:
                value = registry.get(key)
            except (NotFound, WrongType, Unavailable) as exc:  # 404, 409, 503: the API's own statuses
                return web.error_response(api.STATUSES[type(exc)], str(exc))
            return web.json_response(len(value))

        return handler

    return length


def fetch():
    def fetch(base_url, key):
        status, body = net.http_get(f"{base_url}/get?key={quote(key)}")
        if status == 404:
            return None
        if status != 200:
            raise RuntimeError(f"/get answered {status}: {body[:200]!r}")
        return json.loads(body)

    return fetch


def request_share():
    def request_share(collapsed, function):
        requests = holding = 0
        for line in collapsed.splitlines():
            stack, _, count = line.rpartition(" ")
            frames = [frame.split(" (")[0] for frame in stack.split(";")]
            if "App.__call__" in frames:
                requests += int(count)
                holding += int(count) if function in frames else 0
        return holding / requests

    return request_share


def run_without_task():  # the appendix's exercise
    def run_without_task(coroutine):
        loop = asyncio.get_running_loop()
        finished = loop.create_future()
        context = copy_context()  # the request's own, for all its steps

        def step(*_):
            try:
                awaited = context.run(coroutine.send, None)
            except StopIteration as returned:
                finished.set_result(returned.value)
            except asyncio.CancelledError:  # what it awaited was cancelled: so is the run
                finished.cancel()
            except Exception as error:  # noqa: BLE001 - the request failed: its future says how
                finished.set_exception(error)
            else:
                if awaited is None:  # a bare yield: asyncio.sleep(0)
                    loop.call_soon(step)
                else:  # a future: its result (or error) is read by the coroutine's next step
                    awaited._asyncio_future_blocking = False
                    awaited.add_done_callback(step)

        step()
        return finished

    return run_without_task


SOLUTIONS = {
    "10.length": length,
    "10.fetch": fetch,
    "10.request_share": request_share,
    "10.run_without_task": run_without_task,
}

"""What threads a learner's function used for its calls, for the checks of notebook 06 (parallel fetching): the
pools it put to work, the threads it started, and which threads running before it opened its connections. A
pool of one size for every list, or threads started in advance, is too small for some longer list."""

import contextlib
import socket
import threading
from concurrent.futures import ThreadPoolExecutor
from multiprocessing.pool import Pool as MultiprocessingPool
from types import SimpleNamespace
from urllib.parse import urlsplit

from foundations.course.exercises import expect

# The threads a multiprocessing pool (its ThreadPool too) starts for its own bookkeeping, three whatever its size:
# their targets. Only its workers are threads of the learner's calls.
_BOOKKEEPING = {
    getattr(handler, "__func__", handler)
    for handler in (
        getattr(MultiprocessingPool, f"_handle_{name}") for name in ("workers", "tasks", "results")
    )
}


def _bookkeeping(thread) -> bool:
    target = getattr(thread, "_target", None)
    return getattr(target, "__func__", target) in _BOOKKEEPING


@contextlib.contextmanager
def pools():
    """What the learner's function used for threads inside the block: ``sizes``, the size of every thread pool put
    to work, wherever it was made (in the function or before it: ``ThreadPoolExecutor``'s ``max_workers``,
    ``multiprocessing``'s ``ThreadPool``'s processes); ``threads``, how many threads it started. Only what runs on
    this thread counts: the learner's function runs here, the kernel's own threads do not, nor the three a
    ``multiprocessing`` pool starts besides its workers to hand them tasks. ``old_calls``: (thread,
    address) of each connection opened by another thread running before. Every blocking client (``requests``,
    ``httpx``, ``urllib``) and asyncio's loop connect through ``socket.socket``, and the check's upstreams close
    each connection after one answer (HTTP/1.0), so every call connects anew."""
    before = set(threading.enumerate()) - {threading.current_thread()}
    seen = SimpleNamespace(sizes=set(), threads=0, old_calls=[])
    caller = threading.get_ident()
    # ThreadPoolExecutor's map() calls submit() too
    watched: list[tuple[type, str, str | None]] = [(ThreadPoolExecutor, "submit", "_max_workers")]
    watched += [
        (MultiprocessingPool, name, "_processes")
        for name in ("apply_async", "_map_async", "imap", "imap_unordered")
    ]
    watched.append((threading.Thread, "start", None))  # a pool of the learner's own making
    originals = [(cls, name, getattr(cls, name)) for cls, name, _ in watched]
    for (cls, name, attribute), (_, _, original) in zip(watched, originals):

        def recording(self, *args, _original=original, _attribute=attribute, **kwargs):
            if threading.get_ident() == caller:
                if _attribute is None:
                    seen.threads += not _bookkeeping(self)
                else:
                    seen.sizes.add(getattr(self, _attribute, None))
            return _original(self, *args, **kwargs)

        setattr(cls, name, recording)
    connects = {name: vars(socket.socket).get(name) for name in ("connect", "connect_ex")}  # inherited: None
    for name in connects:
        original = getattr(socket.socket, name)

        def connecting(self, address, *args, _original=original):
            if threading.current_thread() in before:
                seen.old_calls.append((threading.current_thread(), address))
            return _original(self, address, *args)

        setattr(socket.socket, name, connecting)
    try:
        yield seen
    finally:
        for name, own in connects.items():
            if own is None:
                delattr(socket.socket, name)
            else:
                setattr(socket.socket, name, own)
        for cls, name, original in originals:
            setattr(cls, name, original)


def expect_threads_per_url(few, few_urls, runs, upstream):
    """No more threads started for ``runs`` calls on ``few_urls`` URLs than one per URL, and their connections to
    ``upstream`` (a base URL: this check's, not an earlier run's) not opened by several threads running before:
    checked before the timings, which a fixed pool of hundreds of threads spoils on a busy machine. One such
    thread is allowed: an event loop started in advance runs every call on its one thread."""
    expect(
        few.threads <= runs * (few_urls + 1),
        f"your function started {few.threads} threads in {runs} call(s) on {few_urls} URLs, more than one per "
        "URL: a fixed number of threads is too few for some longer list. Size it from the URLs you get",
    )
    port = urlsplit(upstream).port
    old = {thread for thread, address in few.old_calls if isinstance(address, tuple) and address[1] == port}
    expect(
        len(old) <= 1,
        f"{len(old)} threads that were running before your function was called made its HTTP calls: threads "
        "started in advance are as many for every list, too few for some longer list. Size it from the URLs you get",
    )


def expect_pool_from_urls(few, few_urls, many, many_urls):
    """No pool of the same size for lists of different lengths: it is too small for some longer list."""
    same = sorted(few.sizes & many.sizes, key=str)
    expect(
        not same,
        f"your function used a pool of {same[0] if same else ''} threads for {few_urls} URLs and again for "
        f"{many_urls}: a pool of one size is too small for some longer list. Size it from the URLs you get",
    )

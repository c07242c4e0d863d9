"""pytest plugin for the chapter 9 story: ``--impl`` picks the Registry under test, ``--servers`` the Redis
servers behind it (``two``: the book's redis1 + redis2 round-robin pool; ``one``: redis1 only)."""

import uuid

import pytest

from foundations import config, redisdb
from foundations.redispool import RoundRobinPool


def pytest_addoption(parser):
    parser.addoption("--impl", choices=["v1", "v2", "v3", "final"], default="final")
    parser.addoption("--servers", choices=["one", "two"], default="one")


@pytest.fixture
def make_registry(request):
    """``make_registry(name)``: a registry named ``name-<random>`` (so runs never collide), cleaned up after."""
    from foundations.registry import Registry, glob_escape  # imported late: coverage starts before it

    cfg = config.load(argv=[])
    impl, servers = request.config.getoption("--impl"), request.config.getoption("--servers")
    urls = [cfg.redis1_url, cfg.redis2_url] if servers == "two" else [cfg.redis1_url]
    made = []
    if impl == "final":
        client = redisdb.client(cfg.redis1_url)
    else:
        module = __import__(f"registry_{impl}")
        pool = RoundRobinPool(urls, capacity=len(urls), max_capacity=len(urls))
        pool.warm_up()  # the book opens every connection up front; FIFO hands them out in turn

    def make(name):
        prefix = f"{name}-{uuid.uuid4().hex[:8]}"
        made.append(prefix)
        return Registry(client, prefix=prefix) if impl == "final" else module.Registry(pool, prefix)

    yield make
    for url in urls:
        cleaner = redisdb.client(url)
        for prefix in made:
            for key in cleaner.scan_iter(match=glob_escape(prefix) + ":*"):
                cleaner.delete(key)
        cleaner.close()
    if impl != "final":
        pool.close()

"""Chapter 10's frozen threaded server (``variants.FROZEN``) serves the same API as the one ``serve`` runs."""

import os

from foundations import bench, net, variants


def test_the_frozen_threaded_server_answers_and_stops(cfg):
    with bench.server(cfg, variants.FROZEN, threads=None) as (base, pid):
        bench.seed(base)
        assert net.http_get(base + "/get?key=name") == (200, b'"Tit Petric"')
    assert not os.path.exists(f"/proc/{pid}") or open(f"/proc/{pid}/stat").read().split()[2] == "Z"

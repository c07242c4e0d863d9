"""`make refresh-outputs` runs the notebooks against services on the default ports, so stored outputs
show the addresses the text names (6390-6392, 3390, 8080), and says which port it had to move."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import nbformat

from foundations import config, net
from foundations.course import refresh
from foundations.ops import harness, services


def test_refresh_services_take_the_default_ports_or_say_why_not():
    defaults = config.load(argv=[], environ={}, use_state=False)
    environ: dict[str, str] = {}
    with harness.temporary(environ, default_ports=True) as cfg:
        moved = refresh.moved_ports(cfg)
        for name, key in services.SERVICES.items():
            (host, port), default = cfg.endpoint(key), defaults.endpoint(key)[1]
            assert environ[config.BY_NAME[key].env] == getattr(cfg, key)
            if port != default:  # only when another program holds the default port
                assert net.port_open(host, default) and any(line.startswith(f"{name}: ") for line in moved)
            assert default <= port < default + 100
        assert len(moved) == sum(cfg.endpoint(k) != defaults.endpoint(k) for k in services.SERVICES.values())
    assert environ == {}


def test_a_moved_port_is_reported():
    defaults = config.load(argv=[], environ={}, use_state=False)
    moved = dataclasses.replace(defaults, redis1_url="redis://127.0.0.1:6399/0")
    assert refresh.moved_ports(moved) == ["redis1: 6391 is taken, so the outputs show 6399"]


def test_the_kernel_talks_over_unix_sockets_not_tcp_ports(tmp_path: Path):
    """A TCP port picked free can be taken before the kernel binds it (a refresh once hung so)."""
    path = tmp_path / "probe.ipynb"
    cell = "import ipykernel; print(ipykernel.get_connection_info())"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(cell)]), path)
    refresh.refresh(path)
    info = json.loads(nbformat.read(path, as_version=4).cells[0].outputs[0]["text"])
    assert info["transport"] == "ipc" and Path(info["ip"]).name == "kernel"
    assert not Path(info["ip"]).parent.exists()  # the sockets' folder goes with the kernel

"""The launcher behind `make lab` (foundations/ops/lab.py): one token, never on the command line, the
project's Jupyter settings first. tests/test_lab_browser.py opens the lab it starts in a real browser."""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from foundations import net
from foundations.errors import ServiceError
from foundations.ops import lab


def test_the_learners_token_is_used_and_an_empty_one_is_replaced():
    assert lab.token({"JUPYTER_TOKEN": "mine"}) == "mine"
    made = {lab.token({}), lab.token({"JUPYTER_TOKEN": ""})}  # empty would switch authentication off
    assert len(made) == 2 and all(len(t) == 32 for t in made)


def test_the_token_travels_in_the_environment_not_the_command_line():
    cmd = lab.command("127.0.0.1", 8888, as_root=False)
    env = lab.environment("s3cret", {"JUPYTER_CONFIG_PATH": "/elsewhere", "PATH": "/bin"})
    assert not any("s3cret" in arg or "token" in arg.lower() for arg in cmd)
    assert env["JUPYTER_TOKEN"] == "s3cret"
    assert env["PATH"] == os.pathsep.join([str(Path(sys.executable).parent), "/bin"])  # python: the course's
    assert env["JUPYTER_CONFIG_PATH"] == os.pathsep.join([str(lab.JUPYTER_SETTINGS), "/elsewhere"])


def test_root_gets_allow_root_and_nobody_else_does():
    assert "--allow-root" in lab.command("127.0.0.1", 8888, as_root=True)
    assert "--allow-root" not in lab.command("127.0.0.1", 8888, as_root=False)


def test_the_url_logs_in_on_the_first_notebook():
    assert lab.url(8899, "abc") == "http://127.0.0.1:8899/lab/tree/00_index.ipynb?token=abc"
    assert (lab.NOTEBOOKS / lab.FIRST_NOTEBOOK).is_file()


def test_the_shipped_settings_turn_the_news_off():
    server = json.loads((lab.JUPYTER_SETTINGS / "jupyter_server_config.json").read_text())
    page = json.loads((lab.JUPYTER_SETTINGS / "labconfig" / "page_config.json").read_text())
    assert server["LabApp"]["news_url"] is None and server["LabApp"]["extension_manager"] == "readonly"
    assert page["disabledExtensions"] == {"@jupyterlab/apputils-extension:announcements": True}


def test_jupyter_reads_the_shipped_settings():
    # What Jupyter itself resolves with the launcher's environment, not what the files say.
    code = (
        "from jupyter_server.serverapp import ServerApp; s = ServerApp(); s.load_config_file(); "
        "print(s.config.LabApp.news_url, s.config.LabApp.extension_manager)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        check=False,
        env=lab.environment("t", os.environ),
        capture_output=True,
        text=True,
        cwd=lab.NOTEBOOKS,
        timeout=60,
    )
    assert done.stdout.split() == ["None", "readonly"], done.stderr


def test_on_every_address_the_host_check_stays_on(tmp_path):
    """The Docker lab listens on 0.0.0.0: a request whose Host is not local (DNS rebinding) gets 403."""
    port = net.free_port()
    log = tmp_path / "lab.log"
    with open(log, "w") as out:
        launcher = subprocess.Popen(
            [sys.executable, "-m", "foundations", "lab", "--lab-ip", "0.0.0.0", "--lab-port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "HOME": str(tmp_path)},
        )
    try:
        deadline = time.monotonic() + 120
        while "is ready" not in log.read_text() and launcher.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        assert "is ready" in log.read_text(), log.read_text()
        assert host_status(port, f"127.0.0.1:{port}") == 200
        assert host_status(port, f"rebound.example:{port}") == 403
    finally:
        launcher.terminate()
        launcher.wait(30)


def host_status(port: int, host: str) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", "/api", headers={"Host": host})
    return conn.getresponse().status


def test_a_taken_port_is_refused_with_the_fix():
    port = net.free_port()
    with __import__("socket").socket() as sock:
        sock.bind(("127.0.0.1", port))
        sock.listen()
        with pytest.raises(ServiceError, match=f"127.0.0.1:{port} is taken.*LAB_PORT={port + 1}"):
            lab.run(port, log=lambda line: None)

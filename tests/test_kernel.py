"""The course's kernel tells JupyterLab exactly the ``language_info`` the shipped notebooks store, so opening
one does not mark it modified (JupyterLab copies it in, and skips a value equal to the stored one)."""

import json
from pathlib import Path

from jupyter_client.manager import start_new_kernel

from foundations.ops.doctor import KERNEL_NAME

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


def test_the_kernel_reports_the_language_info_every_notebook_stores():
    manager, client = start_new_kernel(kernel_name=KERNEL_NAME)
    try:
        reply = client.kernel_info(reply=True, timeout=60)
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    reported = reply["content"]["language_info"]
    assert "version" not in reported
    for path in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")):
        assert json.loads(path.read_text())["metadata"]["language_info"] == reported, path.name

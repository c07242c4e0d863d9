"""The Docker lab in a real browser: the URL the compose `lab` service prints (`compose logs lab`), opened in
headless Chromium, lands logged in on 00_index.ipynb, as tests/test_lab_browser.py checks for `make lab`.

Not a test_*.py file, so `make test` does not collect it: it needs the compose stack up (.ci/docker runs it,
`make test PYTEST_ARGS=tests/compose_lab_browser.py`).
"""

from __future__ import annotations

import re
import time

import pytest
from test_lab_browser import CHROMIUM, CHROMIUM_ARGS, open_logged_in_on_index

from foundations.ops import compose

PRINTED_URL = re.compile(r"http://127\.0\.0\.1:8888/lab/tree/00_index\.ipynb\?token=\w+")


def printed_url(timeout: float = 120) -> str:
    """The last URL the lab printed (a restarted container prints a new token)."""
    deadline = time.monotonic() + timeout
    while True:
        found = PRINTED_URL.findall(compose.run("logs", "--no-color", "lab"))
        if found:
            return found[-1]
        if time.monotonic() > deadline:
            pytest.fail(f"`compose logs lab` shows no URL after {timeout:.0f} s")
        time.sleep(1)


def test_the_compose_labs_printed_url_opens_logged_in_on_the_index(tmp_path):
    from playwright.sync_api import Error as BrowserError
    from playwright.sync_api import sync_playwright

    assert CHROMIUM, "chromium not installed: sudo apt-get install -y chromium (.ci/run does)"
    url = printed_url()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        try:
            open_logged_in_on_index(page, url)
        except (AssertionError, BrowserError) as exc:
            page.screenshot(path=tmp_path / "failure.png", full_page=True)
            pytest.fail(f"{exc}\nscreenshot: {tmp_path / 'failure.png'}", pytrace=False)
        finally:
            browser.close()

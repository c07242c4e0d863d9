"""The learner's front door in a real browser: `make lab` (the Makefile and foundations/ops/lab.py, the
very command a learner types), its printed URL opened in Debian's headless Chromium through Playwright.

It must land logged in on 00_index.ipynb with no pop-up, then chapter 1 runs through the UI (Run > Run All
Cells) against this test run's services, with no error output and the services table shown. Screenshots
go under the test's tmp dir; their folder is named on failure. The lab gets a fresh HOME, as on a first
visit: no workspace or settings from earlier runs, and autosave off so the repo's notebooks stay as they
are (checked).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import nbformat
import pytest
from nbformat.sign import NotebookNotary

from foundations import net

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
CHROMIUM = shutil.which("chromium") or shutil.which("google-chrome")  # Debian's; GitHub runners have Chrome
# Nothing but 127.0.0.1: no component updates, sync or background fetches.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
START_TIMEOUT = 240  # seconds for `make lab` to print its URL on a loaded machine
KERNEL_NAME = "Python (API Foundations)"  # the display name `make install` registers
RUN_TIMEOUT = 300_000
ERROR_LINE = re.compile(r"^\w*(Error|Exception): ", re.MULTILINE)  # ms for chapter 1 to run through the UI
FIRST_VISIT_SETTINGS = {  # JupyterLab user settings in the fresh HOME
    "docmanager-extension/plugin": '{"autosave": false}',
    "notebook-extension/tracker": '{"windowingMode": "none"}',  # every cell in the DOM, so all are checked
}

pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium not installed: sudo apt-get install -y chromium (.ci/run does)"
)


class Lab:
    """`make lab` in a session of its own, its output collected line by line."""

    def __init__(self, port: int, home: Path):
        self.port = port
        self.lines: list[str] = []
        env = {k: v for k, v in os.environ.items() if k != "JUPYTER_TOKEN"}
        self.proc = subprocess.Popen(
            [
                "make",
                "--no-print-directory",
                "-C",
                str(ROOT),
                "lab",
                f"LAB_PORT={port}",
                f"VENV={sys.prefix}",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            start_new_session=True,
            env={**env, "HOME": str(home)},
            # Ctrl-C as a terminal delivers it: a run started in the background of a script (CI, nohup ... &)
            # inherits SIGINT ignored, and make and Python would then keep ignoring it.
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )
        threading.Thread(target=lambda: self.lines.extend(self.proc.stdout), daemon=True).start()

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def printed_url(self) -> str:
        deadline = time.monotonic() + START_TIMEOUT
        pattern = re.compile(rf"http://127\.0\.0\.1:{self.port}/\S+")
        while time.monotonic() < deadline:
            found = pattern.search(self.output)
            if found:
                return found.group(0)
            if self.proc.poll() is not None:
                break
            time.sleep(0.2)
        pytest.fail(f"`make lab` printed no URL (exit {self.proc.poll()}):\n{self.output}")

    def command_lines(self) -> list[str]:
        """What `ps` shows for every process of this lab (make, the launcher, Jupyter)."""
        found = []
        for proc in Path("/proc").iterdir():
            try:
                if proc.name.isdigit() and os.getpgid(int(proc.name)) == self.proc.pid:
                    found.append((proc / "cmdline").read_bytes().replace(b"\0", b" ").decode())
            except (OSError, ProcessLookupError):
                continue
        return found

    def stop(self) -> None:
        for sig, wait in ((signal.SIGTERM, 30), (signal.SIGKILL, 10)):
            try:
                os.killpg(self.proc.pid, sig)
                self.proc.wait(wait)
                return
            except ProcessLookupError:
                return
            except subprocess.TimeoutExpired:
                continue


def error_outputs(notebook) -> list[str]:
    """Tracebacks and stderr in the notebook's outputs, and the one-line errors it prints (ServiceError: ...)."""
    errors = notebook.locator(
        ", ".join(
            f'.jp-OutputArea-output[data-mime-type="{mime}"]'
            for mime in ("application/vnd.jupyter.stderr", "application/vnd.jupyter.error")
        )
    )
    one_liners = notebook.locator(".jp-OutputArea-output").filter(has_text=ERROR_LINE)
    shown = []
    for output in errors.all() + one_liners.all():  # in view first: JupyterLab renders only what is on screen
        output.scroll_into_view_if_needed()
        shown.append(output.inner_text().strip())
    return shown


def open_logged_in_on_index(page, url: str):
    """Open the printed URL: it must log in (the JupyterLab shell, not the login page) and show 00_index.ipynb,
    rendered. Returns the current tab's label."""
    from playwright.sync_api import expect

    page.goto(url)
    shell = page.locator("#jp-main-dock-panel")
    expect(shell, f"not logged in: {page.url}").to_be_visible(timeout=60_000)
    current_tab = page.locator(".jp-mod-current .lm-TabBar-tabLabel").first
    expect(current_tab).to_have_text("00_index.ipynb", timeout=60_000)
    index = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-MarkdownOutput h1").first
    expect(index).to_contain_text("API Foundations in Python", timeout=60_000)
    return current_tab


@pytest.fixture
def lab(tmp_path):
    home = tmp_path / "home"
    for name, text in FIRST_VISIT_SETTINGS.items():
        path = home / ".jupyter/lab/user-settings/@jupyterlab" / f"{name}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    running = Lab(net.free_port(), home)
    yield running
    running.stop()


def test_make_lab_opens_logged_in_on_the_index_and_runs_chapter_1(lab, tmp_path):
    from playwright.sync_api import Error as BrowserError
    from playwright.sync_api import expect, sync_playwright

    url = lab.printed_url()
    token = url.partition("token=")[2]
    assert token and not any(token in line for line in lab.command_lines()), "the token shows in `ps`"
    chapter_1 = ROOT / "notebooks" / "01_environment.ipynb"
    stored = chapter_1.read_bytes()
    shots = tmp_path / "screenshots"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        try:
            current_tab = open_logged_in_on_index(page, url)
            page.screenshot(path=shots / "1-index.png")

            page.locator(".jp-DirListing-item").filter(has_text=chapter_1.name).dblclick()
            expect(current_tab).to_have_text(chapter_1.name, timeout=60_000)
            notebook = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)")
            # The status bar follows the current notebook's kernel: Initializing, Connecting, then Idle once
            # the project's kernel answers (a missing kernel would show a dialog and "No Kernel" instead).
            kernel = page.locator(".jp-StatusBar-TextItem").filter(has_text=KERNEL_NAME)
            expect(kernel).to_have_text(f"{KERNEL_NAME} | Idle", timeout=120_000)
            page.wait_for_timeout(2000)  # the kernel's language_info has reached the notebooks by now
            expect(page.locator(".lm-TabBar-tab.jp-mod-dirty")).to_have_count(0)  # opening modified nothing
            page.get_by_role("menuitem", name="Run", exact=True).click()
            page.get_by_role("menuitem", name="Run All Cells", exact=True).click()

            cells = notebook.locator(".jp-CodeCell")
            prompts = notebook.locator(".jp-CodeCell .jp-InputPrompt")
            # Queued and running cells show [*]; Run All stops at the first error and unqueues the rest.
            expect(prompts.first).to_have_text(re.compile(r"\[[\d*]+\]"), timeout=60_000)
            expect(prompts.filter(has_text="[*]")).to_have_count(0, timeout=RUN_TIMEOUT)
            expect(kernel).to_have_text(f"{KERNEL_NAME} | Idle", timeout=60_000)
            page.screenshot(path=shots / "2-chapter-1-ran.png")

            shown = error_outputs(notebook)
            assert shown == [], "error output:\n" + "\n".join(shown)
            expect(prompts.filter(has_text=re.compile(r"\[\d+\]"))).to_have_count(cells.count())
            table = notebook.locator(".jp-OutputArea-output table")
            expect(table.first).to_contain_text(os.environ["FOUNDATIONS_REDIS_URL"])
            expect(table.first).to_contain_text("mysql_dsn")
            table.first.scroll_into_view_if_needed()
            page.screenshot(path=shots / "3-services-table.png")
            statuses = notebook.get_by_text(re.compile(r"^redis2\s+127\.0\.0\.1:\d+\s+answers", re.MULTILINE))
            expect(statuses.first).to_be_visible()
            expect(page.get_by_text("official Jupyter news")).to_have_count(0)
        except (AssertionError, BrowserError) as exc:
            page.screenshot(path=shots / "failure.png", full_page=True)
            pytest.fail(f"{exc}\nscreenshots: {shots}\n`make lab` printed:\n{lab.output}", pytrace=False)
        finally:
            browser.close()
    assert chapter_1.read_bytes() == stored, "the browser run saved over notebooks/01_environment.ipynb"


def test_make_lab_trusts_the_notebooks_and_stops_cleanly_on_ctrl_c(lab, tmp_path):
    """The stored outputs show as made (trusted in the learner's own Jupyter data folder), and Ctrl-C ends
    `make lab` with no "make: *** Error 130"."""
    lab.printed_url()
    notary = NotebookNotary(data_dir=str(tmp_path / "home/.local/share/jupyter"))
    untrusted = [p.name for p in NOTEBOOKS.glob("*.ipynb") if not notary.check_signature(nbformat.read(p, 4))]
    assert untrusted == []
    os.killpg(lab.proc.pid, signal.SIGINT)  # what the terminal sends make and its children
    assert lab.proc.wait(60) == -signal.SIGINT  # make passes the interrupt on, silently
    time.sleep(0.5)  # the reader thread takes the last lines
    assert "Error" not in lab.output and "Traceback" not in lab.output, lab.output

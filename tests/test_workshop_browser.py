"""What a workshop's people see, in a real browser (Debian's Chromium through Playwright, as
test_lab_browser.py): a participant's first sign-in without the code is told why; with it their server opens
on 00_index, with the project's Jupyter settings (no news pop-up) and trusted notebooks that open and close
unmodified; Run All on chapter 01 leaves no attempt on the board; a wrong then a right answer shows on the
instructor's board page (admin only, fits a 1280 px projector, totals) as a fail, then a pass, in the
notebook's order. Screenshots go under the test's tmp dir (FOUNDATIONS_SCREENSHOTS: a folder to keep them).
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import tempfile
import textwrap
from pathlib import Path

import nbformat
import pytest
import test_lab_browser as lab_browser
import test_workshop as workshop_test
from nbformat.sign import NotebookNotary

from foundations.course import progress
from foundations.workshop import learner, participant
from foundations.workshop.room import INSTRUCTOR, Room, unused_port

CODE = f"room-{secrets.token_hex(3)}-42"  # digits whatever the draw: code.code_problem wants both
SPAWN_TIMEOUT = 180_000  # ms: course copy, database, 3 Redis and the API server, then JupyterLab
RUN_TIMEOUT = 300_000  # ms for chapter 01 to run through the UI on a loaded machine
PROJECTOR = {"width": 1280, "height": 800}

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(lab_browser.CHROMIUM is None, reason="chromium not installed (.ci/run installs it)"),
]


@pytest.fixture
def hub():
    """A dry-run hub for one participant: (room, url, name); down afterwards."""
    name = f"ws{secrets.token_hex(3)}"
    root = Path(tempfile.mkdtemp(prefix="workshop-browser-"))
    port = unused_port()
    try:
        workshop_test.workshop(
            "up",
            "--dir",
            str(root),
            "--participants",
            name,
            "--code",
            CODE,
            "--port",
            str(port),
            "--dry-run",
        )
        yield Room(root), f"http://127.0.0.1:{port}", name
    finally:
        workshop_test.workshop("down", "--dir", str(root))
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def shots(tmp_path):
    folder = Path(os.environ.get("FOUNDATIONS_SCREENSHOTS") or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def sign_in(page, url: str, name: str, password: str, code: str = "") -> None:
    page.goto(f"{url}/hub/login")
    page.fill("#username_input", name)
    page.fill("#password_input", password)
    page.fill("#otp_input", code)
    page.click("#login_submit")


WRONG_DOCKER_RUN = (
    'def docker_run(compose, name):\n    return ["docker", "run", compose["services"][name]["image"]]'
)


def right_docker_run() -> str:
    """The solution's function, as a learner would type it in the exercise cell."""
    source = (learner.COURSE / "solutions" / "ch01.py").read_text()
    inner = re.search(r"\n(    def docker_run\(compose, name\):\n.*?)\n\n    return docker_run", source, re.S)
    return textwrap.dedent(inner.group(1))


def answer(page, notebook, stub: str, code: str) -> None:
    """Replace the exercise cell that starts with ``stub`` by ``code``, run it and the check below it."""
    cell = notebook.locator(".jp-CodeCell").filter(has=page.locator(".cm-content", has_text=stub)).first
    cell.locator(".cm-content").click()
    page.keyboard.press("Control+a")
    page.keyboard.insert_text(code)
    page.keyboard.press("Shift+Enter")  # runs it, selects the check cell
    page.keyboard.press("Shift+Enter")


def test_a_participant_and_the_instructor_see_the_truth(hub, shots):
    from playwright.sync_api import expect, sync_playwright

    room, url, name = hub
    who = participant.Participant.of(room, name, room.settings())
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=lab_browser.CHROMIUM, args=lab_browser.CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        board = browser.new_context(viewport=PROJECTOR).new_page()  # the instructor's own cookies
        try:
            # A first sign-in without the code says why, and tells an outsider nothing about the name.
            sign_in(page, url, name, f"{name}-password")
            refusal = page.locator(".login_error")
            expect(refusal).to_contain_text("workshop code")
            page.screenshot(path=shots / "1-sign-in-without-code.png")
            said = refusal.inner_text()
            sign_in(page, url, "nobody", "whatever-password")
            expect(refusal).to_have_text(said)

            # With the code: their lab on 00_index, the project's settings, nothing modified by opening.
            sign_in(page, url, name, f"{name}-password", CODE)
            current_tab = page.locator(".jp-mod-current .lm-TabBar-tabLabel").first
            expect(current_tab).to_have_text("00_index.ipynb", timeout=SPAWN_TIMEOUT)
            kernel = page.locator(".jp-StatusBar-TextItem").filter(has_text=lab_browser.KERNEL_NAME)
            expect(kernel).to_have_text(f"{lab_browser.KERNEL_NAME} | Idle", timeout=120_000)
            page.wait_for_timeout(2000)  # the kernel's language_info has reached the notebook by now
            expect(page.locator(".lm-TabBar-tab.jp-mod-dirty")).to_have_count(0)
            expect(page.get_by_text("official Jupyter news")).to_have_count(0)
            config = "JSON.parse(document.getElementById('jupyter-config-data').textContent)"
            assert page.evaluate(config + ".extensionManager.name") == "read-only"  # not PyPI
            page.screenshot(path=shots / "2-participant-lab-unmodified.png")
            page.get_by_role("menuitem", name="File", exact=True).click()
            page.get_by_role("menuitem", name=re.compile(r"^Close Tab")).click()
            expect(current_tab).not_to_have_text("00_index.ipynb")
            expect(page.locator(".jp-Dialog")).to_have_count(0)  # no "save your changes?"
            copy = learner.course_path(who) / "notebooks"
            notary = NotebookNotary(data_dir=str(who.home / ".local/share/jupyter"))
            assert all(notary.check_signature(nbformat.read(nb, 4)) for nb in copy.glob("[0-9]*.ipynb"))

            # Run All on chapter 01 runs the blank exercises: "no answer yet", and no attempt on the board.
            page.locator(".jp-DirListing-item").filter(has_text="01_environment.ipynb").dblclick()
            expect(current_tab).to_have_text("01_environment.ipynb", timeout=60_000)
            expect(kernel).to_have_text(f"{lab_browser.KERNEL_NAME} | Idle", timeout=120_000)
            notebook = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)")
            page.get_by_role("menuitem", name="Run", exact=True).click()
            page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
            prompts = notebook.locator(".jp-CodeCell .jp-InputPrompt")
            expect(prompts.first).to_have_text(re.compile(r"\[[\d*]+\]"), timeout=60_000)
            expect(prompts.filter(has_text="[*]")).to_have_count(0, timeout=RUN_TIMEOUT)
            shown = lab_browser.error_outputs(notebook)  # Run All stops at the first error: say which
            assert shown == [], "error output:\n" + "\n".join(shown)
            blank = notebook.locator(".jp-OutputArea-output").filter(has_text="] no answer yet: replace the")
            expect(blank).to_have_count(2)
            blank.first.scroll_into_view_if_needed()
            page.screenshot(path=shots / "3-run-all-no-answer-yet.png")
            assert progress.read(who.home) == {}

            sign_in(board, url, INSTRUCTOR, room.instructor_path.read_text().strip())
            expect(board).to_have_url(f"{url}/services/board/")
            row = board.locator("tr").filter(has=board.locator("th", has_text=name))
            expect(row.locator("td").nth(2)).to_have_text("·")  # 01.docker_run
            board.screenshot(path=shots / "4-board-after-run-all.png")

            # A wrong answer, then the right one: one fail, then a pass, in the notebook's order.
            answer(page, notebook, "def docker_run", WRONG_DOCKER_RUN)
            expect(notebook.get_by_text("[01.docker_run] not yet:")).to_be_visible()
            board.reload()
            expect(row.locator("td").nth(2)).to_have_text("✗1")
            expect(row.locator("td").nth(3)).to_have_text("·")  # 01.ping_all, not tried
            board.screenshot(path=shots / "5-board-one-fail.png")
            answer(page, notebook, "def docker_run", right_docker_run())
            expect(notebook.get_by_text("[01.docker_run] correct.")).to_be_visible()
            page.screenshot(path=shots / "6-right-answer.png")
            board.reload()
            expect(row.locator("td").nth(2)).to_have_text("✓")
            expect(row.locator("td").nth(1)).to_have_text(re.compile(r"^1/\d+$"))  # passed, per participant
            passed, tried = board.locator("tr.totals").nth(0), board.locator("tr.totals").nth(1)
            expect(passed.locator("td").nth(2)).to_have_text(
                "1"
            )  # 01.docker_run: passed by one, tried by one
            expect(tried.locator("td").nth(2)).to_have_text("1")
            expect(board.locator("h1")).to_contain_text("updated")
            width = board.evaluate("document.documentElement.scrollWidth")
            assert width <= PROJECTOR["width"], f"the board is {width} px wide"
            board.screenshot(path=shots / "7-board-one-pass.png")
            assert progress.read(who.home)["01.docker_run"] | {"at": ""} == {
                "passed": True,
                "attempts": 2,
                "at": "",
            }

            # The board is the instructor's: a participant is turned away.
            page.goto(f"{url}/services/board/")
            expect(page.locator("body")).not_to_contain_text("Workshop progress")
            page.screenshot(path=shots / "8-board-refused-to-a-participant.png")
        except Exception as exc:
            page.screenshot(path=shots / "failure.png", full_page=True)
            board.screenshot(path=shots / "failure-board.png", full_page=True)
            pytest.fail(f"{exc}\nscreenshots: {shots}", pytrace=False)
        finally:
            browser.close()

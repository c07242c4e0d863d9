"""The contents table in 00_index names, for each chapter, the services its first cell checks and the chapters it
builds on: both are read from the notebooks here, so the table cannot drift from what the chapters do."""

import json
import re
from pathlib import Path

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
NAMES = {
    "none": [],
    "all five": ["redis", "redis1", "redis2", "mysql", "api"],
    "Redis ×3": ["redis", "redis1", "redis2"],
}
WORDS = {"Redis": ["redis"], "MySQL": ["mysql"], "API": ["api"]}


def _rows() -> dict[str, list[str]]:
    index = json.loads((NOTEBOOKS / "00_index.ipynb").read_text())
    text = next("".join(c["source"]) for c in index["cells"] if "## Contents" in "".join(c["source"]))
    rows = [line.split("|")[1:-1] for line in text.splitlines() if re.match(r"\| \d\d \|", line)]
    return {cells[0].strip(): [cell.strip() for cell in cells] for cells in rows}


def _services(cell: str) -> list[str]:
    if cell in NAMES:
        return NAMES[cell]
    return [name for word in cell.split(", ") for name in WORDS[word]]


def _setup_services(notebook: Path) -> list[str]:
    cells = json.loads(notebook.read_text())["cells"]
    for cell in cells:
        found = re.search(r"notebook\.setup\(([^)]*)\)", "".join(cell["source"]))
        if found:
            return re.findall(r'"(\w+)"', found.group(1))
    return []


def test_every_chapter_has_a_row_with_a_time():
    rows = _rows()
    # an appendix (10_first_api_appendix) is part of its chapter's row
    chapters = sorted({p.name[:2] for p in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")} - {"00"})
    assert sorted(rows) == chapters
    for number, cells in rows.items():
        assert re.fullmatch(r"\d+ min", cells[3]), f"chapter {number}: time {cells[3]!r}"


def test_the_services_column_is_what_each_first_cell_checks():
    for number, cells in _rows().items():
        notebook = min(NOTEBOOKS.glob(f"{number}_*.ipynb"))  # the chapter, not its appendix
        assert sorted(_services(cells[5])) == sorted(_setup_services(notebook)), notebook.name


def test_a_chapter_builds_only_on_earlier_ones():
    for number, cells in _rows().items():
        for earlier in re.findall(r"\b\d\d\b", cells[4]):
            assert earlier < number, f"chapter {number} builds on {earlier}"


def test_the_stated_total_is_the_sum_of_the_rows():
    index = json.loads((NOTEBOOKS / "00_index.ipynb").read_text())
    text = next("".join(c["source"]) for c in index["cells"] if "## Contents" in "".join(c["source"]))
    stated = re.search(r"(\d+) hours in all \((\d+) minutes\)", text)
    assert stated, "the contents table should say how long all the chapters take, in hours and minutes"
    total = sum(int(cells[3].split()[0]) for cells in _rows().values())
    assert int(stated.group(2)) == total, (
        f"the rows add up to {total} minutes, the text says {stated.group(2)}"
    )
    assert int(stated.group(1)) == total // 60, f"{total} minutes are {total // 60} hours and more"


def test_the_first_sitting_needs_no_services():
    rows = _rows()
    assert all(rows[number][5] == "none" for number in ("02", "03", "04"))


def _minutes(duration: str) -> int:
    hours, minutes = re.fullmatch(r"(\d+) h(?: (\d+))?", duration).groups()
    return 60 * int(hours) + int(minutes or 0)


def test_each_sitting_lasts_what_its_chapters_add_up_to():
    index = json.loads((NOTEBOOKS / "00_index.ipynb").read_text())
    text = next("".join(c["source"]) for c in index["cells"] if "**Four sittings**" in "".join(c["source"]))
    sittings = re.findall(r"(\d\d)–(\d\d) \((\d+ h(?: \d+)?)", text)
    rows = _rows()
    assert [first for first, _, _ in sittings] == ["01", "05", "07", "09"], sittings
    assert sorted(rows) == [f"{n:02d}" for n in range(1, 12)]
    for first, last, duration in sittings:
        total = sum(int(rows[n][3].split()[0]) for n in rows if first <= n <= last)
        assert _minutes(duration) == total, (
            f"sitting {first}–{last} says {duration}; its rows add up to {total} min"
        )
    shortest, longest = re.search(
        r"\*\*Four sittings\*\* of (\d+ h(?: \d+)?) to (\d+ h(?: \d+)?),", text
    ).groups()
    lengths = [_minutes(duration) for _, _, duration in sittings]
    assert (_minutes(shortest), _minutes(longest)) == (min(lengths), max(lengths)), (
        f"the sittings are said to last {shortest} to {longest}; they last {min(lengths)} to {max(lengths)} min"
    )


def test_each_row_gives_the_time_its_chapter_states():
    for number, cells in _rows().items():
        notebook = min(NOTEBOOKS.glob(f"{number}_*.ipynb"))  # the chapter, not its appendix
        opening = " ".join("".join(c["source"]) for c in json.loads(notebook.read_text())["cells"][:4])
        minutes = cells[3].split()[0]
        assert re.search(rf"\b{minutes} minutes", opening), f"{notebook.name} does not say {minutes} minutes"


_SPANS = {"an hour": 60, "an hour and a half": 90, "an hour and three quarters": 105, "two hours": 120}


def test_each_appendix_takes_the_time_the_index_and_its_chapter_state():
    index = json.loads((NOTEBOOKS / "00_index.ipynb").read_text())
    text = next("".join(c["source"]) for c in index["cells"] if "## Contents" in "".join(c["source"]))
    total, each = re.search(
        r"plus about ([a-z ]+?) for the two optional appendices \(([^)]*)\)", text
    ).groups()
    stated = dict(re.findall(r"(\d\d)'s (?:about )?(an hour|\d+ minutes)", each))
    minutes = {number: 60 if span == "an hour" else int(span.split()[0]) for number, span in stated.items()}
    assert sorted(minutes) == ["10", "11"], f"the index gives the appendices' times as {stated}"
    assert _SPANS.get(total) == sum(minutes.values()), f"'{total}' is not {sum(minutes.values())} minutes"
    for number, span in stated.items():
        appendix, chapter = (
            " ".join("".join(c["source"]) for c in json.loads(path.read_text())["cells"][:4])
            for path in (
                min(NOTEBOOKS.glob(f"{number}_*_appendix.ipynb")),
                min(NOTEBOOKS.glob(f"{number}_*.ipynb")),
            )
        )
        assert f"About {span}" in appendix, f"{number}'s appendix does not open with 'About {span}'"
        in_chapter = "about an hour" if span == "an hour" else f"about {minutes[number]} more"
        assert in_chapter in chapter, f"chapter {number} does not give its appendix '{in_chapter}'"


# The book's section headings, from its table of contents, chapter by chapter: 00_index says the port keeps
# them, so each must be a heading of its chapter's notebook, alone or beside a colon.
BOOK_SECTIONS = {
    "01": ["Networking", "Setting up a runner for your Go programs", "Setting up Redis", "Other services"],
    "02": ["Declaring structs", "Casting structs", "Declaring interfaces", "Abusing interfaces"],
    "03": ["Suggested package structure", "What to put there?", "Structure"],
    "04": ["Encoding structs into JSON", "Decoding JSON contents into structs"],
    "05": [
        "Setting up a simple web server",
        "Routing logic",
        "Advanced routing - Pat",
        "Advanced routing - Gorilla Mux",
    ],
    "06": ["A simple API service", "Making it parallel", "Some tips"],
    "07": [
        "Client library",
        "Talking to a Redis instance",
        "Worst case scenario",
        "Let's scale it",
        "Connection pool",
    ],
    "08": [
        "Quick start",
        "Goodbye simplicity",
        "Simplicity redux",
        "Connection pool",
        "Scaling MySQL beyond MySQL",
    ],
    "09": [
        "Creating a simple API",
        "Testing an API",
        "More detailed testing",
        "A note on testing",
        "Implementing the complete API",
    ],
    "10": ["Putting the API together", "Benchmarking it", "Profiling it"],
    "11": [
        "Configuration",
        "Building an application",
        "Deploying an application",
        "Creating a Docker image",
        "Exposing run-time information",
    ],
}


def _headings(notebook: Path) -> list[str]:
    cells = json.loads(notebook.read_text())["cells"]
    lines = ("".join(c["source"]).splitlines() for c in cells if c["cell_type"] == "markdown")
    return [line.lstrip("#").strip() for block in lines for line in block if line.startswith("#")]


def _opens(heading: str, title: str) -> bool:
    """The heading is the title, or the title with a colon and more on one side ("Part 2 of 4: benchmarking it")."""
    heading, title = heading.lower(), title.lower()
    return heading == title or heading.startswith(title + ":") or heading.endswith(": " + title)


def test_each_book_section_is_a_heading_of_its_chapter():
    chapters = {p.name[:2]: p for p in NOTEBOOKS.glob("[01][0-9]_*.ipynb") if "appendix" not in p.name}
    missing = {
        number: [title for title in titles if not any(_opens(h, title) for h in _headings(chapters[number]))]
        for number, titles in BOOK_SECTIONS.items()
    }
    assert not any(missing.values()), {number: titles for number, titles in missing.items() if titles}


def test_a_heading_that_only_mentions_a_section_does_not_count():  # the check above can fail
    assert _opens("Structure: `src/`, then and now", "Structure")
    assert not _opens("Suggested package structure", "Structure")
    assert not _opens("Redis", "Setting up Redis")
    assert _opens("Part 2 of 4: benchmarking it", "Benchmarking it")


def _exercise_headings(notebook: Path) -> set[tuple[str, str]]:
    """(number, function) of each exercise: "**2. Title.** Write `name(...)`" or "2. **Title.** Write `name(...)`"."""
    found = set()
    for cell in json.loads(notebook.read_text())["cells"]:
        for line in "".join(cell["source"]).splitlines() if cell["cell_type"] == "markdown" else []:
            number = re.match(r"\*\*(\d)\.|(\d)\. \*\*", line)
            if number:
                found |= {
                    (number.group(1) or number.group(2), name) for name in re.findall(r"`(\w+)\(", line)
                }
    return found


def test_each_short_of_time_pick_names_an_exercise_of_its_chapter():
    index = json.loads((NOTEBOOKS / "00_index.ipynb").read_text())
    text = next("".join(c["source"]) for c in index["cells"] if "**Short of time?**" in "".join(c["source"]))
    chapters, _, picks = [line.split("|")[1:-1] for line in text.splitlines() if line.startswith("|")]
    assert len(chapters) == 11
    for chapter, pick in zip(chapters, picks):
        number, name = re.fullmatch(r" (\d), `(\w+)` ", pick).groups()
        notebook = min(
            NOTEBOOKS.glob(f"{chapter.strip()}_*.ipynb"), key=lambda path: len(path.name)
        )  # not the appendix
        assert (number, name) in _exercise_headings(notebook), (
            f"{chapter.strip()}: no exercise {number} `{name}(...)`"
        )

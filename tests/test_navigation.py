"""The generated < prev | Contents | next > lines are present and current in every notebook."""

import shutil

import nbformat

from foundations.course import navigation


def test_navigation_is_current():
    assert navigation.stale() == [], "run: python -m foundations course navigation"


def test_a_renamed_neighbour_makes_navigation_stale(tmp_path):
    for path in navigation.chapters()[:2]:
        shutil.copy(path, tmp_path / path.name)
    first, second = navigation.chapters(tmp_path)
    nb = nbformat.read(first, as_version=4)
    nb.cells[0].source = "# 00 – A new title"
    nbformat.write(nb, first)
    assert navigation.stale(tmp_path) == [second.name]
    navigation.write_all(tmp_path)
    assert navigation.stale(tmp_path) == []
    assert "[< 00 – A new title](00_index.ipynb)" in nbformat.read(second, as_version=4).cells[1].source

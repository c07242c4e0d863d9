"""The lock read with its environment markers: what applies here, what other 3.11 patch releases need."""

import sys

from foundations import pins


def test_pins_whose_marker_does_not_hold_here_are_left_out(tmp_path):
    lock = tmp_path / "requirements.lock"
    lock.write_text(
        "# pins\nPyMySQL==1.2.4\n"
        'not-installed-anywhere==1.0 ; python_version < "3"\n'
        'Also_This.one==2.0 ; python_version >= "3"\n'
    )
    assert pins.applying_here(lock) == {"pymysql": "1.2.4", "also-this-one": "2.0"}


def test_the_archive_takes_the_pins_other_patch_releases_need(tmp_path):
    lock = tmp_path / "requirements.lock"
    lock.write_text(
        'redis==8.1.0\nasync-timeout==5.0.1 ; python_full_version < "3.11.3"\n'
        'newer-only==1.0 ; python_full_version >= "3.11.0"\n'
    )
    expected = ["async-timeout==5.0.1"] if sys.version_info >= (3, 11, 3) else []
    assert pins.for_other_patch_releases(lock) == expected


def test_the_projects_lock_parses_and_pins_what_the_api_needs():
    assert {"redis", "granian", "pymysql", "packaging"} <= set(pins.applying_here())

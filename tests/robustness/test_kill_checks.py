"""The kill test's own reading of what was committed must not be able to pass with nothing
checked (issue 14, item 13): an unreadable database fails it, it is never an empty set."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.robustness.test_kill import _titles


def test_an_unreadable_database_fails_the_check(tmp_path: Path) -> None:
    damaged = tmp_path / "newsbot.sqlite"
    damaged.write_bytes(b"this is not a database " * 100)
    with pytest.raises(sqlite3.DatabaseError):
        _titles(damaged)
    empty = tmp_path / "empty.sqlite"
    sqlite3.connect(empty).close()  # a database without the articles table
    with pytest.raises(sqlite3.OperationalError):
        _titles(empty)


def test_only_the_pacing_loop_tolerates_a_generation_still_being_created(
    tmp_path: Path
) -> None:
    from tests.robustness.test_kill import _titles_so_far

    empty = tmp_path / "empty.sqlite"
    sqlite3.connect(empty).close()
    assert _titles_so_far(empty) == set()
    assert _titles(None) == set()  # no index yet: nothing was committed

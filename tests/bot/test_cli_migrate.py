"""``newsbot migrate``: every database newsbot keeps is brought to this code's schema, and
the command says what it applied (or that nothing was pending)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot import cli
from index.alerts.pgstate import PG_STATE_MIGRATIONS
from index.alerts.statedb import STATE_MIGRATIONS, STATE_NAME
from index.datalock import DataDirLock
from index.generation import SQLITE_NAME
from index.lifecycle import live_or_new
from index.migrations import MIGRATIONS, connect, migrate
from index.pgmigrations import MIGRATIONS as PG_MIGRATIONS


def _migrate(data: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str]]:
    code = cli.main(["migrate", "--data-dir", str(data)])
    captured = capsys.readouterr()
    return code, (captured.out + captured.err).splitlines()


def test_a_new_data_dir_is_created_at_the_current_schemas_then_up_to_date(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "data"
    code, lines = _migrate(data, capsys)
    assert code == 0
    assert f"index (SQLite): new → schema {len(MIGRATIONS)}" in lines
    assert f"alert state (SQLite): new → schema {len(STATE_MIGRATIONS)}" in lines
    code, lines = _migrate(data, capsys)
    assert code == 0
    assert lines[:2] == [f"index (SQLite): schema {len(MIGRATIONS)}, up to date",
                         f"alert state (SQLite): schema {len(STATE_MIGRATIONS)}, up to date"]


def test_older_databases_are_upgraded_and_the_steps_reported(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "data"
    gen = live_or_new(data)
    conn = connect(gen / SQLITE_NAME)  # made an index of an older newsbot: undo step 3
    assert len(MIGRATIONS) == 3, "update this test's undo for the new migration"
    conn.execute("ALTER TABLE articles DROP COLUMN link_topics")
    conn.execute("PRAGMA user_version = 2")
    conn.close()
    conn = connect(data / STATE_NAME)
    migrate(conn, STATE_MIGRATIONS[:1], name="state")
    conn.close()

    code, lines = _migrate(data, capsys)
    assert code == 0
    assert f"index (SQLite): schema 2 → schema {len(MIGRATIONS)}" in lines
    assert f"alert state (SQLite): schema 1 → schema {len(STATE_MIGRATIONS)}" in lines
    conn = connect(gen / SQLITE_NAME)  # the same generation, now upgraded in place
    assert conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    conn.close()


def test_a_database_newer_than_this_code_is_refused_and_left_alone(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "data"
    assert _migrate(data, capsys)[0] == 0
    conn = connect(data / STATE_NAME)
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    code, lines = _migrate(data, capsys)
    assert code == 1
    assert any("state schema version 99 is newer than this newsbot" in line for line in lines)
    conn = connect(data / STATE_NAME)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 99
    conn.close()


def test_migrate_waits_for_no_running_bot(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "data"
    with DataDirLock(data, "newsbot run"):
        code, lines = _migrate(data, capsys)
    assert code == 3
    assert any("newsbot run" in line for line in lines)


def test_postgres_databases_are_migrated_too(tmp_path: Path, pg_url: str,
                                             monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("NEWSBOT_DATABASE_URL", pg_url)
    data = tmp_path / "data"
    code, lines = _migrate(data, capsys)
    assert code == 0
    assert f"index (PostgreSQL): new → schema {len(PG_MIGRATIONS)}" in lines
    assert f"alert state (PostgreSQL): new → schema {len(PG_STATE_MIGRATIONS)}" in lines
    code, lines = _migrate(data, capsys)
    assert code == 0
    assert f"index (PostgreSQL): schema {len(PG_MIGRATIONS)}, up to date" in lines
    assert f"alert state (PostgreSQL): schema {len(PG_STATE_MIGRATIONS)}, up to date" in lines
    assert not any(pg_url in line for line in lines)

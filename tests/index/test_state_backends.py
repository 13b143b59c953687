"""The two alert-state backends (``index.alerts.state``): both match the one interface, the
factory picks by ``database_url``, and what only PostgreSQL has (its own schema and
migrations beside the index's tables, the ``?`` placeholders turned into psycopg's)."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.alerts.pgstate import PG_STATE_MIGRATIONS, SCHEMA, PgStateDB, pg_sql
from index.alerts.state import StateDatabase, open_state
from index.alerts.statedb import StateDB
from index.settings import IndexSettings
from tests.storage_checks import protocol_mismatches


def test_both_backends_match_the_state_interface_method_by_method() -> None:
    assert protocol_mismatches(StateDB, StateDatabase) == []
    assert protocol_mismatches(PgStateDB, StateDatabase) == []


def test_placeholders_become_psycopgs_and_percent_signs_stay_literal() -> None:
    assert pg_sql("SELECT ? || '%' WHERE a = ?") == "SELECT %s || '%%' WHERE a = %s"


def test_the_factory_picks_sqlite_without_a_url_and_postgres_with_one(
    tmp_path: Path, pg_url: str
) -> None:
    local = open_state(IndexSettings(_env_file=None, data_dir=tmp_path / "d"))
    shared = open_state(IndexSettings(_env_file=None, data_dir=tmp_path / "d",
                                      database_url=pg_url))
    try:
        assert isinstance(local, StateDB) and not local.shared
        assert isinstance(shared, PgStateDB) and shared.shared
    finally:
        local.close()
        shared.close()


def test_postgres_state_has_its_own_schema_and_migrates_once_per_database(
    pg_url: str,
) -> None:
    import psycopg

    with psycopg.connect(pg_url, autocommit=True) as conn:  # an index table named alike
        conn.execute("CREATE TABLE public.meta (key text PRIMARY KEY, value text NOT NULL)")
    first, second = PgStateDB(pg_url), PgStateDB(pg_url)
    try:
        assert first.schema_version == second.schema_version == len(PG_STATE_MIGRATIONS)
        with first.transaction() as cur:
            cur.execute("INSERT INTO meta (key, value) VALUES (?, ?)", ("k", "v"))
        assert second.get_meta("k") == "v"
        with psycopg.connect(pg_url, autocommit=True) as conn:
            assert conn.execute("SELECT count(*) FROM public.meta").fetchone()[0] == 0
            tables = {r[0] for r in conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
                (SCHEMA,))}
        assert {"outbox", "subscriptions", "stories", "processed", "feeds", "added_feeds",
                "chat_settings", "meta", "schema_version"} <= tables
    finally:
        first.close()
        second.close()


def test_a_newer_postgres_state_is_refused(pg_url: str) -> None:
    PgStateDB(pg_url).close()
    import psycopg

    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(f"UPDATE {SCHEMA}.schema_version SET version = version + 1")
    with pytest.raises(RuntimeError, match="alert state schema version .* is newer"):
        PgStateDB(pg_url)

"""The alert state's one interface, and the factory that picks its backend.

The stores (subscriptions, outbox, stories, processed markers, feeds, chat settings) are
written once against ``StateDatabase``: SQL with ``?`` placeholders in the dialect SQLite
and PostgreSQL share (``INSERT … ON CONFLICT``, ``RETURNING``, no ``OR IGNORE``). Two
backends conform: ``index.alerts.statedb.StateDB`` (``data_dir/state.sqlite``, one process)
and ``index.alerts.pgstate.PgStateDB`` (its own schema in the ``database_url`` database,
several processes). What differs between them is in the backend, not in the stores:

- ``shared``: other processes use the same state at once (PostgreSQL), so nothing may assume
  that claims left by an earlier run belong to a dead process;
- ``SKIP_LOCKED``: the clause a claiming sub-select ends with, so concurrent claimers pass
  over each other's rows instead of waiting on them;
- ``exclusive(name)``: a lock held by at most one process (the feed poller's round).
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, Protocol, Self

from index.settings import IndexSettings


class StateCursor(Protocol):
    """The cursor a ``StateDatabase.transaction`` yields (sqlite3's, or one over psycopg's)."""

    @property
    def rowcount(self) -> int: ...

    def execute(self, sql: str, params: Sequence[Any] = ..., /) -> Self: ...

    def executemany(self, sql: str, params: Sequence[Sequence[Any]], /) -> Self: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...


class StateDatabase(Protocol):
    shared: bool
    SKIP_LOCKED: str
    schema_was: int  # the schema version found on opening (0: new), before migrations
    schema_version: int  # the version after them (``newsbot migrate`` reports both)

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Rows of one statement (a ``… RETURNING`` too), committed on its own."""
        ...

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """One statement in its own transaction; the number of rows changed."""
        ...

    def returning(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """One writing statement ``… RETURNING``, atomic on its own (the outbox claim)."""
        ...

    def transaction(self) -> AbstractContextManager[StateCursor]:
        """One write transaction, writers one at a time: committed whole or not at all."""
        ...

    def exclusive(self, name: str) -> AbstractContextManager[bool]:
        """Whether this process holds the lock ``name`` for the block (never waits)."""
        ...

    def get_meta(self, key: str) -> str | None: ...

    def close(self) -> None: ...


def set_meta(cur: StateCursor, key: str, value: str) -> None:
    """Set ``key`` in the ``meta`` table inside the caller's transaction."""
    cur.execute(
        "INSERT INTO meta (key, value) VALUES (?, ?) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value", (key, value))


def open_state(settings: IndexSettings) -> StateDatabase:
    """The alert state of ``settings``: PostgreSQL when ``database_url`` is set, else
    ``data_dir/state.sqlite``."""
    if settings.database_url:
        from index.alerts.pgstate import PgStateDB

        return PgStateDB(settings.database_url.get_secret_value())
    from index.alerts.statedb import StateDB

    return StateDB.open(Path(settings.data_dir))

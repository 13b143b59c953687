"""PostgreSQL session advisory locks: one process at a time for a named job (rebuild,
ingest, feed polling) across every process on the database. The server releases a session
lock when its connection ends, so a process that dies holds nothing."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def session_lock(conn: Any, name: str, *, wait: bool) -> Iterator[bool]:
    """Hold the advisory lock ``name`` on ``conn`` (an autocommit psycopg connection) for
    the block. ``wait``: block until it is free; otherwise yield False at once when another
    session holds it (and True when this one got it)."""
    if wait:
        conn.execute("SELECT pg_advisory_lock(hashtext(%s))", (name,))
        got = True
    else:
        got = bool(conn.execute("SELECT pg_try_advisory_lock(hashtext(%s))",
                                (name,)).fetchone()[0])
    try:
        yield got
    finally:
        if got:
            conn.execute("SELECT pg_advisory_unlock(hashtext(%s))", (name,))

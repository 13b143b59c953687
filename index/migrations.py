"""Numbered schema migrations; ``PRAGMA user_version`` records the last one applied.

Append new migrations at the end; never edit one that has shipped.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, Self

MIGRATIONS: list[str] = [
    # 1: articles, chunks (with their vectors, so FAISS can always be rebuilt), FTS, meta.
    """
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE articles (
        id INTEGER PRIMARY KEY,
        ext_id TEXT NOT NULL,
        key TEXT UNIQUE,
        body_hash TEXT NOT NULL UNIQUE,
        title TEXT NOT NULL,
        published_at TEXT,
        source TEXT NOT NULL,
        url TEXT,
        category TEXT,
        body TEXT NOT NULL,
        origin TEXT NOT NULL DEFAULT '',
        note TEXT,
        ingested_at TEXT NOT NULL
    );
    CREATE INDEX articles_published ON articles (published_at);
    CREATE INDEX articles_source ON articles (source);
    CREATE TABLE chunks (
        id INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused: a FAISS id means one vector
        article_id INTEGER NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
        ordinal INTEGER NOT NULL,
        start INTEGER NOT NULL,
        end INTEGER NOT NULL,
        text TEXT NOT NULL,
        vector BLOB NOT NULL
    );
    CREATE INDEX chunks_article ON chunks (article_id);
    CREATE VIRTUAL TABLE chunks_fts USING fts5 (
        title, text, tokenize = 'porter unicode61 remove_diacritics 2'
    );
    """,
    # 2: each chunk's similarities to its nearest neighbours in other stories (index.hubness).
    """
    CREATE TABLE neighbours (
        chunk_id INTEGER PRIMARY KEY REFERENCES chunks (id) ON DELETE CASCADE,
        ids BLOB NOT NULL,  -- int64 chunk ids of the nearest, best first
        sims BLOB NOT NULL  -- their cosines, float16
    );
    """,
    # 3: the words of the story URLs a body links to (index.normalize.link_topics).
    """
    ALTER TABLE articles ADD COLUMN link_topics TEXT NOT NULL DEFAULT '';
    """,
]


def migrate(
    conn: sqlite3.Connection, migrations: list[str] | None = None, *, name: str = "index"
) -> int:
    """Apply pending migrations, each in its own transaction; return the schema version.

    ``migrations`` defaults to the index's own list; other databases (the alert state in
    ``index.alerts.statedb``) pass theirs, so every SQLite file here migrates the same way.
    """
    steps = MIGRATIONS if migrations is None else migrations
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > len(steps):
        raise RuntimeError(
            f"{name} schema version {version} is newer than this newsbot ({len(steps)})"
        )
    for number, sql in enumerate(steps[version:], start=version + 1):
        conn.execute("BEGIN")
        try:
            for statement in _statements(sql):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {number}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    return len(steps)


def stored_version(conn: sqlite3.Connection) -> int:
    """The schema version a SQLite file holds before ``migrate`` (0 for a new file), so
    ``newsbot migrate`` can say what it applied."""
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def _statements(sql: str) -> list[str]:
    return [s.strip() for s in sql.split(";") if s.strip()]


def connect(path: Path) -> sqlite3.Connection:
    """A connection set up as every newsbot database wants it: explicit transactions
    (autocommit otherwise), WAL so readers never wait for the writer, foreign keys on, and a
    busy timeout so a second process (a CLI ingest beside the bot) waits instead of failing.
    Shared by threads, each operation under the owner's lock."""
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA busy_timeout = 10000")
    return conn


@contextmanager
def transaction(conn: sqlite3.Connection, lock: threading.RLock) -> Iterator[sqlite3.Cursor]:
    """One write transaction (``BEGIN IMMEDIATE``) under ``lock``: committed whole or not at
    all."""
    with lock:
        cur = conn.cursor()
        cur.execute("BEGIN IMMEDIATE")
        try:
            yield cur
            cur.execute("COMMIT")
        except BaseException:
            cur.execute("ROLLBACK")
            raise


class MigratedDB:
    """A SQLite file beside the index generations (``state.sqlite``, ``chats.sqlite``):
    one connection guarded by a lock, with its own numbered migrations applied on open.
    Subclasses name the file (``FILE``), the migrations (``MIGRATIONS``) and their log name
    (``NAME``)."""

    FILE: str
    MIGRATIONS: list[str]
    NAME: str

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock = threading.RLock()
        self.conn = connect(path)
        self.schema_was = stored_version(self.conn)
        self.schema_version = migrate(self.conn, self.MIGRATIONS, name=self.NAME)

    @classmethod
    def open(cls, data_dir: Path) -> Self:
        data_dir.mkdir(parents=True, exist_ok=True)
        return cls(data_dir / cls.FILE)

    def close(self) -> None:
        with self.lock:
            self.conn.close()

    def transaction(self) -> AbstractContextManager[sqlite3.Cursor]:
        """One write transaction (``BEGIN IMMEDIATE``): committed whole or not at all."""
        return transaction(self.conn, self.lock)

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self.lock:
            return self.conn.execute(sql, params).fetchall()

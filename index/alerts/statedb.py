"""``data_dir/state.sqlite``: what must outlive the index — subscriptions, the alert
outbox, story ids, processed-article markers, feed poll state, the feeds added at run time
and per-chat settings.

Why a file of its own: the index lives in generations, and a rebuild writes a new
generation database and deletes the old one. Copying subscriptions and pending alerts
across at the swap would add a window in which they could be lost or doubled; beside the
generations they are simply never touched by a rebuild. It has its own numbered
migrations (``STATE_MIGRATIONS``, applied by ``index.migrations.migrate``).

The SQLite backend of ``index.alerts.state.StateDatabase`` (``index.alerts.pgstate`` is the
PostgreSQL one). One connection guarded by a lock, WAL mode, every multi-row change in one
transaction (``with db.transaction() as cur``), so a crash leaves the last committed state.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from index.alerts.state import StateCursor
from index.migrations import MigratedDB

STATE_NAME = "state.sqlite"

STATE_MIGRATIONS: list[str] = [
    # 1: subscriptions, feeds, stories, processed articles, the outbox.
    """
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE subscriptions (
        id INTEGER PRIMARY KEY,
        chat_id INTEGER NOT NULL,
        chat_title TEXT,
        topic TEXT NOT NULL COLLATE NOCASE,
        created_at REAL NOT NULL,          -- unix seconds
        created_by INTEGER,
        active INTEGER NOT NULL DEFAULT 1, -- 0 after Telegram said 403 for the chat
        UNIQUE (chat_id, topic)
    );
    CREATE TABLE feeds (
        url TEXT PRIMARY KEY,
        etag TEXT,
        last_modified TEXT,
        last_ok REAL,
        last_error TEXT,
        last_error_at REAL,
        error_count INTEGER NOT NULL DEFAULT 0,
        next_poll_at REAL NOT NULL DEFAULT 0,
        articles INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE stories (
        id INTEGER PRIMARY KEY,
        published TEXT NOT NULL,           -- ISO date
        lead BLOB NOT NULL,                -- float32 vector of the lead chunk
        facts TEXT NOT NULL,               -- newline-separated numbers and names
        created_at REAL NOT NULL
    );
    CREATE INDEX stories_published ON stories (published);
    CREATE TABLE processed (
        article_hash TEXT PRIMARY KEY,     -- normalized-body hash: stable across rebuilds
        at REAL NOT NULL
    );
    CREATE TABLE outbox (
        id INTEGER PRIMARY KEY,
        chat_id INTEGER NOT NULL,
        story_id INTEGER NOT NULL,
        subscription_id INTEGER,
        topic TEXT NOT NULL,
        headline TEXT NOT NULL,
        quote TEXT NOT NULL,
        source TEXT NOT NULL,
        url TEXT,
        published TEXT,
        score REAL NOT NULL,
        created_at REAL NOT NULL,
        status TEXT NOT NULL DEFAULT 'pending',  -- pending | sent | failed | dropped
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at REAL NOT NULL DEFAULT 0,
        last_error TEXT,
        sent_at REAL,
        message_id INTEGER,
        UNIQUE (chat_id, story_id)               -- one alert per chat and story, ever
    );
    CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
    CREATE INDEX outbox_chat_sent ON outbox (chat_id, sent_at);
    """,
    # 2: feeds added from Telegram or the CLI (index.alerts.feedstore), per-chat settings
    # (index.alerts.chatsettings) and the forum topic a subscription was made in.
    """
    CREATE TABLE added_feeds (
        id INTEGER PRIMARY KEY,
        url TEXT NOT NULL UNIQUE,
        title TEXT,
        added_at REAL NOT NULL,            -- unix seconds
        added_by INTEGER                   -- a Telegram user id, NULL from the CLI
    );
    CREATE TABLE chat_settings (
        chat_id INTEGER PRIMARY KEY,
        digest INTEGER NOT NULL DEFAULT 1,       -- bursts of alerts as one message
        silent INTEGER NOT NULL DEFAULT 0,       -- alerts without a notification sound
        previews INTEGER NOT NULL DEFAULT 0,     -- link previews under alerts
        full_article INTEGER NOT NULL DEFAULT 1, -- "Full article" buttons under answers
        forum_topic INTEGER NOT NULL DEFAULT 1,  -- alerts into the topic of /subscribe
        updated_at REAL NOT NULL,
        updated_by INTEGER
    );
    ALTER TABLE subscriptions ADD COLUMN thread_id INTEGER;
    """,
    # 3: who claimed an outbox row to send it, and until when (index.alerts.outbox).
    """
    ALTER TABLE outbox ADD COLUMN claimed_by TEXT;
    ALTER TABLE outbox ADD COLUMN claimed_until REAL;
    """,
]


class StateDB(MigratedDB):
    """The SQLite ``StateDatabase`` (``index.alerts.state``): one process, the data
    directory's writer (``index.datalock``)."""

    FILE = STATE_NAME
    MIGRATIONS = STATE_MIGRATIONS
    NAME = "state"
    shared = False  # the data-directory lock keeps other writers out
    SKIP_LOCKED = ""  # BEGIN IMMEDIATE already serializes claimers

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """One statement in its own transaction; returns the number of rows changed."""
        with self.lock:
            return self.conn.execute(sql, params).rowcount

    def returning(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """One writing statement ``… RETURNING`` in its own ``BEGIN IMMEDIATE`` transaction
        (a deferred one could find its read snapshot stale when it comes to write)."""
        with self.transaction() as cur:
            return cur.execute(sql, params).fetchall()

    def get_meta(self, key: str) -> str | None:
        rows = self.query("SELECT value FROM meta WHERE key = ?", (key,))
        return rows[0][0] if rows else None

    def transaction(self) -> AbstractContextManager[StateCursor]:
        """One write transaction (``BEGIN IMMEDIATE``): committed whole or not at all."""
        return super().transaction()

    def exclusive(self, name: str) -> AbstractContextManager[bool]:
        """Always held: no other process writes this file."""
        return nullcontext(True)

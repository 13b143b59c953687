"""Copying the alert state between backends (``newsbot copy``): every row of every state
table with its id — subscriptions, outbox (pending, sent and failed rows, claims as they
are), stories, processed markers, feed poll state, added feeds, chat settings — and the
metadata, whose matcher cursor is moved to the destination's generation name (article ids
are kept by ``index.copy``, so "matched up to article N" still holds there).

Columns are named here once per table; ``tests/pg/test_copy.py`` checks the list against
both schemas, so a migration that adds a column fails a test until it is copied too.
"""

from __future__ import annotations

from dataclasses import dataclass

from index.alerts.matcher import CURSOR_KEY
from index.alerts.state import StateCursor, StateDatabase

STATE_TABLES: dict[str, tuple[str, ...]] = {
    "subscriptions": ("id", "chat_id", "chat_title", "topic", "created_at", "created_by",
                      "active", "thread_id"),
    "feeds": ("url", "etag", "last_modified", "last_ok", "last_error", "last_error_at",
              "error_count", "next_poll_at", "articles"),
    "stories": ("id", "published", "lead", "facts", "created_at"),
    "processed": ("article_hash", "at"),
    "outbox": ("id", "chat_id", "story_id", "subscription_id", "topic", "headline", "quote",
               "source", "url", "published", "score", "created_at", "status", "attempts",
               "next_attempt_at", "last_error", "sent_at", "message_id", "claimed_by",
               "claimed_until"),
    "added_feeds": ("id", "url", "title", "added_at", "added_by"),
    "chat_settings": ("chat_id", "digest", "silent", "previews", "full_article",
                      "forum_topic", "updated_at", "updated_by"),
    "meta": ("key", "value"),
}
# What makes a state "in use": any of these rows (``meta`` alone is what opening it and a
# matcher's first run leave).
DATA_TABLES = tuple(t for t in STATE_TABLES if t != "meta")


@dataclass(slots=True)
class StateRows:
    """Every row of every state table, as read in one transaction."""

    tables: dict[str, list[tuple]]


def read_state(db: StateDatabase) -> StateRows:
    """All state rows, read in one transaction (holding the state writers' lock, so no
    other process changes the state halfway through)."""
    with db.transaction() as cur:
        return StateRows({
            table: [tuple(r) for r in cur.execute(
                f"SELECT {', '.join(columns)} FROM {table} ORDER BY {columns[0]}").fetchall()]
            for table, columns in STATE_TABLES.items()})


def state_counts(db: StateDatabase) -> dict[str, int]:
    """Rows per data table, and the outbox rows still to send (``outbox pending``)."""
    counts = {t: int(db.query(f"SELECT count(*) FROM {t}")[0][0]) for t in DATA_TABLES}
    counts["outbox pending"] = int(db.query(
        "SELECT count(*) FROM outbox WHERE status IN ('pending', 'sending')")[0][0])
    return counts


def in_use(db: StateDatabase) -> dict[str, int]:
    """The data tables that hold rows, with their counts (empty: a copy may fill it)."""
    return {t: n for t, n in state_counts(db).items() if n and t in DATA_TABLES}


def write_state(cur: StateCursor, rows: StateRows, *, source_generation: str,
                generation: str) -> int:
    """Insert every row in the caller's transaction (the destination is empty; its
    ``meta`` is replaced); the matcher's cursor on ``source_generation`` is moved to
    ``generation``. Returns the rows written."""
    cur.execute("DELETE FROM meta")
    written = 0
    for table, columns in STATE_TABLES.items():
        values = rows.tables[table]
        if table == "meta":
            values = [(k, moved_cursor(v, source_generation, generation) if k == CURSOR_KEY
                       else v) for k, v in values]
        if values:
            cur.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES "
                            f"({', '.join(['?'] * len(columns))})", values)
        written += len(values)
    return written


def moved_cursor(value: str, source_generation: str, generation: str) -> str:
    """``gen:last`` on the source's live generation → the same ``last`` on the copy's."""
    gen, _, last = value.rpartition(":")
    return f"{generation}:{last}" if gen == source_generation else value

"""The alert outbox: alerts waiting to be delivered, and what became of them.

Rows are written by the matcher (``index.alerts``) and consumed by a sender that knows how
to reach a chat. ``UNIQUE (chat_id, story_id)`` makes enqueueing idempotent: matching an
article twice, or the same story from a second outlet, cannot add a second alert for a
chat. A row turns ``sent`` only after the sender reports that the chat accepted it, so a
crash anywhere before that leaves it ``pending`` (or ``sending``) and it is delivered after
a restart. A sender first *claims* the rows it will send (``pending`` → ``sending`` in one
``UPDATE … RETURNING``), so two senders — two processes, or two calls racing — can never
both send one row; a row claimed but not sent goes back to ``pending``. Rows a crash left
claimed are released by the next writer at start (``release_claims``; the data directory
lock guarantees the claimer is gone).
Each row carries everything the message shows (headline, quote, outlet, …): delivery
needs no index, and a rebuild cannot change what an alert says.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from index.alerts.state import StateCursor, StateDatabase

_OPEN = "('pending', 'sending')"  # not yet delivered, failed or dropped
_COLUMNS = ("id, chat_id, story_id, topic, headline, quote, source, url, published, score, "
            "created_at, attempts, subscription_id")


@dataclass(frozen=True, slots=True)
class Alert:
    """One pending alert: a story for a chat, and the topic it matched."""

    id: int
    chat_id: int
    story_id: int
    topic: str
    headline: str
    quote: str  # a verbatim sentence of the article
    source: str
    url: str | None
    published: str | None  # ISO date
    score: float
    created_at: float
    attempts: int
    subscription_id: int | None = None  # the topic it matched (its forum topic, if any)


@dataclass(frozen=True, slots=True)
class NewAlert:
    """What the matcher enqueues (the outbox adds ids, status and timestamps)."""

    chat_id: int
    story_id: int
    subscription_id: int
    topic: str
    headline: str
    quote: str
    source: str
    url: str | None
    published: str | None
    score: float


class Outbox:
    def __init__(self, db: StateDatabase, clock: Callable[[], float] = time.time) -> None:
        self._db = db
        self._clock = clock

    # -- writing (the matcher, inside its transaction) -------------------------------------
    def enqueue(self, cur: StateCursor, alert: NewAlert) -> bool:
        """Add ``alert`` unless the chat already has one for this story; True if added."""
        cur.execute(
            "INSERT INTO outbox (chat_id, story_id, subscription_id, topic, "
            "headline, quote, source, url, published, score, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (alert.chat_id, alert.story_id, alert.subscription_id, alert.topic,
             alert.headline, alert.quote, alert.source, alert.url, alert.published,
             alert.score, self._clock()))
        return cur.rowcount > 0

    # -- delivering (the sender) -----------------------------------------------------------
    def due(self, limit: int = 500) -> list[Alert]:
        """Pending alerts whose next attempt is due, oldest first."""
        rows = self._db.query(
            f"SELECT {_COLUMNS} FROM outbox WHERE status = 'pending' AND next_attempt_at <= ? "
            "ORDER BY id LIMIT ?", (self._clock(), limit))
        return [Alert(*r) for r in rows]

    def claim_due(self, limit: int = 500) -> list[Alert]:
        """``due()``, claimed: the returned rows are ``sending`` and no other sender can
        get them; each must end ``sent``, ``failed``, retried or ``release``d."""
        rows = self._db.returning(
            f"UPDATE outbox SET status = 'sending' WHERE id IN ("
            "SELECT id FROM outbox WHERE status = 'pending' AND next_attempt_at <= ? "
            f"ORDER BY id LIMIT ?{self._db.SKIP_LOCKED}) RETURNING {_COLUMNS}",
            (self._clock(), limit))
        return sorted((Alert(*r) for r in rows), key=lambda a: a.id)

    def release(self, ids: Sequence[int]) -> None:
        """Give claimed rows back unsent (a chat's pace said wait)."""
        with self._db.transaction() as cur:
            cur.executemany("UPDATE outbox SET status = 'pending' "
                            "WHERE id = ? AND status = 'sending'", [(i,) for i in ids])

    def release_claims(self) -> int:
        """At start: rows a crashed sender had claimed are pending again."""
        return self._db.execute(
            "UPDATE outbox SET status = 'pending' WHERE status = 'sending'")

    def mark_sent(self, ids: Sequence[int], message_id: int | None) -> None:
        with self._db.transaction() as cur:
            cur.executemany(
                "UPDATE outbox SET status = 'sent', sent_at = ?, message_id = ?, "
                f"last_error = NULL WHERE id = ? AND status IN {_OPEN}",
                [(self._clock(), message_id, i) for i in ids])

    def retry_later(self, ids: Sequence[int], delay: float, error: str, *,
                    count_attempt: bool = True) -> None:
        """Try again after ``delay`` seconds (a flood wait does not count as an attempt)."""
        with self._db.transaction() as cur:
            cur.executemany(
                "UPDATE outbox SET status = 'pending', attempts = attempts + ?, "
                f"next_attempt_at = ?, last_error = ? WHERE id = ? AND status IN {_OPEN}",
                [(1 if count_attempt else 0, self._clock() + delay, error[:500], i)
                 for i in ids])

    def fail(self, ids: Sequence[int], error: str) -> None:
        """Give up on these alerts (the chat rejected them for good)."""
        with self._db.transaction() as cur:
            cur.executemany(
                "UPDATE outbox SET status = 'failed', last_error = ? "
                f"WHERE id = ? AND status IN {_OPEN}", [(error[:500], i) for i in ids])

    def drop_chat(self, chat_id: int, reason: str) -> int:
        """Drop everything pending for a chat the bot can no longer reach."""
        return self._db.execute(
            "UPDATE outbox SET status = 'dropped', last_error = ? "
            f"WHERE chat_id = ? AND status IN {_OPEN}", (reason[:500], chat_id))

    def move_chat(self, old_id: int, new_id: int) -> None:
        """A group became a supergroup: its alerts follow it (but for a story the new
        chat already has one for)."""
        self._db.execute(
            "UPDATE outbox SET chat_id = ? WHERE chat_id = ? AND NOT EXISTS (SELECT 1 FROM "
            "outbox AS o WHERE o.chat_id = ? AND o.story_id = outbox.story_id)",
            (new_id, old_id, new_id))

    # -- pacing ------------------------------------------------------------------------------
    def messages_since(self, chat_id: int, since: float) -> int:
        """Messages (an alert or a digest of several) delivered to a chat since ``since``."""
        return int(self._db.query(
            "SELECT count(DISTINCT coalesce(message_id, -id)) FROM outbox "
            "WHERE chat_id = ? AND status = 'sent' AND sent_at >= ?", (chat_id, since))[0][0])

    def alerts_since(self, chat_id: int, since: float) -> int:
        """Alerts (not messages) delivered to a chat since ``since``."""
        return int(self._db.query(
            "SELECT count(*) FROM outbox WHERE chat_id = ? AND status = 'sent' "
            "AND sent_at >= ?", (chat_id, since))[0][0])

    def counts(self) -> dict[str, int]:
        """Rows per status: pending (claimed ones included), sent, failed, dropped."""
        return {status: int(n) for status, n in self._db.query(
            "SELECT CASE status WHEN 'sending' THEN 'pending' ELSE status END AS s, "
            "count(*) FROM outbox GROUP BY s")}

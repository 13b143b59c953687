"""The alert outbox: alerts waiting to be delivered, and what became of them.

Rows are written by the matcher (``index.alerts``) and consumed by a sender that knows how
to reach a chat. ``UNIQUE (chat_id, story_id)`` makes enqueueing idempotent: matching an
article twice, or the same story from a second outlet, cannot add a second alert for a
chat. A row turns ``sent`` only after the sender reports that the chat accepted it, so a
crash anywhere before that leaves it ``pending`` (or ``sending``) and it is delivered after
a restart.

Claims and leases, so several processes can send from one outbox (docs/postgres.md): a
sender first *claims* the rows it will send (``pending`` → ``sending`` with its name in
``claimed_by`` and ``claimed_until`` = now + lease, in one ``UPDATE … RETURNING``; on
PostgreSQL its sub-select takes the rows ``FOR UPDATE SKIP LOCKED``, so claimers racing get
disjoint rows without waiting). Only the claimer can settle a row (sent, retried, failed,
released), and it renews the lease (``hold``) before each message, sending nothing it no
longer holds. A claim whose lease ran out is claimable again: that is how the alerts of a
process killed mid-send are delivered by another. With SQLite (one process, the data
directory's lock) the next run releases every claim at start instead (``release_claims``).
Each row carries everything the message shows (headline, quote, outlet, …): delivery
needs no index, and a rebuild cannot change what an alert says.
"""

from __future__ import annotations

import os
import socket
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from index.alerts.state import StateCursor, StateDatabase
from index.settings import DEFAULT_ALERT_LEASE

_OPEN = "('pending', 'sending')"  # not yet delivered, failed or dropped
_MINE = "status = 'sending' AND claimed_by = ?"  # claimed by this sender (the last param)
_UNCLAIM = "claimed_by = NULL, claimed_until = NULL"
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
    """The outbox over a ``StateDatabase``; ``claimer`` names this sender in its claims
    (host, process, and a random part, so two ``Outbox`` objects never share claims)."""

    def __init__(self, db: StateDatabase, clock: Callable[[], float] = time.time, *,
                 lease: float = DEFAULT_ALERT_LEASE, claimer: str | None = None) -> None:
        self._db = db
        self._clock = clock
        self.lease = float(lease)
        self.claimer = claimer or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"

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
        """Pending alerts whose next attempt is due, oldest first (not claimed)."""
        rows = self._db.query(
            f"SELECT {_COLUMNS} FROM outbox WHERE status = 'pending' AND next_attempt_at <= ? "
            "ORDER BY id LIMIT ?", (self._clock(), limit))
        return [Alert(*r) for r in rows]

    def claim_due(self, limit: int = 500) -> list[Alert]:
        """Claim what is due for ``lease`` seconds: pending alerts whose next attempt is
        due, and claims whose lease ran out (their claimer died or lost them). The
        returned rows are ``sending`` and no other sender gets them while the lease runs;
        each must end ``sent``, ``failed``, retried or ``release``d by this claimer."""
        now = self._clock()
        rows = self._db.returning(
            "UPDATE outbox SET status = 'sending', claimed_by = ?, claimed_until = ? "
            "WHERE id IN (SELECT id FROM outbox WHERE (status = 'pending' AND "
            "next_attempt_at <= ?) OR (status = 'sending' AND claimed_until <= ?) "
            f"ORDER BY id LIMIT ?{self._db.SKIP_LOCKED}) RETURNING {_COLUMNS}",
            (self.claimer, now + self.lease, now, now, limit))
        return sorted((Alert(*r) for r in rows), key=lambda a: a.id)

    def hold(self, ids: Sequence[int]) -> bool:
        """Renew the lease on claimed rows just before sending them; False when any of
        them is no longer this sender's (its lease ran out and another took it): then
        they must not be sent from here."""
        if not ids:
            return True
        marks = ", ".join("?" for _ in ids)
        held = self._db.execute(
            f"UPDATE outbox SET claimed_until = ? WHERE id IN ({marks}) AND {_MINE}",
            (self._clock() + self.lease, *ids, self.claimer))
        return held == len(set(ids))

    def release(self, ids: Sequence[int]) -> None:
        """Give claimed rows back unsent (a chat's pace said wait)."""
        with self._db.transaction() as cur:
            cur.executemany(f"UPDATE outbox SET status = 'pending', {_UNCLAIM} "
                            f"WHERE id = ? AND {_MINE}", [(i, self.claimer) for i in ids])

    def release_claims(self) -> int:
        """At start, with one process (SQLite): every claim is a crashed run's, pending
        again at once. Never on a shared database, where claims end with their lease."""
        return self._db.execute(
            f"UPDATE outbox SET status = 'pending', {_UNCLAIM} WHERE status = 'sending'")

    def mark_sent(self, ids: Sequence[int], message_id: int | None) -> None:
        """The chat accepted these claimed rows (only their claimer can say so)."""
        with self._db.transaction() as cur:
            cur.executemany(
                f"UPDATE outbox SET status = 'sent', sent_at = ?, message_id = ?, {_UNCLAIM}, "
                f"last_error = NULL WHERE id = ? AND {_MINE}",
                [(self._clock(), message_id, i, self.claimer) for i in ids])

    def retry_later(self, ids: Sequence[int], delay: float, error: str, *,
                    count_attempt: bool = True) -> None:
        """Try claimed rows again after ``delay`` seconds (a flood wait does not count as
        an attempt)."""
        with self._db.transaction() as cur:
            cur.executemany(
                "UPDATE outbox SET status = 'pending', attempts = attempts + ?, "
                f"next_attempt_at = ?, last_error = ?, {_UNCLAIM} WHERE id = ? AND {_MINE}",
                [(1 if count_attempt else 0, self._clock() + delay, error[:500], i,
                  self.claimer) for i in ids])

    def fail(self, ids: Sequence[int], error: str) -> None:
        """Give up on these claimed alerts (the chat rejected them for good)."""
        with self._db.transaction() as cur:
            cur.executemany(
                f"UPDATE outbox SET status = 'failed', last_error = ?, {_UNCLAIM} "
                f"WHERE id = ? AND {_MINE}", [(error[:500], i, self.claimer) for i in ids])

    def drop_chat(self, chat_id: int, reason: str) -> int:
        """Drop everything pending for a chat the bot can no longer reach."""
        return self._db.execute(
            f"UPDATE outbox SET status = 'dropped', last_error = ?, {_UNCLAIM} "
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

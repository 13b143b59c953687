"""Topic subscriptions per chat, kept in the state database.

Chats are plain integers here (Telegram chat ids, but nothing in this module knows that).
Who may change a chat's subscriptions is the bot's business; this module enforces what
holds for everyone: a topic must parse, a chat has at most ``per_chat_limit`` topics, the
same topic twice is one subscription. ``created_at`` matters: alerts only go out for news
published on or after the day a subscription was made.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass

from index.alerts.state import StateDatabase
from index.alerts.topics import Topic, parse_topic

_COLUMNS = "id, chat_id, chat_title, topic, created_at, active, thread_id"


class SubscriptionError(ValueError):
    """A subscription request that cannot be honoured; the message is for the user."""


@dataclass(frozen=True, slots=True)
class Subscription:
    id: int
    chat_id: int
    chat_title: str | None
    topic_text: str
    created_at: float  # unix seconds
    active: bool
    thread_id: int | None = None  # the forum topic /subscribe was sent in

    @property
    def topic(self) -> Topic:
        return parse_topic(self.topic_text)

    @property
    def created_date(self) -> dt.date:
        """The UTC day it was created: news published before that day never alerts."""
        return dt.datetime.fromtimestamp(self.created_at, dt.UTC).date()


class Subscriptions:
    def __init__(
        self, db: StateDatabase, *, per_chat_limit: int, clock: Callable[[], float] = time.time
    ) -> None:
        self._db = db
        self.per_chat_limit = per_chat_limit
        self._clock = clock

    def add(
        self, chat_id: int, topic_text: str, *, chat_title: str | None = None,
        created_by: int | None = None, thread_id: int | None = None,
    ) -> tuple[Subscription, int]:
        """Subscribe ``chat_id`` to a topic; returns it and how many of the chat's paused
        subscriptions were re-activated (the bot can reach the chat again)."""
        topic = parse_topic(topic_text)
        with self._db.transaction() as cur:
            resumed = cur.execute(
                "UPDATE subscriptions SET active = 1 WHERE chat_id = ? AND active = 0",
                (chat_id,)).rowcount
            existing = cur.execute(
                f"SELECT {_COLUMNS} FROM subscriptions WHERE chat_id = ? "
                "AND lower(topic) = lower(?)",
                (chat_id, topic.text)).fetchone()
            if existing is not None:
                if resumed:  # asking again after the bot was re-added: that resumes it
                    return _subscription(existing), resumed
                raise SubscriptionError(f"This chat is already subscribed to “{topic.text}”.")
            count = cur.execute("SELECT count(*) FROM subscriptions WHERE chat_id = ?",
                                (chat_id,)).fetchone()[0]
            if count >= self.per_chat_limit:
                raise SubscriptionError(
                    f"This chat already has {count} subscriptions, the most allowed; "
                    "/unsubscribe one first.")
            cur.execute(
                "INSERT INTO subscriptions (chat_id, chat_title, topic, created_at, created_by, "
                f"thread_id) VALUES (?, ?, ?, ?, ?, ?) RETURNING {_COLUMNS}",
                (chat_id, chat_title, topic.text, self._clock(), created_by, thread_id))
            row = cur.fetchone()
        return _subscription(row), resumed

    def remove(self, chat_id: int, which: str) -> Subscription:
        """Remove by list number ("2", as ``for_chat`` orders them) or by topic text."""
        current = self.for_chat(chat_id)
        which = " ".join(which.split())
        target: Subscription | None = None
        if which.isdigit():
            number = int(which)
            if not 1 <= number <= len(current):
                raise SubscriptionError(
                    f"There is no subscription number {number} here; see /subscriptions.")
            target = current[number - 1]
        else:
            wanted = which.casefold()
            target = next((s for s in current if s.topic_text.casefold() == wanted), None)
            if target is None:
                raise SubscriptionError(f"This chat is not subscribed to “{which}”.")
        self._db.execute("DELETE FROM subscriptions WHERE id = ?", (target.id,))
        return target

    def for_chat(self, chat_id: int) -> list[Subscription]:
        rows = self._db.query(
            f"SELECT {_COLUMNS} FROM subscriptions WHERE chat_id = ? ORDER BY id", (chat_id,))
        return [_subscription(r) for r in rows]

    def active(self) -> list[Subscription]:
        rows = self._db.query(
            f"SELECT {_COLUMNS} FROM subscriptions WHERE active = 1 ORDER BY id")
        return [_subscription(r) for r in rows]

    def threads(self, chat_id: int) -> dict[int, int | None]:
        """Subscription id → the forum topic it was made in (None: the chat itself)."""
        return dict(self._db.query(
            "SELECT id, thread_id FROM subscriptions WHERE chat_id = ?", (chat_id,)))

    def disable_chat(self, chat_id: int) -> int:
        """Pause every subscription of a chat the bot can no longer post in."""
        return self._db.execute(
            "UPDATE subscriptions SET active = 0 WHERE chat_id = ? AND active = 1", (chat_id,))

    def move_chat(self, old_id: int, new_id: int) -> None:
        """A group became a supergroup (new chat id): its subscriptions follow it."""
        self._db.execute(
            "UPDATE subscriptions SET chat_id = ? WHERE chat_id = ? AND NOT EXISTS (SELECT 1 "
            "FROM subscriptions AS s WHERE s.chat_id = ? "
            "AND lower(s.topic) = lower(subscriptions.topic))", (new_id, old_id, new_id))

    def counts(self) -> tuple[int, int]:
        """(active subscriptions, chats that have them)."""
        row = self._db.query(
            "SELECT count(*), count(DISTINCT chat_id) FROM subscriptions WHERE active = 1")[0]
        return int(row[0]), int(row[1])


def _subscription(row: tuple) -> Subscription:
    return Subscription(row[0], row[1], row[2], row[3], row[4], bool(row[5]), row[6])

"""``NEWSBOT_ALLOWED_CHATS``: which chats the bot serves, and how seldom it says it won't.

Empty means every chat. Otherwise only the listed chat ids are served, plus the bot
admins' private chats (an admin locked out of their own bot could not fix it). Anywhere
else a message addressed to the bot gets one polite line, at most once per chat per
``NOTICE_INTERVAL`` seconds, so the refusal itself cannot be used to make the bot spam a
chat. Memory is bounded: the oldest chats are forgotten first.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Iterable

NOTICE_INTERVAL = 3600.0  # seconds between two polite refusals in one chat
MAX_REMEMBERED = 10_000  # chats whose last refusal is remembered
NOT_ALLOWED = "Sorry, this bot is private and does not serve this chat."


class ChatAllowlist:
    """Used from the event loop only."""

    def __init__(self, allowed: Iterable[int], admin_ids: Iterable[int], *,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._allowed = frozenset(allowed)
        self._admins = frozenset(admin_ids)
        self._clock = clock
        self._notified: OrderedDict[int, float] = OrderedDict()

    @property
    def active(self) -> bool:
        """False when every chat is served (the setting is empty)."""
        return bool(self._allowed)

    def allows_chat(self, chat_id: int) -> bool:
        return not self._allowed or chat_id in self._allowed or chat_id in self._admins

    def allows_user(self, user_id: int) -> bool:
        """For what has no chat (inline queries): the user's own private chat decides."""
        return self.allows_chat(user_id)

    def should_notify(self, chat_id: int) -> bool:
        """True at most once per ``NOTICE_INTERVAL`` for a chat (the call counts as done)."""
        now = self._clock()
        last = self._notified.get(chat_id)
        if last is not None and now - last < NOTICE_INTERVAL:
            return False
        self._notified[chat_id] = now
        self._notified.move_to_end(chat_id)
        while len(self._notified) > MAX_REMEMBERED:
            self._notified.popitem(last=False)
        return True

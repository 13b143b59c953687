"""The fake server's world: chats and their members, every message by id, what the bot sent,
the queue of updates, the calls made, and the settings a test or the bot changed.

The Bot API methods run in the HTTP server's threads and the test controls in the test's, so
all of it sits behind one ``threading.Condition`` (``cond``, re-entrant): hold it for a change
of several steps; the operations below take it themselves, and ``push``/``record_call``
notify the waiters (long polls, ``wait_until``).
"""

from __future__ import annotations

import copy
import itertools
import json
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from typing import Any, TypeVar

from tests.e2e.fakeapi.records import JSON, ApiCall, Chat, Failure, SentMessage, User
from tests.e2e.fakeapi.text import user_entities

T = TypeVar("T")


def scope_key(scope: Any) -> str:
    """The key bot commands are stored under for a ``BotCommandScope`` (None: default)."""
    return json.dumps(scope or {"type": "default"}, sort_keys=True)


class World:
    """The state both sides share; the fields are read and changed under ``cond``."""

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.chats: dict[int, Chat] = {}
        self.members: dict[tuple[int, int], str] = {}  # (chat id, user id) -> status
        self.blocked: set[int] = set()
        self.messages: dict[tuple[int, int], JSON] = {}  # (chat id, message id) -> message
        self.sent: dict[int, list[SentMessage]] = defaultdict(list)
        self.updates: list[JSON] = []  # queued, not yet confirmed by an offset
        self.calls: list[ApiCall] = []
        self.failures: dict[str, deque[Failure]] = defaultdict(deque)  # lower-case method
        self.delays: dict[str, deque[float]] = defaultdict(deque)  # seconds, lower-case method
        self.callback_answers: dict[str, JSON | None] = {}  # query id -> answer once given
        self.chat_actions: list[tuple[int, str, int | None]] = []  # chat, action, thread
        self.commands: dict[str, list[JSON]] = {}  # by scope_key
        self.webhook: JSON | None = None
        self.webhook_error: tuple[int, str] | None = None  # (unix time, message)
        self.privacy = True  # @BotFather /setprivacy: Enable (Telegram's default)
        self.allowed_updates: set[str] | None = None
        self.poll_generation = 0  # each getUpdates call ends any earlier one still waiting
        # Several bot processes polling one bot, as behind a dispatcher: no 409, and each
        # update is handed to the one getUpdates call that takes it (``share_polling``).
        self.shared_polling = False
        self.waiting_polls = 0
        self.closing = False
        self.left: set[int] = set()  # chats the bot left (leaveChat)
        self.inline_answers: dict[str, JSON | None] = {}  # inline query id -> answer once given
        self._update_ids = itertools.count(1000)
        self._message_ids: dict[int, itertools.count[int]] = {}
        self._callback_ids = itertools.count(5_000_000_000)

    # ------------------------------------------------------------------ ids
    def next_message_id(self, chat_id: int) -> int:
        """Message ids count from 1 in each chat, shared by the users and the bot."""
        with self.cond:
            if chat_id not in self._message_ids:
                self._message_ids[chat_id] = itertools.count(1)
            return next(self._message_ids[chat_id])

    def next_update_id(self) -> int:
        with self.cond:
            return next(self._update_ids)

    def next_callback_id(self) -> str:
        with self.cond:
            return str(next(self._callback_ids))

    # ------------------------------------------------------------------ changes
    def push(self, payload: JSON) -> JSON:
        """Queue an update (``payload`` plus the next update_id) and wake the waiters."""
        with self.cond:
            update = {"update_id": self.next_update_id(), **payload}
            self.updates.append(update)
            self.cond.notify_all()
            return update

    def user_message(
        self,
        chat: Chat,
        user: User,
        text: str,
        *,
        reply_to: int | None = None,
        thread_id: int | None = None,
    ) -> JSON:
        """Store a user's text message as Telegram would deliver it (entities, topic, the
        replied-to message) and return it; nothing is queued."""
        with self.cond:
            self.chats.setdefault(chat.id, chat)
            message = self.text_message(chat, {"from": user.as_dict()}, text)
            message_id = message["message_id"]
            if thread_id is not None:
                if (chat.id, thread_id) not in self.messages:
                    raise ValueError(f"no topic {thread_id} in chat {chat.id}")
                message["message_thread_id"] = thread_id
                message["is_topic_message"] = True
                if reply_to is None:
                    reply_to = thread_id  # Telegram: a topic message replies to the topic root
            if reply_to is not None:
                if (chat.id, reply_to) not in self.messages:
                    raise ValueError(f"no message {reply_to} in chat {chat.id}")
                message["reply_to_message"] = self.quoted(chat.id, reply_to)
            self.messages[(chat.id, message_id)] = message
            return message

    def text_message(self, chat: Chat, sender: JSON, text: str) -> JSON:
        """A new text message in ``chat`` from ``sender`` (``{"from": …}`` for a user,
        ``{"sender_chat": …}`` for a channel post), with its entities; not stored."""
        with self.cond:
            message: JSON = {
                "message_id": self.next_message_id(chat.id),
                **sender,
                "chat": chat.as_dict(),
                "date": int(time.time()),
                "text": text,
            }
        entities = user_entities(text)
        if entities:
            message["entities"] = entities
        return message

    def quoted(self, chat_id: int, message_id: int) -> JSON:
        """A stored message as Telegram nests it in ``reply_to_message`` (a copy, without
        its own ``reply_to_message``)."""
        with self.cond:
            replied = copy.deepcopy(self.messages[(chat_id, message_id)])
        replied.pop("reply_to_message", None)
        return replied

    def record_call(self, call: ApiCall) -> None:
        with self.cond:
            self.calls.append(call)
            self.cond.notify_all()

    def next_failure(self, method: str) -> Failure | None:
        """The failure injected for the next call of ``method`` (lower-case), if any."""
        with self.cond:
            queue = self.failures.get(method)
            return queue.popleft() if queue else None

    def next_delay(self, method: str) -> float:
        """Seconds the next call of ``method`` (lower-case) waits before it is handled."""
        with self.cond:
            queue = self.delays.get(method)
            return queue.popleft() if queue else 0.0

    def close(self) -> None:
        """Shutting down: long polls return at once."""
        with self.cond:
            self.closing = True
            self.cond.notify_all()

    # ------------------------------------------------------------------ lookups
    def find_sent(self, chat_id: int, message_id: int) -> SentMessage:
        """The bot's message ``message_id`` in the chat (the live record, not a copy)."""
        with self.cond:
            for sent in self.sent.get(chat_id, []):
                if sent.message_id == message_id:
                    return sent
        raise AssertionError(f"the bot sent no message {message_id} in chat {chat_id}")

    def wait_until(self, predicate: Callable[[], T], timeout: float = 10.0) -> T:
        """Block this thread until ``predicate`` (checked under the lock at each change, and
        every 50 ms) returns a truthy value, and return it; AssertionError after ``timeout``."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                value = predicate()
                if value or time.monotonic() >= deadline:
                    if not value:
                        raise AssertionError(f"timed out after {timeout} s")
                    return value
                self.cond.wait(min(0.05, max(0.0, deadline - time.monotonic())))

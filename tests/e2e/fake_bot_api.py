"""A fake Telegram Bot API server for end-to-end tests.

It speaks the real HTTP API on 127.0.0.1 (``/bot<token>/<method>``, form-encoded or JSON
bodies, ``{"ok": true, "result": …}`` and Telegram's error objects), so python-telegram-bot's
whole networking stack runs in tests — no handler is called directly. It validates what the
bot sends the way Telegram does (HTML entities, 4096 UTF-16 units, callback data ≤ 64
bytes, replies to existing messages, existing topics) and keeps message and update ids
consistent per chat.

Tests drive it through a controller API: inject a user's message (with ``bot_command`` and
``mention`` entities at correct UTF-16 offsets), a reply, a button press, a channel post;
read what the bot sent or edited; ``await wait_for(predicate)``; make the next N calls of a
method fail with 429 (and ``retry_after``), 403 or 500.

The HTTP side runs in a ``ThreadingHTTPServer`` thread (one thread per connection, so a
long poll never blocks other calls); all state sits behind one ``threading.Condition``.
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import json
import re
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlsplit

from tests.e2e.telegram_html import HtmlError, parse_html, utf16_len

T = TypeVar("T")
JSON = dict[str, Any]

MAX_TEXT_UNITS = 4096
DEFAULT_UPDATES = {
    "message",
    "edited_message",
    "channel_post",
    "edited_channel_post",
    "callback_query",
    "inline_query",
    "chosen_inline_result",
    "shipping_query",
    "pre_checkout_query",
    "poll",
    "poll_answer",
    "my_chat_member",
    "chat_join_request",
    "business_connection",
    "business_message",
    "edited_business_message",
    "deleted_business_messages",
    "message_reaction_count",
    "chat_boost",
    "removed_chat_boost",
    "purchased_paid_media",
}
# Form fields that are plain strings even when they look like JSON ("123", "true").
STRING_FIELDS = {
    "text",
    "parse_mode",
    "callback_query_id",
    "action",
    "url",
    "secret_token",
    "caption",
    "language_code",
    "business_connection_id",
    "inline_message_id",
    "ip_address",
}
CHAT_ACTIONS = {
    "typing",
    "upload_photo",
    "record_video",
    "upload_video",
    "record_voice",
    "upload_voice",
    "upload_document",
    "choose_sticker",
    "find_location",
    "record_video_note",
    "upload_video_note",
}
_COMMAND = re.compile(r"(?<![\w/])/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?(?![\w@])")
_MENTION = re.compile(r"(?<![\w@])@[A-Za-z][A-Za-z0-9_]{3,31}(?!\w)")


class ApiError(Exception):
    """Turned into Telegram's error object by the HTTP layer."""

    def __init__(self, code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.retry_after = retry_after

    def body(self) -> JSON:
        data: JSON = {"ok": False, "error_code": self.code, "description": self.description}
        if self.retry_after is not None:
            data["parameters"] = {"retry_after": self.retry_after}
        return data


def bad_request(description: str) -> ApiError:
    return ApiError(400, f"Bad Request: {description}")


@dataclass(frozen=True)
class User:
    id: int
    first_name: str
    username: str | None = None
    is_bot: bool = False

    def as_dict(self) -> JSON:
        data: JSON = {"id": self.id, "is_bot": self.is_bot, "first_name": self.first_name}
        if self.username:
            data["username"] = self.username
        if not self.is_bot:
            data["language_code"] = "en"
        return data


@dataclass(frozen=True)
class Chat:
    id: int
    type: str  # private | group | supergroup | channel
    title: str | None = None
    first_name: str | None = None
    username: str | None = None
    is_forum: bool = False

    def as_dict(self) -> JSON:
        data: JSON = {"id": self.id, "type": self.type}
        for key in ("title", "first_name", "username"):
            if getattr(self, key):
                data[key] = getattr(self, key)
        if self.is_forum:
            data["is_forum"] = True
        return data


# The placeholder user Telegram puts in ``from`` of an anonymous group admin's message.
ANONYMOUS = User(1087968824, "Group", "GroupAnonymousBot", is_bot=True)


@dataclass
class SentMessage:
    """A message the bot sent, as it stands now (``edits`` keeps earlier versions)."""

    chat_id: int
    message_id: int
    source: str  # what the bot sent (HTML source when parse_mode is HTML)
    text: str  # what Telegram shows after parsing
    parse_mode: str | None
    entities: list[JSON]
    reply_markup: JSON | None
    reply_to: int | None
    thread_id: int | None
    sent_at: float
    edits: list[str] = field(default_factory=list)  # earlier texts, oldest first

    def buttons(self) -> list[JSON]:
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return [button for row in rows for button in row]

    def button_texts(self) -> list[str]:
        return [button["text"] for button in self.buttons()]


@dataclass
class ApiCall:
    method: str
    params: JSON
    status: int
    at: float


@dataclass
class _Failure:
    code: int
    description: str
    retry_after: int | None


class FakeBotApi:
    """The server plus its controller API. Use ``start()``/``stop()`` or ``with``."""

    def __init__(
        self,
        token: str = "123456789:AAE-fake-token_for_tests",
        bot_id: int = 777000111,
        bot_username: str = "NewsTestBot",
    ) -> None:
        self.token = token
        self.bot = User(bot_id, "News Bot", bot_username, is_bot=True)
        self._cond = threading.Condition()
        self._updates: list[JSON] = []
        self._update_ids = itertools.count(1000)
        self._chats: dict[int, Chat] = {}
        self._messages: dict[tuple[int, int], JSON] = {}
        self._message_ids: dict[int, itertools.count[int]] = {}
        self._sent: dict[int, list[SentMessage]] = defaultdict(list)
        self._calls: list[ApiCall] = []
        self._failures: dict[str, deque[_Failure]] = defaultdict(deque)
        self._callback_queries: dict[str, JSON] = {}
        self._callback_ids = itertools.count(5_000_000_000)
        self._chat_actions: list[tuple[int, str, int | None]] = []
        self._commands: dict[str, list[JSON]] = {}
        self._members: dict[tuple[int, int], str] = {}
        self._blocked: set[int] = set()
        self._webhook: JSON | None = None
        self._webhook_error: tuple[int, str] | None = None  # (unix time, message)
        self._privacy = True  # @BotFather /setprivacy: Enable (Telegram's default)
        self._allowed_updates: set[str] | None = None
        self._poll_generation = 0
        self._waiting_polls = 0
        self._closing = False
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> FakeBotApi:
        api = self

        class Handler(_Handler):
            fake = api

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="fake-bot-api",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeBotApi:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._server is not None, "server not started"
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        """What the bot's ``telegram_api_url`` setting should be (the token is appended)."""
        return f"http://127.0.0.1:{self.port}/bot"

    # ------------------------------------------------------------------ chats and users
    def private_chat(self, user: User) -> Chat:
        chat = Chat(user.id, "private", first_name=user.first_name, username=user.username)
        with self._cond:
            self._chats[chat.id] = chat
        return chat

    def group(
        self, chat_id: int, title: str, *, supergroup: bool = False, forum: bool = False
    ) -> Chat:
        if chat_id >= 0:
            raise ValueError("group chat ids are negative")
        kind = "supergroup" if supergroup or forum else "group"
        chat = Chat(chat_id, kind, title=title, is_forum=forum)
        with self._cond:
            self._chats[chat.id] = chat
        return chat

    def channel(self, chat_id: int, title: str, username: str | None = None) -> Chat:
        chat = Chat(chat_id, "channel", title=title, username=username)
        with self._cond:
            self._chats[chat.id] = chat
        return chat

    def set_member_status(self, chat_id: int, user_id: int, status: str) -> None:
        with self._cond:
            self._members[(chat_id, user_id)] = status

    def set_privacy(self, enabled: bool) -> None:
        """What @BotFather's /setprivacy did: off means getMe reports that the bot can
        read all group messages."""
        with self._cond:
            self._privacy = enabled

    def webhook_failed(self, message: str, at: float | None = None) -> None:
        """Telegram could not deliver to the webhook: getWebhookInfo reports the error."""
        with self._cond:
            self._webhook_error = (int(at if at is not None else time.time()), message)

    def block(self, chat_id: int) -> None:
        """The user blocked the bot / the bot was removed: sends there get 403."""
        with self._cond:
            self._blocked.add(chat_id)

    # ------------------------------------------------------------------ injecting updates
    def send(
        self,
        chat: Chat,
        user: User,
        text: str,
        *,
        reply_to: int | None = None,
        thread_id: int | None = None,
    ) -> JSON:
        """A user's text message; returns the message object the bot will receive."""
        with self._cond:
            message = self._new_message(chat, user, text, reply_to=reply_to, thread_id=thread_id)
            self._push({"message": message})
            return copy.deepcopy(message)

    def send_as_group(self, chat: Chat, text: str) -> JSON:
        """A message by an anonymous group admin: Telegram sends it on behalf of the group
        (``sender_chat`` is the group; ``from`` is the placeholder GroupAnonymousBot)."""
        with self._cond:
            message = self._new_message(chat, ANONYMOUS, text, reply_to=None, thread_id=None)
            message["sender_chat"] = chat.as_dict()
            self._push({"message": message})
            return copy.deepcopy(message)

    def push_raw(self, payload: JSON) -> int:
        """Queue an update exactly as given (it may be one a client cannot parse, e.g. a
        field a newer Bot API made required is missing); returns its update_id."""
        with self._cond:
            self._push(payload)
            return int(self._updates[-1]["update_id"])

    def webhook_update(self, chat: Chat, user: User, text: str) -> JSON:
        """A message update for delivery by webhook (the test POSTs it; nothing is queued)."""
        with self._cond:
            message = self._new_message(chat, user, text, reply_to=None, thread_id=None)
            return {"update_id": next(self._update_ids), "message": copy.deepcopy(message)}

    def webhook(self) -> JSON | None:
        """``{"url", "secret_token"}`` as set by ``setWebhook``, or None."""
        with self._cond:
            return copy.deepcopy(self._webhook)

    def send_media(self, chat: Chat, user: User, *, caption: str | None = None) -> JSON:
        """A photo (no ``text``; an optional caption), to check non-text is handled."""
        with self._cond:
            self._chats.setdefault(chat.id, chat)
            message_id = next(self._ids(chat.id))
            message: JSON = {
                "message_id": message_id,
                "from": user.as_dict(),
                "chat": chat.as_dict(),
                "date": int(time.time()),
                "photo": [
                    {
                        "file_id": f"photo{message_id}",
                        "file_unique_id": f"u{message_id}",
                        "width": 90,
                        "height": 90,
                        "file_size": 1000,
                    }
                ],
            }
            if caption:
                message["caption"] = caption
            self._messages[(chat.id, message_id)] = message
            self._push({"message": message})
            return copy.deepcopy(message)

    def create_topic(self, chat: Chat, user: User, name: str) -> int:
        """A forum topic (service message); returns its ``message_thread_id``."""
        if not chat.is_forum:
            raise ValueError("topics exist only in forum supergroups")
        with self._cond:
            message_id = next(self._ids(chat.id))
            message = {
                "message_id": message_id,
                "from": user.as_dict(),
                "chat": chat.as_dict(),
                "date": int(time.time()),
                "message_thread_id": message_id,
                "is_topic_message": True,
                "forum_topic_created": {"name": name, "icon_color": 7322096},
            }
            self._messages[(chat.id, message_id)] = message
            return message_id

    def edit(self, chat: Chat, user: User, message_id: int, text: str) -> JSON:
        """The user edits one of their messages (an ``edited_message`` update)."""
        with self._cond:
            original = self._messages[(chat.id, message_id)]
            edited = copy.deepcopy(original)
            edited["text"] = text
            edited["edit_date"] = int(time.time())
            entities = self._entities(text)
            if entities:
                edited["entities"] = entities
            else:
                edited.pop("entities", None)
            self._messages[(chat.id, message_id)] = edited
            self._push({"edited_message": edited})
            return copy.deepcopy(edited)

    def channel_post(self, chat: Chat, text: str) -> JSON:
        with self._cond:
            message_id = next(self._ids(chat.id))
            post = {
                "message_id": message_id,
                "sender_chat": chat.as_dict(),
                "chat": chat.as_dict(),
                "date": int(time.time()),
                "text": text,
            }
            entities = self._entities(text)
            if entities:
                post["entities"] = entities
            self._messages[(chat.id, message_id)] = post
            self._push({"channel_post": post})
            return copy.deepcopy(post)

    def press(self, chat_id: int, message_id: int, button_text: str, user: User) -> str:
        """Press the inline button labelled ``button_text``; returns the callback query id."""
        with self._cond:
            sent = self._find_sent(chat_id, message_id)
            buttons = [b for b in sent.buttons() if b["text"] == button_text]
            if not buttons:
                raise AssertionError(
                    f"no button {button_text!r} under message {message_id}: {sent.button_texts()}"
                )
        return self.press_data(chat_id, message_id, buttons[0]["callback_data"], user)

    def press_data(self, chat_id: int, message_id: int, data: str, user: User) -> str:
        """A callback query with arbitrary data (e.g. tampered or stale) on a bot message."""
        with self._cond:
            message = copy.deepcopy(self._messages[(chat_id, message_id)])
            query_id = str(next(self._callback_ids))
            query = {
                "id": query_id,
                "from": user.as_dict(),
                "message": message,
                "chat_instance": f"ci{abs(chat_id)}",
                "data": data,
            }
            self._callback_queries[query_id] = {"answered": False, "answer": None}
            self._push({"callback_query": query})
            return query_id

    def fail_next(
        self,
        method: str,
        times: int = 1,
        *,
        code: int = 429,
        retry_after: int | None = None,
        description: str | None = None,
    ) -> None:
        """The next ``times`` calls of ``method`` fail with Telegram's error object."""
        if code == 429 and retry_after is None:
            retry_after = 1
        text = description or {
            429: f"Too Many Requests: retry after {retry_after}",
            403: "Forbidden: bot was blocked by the user",
            500: "Internal Server Error",
            400: "Bad Request: injected failure",
        }.get(code, "Injected failure")
        with self._cond:
            for _ in range(times):
                self._failures[method.lower()].append(_Failure(code, text, retry_after))

    # ------------------------------------------------------------------ reading state
    def sent(self, chat_id: int) -> list[SentMessage]:
        """What the bot sent to ``chat_id``, oldest first, with edits applied."""
        with self._cond:
            return copy.deepcopy(self._sent.get(chat_id, []))

    def all_sent(self) -> list[SentMessage]:
        with self._cond:
            return copy.deepcopy([m for messages in self._sent.values() for m in messages])

    def calls(self, method: str | None = None) -> list[ApiCall]:
        with self._cond:
            return [
                copy.deepcopy(call)
                for call in self._calls
                if method is None or call.method.lower() == method.lower()
            ]

    def chat_actions(self, chat_id: int) -> list[tuple[str, int | None]]:
        with self._cond:
            return [(a, t) for c, a, t in self._chat_actions if c == chat_id]

    def callback_answer(self, query_id: str) -> JSON | None:
        """``{"text": …, "show_alert": …}`` once the bot answered the query, else None."""
        with self._cond:
            record = self._callback_queries.get(query_id)
            return copy.deepcopy(record["answer"]) if record and record["answered"] else None

    def commands(self, scope: JSON | None = None) -> list[JSON] | None:
        with self._cond:
            return copy.deepcopy(self._commands.get(_scope_key(scope)))

    def waiting_polls(self) -> int:
        """getUpdates calls blocked in a long poll right now."""
        with self._cond:
            return self._waiting_polls

    def wait_until(self, predicate: Callable[[], T], timeout: float = 10.0) -> T:
        """``wait_for`` for code outside an event loop (blocks this thread)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                value = predicate()
                if value or time.monotonic() >= deadline:
                    if not value:
                        raise AssertionError(f"timed out after {timeout} s")
                    return value
                self._cond.wait(min(0.05, max(0.0, deadline - time.monotonic())))

    def pending_updates(self) -> int:
        with self._cond:
            return len(self._updates)

    async def wait_for(
        self, predicate: Callable[[], T], timeout: float = 10.0, what: str = "condition"
    ) -> T:
        """Poll ``predicate`` (without blocking the event loop) until it returns a truthy
        value, and return that value; fail with the recent API calls after ``timeout``."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() >= deadline:
                recent = [(c.method, c.status, _short(c.params)) for c in self.calls()[-15:]]
                raise AssertionError(
                    f"timed out after {timeout} s waiting for {what}; last API calls: {recent}"
                )
            await asyncio.sleep(0.02)

    async def wait_for_message(
        self,
        chat_id: int,
        predicate: Callable[[SentMessage], object],
        *,
        position: int = 0,
        timeout: float = 10.0,
        what: str = "a message",
    ) -> SentMessage:
        """Wait until the bot's message at ``position`` in the chat (as edited so far)
        satisfies ``predicate``; returns that message."""

        def check() -> SentMessage | None:
            messages = self.sent(chat_id)
            if not -len(messages) <= position < len(messages):
                return None
            message = messages[position]
            return message if predicate(message) else None

        found = await self.wait_for(check, timeout, what)
        assert found is not None
        return found

    async def wait_for_sent(
        self,
        chat_id: int,
        count: int = 1,
        *,
        after: int = 0,
        timeout: float = 10.0,
    ) -> list[SentMessage]:
        """Wait until at least ``count`` messages beyond the first ``after`` were sent."""

        def check() -> list[SentMessage]:
            messages = self.sent(chat_id)[after:]
            return messages if len(messages) >= count else []

        return await self.wait_for(
            check, timeout, f"{count} message(s) in {chat_id} after #{after}"
        )

    # ------------------------------------------------------------------ internals (locked)
    def _ids(self, chat_id: int) -> itertools.count[int]:
        if chat_id not in self._message_ids:
            self._message_ids[chat_id] = itertools.count(1)
        return self._message_ids[chat_id]

    def _push(self, payload: JSON) -> None:
        update = {"update_id": next(self._update_ids), **payload}
        self._updates.append(update)
        self._cond.notify_all()

    def _new_message(
        self, chat: Chat, user: User, text: str, *, reply_to: int | None, thread_id: int | None
    ) -> JSON:
        self._chats.setdefault(chat.id, chat)
        message_id = next(self._ids(chat.id))
        message: JSON = {
            "message_id": message_id,
            "from": user.as_dict(),
            "chat": chat.as_dict(),
            "date": int(time.time()),
            "text": text,
        }
        entities = self._entities(text)
        if entities:
            message["entities"] = entities
        if thread_id is not None:
            if (chat.id, thread_id) not in self._messages:
                raise ValueError(f"no topic {thread_id} in chat {chat.id}")
            message["message_thread_id"] = thread_id
            message["is_topic_message"] = True
            if reply_to is None:
                reply_to = thread_id  # Telegram: a topic message replies to the topic root
        if reply_to is not None:
            replied = self._messages.get((chat.id, reply_to))
            if replied is None:
                raise ValueError(f"no message {reply_to} in chat {chat.id}")
            message["reply_to_message"] = _without_reply(replied)
        self._messages[(chat.id, message_id)] = message
        return message

    @staticmethod
    def _entities(text: str) -> list[JSON]:
        found: list[JSON] = []
        for pattern, kind in ((_COMMAND, "bot_command"), (_MENTION, "mention")):
            for match in pattern.finditer(text):
                found.append(
                    {
                        "type": kind,
                        "offset": utf16_len(text[: match.start()]),
                        "length": utf16_len(match.group(0)),
                    }
                )
        found.sort(key=lambda e: e["offset"])
        return found

    def _find_sent(self, chat_id: int, message_id: int) -> SentMessage:
        for sent in self._sent.get(chat_id, []):
            if sent.message_id == message_id:
                return sent
        raise AssertionError(f"the bot sent no message {message_id} in chat {chat_id}")

    # ------------------------------------------------------------------ HTTP dispatch
    def handle(self, path: str, params: JSON) -> tuple[int, JSON]:
        """Route one Bot API call; returns (HTTP status, body)."""
        match = re.fullmatch(r"/bot([^/]+)/([A-Za-z]+)", path)
        if match is None:
            return 404, {"ok": False, "error_code": 404, "description": "Not Found"}
        token, method = match.group(1), match.group(2)
        if token != self.token:
            return 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
        name = method.lower()
        handler = getattr(self, f"_api_{name}", None)
        with self._cond:
            failure = self._failures[name].popleft() if self._failures.get(name) else None
        try:
            if handler is None:
                raise ApiError(404, "Not Found")
            if failure is not None:
                raise ApiError(failure.code, failure.description, failure.retry_after)
            result = handler(params)
            status, body = 200, {"ok": True, "result": result}
        except ApiError as exc:
            status, body = exc.code, exc.body()
        with self._cond:
            self._calls.append(ApiCall(method, params, status, time.monotonic()))
            self._cond.notify_all()
        return status, body

    def _api_getme(self, params: JSON) -> JSON:
        return {
            **self.bot.as_dict(),
            "can_join_groups": True,
            "can_read_all_group_messages": not self._privacy,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _api_getupdates(self, params: JSON) -> list[JSON]:
        offset = _int(params.get("offset", 0), "offset")
        timeout = max(0.0, float(params.get("timeout", 0) or 0))
        limit = min(100, max(1, _int(params.get("limit", 100), "limit")))
        deadline = time.monotonic() + timeout
        with self._cond:
            if self._webhook is not None:
                raise ApiError(
                    409,
                    "Conflict: can't use getUpdates method while webhook is "
                    "active; use deleteWebhook to delete the webhook first",
                )
            self._poll_generation += 1
            generation = self._poll_generation
            if "allowed_updates" in params:
                allowed = params["allowed_updates"]
                self._allowed_updates = set(allowed) if allowed else None
            if offset > 0:
                self._updates = [u for u in self._updates if u["update_id"] >= offset]
            elif offset < 0:
                self._updates = self._updates[offset:]
            while True:
                if generation != self._poll_generation:
                    raise ApiError(
                        409,
                        "Conflict: terminated by other getUpdates request; "
                        "make sure that only one bot instance is running",
                    )
                allowed_now = self._allowed_updates or DEFAULT_UPDATES
                # Telegram drops updates of types the bot does not ask for.
                self._updates = [u for u in self._updates if _kind(u) in allowed_now]
                remaining = deadline - time.monotonic()
                if self._updates or remaining <= 0 or self._closing:
                    return copy.deepcopy(self._updates[:limit])
                self._waiting_polls += 1
                try:
                    self._cond.wait(remaining)
                finally:
                    self._waiting_polls -= 1

    def _api_deletewebhook(self, params: JSON) -> bool:
        with self._cond:
            self._webhook = None
            if _bool(params.get("drop_pending_updates")):
                self._updates.clear()
        return True

    def _api_setwebhook(self, params: JSON) -> bool:
        url = params.get("url")
        if not isinstance(url, str):
            raise bad_request('parameter "url" is required')
        with self._cond:
            if not url:
                self._webhook = None
            else:
                if not url.startswith("https://"):
                    raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
                secret = params.get("secret_token")
                if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", str(secret)):
                    raise bad_request("bad webhook: secret token contains unallowed characters")
                self._webhook = {"url": url, "secret_token": secret}
        return True

    def _api_getwebhookinfo(self, params: JSON) -> JSON:
        with self._cond:
            info: JSON = {
                "url": (self._webhook or {}).get("url", ""),
                "has_custom_certificate": False,
                "pending_update_count": len(self._updates),
            }
            if self._webhook is not None and self._webhook_error is not None:
                info["last_error_date"], info["last_error_message"] = self._webhook_error
            return info

    def _api_setmycommands(self, params: JSON) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise bad_request("commands must be a list of at most 100 commands")
        for command in commands:
            name = command.get("command", "") if isinstance(command, dict) else ""
            description = command.get("description", "") if isinstance(command, dict) else ""
            if not re.fullmatch(r"[a-z0-9_]{1,32}", name):
                raise bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(description) <= 256:
                raise bad_request("command description is empty or too long")
        scope = params.get("scope")
        with self._cond:
            if isinstance(scope, dict) and scope.get("type") in ("chat", "chat_administrators"):
                chat_id = scope.get("chat_id")
                if chat_id not in self._chats:
                    raise bad_request("chat not found")
            self._commands[_scope_key(scope)] = commands
        return True

    def _api_deletemycommands(self, params: JSON) -> bool:
        with self._cond:
            self._commands.pop(_scope_key(params.get("scope")), None)
        return True

    def _api_getmycommands(self, params: JSON) -> list[JSON]:
        with self._cond:
            return copy.deepcopy(self._commands.get(_scope_key(params.get("scope")), []))

    def _api_sendmessage(self, params: JSON) -> JSON:
        with self._cond:
            chat = self._chat(params.get("chat_id"))
            source = params.get("text")
            if not isinstance(source, str):
                raise bad_request("message text is empty")
            parse_mode = params.get("parse_mode")
            text, entities = _parse_text(source, parse_mode)
            markup = _check_markup(params.get("reply_markup"))
            thread_id = self._thread_id(chat, params)
            reply_to = self._reply_to(chat, params)
            message_id = next(self._ids(chat.id))
            message: JSON = {
                "message_id": message_id,
                "from": self.bot.as_dict(),
                "chat": chat.as_dict(),
                "date": int(time.time()),
                "text": text,
            }
            if entities:
                message["entities"] = entities
            if markup:
                message["reply_markup"] = markup
            if thread_id is not None:
                message["message_thread_id"] = thread_id
                message["is_topic_message"] = True
            if reply_to is not None:
                message["reply_to_message"] = _without_reply(self._messages[(chat.id, reply_to)])
            self._messages[(chat.id, message_id)] = message
            self._sent[chat.id].append(
                SentMessage(
                    chat.id,
                    message_id,
                    source,
                    text,
                    parse_mode,
                    entities,
                    markup,
                    reply_to,
                    thread_id,
                    time.monotonic(),
                )
            )
            return copy.deepcopy(message)

    def _api_editmessagetext(self, params: JSON) -> JSON:
        if params.get("inline_message_id"):
            raise bad_request("inline messages are not supported by the fake server")
        with self._cond:
            chat = self._chat(params.get("chat_id"))
            message_id = _int(params.get("message_id"), "message_id")
            message = self._messages.get((chat.id, message_id))
            if message is None:
                raise bad_request("message to edit not found")
            if message.get("from", {}).get("id") != self.bot.id:
                raise bad_request("message can't be edited")
            source = params.get("text")
            if not isinstance(source, str):
                raise bad_request("message text is empty")
            text, entities = _parse_text(source, params.get("parse_mode"))
            markup = _check_markup(params.get("reply_markup"))
            if (
                text == message.get("text")
                and entities == message.get("entities", [])
                and markup == message.get("reply_markup")
            ):
                raise bad_request(
                    "message is not modified: specified new message content and reply markup "
                    "are exactly the same as a current content and reply markup of the message"
                )
            sent = self._find_sent(chat.id, message_id)
            sent.edits.append(sent.text)
            sent.source, sent.text, sent.entities = source, text, entities
            sent.parse_mode, sent.reply_markup = params.get("parse_mode"), markup
            message["text"] = text
            message["edit_date"] = int(time.time())
            if entities:
                message["entities"] = entities
            else:
                message.pop("entities", None)
            if markup:
                message["reply_markup"] = markup
            else:
                message.pop("reply_markup", None)
            return copy.deepcopy(message)

    def _api_sendchataction(self, params: JSON) -> bool:
        with self._cond:
            chat = self._chat(params.get("chat_id"))
            action = params.get("action")
            if action not in CHAT_ACTIONS:
                raise bad_request("wrong parameter action in request")
            thread_id = self._thread_id(chat, params)
            self._chat_actions.append((chat.id, str(action), thread_id))
        return True

    def _api_answercallbackquery(self, params: JSON) -> bool:
        query_id = str(params.get("callback_query_id", ""))
        text = params.get("text")
        if text is not None and len(str(text)) > 200:
            raise bad_request("MESSAGE_TOO_LONG")
        with self._cond:
            record = self._callback_queries.get(query_id)
            if record is None or record["answered"]:
                raise bad_request(
                    "query is too old and response timeout expired or query ID is invalid"
                )
            record["answered"] = True
            record["answer"] = {"text": text, "show_alert": _bool(params.get("show_alert"))}
        return True

    def _api_getchat(self, params: JSON) -> JSON:
        with self._cond:
            chat = self._chat(params.get("chat_id"), for_sending=False)
        return {
            **chat.as_dict(),
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }

    def _api_getchatmember(self, params: JSON) -> JSON:
        with self._cond:
            chat = self._chat(params.get("chat_id"), for_sending=False)
            user_id = _int(params.get("user_id"), "user_id")
            status = self._members.get((chat.id, user_id), "member")
        user = (
            self.bot.as_dict()
            if user_id == self.bot.id
            else {"id": user_id, "is_bot": False, "first_name": f"User {user_id}"}
        )
        member: JSON = {"status": status, "user": user}
        if status == "creator":
            member["is_anonymous"] = False
        elif status == "administrator":
            member.update(
                can_be_edited=False,
                is_anonymous=False,
                can_manage_chat=True,
                can_delete_messages=True,
                can_manage_video_chats=True,
                can_restrict_members=True,
                can_promote_members=False,
                can_change_info=True,
                can_invite_users=True,
                can_post_stories=False,
                can_edit_stories=False,
                can_delete_stories=False,
                can_post_messages=True,
            )
        elif status == "restricted":
            raise bad_request("restricted members are not modelled by the fake server")
        elif status == "kicked":
            member["until_date"] = 0
        return member

    # ------------------------------------------------------------------ validation helpers
    def _chat(self, chat_id: Any, *, for_sending: bool = True) -> Chat:
        if isinstance(chat_id, str) and chat_id.lstrip("-").isdigit():
            chat_id = int(chat_id)
        if isinstance(chat_id, str):
            chat = next((c for c in self._chats.values() if f"@{c.username}" == chat_id), None)
        else:
            chat = self._chats.get(chat_id) if isinstance(chat_id, int) else None
        if chat is None:
            raise bad_request("chat not found")
        if for_sending and chat.id in self._blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        return chat

    def _thread_id(self, chat: Chat, params: JSON) -> int | None:
        raw = params.get("message_thread_id")
        if raw is None:
            return None
        thread_id = _int(raw, "message_thread_id")
        if not chat.is_forum:
            return None  # Telegram ignores it outside forums
        root = self._messages.get((chat.id, thread_id))
        if root is None or "forum_topic_created" not in root:
            raise bad_request("message thread not found")
        return thread_id

    def _reply_to(self, chat: Chat, params: JSON) -> int | None:
        reply = params.get("reply_parameters")
        if reply is None and params.get("reply_to_message_id") is not None:
            reply = {"message_id": params["reply_to_message_id"]}
        if reply is None:
            return None
        if not isinstance(reply, dict) or "message_id" not in reply:
            raise bad_request("invalid reply parameters")
        target = reply.get("chat_id", chat.id)
        message_id = _int(reply["message_id"], "message_id")
        if target != chat.id or (chat.id, message_id) not in self._messages:
            if _bool(reply.get("allow_sending_without_reply")):
                return None
            raise bad_request("message to be replied not found")
        return message_id


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # The status line and headers go out in one write and the body in a second: with Nagle's
    # algorithm on, the body waits for the client's (delayed, ~40 ms) ACK of the headers on
    # a kept-alive connection, adding ~40 ms to a call: a stall of the fake, not of the bot.
    disable_nagle_algorithm = True
    fake: FakeBotApi

    def do_POST(self) -> None:
        self._serve()

    def do_GET(self) -> None:
        self._serve()

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep test output clean

    def _serve(self) -> None:
        url = urlsplit(self.path)
        try:
            params = dict(_decode_form(parse_qsl(url.query, keep_blank_values=True)))
            params.update(self._body())
            status, body = self.fake.handle(url.path, params)
        except ApiError as exc:
            status, body = exc.code, exc.body()
        payload = json.dumps(body).encode("utf-8")
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up (e.g. a cancelled long poll)

    def _body(self) -> JSON:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if not raw:
            return {}
        kind = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if kind == "application/json":
            try:
                data = json.loads(raw)
            except ValueError:
                raise bad_request("can't parse JSON body") from None
            if not isinstance(data, dict):
                raise bad_request("JSON body must be an object")
            return data
        if kind == "application/x-www-form-urlencoded":
            return dict(_decode_form(parse_qsl(raw.decode("utf-8"), keep_blank_values=True)))
        raise bad_request(f"unsupported content type {kind!r} in the fake server")


def _decode_form(pairs: Iterable[tuple[str, str]]) -> Iterable[tuple[str, Any]]:
    """Form values arrive as strings; PTB JSON-encodes the non-string ones."""
    for key, value in pairs:
        if key in STRING_FIELDS:
            yield key, value
            continue
        try:
            yield key, json.loads(value)
        except ValueError:
            yield key, value


def _parse_text(source: str, parse_mode: Any) -> tuple[str, list[JSON]]:
    if parse_mode in (None, ""):
        text, entities = source, []
    elif str(parse_mode).upper() == "HTML":
        try:
            text, parsed = parse_html(source)
        except HtmlError as exc:
            raise bad_request(f"can't parse entities: {exc}") from None
        entities = [e.as_dict() for e in parsed]
    else:
        raise bad_request(f"unsupported parse_mode {parse_mode!r} in the fake server")
    if not text.strip():
        raise bad_request("message text is empty")
    if utf16_len(text) > MAX_TEXT_UNITS:
        raise bad_request("message is too long")
    return text, entities


def _check_markup(markup: Any) -> JSON | None:
    if markup is None:
        return None
    if not isinstance(markup, dict) or not isinstance(markup.get("inline_keyboard"), list):
        raise bad_request("unsupported reply markup in the fake server")
    for row in markup["inline_keyboard"]:
        for button in row:
            if not str(button.get("text", "")).strip():
                raise bad_request("BUTTON_TEXT_INVALID")
            data = button.get("callback_data")
            if data is not None and not 1 <= len(str(data).encode("utf-8")) <= 64:
                raise bad_request("BUTTON_DATA_INVALID")
            if data is None and not button.get("url"):
                raise bad_request("BUTTON_TYPE_INVALID")
    return markup


def _without_reply(message: JSON) -> JSON:
    replied = copy.deepcopy(message)
    replied.pop("reply_to_message", None)
    return replied


def _kind(update: JSON) -> str:
    return next(key for key in update if key != "update_id")


def _scope_key(scope: Any) -> str:
    return json.dumps(scope or {"type": "default"}, sort_keys=True)


def _int(value: Any, name: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise bad_request(f"invalid {name}") from None


def _bool(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() == "true")


def _short(params: JSON) -> JSON:
    return {
        k: (v[:60] + "…" if isinstance(v, str) and len(v) > 60 else v) for k, v in params.items()
    }

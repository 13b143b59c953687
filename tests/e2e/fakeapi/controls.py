"""``FakeBotApi``: what a test holds. It starts the server on a fresh world and offers the
test controls (make chats and users, inject what users do, press buttons, make calls fail,
flip @BotFather settings, block the bot) and the readers (what the bot sent, the calls it
made, its commands) with waits for them, in the event loop or in a thread."""

from __future__ import annotations

import asyncio
import copy
import time
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from tests.e2e.fakeapi.methods import BotApiMethods, member_json
from tests.e2e.fakeapi.records import (
    ANONYMOUS,
    JSON,
    ApiCall,
    Chat,
    Failure,
    SentMessage,
    User,
)
from tests.e2e.fakeapi.server import FakeApiServer
from tests.e2e.fakeapi.text import user_entities
from tests.e2e.fakeapi.world import World, scope_key

T = TypeVar("T")


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
        self._world = World()
        self._methods = BotApiMethods(self._world, token, self.bot)
        self._server = FakeApiServer(self._methods.handle)

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> FakeBotApi:
        self._server.start()
        return self

    def stop(self) -> None:
        self._world.close()
        self._server.stop()

    def __enter__(self) -> FakeBotApi:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        return self._server.port

    @property
    def base_url(self) -> str:
        """What the bot's ``telegram_api_url`` setting should be (the token is appended)."""
        return f"http://127.0.0.1:{self.port}/bot"

    def handle(self, path: str, params: JSON) -> tuple[int, JSON]:
        """One Bot API call without HTTP (``/bot<token>/<method>``); (HTTP status, body)."""
        return self._methods.handle(path, params)

    # ------------------------------------------------------------------ chats and users
    def private_chat(self, user: User) -> Chat:
        return self._add_chat(
            Chat(user.id, "private", first_name=user.first_name, username=user.username)
        )

    def group(
        self, chat_id: int, title: str, *, supergroup: bool = False, forum: bool = False
    ) -> Chat:
        if chat_id >= 0:
            raise ValueError("group chat ids are negative")
        kind = "supergroup" if supergroup or forum else "group"
        return self._add_chat(Chat(chat_id, kind, title=title, is_forum=forum))

    def channel(self, chat_id: int, title: str, username: str | None = None) -> Chat:
        return self._add_chat(Chat(chat_id, "channel", title=title, username=username))

    def set_member_status(self, chat_id: int, user_id: int, status: str) -> None:
        with self._world.cond:
            self._world.members[(chat_id, user_id)] = status

    def share_polling(self) -> None:
        """Let several bot processes long-poll at once (real Telegram answers the second
        with 409): each update goes to exactly one of them, as a dispatcher in front of
        webhook workers would do."""
        with self._world.cond:
            self._world.shared_polling = True

    def set_privacy(self, enabled: bool) -> None:
        """What @BotFather's /setprivacy did: off means getMe reports that the bot can
        read all group messages."""
        with self._world.cond:
            self._world.privacy = enabled

    def webhook_failed(self, message: str, at: float | None = None) -> None:
        """Telegram could not deliver to the webhook: getWebhookInfo reports the error."""
        with self._world.cond:
            self._world.webhook_error = (int(at if at is not None else time.time()), message)

    def block(self, chat_id: int) -> None:
        """The user blocked the bot / the bot was removed: sends there get 403."""
        with self._world.cond:
            self._world.blocked.add(chat_id)

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
        with self._world.cond:
            message = self._world.user_message(
                chat, user, text, reply_to=reply_to, thread_id=thread_id
            )
            self._world.push({"message": message})
            return copy.deepcopy(message)

    def push_message(self, chat: Chat, user: User, text: str, **fields: Any) -> JSON:
        """A user's text message with ``fields`` set on it (``forward_origin``,
        ``sender_chat``, …: what the other controls do not model), queued as sent; returns
        the message object the bot will receive."""
        with self._world.cond:
            message = self._world.user_message(chat, user, text)
            message.update(fields)
            self._world.push({"message": message})
            return copy.deepcopy(message)

    def send_as_group(self, chat: Chat, text: str) -> JSON:
        """A message by an anonymous group admin: Telegram sends it on behalf of the group
        (``sender_chat`` is the group; ``from`` is the placeholder GroupAnonymousBot)."""
        return self.push_message(chat, ANONYMOUS, text, sender_chat=chat.as_dict())

    def make_message(self, chat: Chat, user: User, text: str) -> JSON:
        """A user's text message stored in the chat but not queued: the base of an unusual
        update a test builds and queues with ``push_raw``/``push_updates``."""
        return copy.deepcopy(self._world.user_message(chat, user, text))

    def push_raw(self, payload: JSON) -> int:
        """Queue an update exactly as given (it may be one a client cannot parse, e.g. a
        field a newer Bot API made required is missing); returns its update_id."""
        [update_id] = self.push_updates([payload])
        return update_id

    def push_updates(self, payloads: Iterable[JSON]) -> list[int]:
        """Queue several updates as given, all at once (one getUpdates sees them together);
        returns their update_ids."""
        with self._world.cond:
            return [int(self._world.push(payload)["update_id"]) for payload in payloads]

    def webhook_update(self, chat: Chat, user: User, text: str) -> JSON:
        """A message update for delivery by webhook (the test POSTs it; nothing is queued)."""
        with self._world.cond:
            message = self._world.user_message(chat, user, text)
            return {"update_id": self._world.next_update_id(), "message": copy.deepcopy(message)}

    def webhook(self) -> JSON | None:
        """``{"url", "secret_token"}`` as set by ``setWebhook``, or None."""
        with self._world.cond:
            return copy.deepcopy(self._world.webhook)

    def send_media(self, chat: Chat, user: User, *, caption: str | None = None) -> JSON:
        """A photo (no ``text``; an optional caption), to check non-text is handled."""
        world = self._world
        with world.cond:
            world.chats.setdefault(chat.id, chat)
            message_id = world.next_message_id(chat.id)
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
            world.messages[(chat.id, message_id)] = message
            world.push({"message": message})
            return copy.deepcopy(message)

    def create_topic(self, chat: Chat, user: User, name: str) -> int:
        """A forum topic (service message); returns its ``message_thread_id``."""
        if not chat.is_forum:
            raise ValueError("topics exist only in forum supergroups")
        world = self._world
        with world.cond:
            message_id = world.next_message_id(chat.id)
            world.messages[(chat.id, message_id)] = {
                "message_id": message_id,
                "from": user.as_dict(),
                "chat": chat.as_dict(),
                "date": int(time.time()),
                "message_thread_id": message_id,
                "is_topic_message": True,
                "forum_topic_created": {"name": name, "icon_color": 7322096},
            }
            return message_id

    def edit(self, chat: Chat, user: User, message_id: int, text: str) -> JSON:
        """The user edits one of their messages (an ``edited_message`` update)."""
        world = self._world
        with world.cond:
            edited = copy.deepcopy(world.messages[(chat.id, message_id)])
            edited["text"] = text
            edited["edit_date"] = int(time.time())
            entities = user_entities(text)
            if entities:
                edited["entities"] = entities
            else:
                edited.pop("entities", None)
            world.messages[(chat.id, message_id)] = edited
            world.push({"edited_message": edited})
            return copy.deepcopy(edited)

    def channel_post(self, chat: Chat, text: str) -> JSON:
        world = self._world
        with world.cond:
            post = world.text_message(chat, {"sender_chat": chat.as_dict()}, text)
            world.messages[(chat.id, post["message_id"])] = post
            world.push({"channel_post": post})
            return copy.deepcopy(post)

    def press(self, chat_id: int, message_id: int, button_text: str, user: User) -> str:
        """Press the inline button labelled ``button_text``; returns the callback query id."""
        with self._world.cond:
            sent = self._world.find_sent(chat_id, message_id)
            buttons = [b for b in sent.buttons() if b["text"] == button_text]
            if not buttons:
                raise AssertionError(
                    f"no button {button_text!r} under message {message_id}: {sent.button_texts()}"
                )
        return self.press_data(chat_id, message_id, buttons[0]["callback_data"], user)

    def press_data(self, chat_id: int, message_id: int, data: str, user: User) -> str:
        """A callback query with arbitrary data (e.g. tampered or stale) on a bot message."""
        world = self._world
        with world.cond:
            message = copy.deepcopy(world.messages[(chat_id, message_id)])
            query_id = world.next_callback_id()
            query = {
                "id": query_id,
                "from": user.as_dict(),
                "message": message,
                "chat_instance": f"ci{abs(chat_id)}",
                "data": data,
            }
            world.callback_answers[query_id] = None
            world.push({"callback_query": query})
            return query_id

    def add_bot_to(self, chat: Chat, by: User, status: str = "member") -> JSON:
        """``by`` adds the bot to a group or channel (``status``: "member", or
        "administrator" for a channel): a ``my_chat_member`` update."""
        world = self._world
        with world.cond:
            world.chats.setdefault(chat.id, chat)
            world.left.discard(chat.id)
            change = {
                "chat": chat.as_dict(),
                "from": by.as_dict(),
                "date": int(time.time()),
                "old_chat_member": member_json("left", self.bot.as_dict()),
                "new_chat_member": member_json(status, self.bot.as_dict()),
            }
            world.push({"my_chat_member": change})
            return copy.deepcopy(change)

    def inline_query(self, user: User, query: str, chat_type: str = "sender") -> str:
        """``@bot query`` typed by ``user`` in some chat; returns the inline query id."""
        world = self._world
        with world.cond:
            query_id = world.next_callback_id()
            world.inline_answers[query_id] = None
            world.push({"inline_query": {"id": query_id, "from": user.as_dict(),
                                         "query": query, "offset": "",
                                         "chat_type": chat_type}})
            return query_id

    def inline_answer(self, query_id: str) -> JSON | None:
        """What ``answerInlineQuery`` gave for the query (``results`` and the options), or
        None while it is unanswered."""
        with self._world.cond:
            return copy.deepcopy(self._world.inline_answers.get(query_id))

    def has_left(self, chat_id: int) -> bool:
        with self._world.cond:
            return chat_id in self._world.left

    # ------------------------------------------------------------------ injected failures
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
        with self._world.cond:
            for _ in range(times):
                self._world.failures[method.lower()].append(Failure(code, text, retry_after))

    def delay_next(self, method: str, seconds: float) -> None:
        """The next call of ``method`` is answered only after ``seconds`` (a slow network or
        a busy Telegram), successfully unless a failure is injected too."""
        with self._world.cond:
            self._world.delays[method.lower()].append(seconds)

    def clear_failures(self) -> None:
        """Drop the injected failures not used yet: calls succeed again from now on."""
        with self._world.cond:
            self._world.failures.clear()

    # ------------------------------------------------------------------ reading state
    def sent(self, chat_id: int) -> list[SentMessage]:
        """What the bot sent to ``chat_id``, oldest first, with edits applied."""
        with self._world.cond:
            return copy.deepcopy(self._world.sent.get(chat_id, []))

    def all_sent(self) -> list[SentMessage]:
        with self._world.cond:
            return copy.deepcopy([m for messages in self._world.sent.values() for m in messages])

    def calls(self, method: str | None = None) -> list[ApiCall]:
        with self._world.cond:
            return [
                copy.deepcopy(call)
                for call in self._world.calls
                if method is None or call.method.lower() == method.lower()
            ]

    def chat_actions(self, chat_id: int) -> list[tuple[str, int | None]]:
        with self._world.cond:
            return [(a, t) for c, a, t in self._world.chat_actions if c == chat_id]

    def callback_answer(self, query_id: str) -> JSON | None:
        """``{"text": …, "show_alert": …}`` once the bot answered the query, else None."""
        with self._world.cond:
            return copy.deepcopy(self._world.callback_answers.get(query_id))

    def commands(self, scope: JSON | None = None) -> list[JSON] | None:
        with self._world.cond:
            return copy.deepcopy(self._world.commands.get(scope_key(scope)))

    def waiting_polls(self) -> int:
        """getUpdates calls blocked in a long poll right now."""
        with self._world.cond:
            return self._world.waiting_polls

    def pending_updates(self) -> int:
        with self._world.cond:
            return len(self._world.updates)

    # ------------------------------------------------------------------ waiting
    def wait_until(self, predicate: Callable[[], T], timeout: float = 10.0) -> T:
        """``wait_for`` for code outside an event loop (blocks this thread)."""
        return self._world.wait_until(predicate, timeout)

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

    # ------------------------------------------------------------------ helpers
    def _add_chat(self, chat: Chat) -> Chat:
        with self._world.cond:
            self._world.chats[chat.id] = chat
        return chat


def _short(params: JSON) -> JSON:
    return {
        k: (v[:60] + "…" if isinstance(v, str) and len(v) > 60 else v) for k, v in params.items()
    }

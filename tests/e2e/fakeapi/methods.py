"""The Bot API methods the bot calls, acting on the world the way Telegram does: each checks
its parameters as Telegram checks them (chat, topic, replied-to message, markup, text) and
answers with Telegram's result or error. ``handle`` routes ``/bot<token>/<method>``
(method names are case-insensitive, as in Telegram), applies injected failures and records
every call."""

from __future__ import annotations

import copy
import json
import re
import time
from collections.abc import Callable
from typing import Any

from tests.e2e.fakeapi.records import JSON, ApiCall, ApiError, Chat, SentMessage, User, bad_request
from tests.e2e.fakeapi.text import parse_text
from tests.e2e.fakeapi.world import World, scope_key

# What getUpdates delivers when the bot never named ``allowed_updates``.
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
ADDRESS = re.compile(r"/bot([^/]+)/([A-Za-z]+)")

Method = Callable[[JSON], Any]


class BotApiMethods:
    """The methods, on one world, for one bot (its token and its user)."""

    def __init__(self, world: World, token: str, bot: User) -> None:
        self.world = world
        self.token = token
        self.bot = bot
        methods: dict[str, Method] = {
            "getMe": self.get_me,
            "getUpdates": self.get_updates,
            "deleteWebhook": self.delete_webhook,
            "setWebhook": self.set_webhook,
            "getWebhookInfo": self.get_webhook_info,
            "setMyCommands": self.set_my_commands,
            "deleteMyCommands": self.delete_my_commands,
            "getMyCommands": self.get_my_commands,
            "sendMessage": self.send_message,
            "editMessageText": self.edit_message_text,
            "sendChatAction": self.send_chat_action,
            "answerCallbackQuery": self.answer_callback_query,
            "getChat": self.get_chat,
            "getChatMember": self.get_chat_member,
            "leaveChat": self.leave_chat,
            "answerInlineQuery": self.answer_inline_query,
        }
        self._by_name = {name.lower(): method for name, method in methods.items()}

    def handle(self, path: str, params: JSON) -> tuple[int, JSON]:
        """Route one Bot API call; returns (HTTP status, body)."""
        match = ADDRESS.fullmatch(path)
        if match is None:
            return 404, {"ok": False, "error_code": 404, "description": "Not Found"}
        token, method = match.group(1), match.group(2)
        if token != self.token:
            return 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
        name = method.lower()
        handler = self._by_name.get(name)
        failure = self.world.next_failure(name)
        delay = self.world.next_delay(name)
        if delay:
            time.sleep(delay)  # this request's own server thread: other calls go on
        try:
            if handler is None:
                raise ApiError(404, "Not Found")
            if failure is not None:
                raise failure.error()
            result = handler(params)
            status, body = 200, {"ok": True, "result": result}
        except ApiError as exc:
            status, body = exc.code, exc.body()
        self.world.record_call(ApiCall(method, params, status, time.monotonic()))
        return status, body

    # ------------------------------------------------------------------ the bot and updates
    def get_me(self, params: JSON) -> JSON:
        return {
            **self.bot.as_dict(),
            "can_join_groups": True,
            "can_read_all_group_messages": not self.world.privacy,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def get_updates(self, params: JSON) -> list[JSON]:
        offset = _int(params.get("offset", 0), "offset")
        timeout = max(0.0, float(params.get("timeout", 0) or 0))
        limit = min(100, max(1, _int(params.get("limit", 100), "limit")))
        deadline = time.monotonic() + timeout
        world = self.world
        with world.cond:
            if world.webhook is not None:
                raise ApiError(
                    409,
                    "Conflict: can't use getUpdates method while webhook is "
                    "active; use deleteWebhook to delete the webhook first",
                )
            shared = world.shared_polling  # several workers: each update goes to one
            if not shared:
                world.poll_generation += 1
            generation = world.poll_generation
            if "allowed_updates" in params:
                allowed = params["allowed_updates"]
                world.allowed_updates = set(allowed) if allowed else None
            if shared:
                pass  # handed-out updates left the queue already; offsets are per worker
            elif offset > 0:
                world.updates = [u for u in world.updates if u["update_id"] >= offset]
            elif offset < 0:
                world.updates = world.updates[offset:]
            while True:
                if not shared and generation != world.poll_generation:
                    raise ApiError(
                        409,
                        "Conflict: terminated by other getUpdates request; "
                        "make sure that only one bot instance is running",
                    )
                allowed_now = world.allowed_updates or DEFAULT_UPDATES
                # Telegram drops updates of types the bot does not ask for.
                world.updates = [u for u in world.updates if _kind(u) in allowed_now]
                remaining = deadline - time.monotonic()
                if world.updates or remaining <= 0 or world.closing:
                    batch = copy.deepcopy(world.updates[:limit])
                    if shared:
                        del world.updates[:len(batch)]
                    return batch
                world.waiting_polls += 1
                try:
                    world.cond.wait(remaining)
                finally:
                    world.waiting_polls -= 1

    def delete_webhook(self, params: JSON) -> bool:
        with self.world.cond:
            self.world.webhook = None
            if _bool(params.get("drop_pending_updates")):
                self.world.updates.clear()
        return True

    def set_webhook(self, params: JSON) -> bool:
        url = params.get("url")
        if not isinstance(url, str):
            raise bad_request('parameter "url" is required')
        with self.world.cond:
            if not url:
                self.world.webhook = None
            else:
                if not url.startswith("https://"):
                    raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
                secret = params.get("secret_token")
                if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", str(secret)):
                    raise bad_request("bad webhook: secret token contains unallowed characters")
                self.world.webhook = {"url": url, "secret_token": secret}
        return True

    def get_webhook_info(self, params: JSON) -> JSON:
        world = self.world
        with world.cond:
            info: JSON = {
                "url": (world.webhook or {}).get("url", ""),
                "has_custom_certificate": False,
                "pending_update_count": len(world.updates),
            }
            if world.webhook is not None and world.webhook_error is not None:
                info["last_error_date"], info["last_error_message"] = world.webhook_error
            return info

    # ------------------------------------------------------------------ commands
    def set_my_commands(self, params: JSON) -> bool:
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
        with self.world.cond:
            if isinstance(scope, dict) and scope.get("type") in ("chat", "chat_administrators"):
                chat_id = scope.get("chat_id")
                if chat_id not in self.world.chats:
                    raise bad_request("chat not found")
            self.world.commands[scope_key(scope)] = commands
        return True

    def delete_my_commands(self, params: JSON) -> bool:
        with self.world.cond:
            self.world.commands.pop(scope_key(params.get("scope")), None)
        return True

    def get_my_commands(self, params: JSON) -> list[JSON]:
        with self.world.cond:
            return copy.deepcopy(self.world.commands.get(scope_key(params.get("scope")), []))

    # ------------------------------------------------------------------ messages
    def send_message(self, params: JSON) -> JSON:
        world = self.world
        with world.cond:
            chat = self._chat(params.get("chat_id"))
            source = params.get("text")
            if not isinstance(source, str):
                raise bad_request("message text is empty")
            parse_mode = params.get("parse_mode")
            text, entities = parse_text(source, parse_mode)
            markup = _check_markup(params.get("reply_markup"))
            thread_id = self._thread_id(chat, params)
            reply_to = self._reply_to(chat, params)
            message_id = world.next_message_id(chat.id)
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
                message["reply_to_message"] = world.quoted(chat.id, reply_to)
            world.messages[(chat.id, message_id)] = message
            world.sent[chat.id].append(
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

    def edit_message_text(self, params: JSON) -> JSON:
        if params.get("inline_message_id"):
            raise bad_request("inline messages are not supported by the fake server")
        world = self.world
        with world.cond:
            chat = self._chat(params.get("chat_id"))
            message_id = _int(params.get("message_id"), "message_id")
            message = world.messages.get((chat.id, message_id))
            if message is None:
                raise bad_request("message to edit not found")
            if message.get("from", {}).get("id") != self.bot.id:
                raise bad_request("message can't be edited")
            source = params.get("text")
            if not isinstance(source, str):
                raise bad_request("message text is empty")
            text, entities = parse_text(source, params.get("parse_mode"))
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
            sent = world.find_sent(chat.id, message_id)
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

    def send_chat_action(self, params: JSON) -> bool:
        with self.world.cond:
            chat = self._chat(params.get("chat_id"))
            action = params.get("action")
            if action not in CHAT_ACTIONS:
                raise bad_request("wrong parameter action in request")
            thread_id = self._thread_id(chat, params)
            self.world.chat_actions.append((chat.id, str(action), thread_id))
        return True

    def answer_callback_query(self, params: JSON) -> bool:
        query_id = str(params.get("callback_query_id", ""))
        text = params.get("text")
        if text is not None and len(str(text)) > 200:
            raise bad_request("MESSAGE_TOO_LONG")
        with self.world.cond:
            answers = self.world.callback_answers
            if query_id not in answers or answers[query_id] is not None:
                raise bad_request(
                    "query is too old and response timeout expired or query ID is invalid"
                )
            answers[query_id] = {"text": text, "show_alert": _bool(params.get("show_alert"))}
        return True

    # ------------------------------------------------------------------ chats
    def get_chat(self, params: JSON) -> JSON:
        with self.world.cond:
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

    def get_chat_member(self, params: JSON) -> JSON:
        with self.world.cond:
            chat = self._chat(params.get("chat_id"), for_sending=False)
            user_id = _int(params.get("user_id"), "user_id")
            status = self.world.members.get((chat.id, user_id), "member")
        user = (
            self.bot.as_dict()
            if user_id == self.bot.id
            else {"id": user_id, "is_bot": False, "first_name": f"User {user_id}"}
        )
        return member_json(status, user)

    # ------------------------------------------------------------------ leaving, inline mode
    def leave_chat(self, params: JSON) -> bool:
        with self.world.cond:
            chat = self._chat(params.get("chat_id"), for_sending=False)
            if chat.type == "private":
                raise bad_request("chat member status can't be changed in private chats")
            self.world.left.add(chat.id)
        return True

    def answer_inline_query(self, params: JSON) -> bool:
        """Checks what Telegram checks of the results the fake's tests need: at most 50,
        unique ids of 1-64 bytes, articles with a title and message text that parses."""
        query_id = str(params.get("inline_query_id", ""))
        results = params.get("results")
        if isinstance(results, str):
            results = json.loads(results)
        if not isinstance(results, list) or len(results) > 50:
            raise bad_request("RESULTS_TOO_MUCH" if isinstance(results, list)
                              else "results must be an array")
        ids = [str(r.get("id", "")) for r in results]
        if len(set(ids)) != len(ids) or not all(1 <= len(i.encode()) <= 64 for i in ids):
            raise bad_request("RESULT_ID_INVALID")
        for result in results:
            if result.get("type") != "article" or not str(result.get("title", "")).strip():
                raise bad_request("RESULT_TYPE_INVALID")
            content = result.get("input_message_content") or {}
            if not isinstance(content.get("message_text"), str):
                raise bad_request("MESSAGE_EMPTY")
            parse_text(content["message_text"], content.get("parse_mode"))
            _check_markup(result.get("reply_markup"))
        with self.world.cond:
            answers = self.world.inline_answers
            if query_id not in answers or answers[query_id] is not None:
                raise bad_request(
                    "query is too old and response timeout expired or query ID is invalid")
            answers[query_id] = {key: value for key, value in params.items()
                                 if key != "inline_query_id"} | {"results": results}
        return True

    # ------------------------------------------------------------------ parameter checks
    def _chat(self, chat_id: Any, *, for_sending: bool = True) -> Chat:
        """The chat by id or ``@username``; 400 if unknown, 403 if sending to one that
        blocked the bot."""
        chats = self.world.chats
        if isinstance(chat_id, str) and chat_id.lstrip("-").isdigit():
            chat_id = int(chat_id)
        if isinstance(chat_id, str):
            chat = next((c for c in chats.values() if f"@{c.username}" == chat_id), None)
        else:
            chat = chats.get(chat_id) if isinstance(chat_id, int) else None
        if chat is None:
            raise bad_request("chat not found")
        if for_sending and chat.id in self.world.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        if for_sending and chat.id in self.world.left:
            raise ApiError(403, f"Forbidden: bot is not a member of the {chat.type} chat")
        return chat

    def _thread_id(self, chat: Chat, params: JSON) -> int | None:
        raw = params.get("message_thread_id")
        if raw is None:
            return None
        thread_id = _int(raw, "message_thread_id")
        if not chat.is_forum:
            return None  # Telegram ignores it outside forums
        root = self.world.messages.get((chat.id, thread_id))
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
        if target != chat.id or (chat.id, message_id) not in self.world.messages:
            if _bool(reply.get("allow_sending_without_reply")):
                return None
            raise bad_request("message to be replied not found")
        return message_id


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


def _kind(update: JSON) -> str:
    return next(key for key in update if key != "update_id")


def _int(value: Any, name: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise bad_request(f"invalid {name}") from None


def _bool(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() == "true")


def member_json(status: str, user: JSON) -> JSON:
    """A ``ChatMember`` object with the fields Telegram sends for ``status``."""
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

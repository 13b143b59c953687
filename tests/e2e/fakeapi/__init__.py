"""A fake Telegram Bot API server for end-to-end tests.

It speaks the real HTTP API on 127.0.0.1 (``/bot<token>/<method>``, form-encoded or JSON
bodies, ``{"ok": true, "result": …}`` and Telegram's error objects), so python-telegram-bot's
whole networking stack runs in tests — no handler is called directly. It validates what the
bot sends the way Telegram does (HTML entities, 4096 UTF-16 units, callback data ≤ 64
bytes, replies to existing messages, existing topics) and keeps message and update ids
consistent per chat.

One concern per module:

- ``records``: users, chats, a sent message, an API call, an injected failure, ``ApiError``;
- ``text``: the entities Telegram marks in users' text, and what it makes of the bot's;
- ``world``: the shared state behind one lock, and the few operations on it;
- ``methods``: the Bot API methods, acting on the world, dispatched by name;
- ``server``: HTTP and form decoding;
- ``controls``: ``FakeBotApi``, what tests hold: inject what users do (messages with
  ``bot_command`` and ``mention`` entities, replies, button presses, channel posts), make
  the next calls of a method fail (429 with ``retry_after``, 403, 500), read what the bot
  sent or edited, ``await wait_for(predicate)``.
"""

from tests.e2e.fakeapi.controls import FakeBotApi
from tests.e2e.fakeapi.records import (
    ANONYMOUS,
    JSON,
    ApiCall,
    ApiError,
    Chat,
    SentMessage,
    User,
    bad_request,
)

__all__ = [
    "ANONYMOUS",
    "JSON",
    "ApiCall",
    "ApiError",
    "Chat",
    "FakeBotApi",
    "SentMessage",
    "User",
    "bad_request",
]

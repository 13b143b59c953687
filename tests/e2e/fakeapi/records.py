"""The records the fake Bot API passes around: Telegram users and chats (and the JSON Telegram
sends for them), a message the bot sent, one API call, an injected failure, and the error
that becomes Telegram's error object."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

JSON = dict[str, Any]


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


@dataclass(frozen=True)
class Failure:
    """A failure a test injected for one upcoming call of a method."""

    code: int
    description: str
    retry_after: int | None

    def error(self) -> ApiError:
        return ApiError(self.code, self.description, self.retry_after)

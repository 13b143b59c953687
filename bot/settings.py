"""The operator's one settings object: the index settings plus the Telegram ones.

Read from ``NEWSBOT_*`` environment variables and ``.env``; see ``config.example.env``.
The token is a ``SecretStr`` so it never appears in a repr, a log line or an error report.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, SecretStr, ValidationInfo, field_validator
from pydantic_settings import NoDecode

from index.settings import IndexSettings, load_settings, split_list


class ConfigurationError(RuntimeError):
    """The bot cannot start with these settings (no token, a token Telegram rejects…);
    the message is one line for the operator, with the fix."""


class Settings(IndexSettings):
    telegram_token: SecretStr | None = Field(None, description="Bot token from @BotFather.")
    telegram_api_url: str = Field(
        "https://api.telegram.org/bot",
        description="Bot API base URL (the token is appended); point at a local server.",
    )
    admin_ids: Annotated[list[int], NoDecode] = Field(default_factory=list)
    allowed_chats: Annotated[list[int], NoDecode] = Field(
        default_factory=list,
        description="Chat ids the bot serves (the admins' private chats always); empty = all.")
    webhook_url: str | None = Field(None, description="Public HTTPS URL; unset = long polling.")
    webhook_secret: SecretStr | None = None
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = Field(8443, ge=1, le=65535)
    user_rate_limit: int = Field(5, ge=1, description="Questions per user per window.")
    user_rate_window: int = Field(30, ge=1, description="Seconds of the per-user window.")
    citations_per_message: int = Field(
        3, ge=1, le=10,
        description="Citations per message or terminal page, and printed by `newsbot ask`.")
    answer_keep_hours: float = Field(
        48.0, gt=0,
        description="Hours an answer's buttons (More results, Full article) and its "
                    "follow-up context keep working, across restarts.")
    follow_up_minutes: float = Field(
        10.0, ge=0,
        description="In a private chat, a message this many minutes after an answer may "
                    "follow up on it (0: only replies do).")
    alert_send_interval: float = Field(
        5.0, ge=1.0, description="Seconds between checks of the alert outbox.")
    alert_chat_rate: int = Field(
        20, ge=1, le=30, description="Most alert messages per chat per minute.")
    alert_digest_after: int = Field(
        3, ge=1, description="More alerts than this for one chat within the window: a digest.")
    alert_digest_window: int = Field(600, ge=0, description="Seconds of the digest window.")

    @field_validator("admin_ids", "allowed_chats", mode="before")
    @classmethod
    def _id_list(cls, value: Any, info: ValidationInfo) -> Any:
        items = split_list(value)
        what = "admin ids are numeric user ids" if info.field_name == "admin_ids" else \
            "allowed chats are numeric chat ids (/whoami shows them)"
        if isinstance(items, list):
            for item in items:
                if isinstance(item, str) and not item.strip().lstrip("-").isdigit():
                    raise ValueError(f"{what}, not {item!r}")
        return items

    @field_validator("telegram_token", "webhook_url", "webhook_secret", mode="before")
    @classmethod
    def _empty_is_none(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @classmethod
    def load(cls, **overrides: Any) -> Settings:
        return load_settings(cls, **overrides)

"""The fake Telegram Bot API server of the end-to-end tests, under the name tests import it
by; it lives in ``tests/e2e/fakeapi/`` (one concern per module)."""

from tests.e2e.fakeapi import (
    ANONYMOUS,
    JSON,
    ApiCall,
    ApiError,
    Chat,
    FakeBotApi,
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

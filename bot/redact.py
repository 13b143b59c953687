"""Keep the bot token out of logs and error reports.

The token is part of every Bot API URL, so any library that logs a URL or puts one in an
exception message (httpx does both) would leak it. ``redact`` scrubs a string; the logging
filter scrubs every record that passes through a handler, tracebacks included.
"""

from __future__ import annotations

import logging
import re
import traceback
from collections.abc import Iterable
from urllib.parse import parse_qsl, urlsplit

MASK = "<redacted>"


def redact(text: str, secrets: Iterable[str]) -> str:
    """Mask every secret, in any letter case: python-telegram-bot capitalizes Telegram's
    error descriptions (``str.capitalize`` lowercases the rest, token included)."""
    for secret in secrets:
        if secret:
            text = re.sub(re.escape(secret), MASK, text, flags=re.IGNORECASE)
    return text


def describe(exc: BaseException, secrets: Iterable[str], limit: int = 300) -> str:
    """``Type: first line of the message`` — short enough for a chat, free of secrets."""
    lines = str(exc).strip().splitlines()
    first = lines[0] if lines else ""
    text = f"{type(exc).__name__}: {first}" if first else type(exc).__name__
    text = redact(text, secrets)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def format_traceback(exc: BaseException, secrets: Iterable[str]) -> str:
    return redact("".join(traceback.format_exception(exc)), secrets)


class RedactingFilter(logging.Filter):
    """Rewrites a record's message (and traceback) with the secrets masked."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self._secrets = tuple(s for s in secrets if s)

    def filter(self, record: logging.LogRecord) -> bool:
        if not self._secrets:
            return True
        message = record.getMessage()
        record.msg = redact(message, self._secrets)
        record.args = None
        if record.exc_info:
            record.exc_text = redact(
                "".join(traceback.format_exception(*record.exc_info)), self._secrets
            ).rstrip("\n")
            record.exc_info = None
        return True


def install_log_redaction(secrets: Iterable[str]) -> RedactingFilter:
    """Attach the filter to every handler of the root logger (where records end up)."""
    log_filter = RedactingFilter(secrets)
    for handler in logging.getLogger().handlers:
        handler.addFilter(log_filter)
    # httpx logs every request URL (with the token) at INFO.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    return log_filter


def url_password(url: str) -> str | None:
    """The password a database URL carries (in the user part or as ``?password=``)."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    return parts.password or query.get("password") or None


def url_without_password(url: str) -> str:
    """A database URL as it may be shown: user, host, port, database and options, with
    the password left out (``NEWSBOT_DATABASE_URL`` is a secret)."""
    parts = urlsplit(url)
    netloc = parts.netloc.rpartition("@")[2]
    if parts.username:
        netloc = f"{parts.username}@{netloc}"
    options = [o for o in parts.query.split("&") if o and o.partition("=")[0] != "password"]
    query = f"?{'&'.join(options)}" if options else ""
    fragment = f"#{parts.fragment}" if parts.fragment else ""
    return f"{parts.scheme}://{netloc}{parts.path}{query}{fragment}"

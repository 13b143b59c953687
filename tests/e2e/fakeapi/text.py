"""What Telegram makes of a message's text: the ``bot_command`` and ``mention`` entities it
marks in a user's message (offsets in UTF-16 units), and the shown text and entities of what
the bot sends, rejected the way Telegram rejects it (bad HTML, empty, over 4096 units)."""

from __future__ import annotations

import re
from typing import Any

from tests.e2e.fakeapi.records import JSON, bad_request
from tests.e2e.telegram_html import HtmlError, parse_html, utf16_len

MAX_TEXT_UNITS = 4096
COMMAND = re.compile(r"(?<![\w/])/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?(?![\w@])")
MENTION = re.compile(r"(?<![\w@])@[A-Za-z][A-Za-z0-9_]{3,31}(?!\w)")


def user_entities(text: str) -> list[JSON]:
    """The command and mention entities Telegram puts on a user's message, in text order."""
    found: list[JSON] = []
    for pattern, kind in ((COMMAND, "bot_command"), (MENTION, "mention")):
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


def parse_text(source: str, parse_mode: Any) -> tuple[str, list[JSON]]:
    """The text and entities Telegram shows for what the bot sent; ``ApiError`` (400) for
    what Telegram refuses."""
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

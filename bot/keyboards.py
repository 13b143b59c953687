"""Inline keyboards under an answer and the callback data their buttons carry.

Data formats (all ASCII, well under Telegram's 64-byte limit):
``more:<token>:<start>`` shows citations from index ``start`` on;
``art:<token>:<n>`` sends the text of citation number ``n`` (1-based).
Encoding the position in the button makes pressing it twice harmless.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.format import Page

_MORE = re.compile(r"more:([A-Za-z0-9_-]{1,16}):(\d{1,3})")
_ARTICLE = re.compile(r"art:([A-Za-z0-9_-]{1,16}):(\d{1,3})")
_ARTICLE_BUTTONS_PER_ROW = 3


@dataclass(frozen=True, slots=True)
class MoreResults:
    token: str
    start: int


@dataclass(frozen=True, slots=True)
class FullArticle:
    token: str
    number: int


ButtonRequest = MoreResults | FullArticle


def parse_callback(data: str | None) -> ButtonRequest | None:
    """Decode a button's data; ``None`` for anything we did not issue."""
    if not data:
        return None
    if match := _MORE.fullmatch(data):
        return MoreResults(match.group(1), int(match.group(2)))
    if match := _ARTICLE.fullmatch(data):
        return FullArticle(match.group(1), int(match.group(2)))
    return None


def answer_keyboard(token: str, page: Page, *,
                    full_article: bool = True) -> InlineKeyboardMarkup | None:
    """ "More results" (when citations remain) and "Full article N" for each one shown
    (unless the chat turned those off: ``full_article=False``)."""
    rows: list[list[InlineKeyboardButton]] = []
    if page.has_more:
        rows.append(
            [InlineKeyboardButton("More results", callback_data=f"more:{token}:{page.end}")]
        )
    row: list[InlineKeyboardButton] = []
    for number in range(page.start + 1, page.end + 1) if full_article else ():
        row.append(
            InlineKeyboardButton(f"Full article {number}", callback_data=f"art:{token}:{number}")
        )
        if len(row) == _ARTICLE_BUTTONS_PER_ROW:
            rows.append(row)
            row = []
    if row:
        rows.append(row)
    return InlineKeyboardMarkup(rows) if rows else None

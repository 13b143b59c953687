"""Sending rendered pages back to Telegram, and the "typing…" indicator.

Replies go through ``Message.reply_text`` so that, in forum supergroups, they stay in the
topic the question came from (``bot.send_message(chat_id)`` would land in "General").
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from telegram import LinkPreviewOptions, Message
from telegram.constants import ChatAction, ParseMode
from telegram.error import TelegramError

from bot.format import Page
from bot.keyboards import answer_keyboard

logger = logging.getLogger(__name__)

NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
TYPING_REFRESH_SECONDS = 4.5  # Telegram shows an action for about 5 s


async def send_page(
    message: Message, page: Page, token: str | None, *, quote: bool = True,
    full_article: bool = True,
) -> list[Message]:
    """Send each part of ``page``; the first quotes ``message``, the last carries buttons
    ("Full article" ones only with ``full_article``)."""
    markup = answer_keyboard(token, page, full_article=full_article) if token else None
    sent: list[Message] = []
    last = len(page.messages) - 1
    for position, text in enumerate(page.messages):
        sent.append(
            await message.reply_text(
                text,
                parse_mode=ParseMode.HTML,
                link_preview_options=NO_PREVIEW,
                do_quote=quote and position == 0,
                reply_markup=markup if position == last else None,
            )
        )
    return sent


async def reply_plain(message: Message, text: str, *, quote: bool = True) -> Message:
    """A short bot-authored reply (no user or article text in it, or already plain)."""
    return await message.reply_text(text, link_preview_options=NO_PREVIEW, do_quote=quote)


@contextlib.asynccontextmanager
async def typing(message: Message) -> AsyncIterator[None]:
    """Show "typing…" in the chat (and topic) until the block finishes.

    The first action is sent before the work starts, so it reliably precedes the answer;
    it is refreshed while the work lasts longer than Telegram shows it.
    """
    await _send_typing(message)
    task = asyncio.create_task(_keep_typing(message))
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _keep_typing(message: Message) -> None:
    while True:
        await asyncio.sleep(TYPING_REFRESH_SECONDS)
        await _send_typing(message)


async def _send_typing(message: Message) -> None:
    try:
        await message.reply_chat_action(ChatAction.TYPING)
    except TelegramError as exc:  # cosmetic: never fail a question over it
        logger.debug("chat action failed: %s", exc)

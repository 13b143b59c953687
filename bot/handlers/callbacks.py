"""Inline buttons under answers: "More results" and "Full article N".

Buttons refer to answers kept on disk for ``NEWSBOT_ANSWER_KEEP_HOURS`` (``bot.answers``),
so they keep working after a restart; once an answer has expired, or for data we never
issued, the user is told the result has expired. Every callback query is answered, or the client keeps showing a spinner.
"""

from __future__ import annotations

import logging

from telegram import CallbackQuery, Message, Update
from telegram.ext import ContextTypes

from bot.chatprefs import FULL_ARTICLE_OFF, shows_full_article
from bot.format import render_answer, render_article
from bot.handlers.limits import within_limit
from bot.keyboards import FullArticle, MoreResults, parse_callback
from bot.replies import NO_PREVIEW, send_page
from bot.state import get_state
from index.models import StoredArticle

logger = logging.getLogger(__name__)

EXPIRED = "This result has expired — ask again."
MAX_ARTICLE_PARTS = 5  # beyond this, send the link rather than flood the chat


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    if query is None:
        return
    if not await within_limit(update, context):  # a page or an article: a costly reply
        return
    request = parse_callback(query.data)
    state = get_state(context)
    answer = state.answers.get(request.token) if request else None
    message = _message_of(query)
    if request is None or answer is None or message is None:
        await query.answer(EXPIRED)
        return
    if isinstance(request, MoreResults):
        if not 0 < request.start < len(answer.citations):
            await query.answer("No more results for this question.")
            return
        await query.answer()
        page = render_answer(
            answer, start=request.start, count=state.settings.citations_per_message
        )
        sent = await send_page(message, page, request.token, quote=False,
                               full_article=shows_full_article(state, message.chat_id))
        state.answers.shown_in(request.token, message.chat_id, [m.message_id for m in sent])
        return
    assert isinstance(request, FullArticle)
    if not 1 <= request.number <= len(answer.citations):
        await query.answer(EXPIRED)
        return
    if not shows_full_article(state, message.chat_id):  # turned off after it was sent
        await query.answer(FULL_ARTICLE_OFF)
        return
    await query.answer()
    await _send_article(message, answer.citations[request.number - 1].article)


def _message_of(query: CallbackQuery) -> Message | None:
    """The message the button was under, if the bot can still reply to it."""
    message = query.message
    return message if isinstance(message, Message) else None


async def _send_article(message: Message, article: StoredArticle) -> None:
    """The article's text in plain-text parts, or its link when no text is stored."""
    if not article.body.strip():
        text = f"Read it at {article.url}" if article.url else "Its text is not stored."
        await message.reply_text(text, link_preview_options=NO_PREVIEW, do_quote=False)
        return
    parts = render_article(article)
    for part in parts[:MAX_ARTICLE_PARTS]:
        await message.reply_text(part, link_preview_options=NO_PREVIEW, do_quote=False)
    if len(parts) > MAX_ARTICLE_PARTS:
        rest = f"The rest is at {article.url}" if article.url else "(The article continues.)"
        await message.reply_text(rest, link_preview_options=NO_PREVIEW, do_quote=False)

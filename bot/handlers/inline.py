"""Inline mode: ``@botname question`` in any chat offers the answer's cited snippets.

Each cited story is one ``InlineQueryResultArticle``: its headline as the title, its
quote as the description, and, when picked, the message a normal answer would show for
that citation (the question, the quoted sentences in bold and plain, the linked headline,
outlet and date). Questions draw from the per-user limit like any other; an empty query
gets a hint, a refused or failed one no results and a short line on the button above
them — never an error text.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import math

from telegram import (
    InlineQueryResultArticle,
    InlineQueryResultsButton,
    InputTextMessageContent,
    Update,
)
from telegram.constants import ParseMode
from telegram.ext import ContextTypes

from bot.format import render_answer, truncate
from bot.replies import NO_PREVIEW
from bot.state import get_state
from index.models import Answer, Citation

logger = logging.getLogger(__name__)

MAX_RESULTS = 5
CACHE_SECONDS = 60  # Telegram may reuse the results for the same query this long
HINT = "Type a question about the news"
START_PARAMETER = "inline"  # the button opens a private chat with /start inline
FAILED = "Something went wrong — try again"


async def inline_query(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.inline_query
    if query is None:
        return
    question = " ".join(query.query.split())
    if not question:
        await query.answer([], cache_time=CACHE_SECONDS, button=_button(HINT))
        return
    state = get_state(context)
    verdict = state.limiter.check(query.from_user.id)
    if not verdict.allowed:
        wait = max(1, math.ceil(verdict.retry_after))
        await query.answer([], cache_time=0, is_personal=True,
                           button=_button(f"Too many questions — wait {wait} s"))
        return
    try:
        answer = await asyncio.to_thread(state.index.answer, question)
    except Exception:  # noqa: BLE001 - logged; the user sees no internals
        logger.exception("inline query %r failed", question[:100])
        await query.answer([], cache_time=0, is_personal=True, button=_button(FAILED))
        return
    results = inline_results(answer)
    if not results:
        await query.answer([], cache_time=CACHE_SECONDS,
                           button=_button("No news found on that — try other words"))
        return
    await query.answer(results, cache_time=CACHE_SECONDS)


def inline_results(answer: Answer) -> list[InlineQueryResultArticle]:
    """One result per cited story, best first (at most ``MAX_RESULTS``)."""
    if not answer.found:
        return []
    results = []
    for number, citation in enumerate(answer.citations[:MAX_RESULTS], 1):
        single = dataclasses.replace(answer, citations=(citation,), notes=())
        text = render_answer(single, count=1).messages[0]
        results.append(InlineQueryResultArticle(
            id=str(number),
            title=truncate(citation.headline.strip() or "(untitled)", 100),
            description=truncate(_quote_text(citation), 200),
            input_message_content=InputTextMessageContent(
                text, parse_mode=ParseMode.HTML, link_preview_options=NO_PREVIEW),
        ))
    return results


def _quote_text(citation: Citation) -> str:
    quotes = sorted(citation.quotes, key=lambda q: q.start)
    return " … ".join(" ".join(q.text.split()) for q in quotes if q.text.strip())


def _button(text: str) -> InlineQueryResultsButton:
    return InlineQueryResultsButton(text=text, start_parameter=START_PARAMETER)

"""Questions: any text in a private chat; in groups only what is addressed to the bot.

With privacy mode on, a group bot sees commands addressed to it, replies to its own
messages and mentions; even when it sees more (privacy off, or the bot is an admin) it must
not answer every message, so group text is answered only when it replies to the bot or
mentions it, and ``/ask`` works everywhere.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time

from telegram import Message, MessageEntity, Update
from telegram.constants import ChatType
from telegram.ext import ContextTypes

from bot.answers import Place
from bot.chatprefs import shows_full_article
from bot.format import render_answer
from bot.handlers.limits import within_limit
from bot.replies import reply_plain, send_page, typing
from bot.state import BotState, get_state
from index.followup import next_turn
from index.models import Turn

logger = logging.getLogger(__name__)

USAGE = "Ask me about the news, e.g. /ask Who met the finance minister in March 2017?"


async def ask_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """``/ask …`` (or ``/ask@botname …``): the rest of the message is the question."""
    message = update.effective_message
    if message is None or not message.text:
        return
    parts = message.text.split(maxsplit=1)
    question = parts[1] if len(parts) > 1 else ""
    if not question.strip():
        await reply_plain(message, USAGE)
        return
    await answer_question(update, context, question)


async def private_question(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """In a private chat, any text message is a question."""
    message = update.effective_message
    if message is None or not message.text:
        return
    await answer_question(update, context, message.text)


async def group_question(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """In a group: answer a reply to one of our messages or a message mentioning us."""
    message = update.effective_message
    if message is None or not message.text:
        return
    bot = context.bot
    replied = message.reply_to_message
    is_reply_to_bot = bool(replied and replied.from_user and replied.from_user.id == bot.id)
    mentions = _mentions_of_bot(message, bot.username, bot.id)
    if not (is_reply_to_bot or mentions):
        return  # chatter between people
    await answer_question(update, context, message.text)


def _mentions_of_bot(message: Message, username: str | None, bot_id: int) -> bool:
    entities = message.parse_entities([MessageEntity.MENTION, MessageEntity.TEXT_MENTION])
    for entity, text in entities.items():
        if entity.type == MessageEntity.TEXT_MENTION and entity.user and entity.user.id == bot_id:
            return True
        if username and text.lower() == f"@{username.lower()}":
            return True
    return False


def _without_mentions_of(username: str | None, text: str) -> str:
    """Drop mentions of the bot: '@botname what is K-IV?' asks 'what is K-IV?'."""
    if not username:
        return text
    return re.sub(rf"(?<!\w)@{re.escape(username)}\b", " ", text, flags=re.IGNORECASE)


async def answer_question(
    update: Update, context: ContextTypes.DEFAULT_TYPE, question: str
) -> None:
    """Rate-limit, search off the event loop, reply with the first page and its buttons.

    The question is read with the conversation's earlier turn when it may follow up on one
    (``earlier_turn``); whether it does is the index's call (``index.followup``)."""
    message = update.effective_message
    if message is None:
        return
    question = _without_mentions_of(context.bot.username, question).strip()
    if not question:
        await reply_plain(message, USAGE)
        return
    state = get_state(context)
    if not await within_limit(update, context):
        return
    asked_at = message.date.date() if message.date else None
    place = place_of(message)
    earlier = earlier_turn(message, state, context.bot.id)
    async with typing(message):
        started = time.perf_counter()
        answer = await asyncio.to_thread(
            state.index.answer, question, asked_at=asked_at, context=earlier
        )
        state.metrics.record_answer(time.perf_counter() - started)
    found = answer.found and bool(answer.citations)
    turn = next_turn(answer, asked_at) if found else None
    token = state.answers.put(answer, place, turn)
    page = render_answer(answer, count=state.settings.citations_per_message)
    sent = await send_page(message, page, token if found else None,
                           full_article=shows_full_article(state, message.chat_id))
    state.answers.shown_in(token, message.chat_id, [m.message_id for m in sent])


def place_of(message: Message) -> Place:
    """The chat, and the forum topic when the message is in one (a reply in an ordinary
    group carries a thread id too, which names no topic)."""
    thread = message.message_thread_id if message.is_topic_message else None
    return Place(message.chat_id, thread or 0)


def earlier_turn(message: Message, state: BotState, bot_id: int) -> Turn | None:
    """The turn this message may follow up on: the answer it replies to (while kept), or in
    a private chat the last answer given there within ``follow_up_minutes``."""
    replied = message.reply_to_message
    if replied and replied.from_user and replied.from_user.id == bot_id:
        return state.answers.turn_shown_in(message.chat_id, replied.message_id)
    minutes = state.settings.follow_up_minutes
    if message.chat.type == ChatType.PRIVATE and minutes > 0:
        return state.answers.latest_turn(place_of(message), minutes * 60)
    return None

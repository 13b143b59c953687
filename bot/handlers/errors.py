"""The one error handler: a short apology to the user, a short report to the bot admins.

Chats never see a traceback or an exception message (they can carry internals, paths or,
for network errors, URLs that contain the token). Admins get the exception type and the
first line of its message, with the token masked; the full traceback goes to the log,
masked too. Errors without an update (polling hiccups) are only logged.
"""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import Forbidden, TelegramError
from telegram.ext import ContextTypes

from bot.redact import describe, format_traceback
from bot.state import get_state

logger = logging.getLogger(__name__)

APOLOGY = "Sorry, something went wrong on my side. Please try again in a moment."


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    error = context.error
    if error is None:
        return
    state = get_state(context)
    token = state.settings.telegram_token
    secrets = [token.get_secret_value()] if token else []
    logger.error("error while handling an update:\n%s", format_traceback(error, secrets))
    if not isinstance(update, Update):
        return  # e.g. a failed getUpdates: nobody to apologise to, nothing to report
    if isinstance(error, Forbidden):
        return  # the bot was blocked or removed from the chat: stop talking there
    await _apologise(update)
    await _report(context, update, describe(error, secrets))


async def _apologise(update: Update) -> None:
    """A toast for a button press (a message if the query was already answered), else a
    reply to the message that caused the error."""
    query = update.callback_query
    if query is not None:
        try:
            await query.answer(APOLOGY)
            return
        except TelegramError as exc:  # already answered before the error happened
            logger.info("could not answer the callback query: %s", exc)
    try:
        if update.effective_message is not None:
            await update.effective_message.reply_text(APOLOGY)
    except TelegramError as exc:  # chat gone, network down…
        logger.info("could not send the apology: %s", exc)


async def _report(context: ContextTypes.DEFAULT_TYPE, update: Update, summary: str) -> None:
    state = get_state(context)
    where = []
    if update.effective_chat is not None:
        where.append(f"chat {update.effective_chat.id}")
    if update.effective_user is not None:
        where.append(f"user {update.effective_user.id}")
    text = f"⚠️ newsbot error: {summary}" + (f" ({', '.join(where)})" if where else "")
    for admin_id in sorted(state.admin_ids):
        try:
            await context.bot.send_message(admin_id, text)
        except TelegramError as exc:  # e.g. the admin never started a chat with the bot
            logger.info("could not report the error to admin %s: %s", admin_id, exc)

"""The per-user limit on everything that costs a search or a Telegram API call.

Questions, ``/latest <topic>`` (a search), ``/sources``, the answer buttons and
``/subscribe``/``/unsubscribe`` (a ``getChatMember`` call in groups, refused or not) all
draw from one budget per user (``NEWSBOT_USER_RATE_LIMIT`` per
``NEWSBOT_USER_RATE_WINDOW`` seconds), so one user cannot starve everyone's questions by
switching commands. The first refusal in a streak gets one reply; later ones are silent
(a button press is always answered, or the client keeps spinning).
"""

from __future__ import annotations

import math

from telegram import Update
from telegram.ext import ContextTypes

from bot.replies import reply_plain
from bot.state import get_state


def too_fast(seconds: float) -> str:
    return (f"You're asking faster than I can read — please wait "
            f"{max(1, math.ceil(seconds))} s and ask again.")


async def within_limit(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """True when the sender may make one more costly request now; otherwise the sender is
    told (once per streak) and False. Posts on behalf of a channel have no user: only its
    admins can post there, so they are not limited."""
    user = update.effective_user
    if user is None:
        return True
    verdict = get_state(context).limiter.check(user.id)
    if verdict.allowed:
        return True
    query = update.callback_query
    text = too_fast(verdict.retry_after) if verdict.notify else None
    if query is not None:
        await query.answer(text)
    elif text is not None and update.effective_message is not None:
        await reply_plain(update.effective_message, text)
    return False

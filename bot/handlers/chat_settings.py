"""``/settings``: a chat's switches as an inline keyboard (``index.alerts.chatsettings``).

Who may switch: a private chat's user; in a group, its admins (``getChatMember`` on every
command and every press, as for ``/subscribe``; anonymous admins by their command) and
the bot's admins; in a channel, whoever posts the command there (only its admins can)
and, on the buttons, its admins. Everyone else may look and is told who can change them.
Every command and press draws from the per-user limit first, since each may cost a
``getChatMember`` call.
"""

from __future__ import annotations

import logging
import re

from telegram import Chat, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import BadRequest, TelegramError
from telegram.ext import ContextTypes

from bot.handlers.limits import within_limit
from bot.handlers.subscriptions import may_change_group
from bot.replies import reply_plain
from bot.state import get_state
from index.alerts.chatsettings import SETTING_NAMES, ChatSettings

logger = logging.getLogger(__name__)

CALLBACK_PATTERN = r"^cset:[a-z_]{1,20}$"
_DATA = re.compile(CALLBACK_PATTERN)
LABELS = {
    "digest": "Alert digests (a burst as one message)",
    "silent": "Silent alerts (no notification sound)",
    "previews": "Link previews under alerts",
    "full_article": "“Full article” buttons under answers",
    "forum_topic": "Alerts in the forum topic of /subscribe",
}
ADMINS_ONLY = "Only this chat's admins can change its settings."
NOT_AVAILABLE = "Settings are not available on this bot."
_ADMIN_STATUSES = (ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR)


def settings_text(settings: ChatSettings) -> str:
    lines = ["Settings of this chat (tap a button to switch it):"]
    for name in SETTING_NAMES:
        lines.append(f"{'✅' if getattr(settings, name) else '❌'} {LABELS[name]}")
    return "\n".join(lines)


def settings_keyboard(settings: ChatSettings) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([
        [InlineKeyboardButton(f"{'✅' if getattr(settings, name) else '❌'} {LABELS[name]}",
                              callback_data=f"cset:{name}")]
        for name in SETTING_NAMES])


async def show_settings(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message, chat = update.effective_message, update.effective_chat
    state = get_state(context)
    if message is None or chat is None:
        return
    if state.alerts is None:
        await reply_plain(message, NOT_AVAILABLE)
        return
    if not await within_limit(update, context):
        return
    if chat.type in (ChatType.GROUP, ChatType.SUPERGROUP) and \
            not await may_change_group(update, context, state, chat):
        user = update.effective_user
        logger.warning("refused /settings in chat %s from user %s (not an admin)", chat.id,
                       user.id if user else "?")
        await reply_plain(message, ADMINS_ONLY)
        return
    current = state.alerts.chat_settings.get(chat.id)
    await message.reply_text(settings_text(current), reply_markup=settings_keyboard(current))


async def on_settings_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    if query is None:
        return
    if not await within_limit(update, context):  # answers the query itself
        return
    state = get_state(context)
    match = _DATA.fullmatch(query.data or "")
    name = (query.data or "").removeprefix("cset:")
    message = query.message
    if match is None or name not in SETTING_NAMES or message is None or state.alerts is None:
        await query.answer("This button is no longer valid — send /settings again.")
        return
    chat = message.chat
    if not await _may_press(context, chat, query.from_user.id):
        logger.warning("refused a settings button in chat %s from user %s", chat.id,
                       query.from_user.id)
        await query.answer(ADMINS_ONLY)
        return
    changed = state.alerts.chat_settings.toggle(chat.id, name, by=query.from_user.id)
    logger.info("chat %s: %s %s (by %s)", chat.id, name,
                "on" if getattr(changed, name) else "off", query.from_user.id)
    await query.answer(f"{LABELS[name]}: {'on' if getattr(changed, name) else 'off'}")
    try:
        await query.edit_message_text(settings_text(changed),
                                      reply_markup=settings_keyboard(changed))
    except BadRequest as exc:  # e.g. two quick presses: the message already shows this
        logger.info("could not update the settings message: %s", exc)


async def _may_press(context: ContextTypes.DEFAULT_TYPE, chat: Chat, user_id: int) -> bool:
    """A button press comes from a user (the message's sender is the bot, or the channel
    itself): the chat's own user, a bot admin, or one of the chat's admins."""
    if chat.type == ChatType.PRIVATE:
        return user_id == chat.id
    if user_id in get_state(context).admin_ids:
        return True
    try:
        member = await context.bot.get_chat_member(chat.id, user_id)
    except TelegramError as exc:
        logger.warning("getChatMember(%s, %s) failed: %s", chat.id, user_id, exc)
        return False
    return member.status in _ADMIN_STATUSES

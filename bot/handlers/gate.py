"""The allowlist at the door (``NEWSBOT_ALLOWED_CHATS``, ``bot.allowlist``).

``gate`` runs before every other handler (handler group -1). An update from a chat the
bot does not serve stops there: a message addressed to the bot (anything in a private
chat; a command, a mention or a reply to the bot in a group; a command posted in a
channel) gets one polite line now and then, a button press a short notice (or the client
spins), an inline query no results; group chatter gets nothing at all.

``on_my_chat_member``: when the bot is added to a group or channel it does not serve, it
says so once (with the chat id an operator would list) and leaves.
"""

from __future__ import annotations

import logging

from telegram import Message, MessageEntity, Update
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop, ContextTypes

from bot.allowlist import NOT_ALLOWED, ChatAllowlist
from bot.replies import reply_plain
from bot.state import get_state

logger = logging.getLogger(__name__)

_PRESENT = (ChatMemberStatus.MEMBER, ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER,
            ChatMemberStatus.RESTRICTED)
_ABSENT = (ChatMemberStatus.LEFT, ChatMemberStatus.BANNED)


def leaving_text(chat_id: int) -> str:
    return (f"This bot does not serve this chat, so it is leaving. (Its operator can add "
            f"{chat_id} to NEWSBOT_ALLOWED_CHATS.)")


async def gate(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Let served chats through; answer the others once in a while, then stop."""
    allowlist = get_state(context).allowlist
    if not allowlist.active or update.my_chat_member is not None:
        return
    inline = update.inline_query
    if inline is not None:
        if allowlist.allows_user(inline.from_user.id):
            return
        await inline.answer([], cache_time=0, is_personal=True)
        raise ApplicationHandlerStop
    chat = update.effective_chat
    if chat is None or allowlist.allows_chat(chat.id):
        return
    query = update.callback_query
    if query is not None:
        await query.answer(NOT_ALLOWED)
    elif _addressed(update, context) and allowlist.should_notify(chat.id):
        message = update.effective_message
        assert message is not None
        logger.info("chat %s is not in NEWSBOT_ALLOWED_CHATS: refused", chat.id)
        await reply_plain(message, NOT_ALLOWED)
    raise ApplicationHandlerStop


async def on_my_chat_member(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Added to a group or channel the bot does not serve: say so and leave."""
    change = update.my_chat_member
    allowlist: ChatAllowlist = get_state(context).allowlist
    if change is None or change.chat.type == ChatType.PRIVATE:
        return
    added = (change.old_chat_member.status in _ABSENT
             and change.new_chat_member.status in _PRESENT)
    chat = change.chat
    if not added or allowlist.allows_chat(chat.id):
        return
    logger.warning("added to chat %s (%s), which is not in NEWSBOT_ALLOWED_CHATS: leaving",
                   chat.id, chat.title)
    try:
        await context.bot.send_message(chat.id, leaving_text(chat.id))
    except TelegramError as exc:  # e.g. a channel where it may not post
        logger.info("could not say goodbye in %s: %s", chat.id, exc)
    try:
        await context.bot.leave_chat(chat.id)
    except TelegramError as exc:
        logger.warning("could not leave chat %s: %s", chat.id, exc)


def _addressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """Would the bot answer this message if it served the chat?"""
    message = update.message or update.channel_post
    if message is None:
        return False  # edits and the like are never answered
    if message.chat.type == ChatType.PRIVATE:
        return True
    if _is_command(message):
        return True
    if message.chat.type == ChatType.CHANNEL:
        return False
    replied = message.reply_to_message
    if replied is not None and replied.from_user is not None \
            and replied.from_user.id == context.bot.id:
        return True
    username = (context.bot.username or "").lower()
    mentions = message.parse_entities([MessageEntity.MENTION, MessageEntity.TEXT_MENTION])
    return any((e.type == MessageEntity.TEXT_MENTION and e.user and e.user.id == context.bot.id)
               or (username and text.lower() == f"@{username}")
               for e, text in mentions.items())


def _is_command(message: Message) -> bool:
    entities = message.entities or ()
    return any(e.type == MessageEntity.BOT_COMMAND and e.offset == 0 for e in entities)

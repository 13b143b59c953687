"""``/start``, ``/help``, ``/latest [topic]``, ``/sources`` and ``/whoami``: what the bot is
and knows, and the numeric ids an operator needs for its settings."""

from __future__ import annotations

import asyncio

from telegram import Chat, Update, User
from telegram.constants import ChatType, ParseMode
from telegram.ext import ContextTypes

from bot.alerts.format import public_feed_lines
from bot.format import escape, pack_lines, render_latest, render_sources
from bot.handlers.limits import within_limit
from bot.replies import NO_PREVIEW
from bot.state import get_state

LATEST_COUNT = 5

HELP_PRIVATE = (
    "Ask me anything about the news and I'll answer with quotes from the articles, "
    "each with its source.\n\n"
    "Just type a question here, e.g. “Who led the Alibaba delegation that met Ishaq Dar?”\n\n"
    "/latest [topic] — the newest articles, optionally on a topic\n"
    "/sources — which outlets are indexed\n"
    "/subscribe <topic> — news alerts on a topic; /subscriptions, /unsubscribe <n>\n"
    "/settings — alert digests, silent alerts, link previews, full articles\n"
    "/whoami — your numeric user id and this chat's id\n"
    "/help — this message"
)
HELP_GROUP = (
    "Ask me about the news with /ask <question>, by mentioning me, or by replying to one "
    "of my messages. I answer with quotes from the articles and their sources.\n\n"
    "/latest [topic] — the newest articles\n/sources — which outlets are indexed\n"
    "/subscribe <topic> — news alerts here (group admins); /subscriptions — the topics\n"
    "/settings — this group's alert and answer settings (group admins)"
)


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await help_command(update, context)


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    chat = update.effective_chat
    if message is None:
        return
    private = chat is not None and chat.type == ChatType.PRIVATE
    text = HELP_PRIVATE if private else HELP_GROUP
    user = update.effective_user
    if private and user is not None and user.id in get_state(context).admin_ids:
        text += ("\n\nAdmin: /reindex — rebuild the index; /stats — index and bot statistics; "
                 "/feeds, /addfeed URL, /rmfeed N — the polled feeds")
    await message.reply_text(text, link_preview_options=NO_PREVIEW)


async def latest(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    if message is None:
        return
    topic = " ".join(context.args or []).strip() or None
    if topic is not None and not await within_limit(update, context):  # a search
        return
    state = get_state(context)
    articles = await asyncio.to_thread(state.index.latest, topic, limit=LATEST_COUNT)
    for text in render_latest(articles, topic):
        await message.reply_text(text, parse_mode=ParseMode.HTML, link_preview_options=NO_PREVIEW)


async def sources(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    if message is None or not await within_limit(update, context):
        return
    state = get_state(context)
    stats = await asyncio.to_thread(state.index.sources)
    texts = render_sources(stats)
    statuses = state.alerts.poller.statuses() if state.alerts else []
    if statuses:  # the feeds by host only: URLs and errors are for /stats
        lines = public_feed_lines(statuses)
        texts += pack_lines([f"<b>Feeds ({len(lines)})</b>", *(escape(ln) for ln in lines)])
    for text in texts:
        await message.reply_text(text, parse_mode=ParseMode.HTML, link_preview_options=NO_PREVIEW)


async def unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A command we do not know, in a private chat: point at /help instead of silence."""
    message = update.effective_message
    if message is not None:
        await message.reply_text("I don't know that command. Try /help, or just ask a question.")


async def whoami(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The sender's numeric user id and the chat's id and type.

    Bot admins are configured by numeric id (``NEWSBOT_ADMIN_IDS``), which Telegram's apps
    do not show; a channel's or private group's id is what ``/subscribe <id> topic`` takes.
    An anonymous group admin posts as the group, so Telegram hides their own id.
    """
    message = update.effective_message
    chat = update.effective_chat
    if message is None or chat is None:
        return
    await message.reply_text(whoami_text(chat, update.effective_user, message.sender_chat))


def whoami_text(chat: Chat, user: User | None, sender_chat: Chat | None) -> str:
    lines = []
    if sender_chat is not None and chat.type != ChatType.CHANNEL:
        lines.append(f"You are posting as {sender_chat.effective_name or 'this chat'}, so "
                     "Telegram hides your user id: send /whoami to me in a private chat.")
    elif user is not None and chat.type != ChatType.CHANNEL:
        lines.append(f"Your user id: {user.id}")
    lines.append(f"This chat: {chat.id} ({chat.type})")
    if user is not None and sender_chat is None and chat.type != ChatType.CHANNEL:
        lines.append(f"To make yourself a bot admin: NEWSBOT_ADMIN_IDS={user.id}")
    return "\n".join(lines)

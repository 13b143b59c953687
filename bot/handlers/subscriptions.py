"""``/subscribe``, ``/unsubscribe`` and ``/subscriptions``: topic alerts for a chat.

Who may change a chat's subscriptions:

* a private chat: its user (for that chat);
* a group or supergroup: its admins — checked with ``getChatMember`` on every call, as
  admin lists change — anonymous admins (who post as the group itself, ``sender_chat`` is
  the group), and the bot's admins;
* a channel: whoever posts the command in the channel (only its admins can post there;
  the update is a ``channel_post``), or a bot admin from a private chat naming the channel
  (``/subscribe @channel topic`` or its numeric id, resolved with ``getChat``).

Anyone in a chat may list its subscriptions. Refusals change nothing and are logged.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass

from telegram import Chat, Message, Update
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot.handlers.limits import within_limit
from bot.replies import reply_plain
from bot.state import BotState, get_state
from index.alerts import Alerts, Subscription, SubscriptionError, TopicError

logger = logging.getLogger(__name__)

SUBSCRIBE_USAGE = (
    "Get news alerts on a topic in this chat: /subscribe Pakistan e-commerce\n"
    'Put a phrase in quotes to require it: /subscribe "State Bank" interest rate\n'
    "Put a minus before a word to exclude it: /subscribe oil prices -cricket"
)
UNSUBSCRIBE_USAGE = "Stop a subscription by its number or topic: /unsubscribe 2"
ADMINS_ONLY = "Only this group's admins can change its subscriptions."
NOT_ALERTS = "Alerts are not available on this bot."
_CHAT_REF = re.compile(r"^(@[A-Za-z][A-Za-z0-9_]{3,31}|-\d{5,})$")
_ADMIN_STATUSES = (ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR)


@dataclass(frozen=True, slots=True)
class Target:
    """The chat a command acts on, and the rest of the command's text."""

    chat_id: int
    title: str | None
    rest: str
    elsewhere: bool  # named from a private chat rather than the chat itself

    @property
    def where(self) -> str:
        return f"{self.title or self.chat_id}" if self.elsewhere else "this chat"


async def subscribe(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    resolved = await _resolve(update, context, change=True,
                              usage=lambda services, target: SUBSCRIBE_USAGE)
    if resolved is None:
        return
    message, services, target = resolved
    user = update.effective_user
    try:
        subscription, resumed = services.subscriptions.add(
            target.chat_id, target.rest, chat_title=target.title,
            created_by=user.id if user else None,
            thread_id=message.message_thread_id if message.is_topic_message and
            not target.elsewhere else None)
    except (SubscriptionError, TopicError) as exc:
        await reply_plain(message, _sentence(str(exc)))
        return
    logger.info("chat %s subscribed to %r (by %s)", target.chat_id, subscription.topic_text,
                user.id if user else "the channel")
    await reply_plain(message, _subscribed_text(subscription, target, resumed))


async def unsubscribe(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    resolved = await _resolve(update, context, change=True, usage=_unsubscribe_usage)
    if resolved is None:
        return
    message, services, target = resolved
    try:
        removed = services.subscriptions.remove(target.chat_id, target.rest)
    except SubscriptionError as exc:
        await reply_plain(message, str(exc))
        return
    logger.info("chat %s unsubscribed from %r", target.chat_id, removed.topic_text)
    await reply_plain(message, f"Unsubscribed {target.where} from “{removed.topic_text}”.")


async def list_subscriptions(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    resolved = await _resolve(update, context, change=False)
    if resolved is None:
        return
    message, services, target = resolved
    await reply_plain(message, _listing(services.subscriptions.for_chat(target.chat_id), target))


def _unsubscribe_usage(services: Alerts, target: Target) -> str:
    listing = _listing(services.subscriptions.for_chat(target.chat_id), target)
    return f"{UNSUBSCRIBE_USAGE}\n\n{listing}"


# -- whose chat, and may they change it --------------------------------------------------------
async def _resolve(
    update: Update, context: ContextTypes.DEFAULT_TYPE, *, change: bool,
    usage: Callable[[Alerts, Target], str] | None = None,
) -> tuple[Message, Alerts, Target] | None:
    """The message, the alert services and the chat the command is about — or None when
    the command has already been answered (alerts off, no rights, bad chat name, or —
    with ``usage`` — no topic given: then the usage text is the answer)."""
    message, state, services = _context(update, context)
    if message is None:
        return None
    if services is None:
        await reply_plain(message, NOT_ALERTS)
        return None
    if change and not await within_limit(update, context):  # getChatMember, even refused
        return None
    target = await _target(update, context, state, change=change)
    if target is None:
        return None
    if usage is not None and not target.rest.strip():
        await reply_plain(message, usage(services, target))
        return None
    return message, services, target


def _context(
    update: Update, context: ContextTypes.DEFAULT_TYPE
) -> tuple[Message | None, BotState, Alerts | None]:
    state = get_state(context)
    return update.effective_message, state, state.alerts


async def _target(update: Update, context: ContextTypes.DEFAULT_TYPE, state: BotState,
                  *, change: bool) -> Target | None:
    """The chat the command is about, or None after telling the sender why not."""
    message, chat, user = update.effective_message, update.effective_chat, update.effective_user
    if message is None or chat is None:
        return None
    rest = _arguments(message)
    if chat.type == ChatType.CHANNEL:
        return Target(chat.id, chat.title, rest, elsewhere=False)  # only admins post here
    if chat.type == ChatType.PRIVATE:
        first, _, after = rest.strip().partition(" ")
        if not _CHAT_REF.match(first):
            return Target(chat.id, None, rest, elsewhere=False)
        if user is None or user.id not in state.admin_ids:
            logger.warning("refused /%s for %s from user %s (not a bot admin)",
                           _command(message), first, user.id if user else "?")
            await reply_plain(message, "Only the bot's admins can manage another chat from "
                                       "here; a channel's admins can post the command in the "
                                       "channel itself.")
            return None
        return await _named_chat(context, message, first, after)
    if change and not await may_change_group(update, context, state, chat):
        logger.warning("refused /%s in chat %s from user %s (not an admin)",
                       _command(message), chat.id, user.id if user else "?")
        await reply_plain(message, ADMINS_ONLY)
        return None
    return Target(chat.id, chat.title, rest, elsewhere=False)


async def _named_chat(context: ContextTypes.DEFAULT_TYPE, message: Message, ref: str,
                      rest: str) -> Target | None:
    """Resolve ``@channel`` or ``-100…`` with ``getChat``."""
    try:
        chat = await context.bot.get_chat(int(ref) if ref.lstrip("-").isdigit() else ref)
    except TelegramError as exc:
        await reply_plain(message, f"I can't find the chat {ref} ({exc}). Add me to it as an "
                                   "admin first.")
        return None
    if chat.type not in (ChatType.CHANNEL, ChatType.GROUP, ChatType.SUPERGROUP):
        await reply_plain(message, f"{ref} is not a channel or group.")
        return None
    title = chat.title or (f"@{chat.username}" if chat.username else str(chat.id))
    return Target(chat.id, title, rest, elsewhere=True)


async def may_change_group(update: Update, context: ContextTypes.DEFAULT_TYPE,
                            state: BotState, chat: Chat) -> bool:
    message, user = update.effective_message, update.effective_user
    if message is not None and message.sender_chat is not None:
        # Anonymous admins post as the group itself; a linked channel's posts do not count.
        return message.sender_chat.id == chat.id
    if user is None:
        return False
    if user.id in state.admin_ids:
        return True
    try:
        member = await context.bot.get_chat_member(chat.id, user.id)
    except TelegramError as exc:
        logger.warning("getChatMember(%s, %s) failed: %s", chat.id, user.id, exc)
        return False
    return member.status in _ADMIN_STATUSES


# -- text ----------------------------------------------------------------------------------------
def _arguments(message: Message) -> str:
    """What follows ``/command`` or ``/command@bot``, spacing and quotes kept."""
    parts = (message.text or "").split(maxsplit=1)
    return parts[1].strip() if len(parts) > 1 else ""


def _command(message: Message) -> str:
    first = (message.text or "/?").split(maxsplit=1)[0]
    return first.lstrip("/").split("@", 1)[0]


def _subscribed_text(subscription: Subscription, target: Target, resumed: int) -> str:
    topic = subscription.topic
    lines = [f"Subscribed {target.where} to “{topic.text}”. New articles on it will be "
             "posted here as they arrive (news published from today on)."
             if not target.elsewhere else
             f"Subscribed {target.where} to “{topic.text}”. New articles on it will be "
             "posted there as they arrive."]
    if topic.phrases:
        lines.append("Only articles containing " + " and ".join(f"“{p}”" for p in topic.phrases)
                     + " match.")
    if topic.excluded:
        lines.append("Articles containing " + " or ".join(f"“{w}”" for w in topic.excluded)
                     + " never match.")
    if resumed:
        lines.append(f"{resumed} paused subscription(s) of this chat are active again.")
    return "\n".join(lines)


def _listing(subscriptions: list[Subscription], target: Target) -> str:
    if not subscriptions:
        return (f"{target.where[0].upper()}{target.where[1:]} has no subscriptions. "
                "/subscribe <topic> adds one.")
    lines = [f"Subscriptions of {target.where}:"]
    for number, subscription in enumerate(subscriptions, 1):
        paused = "" if subscription.active else " (paused: the bot could not post here)"
        excluded = subscription.topic.excluded
        without = f" — excluding {', '.join(excluded)}" if excluded else ""
        lines.append(f"{number}. {subscription.topic_text}{without}{paused}")
    return "\n".join(lines)


def _sentence(text: str) -> str:
    text = text.strip()
    return text[:1].upper() + text[1:] + ("" if text.endswith((".", "!", "?")) else ".")

"""Composition root of the Telegram bot: build the ``Application`` and run it.

``build_application`` wires settings, the index and the handlers together and returns a
ready ``Application`` (tests drive it against a fake Bot API server); ``run_bot`` serves it
by long polling, or by webhook when ``settings.webhook_url`` is set.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeAlias
from urllib.parse import urlparse

from telegram import BotCommand, BotCommandScopeChat, BotCommandScopeDefault, Update
from telegram.constants import MessageEntityType
from telegram.error import InvalidToken, TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    InlineQueryHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.alerts.jobs import AlertJobs, AlertTimings
from bot.allowlist import ChatAllowlist
from bot.answers import AnswerStore
from bot.handlers import (
    admin,
    callbacks,
    chat_settings,
    errors,
    feeds,
    gate,
    info,
    inline,
    questions,
    subscriptions,
)
from bot.metrics import Metrics
from bot.ratelimit import UserRateLimiter
from bot.redact import install_log_redaction
from bot.retention import RETENTION_FIRST_RUN, schedule_retention
from bot.settings import ConfigurationError, Settings
from bot.state import STATE_KEY, BotState, get_state
from bot.updates import SkippingUpdatesRequest
from index.alerts import Alerts
from index.api import Index

logger = logging.getLogger(__name__)

# The builder's default type parameters (ExtBot, CallbackContext, dict data, JobQueue).
BotApplication: TypeAlias = Application[Any, Any, Any, Any, Any, Any]

ALLOWED_UPDATES = [Update.MESSAGE, Update.CHANNEL_POST, Update.CALLBACK_QUERY,
                   Update.INLINE_QUERY, Update.MY_CHAT_MEMBER]
RETRIES_ON_FLOOD = 3  # RetryAfter is honoured (sleep retry_after, then resend) this often
# Seconds a Bot API call may take (python-telegram-bot's default is 5). A reply that times
# out is lost to its reader, and the clock runs in our event loop: on a busy small machine
# (two cores answering hundreds of queued questions) a prompt reply can be read late.
SEND_TIMEOUT = 30.0

PUBLIC_COMMANDS = [
    BotCommand("ask", "Ask a question about the news"),
    BotCommand("latest", "Newest articles, optionally on a topic"),
    BotCommand("sources", "Which outlets are indexed"),
    BotCommand("subscribe", "Alerts on a topic in this chat"),
    BotCommand("unsubscribe", "Stop alerts on a topic"),
    BotCommand("subscriptions", "This chat's alert topics"),
    BotCommand("settings", "This chat's alert and answer settings"),
    BotCommand("whoami", "Your numeric user id and this chat's id"),
    BotCommand("help", "How to use this bot"),
]
ADMIN_COMMANDS = [
    BotCommand("reindex", "Rebuild the index from all sources"),
    BotCommand("stats", "Index and bot statistics"),
    BotCommand("feeds", "The polled feeds and their state"),
    BotCommand("addfeed", "Add an RSS or Atom feed"),
    BotCommand("rmfeed", "Stop polling a feed"),
]


TOKEN_REJECTED = (
    "Telegram rejected the token: copy it again from @BotFather "
    "(if NEWSBOT_TELEGRAM_API_URL is set, check it too: a wrong server answers the same way)")


def file_url_for(api_url: str) -> str:
    """``…/bot`` → ``…/file/bot``, the Bot API's convention for downloads."""
    base = api_url.rstrip("/")
    if base.endswith("/bot"):
        return base[: -len("/bot")] + "/file/bot"
    return base + "/file/bot"


def build_application(
    settings: Settings,
    index: Index,
    *,
    sources: Sequence[str] = (),
    progress_interval: float = 3.0,
    alert_timings: AlertTimings | None = None,
    retention_first_run: float = RETENTION_FIRST_RUN,
) -> BotApplication:
    """The bot, ready to ``initialize``/``start``; nothing is contacted yet.

    ``/reindex`` rebuilds from ``settings.sources`` plus ``sources`` (the index also
    remembers what it ingested before, and carries every stored article over). Feeds are
    not re-fetched by a rebuild: the poller keeps their articles current, and a feed's
    teaser would replace the full text the poller fetched from the article page.
    ``progress_interval`` is the least time between two edits of the rebuild status.
    ``alert_timings`` overrides the feed and outbox intervals (tests use short ones), and
    ``retention_first_run`` the delay of the first prune (with NEWSBOT_RETENTION_DAYS set).
    """
    if settings.telegram_token is None:
        raise ConfigurationError("NEWSBOT_TELEGRAM_TOKEN is not set")
    token = settings.telegram_token.get_secret_value()
    application = (
        Application.builder()
        .token(token)
        .base_url(settings.telegram_api_url)
        .base_file_url(file_url_for(settings.telegram_api_url))
        .concurrent_updates(True)
        .read_timeout(SEND_TIMEOUT)
        .write_timeout(SEND_TIMEOUT)
        .pool_timeout(SEND_TIMEOUT)
        .rate_limiter(AIORateLimiter(max_retries=RETRIES_ON_FLOOD))
        .get_updates_request(SkippingUpdatesRequest(connection_pool_size=1))
        .post_init(_post_init)
        .post_shutdown(_post_shutdown)
        .build()
    )
    timings = alert_timings or AlertTimings()
    alerts = Alerts.open(settings, index, feed_interval=timings.feed_interval,
                         feed_max_backoff=timings.feed_max_backoff)
    all_sources = tuple(dict.fromkeys([*settings.sources, *sources]))
    application.bot_data[STATE_KEY] = BotState(
        settings=settings,
        index=index,
        sources=all_sources,
        answers=AnswerStore.open(Path(settings.data_dir),
                                 keep=settings.answer_keep_hours * 3600),
        limiter=UserRateLimiter(settings.user_rate_limit, settings.user_rate_window),
        metrics=Metrics(),
        progress_interval=progress_interval,
        alerts=alerts,
        alert_jobs=AlertJobs.open(settings, alerts, timings),
        retention_first_run=retention_first_run,
        allowlist=ChatAllowlist(settings.allowed_chats, settings.admin_ids),
    )
    _add_handlers(application)
    # httpx logs every request URL, token included, at INFO; APScheduler every job run.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    return application


def _add_handlers(application: BotApplication) -> None:
    new = filters.UpdateType.MESSAGE  # edited messages and channel posts are not questions
    text = new & filters.TEXT
    for name, callback in (
        ("start", info.start),
        ("help", info.help_command),
        ("latest", info.latest),
        ("sources", info.sources),
        ("ask", questions.ask_command),
        ("reindex", admin.reindex),
        ("stats", admin.stats),
    ):
        application.add_handler(CommandHandler(name, callback, filters=new))
    # Subscriptions (and /whoami) also work in channels, where commands arrive as posts.
    new_or_post = new | filters.UpdateType.CHANNEL_POST
    for name, callback in (
        ("subscribe", subscriptions.subscribe),
        ("unsubscribe", subscriptions.unsubscribe),
        ("subscriptions", subscriptions.list_subscriptions),
        ("whoami", info.whoami),  # a channel's id is what /subscribe <id> takes
    ):
        application.add_handler(CommandHandler(name, callback, filters=new_or_post))
    _add_chat_control_handlers(application, new)
    application.add_handler(
        MessageHandler(
            text & filters.ChatType.PRIVATE & ~filters.COMMAND, questions.private_question
        )
    )
    addressed = (
        filters.REPLY
        | filters.Entity(MessageEntityType.MENTION)
        | filters.Entity(MessageEntityType.TEXT_MENTION)
    )
    application.add_handler(
        MessageHandler(
            text & filters.ChatType.GROUPS & ~filters.COMMAND & addressed,
            questions.group_question,
        )
    )
    application.add_handler(
        MessageHandler(new & filters.ChatType.PRIVATE & filters.COMMAND, info.unknown_command)
    )
    application.add_handler(CallbackQueryHandler(callbacks.on_button))
    application.add_error_handler(errors.on_error)


def _add_chat_control_handlers(application: BotApplication, new: filters.BaseFilter) -> None:
    """Issue 17's handlers, registered before the catch-all ones: the allowlist first of
    all (group -1), leaving chats the bot does not serve, the feed commands, ``/settings``
    and its buttons, and inline mode."""
    application.add_handler(TypeHandler(Update, gate.gate), group=-1)
    application.add_handler(
        ChatMemberHandler(gate.on_my_chat_member, ChatMemberHandler.MY_CHAT_MEMBER))
    for name, callback in (
        ("feeds", feeds.list_feeds),
        ("addfeed", feeds.add_feed),
        ("rmfeed", feeds.remove_feed),
    ):
        application.add_handler(CommandHandler(name, callback, filters=new))
    application.add_handler(CommandHandler(
        "settings", chat_settings.show_settings, filters=new | filters.UpdateType.CHANNEL_POST))
    application.add_handler(CallbackQueryHandler(chat_settings.on_settings_button,
                                                 pattern=chat_settings.CALLBACK_PATTERN))
    application.add_handler(InlineQueryHandler(inline.inline_query))


async def _post_init(application: BotApplication) -> None:
    """Register the command menus and load the model before the first update arrives."""
    state = get_state(application)
    bot = application.bot
    await bot.set_my_commands(PUBLIC_COMMANDS, scope=BotCommandScopeDefault())
    for admin_id in sorted(state.admin_ids):
        try:
            await bot.set_my_commands(
                PUBLIC_COMMANDS + ADMIN_COMMANDS, scope=BotCommandScopeChat(admin_id)
            )
        except TelegramError as exc:  # e.g. the admin has not started a chat with the bot
            logger.warning("could not set the admin command menu for %s: %s", admin_id, exc)
    await asyncio.to_thread(_warm_up, state.index)
    if state.alert_jobs is not None:
        state.alert_jobs.schedule(application)  # feeds and alerts start once the model is ready
    schedule_retention(application, state.index, state.settings.retention_days,
                       first=state.retention_first_run)


async def _post_shutdown(application: BotApplication) -> None:
    """Close the alert state and chat databases once the jobs have stopped."""
    state = get_state(application)
    if state.alerts is not None:
        state.alerts.close()
    state.answers.close()


def _warm_up(index: Index) -> None:
    """Model, newsness weights and one search ready before polling, not on a user's time."""
    try:
        index.warm_up()
        index.search("news", k=1)
    except Exception as exc:  # an empty or broken index must not stop the bot starting
        logger.warning("index warm-up failed: %s", exc)


def _drop_rejected_token_log(record: logging.LogRecord) -> bool:
    """python-telegram-bot logs a rejected token with a traceback before raising it; the
    caller reports it as one line with the fix (``TOKEN_REJECTED``), so that log goes."""
    exc = record.exc_info[1] if record.exc_info else None
    return not isinstance(exc, InvalidToken)


def webhook_options(settings: Settings) -> dict[str, Any]:
    """Arguments for ``run_webhook``/``start_webhook``: listen where settings say, serve the
    webhook URL's path, and always check a secret token (a random one when none is set)."""
    if not settings.webhook_url:
        raise ConfigurationError("NEWSBOT_WEBHOOK_URL is not set")
    secret = (
        settings.webhook_secret.get_secret_value()
        if settings.webhook_secret
        else secrets.token_urlsafe(32)  # Telegram echoes it back; requests without it fail
    )
    return {
        "listen": settings.webhook_listen,
        "port": settings.webhook_port,
        "url_path": urlparse(settings.webhook_url).path.lstrip("/"),
        "webhook_url": settings.webhook_url,
        "secret_token": secret,
        "allowed_updates": ALLOWED_UPDATES,
    }


def run_bot(settings: Settings, index: Index, *, sources: Sequence[str] = ()) -> None:
    """Serve until interrupted: long polling, or a webhook when ``webhook_url`` is set.

    ``sources`` are what ``/reindex`` rebuilds from, besides the configured feeds.
    """
    token = settings.telegram_token.get_secret_value() if settings.telegram_token else ""
    for handler in logging.getLogger().handlers:  # before redaction, which folds exc_info
        handler.addFilter(_drop_rejected_token_log)
    install_log_redaction([token])
    application = build_application(settings, index, sources=sources)
    try:
        if settings.webhook_url:
            application.run_webhook(**webhook_options(settings))
        else:
            application.run_polling(allowed_updates=ALLOWED_UPDATES)
    except InvalidToken:
        # python-telegram-bot's message quotes the token; ``from None`` keeps it out of
        # a --debug traceback as well. A 401 and a 404 (wrong API URL) both end here.
        raise ConfigurationError(TOKEN_REJECTED) from None

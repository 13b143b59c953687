"""``/feeds``, ``/addfeed URL`` and ``/rmfeed N``: the bot admins manage the polled feeds.

The list is ``index.alerts.feedstore``'s: ``NEWSBOT_FEEDS`` first (shown, never removable
here), then the feeds added at run time, numbered. A feed is fetched and parsed before it
is added (through the guarded fetch, so the SSRF guard and ``NEWSBOT_FETCH_ALLOW`` apply),
and the poller fetches it at once after. Only admins see URLs and errors; the public
``/sources`` keeps showing hosts only.
"""

from __future__ import annotations

import asyncio
import logging
import time

from telegram import Message, Update
from telegram.ext import ContextTypes

from bot.alerts.format import feed_host, short_duration
from bot.format import pack_lines, truncate
from bot.handlers.admin import admin_message
from bot.handlers.limits import within_limit
from bot.replies import NO_PREVIEW, reply_plain
from bot.state import BotState, get_state
from index.alerts import Alerts, FeedStatus
from index.alerts.feedprobe import FeedRejected, probe_feed
from index.alerts.feedstore import ENV_NAME, FeedStoreError, ListedFeed

logger = logging.getLogger(__name__)

ADDFEED_USAGE = "Add an RSS or Atom feed: /addfeed https://example.org/rss.xml"
RMFEED_USAGE = "Stop polling a feed by its number in /feeds: /rmfeed 3"
NO_FEEDS = (f"No feeds yet. /addfeed URL adds one (or list them in {ENV_NAME} and "
            "restart).")
NOT_ALERTS = "Feeds are not available on this bot."


async def list_feeds(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    ready = await _admin_alerts(update, context, "feeds")
    if ready is None:
        return
    message, _state, alerts = ready
    listing = alerts.poller.store.listing()
    if not listing:
        await reply_plain(message, NO_FEEDS)
        return
    statuses = {s.url: s for s in alerts.poller.statuses()}
    now = time.time()
    lines = [f"Feeds ({len(listing)}):"]
    for feed in listing:
        lines += feed_entry_lines(feed, statuses.get(feed.url, FeedStatus(feed.url)), now)
    if any(f.configured for f in listing):
        lines.append(f"\n({ENV_NAME}) feeds are set in the bot's configuration; /rmfeed "
                     "removes only the others.")
    for text in pack_lines(lines):
        await message.reply_text(text, link_preview_options=NO_PREVIEW, do_quote=False)


async def add_feed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    ready = await _admin_alerts(update, context, "addfeed")
    if ready is None:
        return
    message, state, alerts = ready
    url = _argument(message)
    if not url:
        await reply_plain(message, ADDFEED_USAGE)
        return
    store = alerts.poller.store
    known = store.find(url)
    if known is not None:
        await reply_plain(message, f"That is already feed {known.number}; /feeds lists them.")
        return
    if not await within_limit(update, context):  # a fetch on the bot's network
        return
    try:
        probe = await asyncio.to_thread(probe_feed, url, state.settings)
        user = update.effective_user
        added = store.add(url, title=probe.title, added_by=user.id if user else None)
    except (FeedRejected, FeedStoreError) as exc:
        logger.info("/addfeed %s refused: %s", url, exc)
        await reply_plain(message, f"Not added: {exc}")
        return
    logger.info("feed %s added as number %d", url, added.number)
    entries = f"{probe.entries} entr{'y' if probe.entries == 1 else 'ies'}"
    await reply_plain(message, f"Added feed {added.number}: “{truncate(probe.title, 200)}” "
                               f"({entries} now). It is polled from now on; /feeds shows "
                               "its state.")
    if state.alert_jobs is not None:
        state.alert_jobs.poll_now(context.application)


async def remove_feed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    ready = await _admin_alerts(update, context, "rmfeed")
    if ready is None:
        return
    message, _state, alerts = ready
    which = _argument(message)
    if not which:
        await reply_plain(message, RMFEED_USAGE)
        return
    try:
        removed = alerts.poller.store.remove(which)
    except FeedStoreError as exc:
        text = str(exc)
        await reply_plain(message, text[:1].upper() + text[1:] + ".")
        return
    logger.info("feed %s removed", removed.url)
    await reply_plain(message, f"Removed feed {removed.number} ({removed.url}). It is no "
                               "longer polled; the articles it brought stay.")


def feed_entry_lines(feed: ListedFeed, status: FeedStatus, now: float) -> list[str]:
    """A feed as the admins' ``/feeds`` shows it: number, host and title, the URL, and
    its last poll, article count and last error."""
    origin = f" ({ENV_NAME})" if feed.configured else ""
    title = f" — {truncate(feed.title, 80)}" if feed.title else ""
    lines = [f"{feed.number}. {feed_host(feed.url)}{title}{origin}",
             f"   {truncate(feed.url, 200)}"]
    if status.last_ok is not None:
        polled = f"last poll {short_duration(round(now - status.last_ok))} ago"
    else:
        polled = "not polled yet"
    mark = "⚠️" if status.failing else ("✅" if status.last_ok is not None else "⏳")
    lines.append(f"   {mark} {polled} · {status.articles} articles")
    if status.last_error:
        when = (f"{short_duration(round(now - status.last_error_at))} ago"
                if status.last_error_at is not None else "earlier")
        detail = f"   last error ({when}): {truncate(status.last_error, 200)}"
        if status.failing:
            wait = max(0, round(status.next_poll_at - now))
            detail += f"; failing {status.error_count}× in a row, next try in " \
                      f"{short_duration(wait)}"
        lines.append(detail)
    return lines


async def _admin_alerts(
    update: Update, context: ContextTypes.DEFAULT_TYPE, command: str
) -> tuple[Message, BotState, Alerts] | None:
    """The message, state and alerts room for a bot admin's command; None once anyone
    else has been refused (or the bot runs without alerts)."""
    state = get_state(context)
    message = await admin_message(update, state, command)
    if message is None:
        return None
    if state.alerts is None:
        await reply_plain(message, NOT_ALERTS)
        return None
    return message, state, state.alerts


def _argument(message: Message) -> str:
    parts = (message.text or "").split(maxsplit=1)
    return parts[1].strip() if len(parts) > 1 else ""

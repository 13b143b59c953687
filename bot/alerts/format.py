"""Alert messages: one story, or a digest of several, as Telegram HTML.

Everything from articles and users (topic, headline, quote, outlet, link) is escaped, every
piece has a length budget, and a message never exceeds 4096 UTF-16 units — Telegram
rejects a whole message over either. The quote is the article's own sentence; when it has
to be shortened it ends in "…" rather than in a changed number or name.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from urllib.parse import urlsplit

from bot.format import (
    HEADLINE_UNITS,
    MESSAGE_LIMIT,
    OUTLET_UNITS,
    URL_UNITS,
    escape,
    escape_attr,
    format_date,
    truncate,
    utf16_len,
)
from index.alerts import Alert, FeedStatus

_TOPIC_UNITS = 200
_DIGEST_QUOTE_UNITS = 300
BELL = "🔔"


def render_alert(alert: Alert, limit: int = MESSAGE_LIMIT) -> str:
    """Topic, linked headline, the quoted sentence, outlet and date."""
    head = f"{BELL} <b>{escape(truncate(alert.topic, _TOPIC_UNITS))}</b>\n{_headline(alert)}"
    foot = _meta(alert)
    room = limit - utf16_len(head) - utf16_len(foot) - len("\n<blockquote></blockquote>\n")
    quote = escape(truncate(" ".join(alert.quote.split()), max(room, 1)))
    return f"{head}\n<blockquote>{quote}</blockquote>\n{foot}"


def render_digest(
    alerts: Sequence[Alert], limit: int = MESSAGE_LIMIT
) -> list[tuple[str, list[int]]]:
    """Several alerts for one chat as few messages as fit: (HTML, alert ids) per message,
    so each message's alerts are marked sent when that message is accepted."""
    topics = list(dict.fromkeys(a.topic for a in alerts))
    about = (f"on “{escape(truncate(topics[0], _TOPIC_UNITS))}”" if len(topics) == 1
             else "on your topics")
    title = f"{BELL} <b>{len(alerts)} new stories {about}</b>"
    messages: list[tuple[str, list[int]]] = []
    current = title
    ids: list[int] = []
    # An entry is under 2,100 units by its budgets, so one always fits in a message.
    for number, alert in enumerate(alerts, 1):
        block = _digest_entry(number, alert, show_topic=len(topics) > 1)
        joined = f"{current}\n\n{block}"
        if ids and utf16_len(joined) > limit:
            messages.append((current, ids))
            current, ids = block, []
        else:
            current = joined
        ids.append(alert.id)
    messages.append((current, ids))
    return messages


def _digest_entry(number: int, alert: Alert, *, show_topic: bool) -> str:
    quote = escape(truncate(" ".join(alert.quote.split()), _DIGEST_QUOTE_UNITS))
    line = f"{number}. {_headline(alert)}\n{_meta(alert)}"
    if show_topic:
        line += f" · <i>{escape(truncate(alert.topic, _TOPIC_UNITS // 2))}</i>"
    return f"{line}\n<blockquote>{quote}</blockquote>"


def _headline(alert: Alert) -> str:
    headline = escape(truncate(alert.headline.strip() or "(untitled)", HEADLINE_UNITS))
    url = alert.url
    if url and utf16_len(escape_attr(url)) <= URL_UNITS:
        return f'<a href="{escape_attr(url)}">{headline}</a>'
    return headline


def _meta(alert: Alert) -> str:
    parts = [escape(truncate(alert.source.strip() or "unknown outlet", OUTLET_UNITS))]
    day = _day(alert.published)
    if day is not None:
        parts.append(format_date(day))
    return " · ".join(parts)


def _day(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value[:10]) if value else None
    except ValueError:
        return None


def feed_lines(statuses: Sequence[FeedStatus], now: float) -> list[str]:
    """One plain-text line per feed for the admins' ``/stats``: healthy, or failing with
    its last error and when it is tried again."""
    lines = []
    for feed in statuses:
        url = truncate(feed.url, 120)
        if feed.failing:
            wait = max(0, round(feed.next_poll_at - now))
            error = truncate(feed.last_error or "unknown error", 200)
            lines.append(f"⚠️ {url} — failing ({feed.error_count}× in a row): {error}; "
                         f"next try in {short_duration(wait)}")
        elif feed.last_ok is not None:
            ago = short_duration(round(now - feed.last_ok))
            lines.append(f"✅ {url} — ok, polled {ago} ago, "
                         f"{feed.articles} articles")
        else:
            lines.append(f"⏳ {url} — not polled yet")
    return lines


def public_feed_lines(statuses: Sequence[FeedStatus]) -> list[str]:
    """One line per feed for the public ``/sources``: its host and whether it works —
    never the full URL (credentials, API keys, paths) or the raw error (internal host
    names); those are for the admins' ``/stats``."""
    lines = []
    for feed in statuses:
        host = feed_host(feed.url)
        if feed.failing:
            lines.append(f"⚠️ {host} — not reachable at the moment")
        elif feed.last_ok is not None:
            lines.append(f"✅ {host} — ok, {feed.articles} articles")
        else:
            lines.append(f"⏳ {host} — not polled yet")
    return lines


def feed_host(url: str) -> str:
    """The host name of a feed URL, without user, password, port, path or query."""
    try:
        host = urlsplit(url).hostname
    except ValueError:
        host = None
    return truncate(host or "unknown host", 80)


def short_duration(seconds: int) -> str:
    """``42 s``, ``7 min``, ``3 h``: how long ago, or how long until, at a glance."""
    if seconds < 90:
        return f"{seconds} s"
    if seconds < 5400:
        return f"{round(seconds / 60)} min"
    return f"{round(seconds / 3600)} h"

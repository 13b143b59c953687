"""RSS and Atom feeds, from a file or from bytes already fetched.

feedparser is given bytes, never a string: handed a string it may treat it as a URL or
path and go fetching, and the loader must not touch the network behind the caller's back.
Many feeds carry only a teaser; such entries are marked "summary only" so a later stage
can fetch the full page.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from typing import Any

import feedparser

from index.models import Article, LoadItem, LoadProblem
from index.normalize import canonical_url, html_to_text, looks_like_html, normalize_body
from index.pubdates import parse_published

SUMMARY_ONLY_CHARS = 400


def load_feed(data: bytes, origin: str, *, fallback_source: str) -> Iterator[LoadItem]:
    """Yield one article per feed entry; ``origin`` is the file path or feed URL."""
    parsed = feedparser.parse(data)
    entries = parsed.get("entries") or []
    if not entries:
        if parsed.get("bozo"):
            message = str(parsed.get("bozo_exception") or "malformed feed").splitlines()[0]
            yield LoadProblem("failed", origin, f"not a valid feed: {message[:200]}")
        elif not parsed.get("version"):
            yield LoadProblem("failed", origin, "not a feed (no RSS or Atom content found)")
        else:
            yield LoadProblem("skipped", origin, "feed has no entries")
        return
    feed_title = _plain(parsed.get("feed", {}).get("title_detail"), parsed.get("feed", {}))
    source = feed_title or fallback_source
    for n, entry in enumerate(entries, start=1):
        yield _entry_article(entry, n, origin, source)


def _entry_article(entry: Any, n: int, origin: str, source: str) -> Article:
    link = (entry.get("link") or "").strip() or None
    if canonical_url(link) is None:
        link = None  # feedparser copies an Atom "urn:" id into link; that is no URL
    ext_id = (entry.get("id") or "").strip() or link or f"{origin}#{n}"
    body = _longest_body(entry)
    short = len(body) < SUMMARY_ONLY_CHARS
    tags = entry.get("tags") or []
    category = next(
        ((tag.get("term") or tag.get("label") or "").strip() for tag in tags
         if (tag.get("term") or tag.get("label") or "").strip()),
        None,
    )
    return Article(
        id=ext_id,
        title=_plain(entry.get("title_detail"), entry),
        published_at=_entry_date(entry),
        source=source,
        url=link,
        category=category,
        body=body,
        origin=link or f"{origin}#{n}",
        key=canonical_url(link) or f"feed:{ext_id}",
        note="summary only" if short and link else None,
    )


def _longest_body(entry: Any) -> str:
    """The longest text among the entry's content blocks and its summary."""
    candidates = [block.get("value") or "" for block in entry.get("content") or []]
    candidates.append(entry.get("summary") or "")
    texts = [normalize_body(value) for value in candidates if value]
    return max(texts, key=len, default="")


def _plain(detail: Any, holder: Any) -> str:
    """A title as plain text (feed titles may be typed HTML)."""
    value = (holder.get("title") or "") if holder else ""
    if detail and "html" in (detail.get("type") or "") and looks_like_html(value):
        value = html_to_text(value)
    return value.strip()


def _entry_date(entry: Any) -> dt.date | dt.datetime | None:
    for field in ("published", "updated", "created"):
        value = parse_published(entry.get(field))
        if value is not None:
            return value
    for field in ("published_parsed", "updated_parsed"):
        parsed = entry.get(field)
        if isinstance(parsed, time.struct_time):  # feedparser's own parse, in UTC
            return dt.datetime(*parsed[:6])
    return None

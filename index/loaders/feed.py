"""RSS and Atom feeds, from a file or from bytes already fetched.

feedparser is given bytes, never a string: handed a string it may treat it as a URL or
path and go fetching, and the loader must not touch the network behind the caller's back.
Many feeds carry only a teaser; such entries are marked "summary only" so a later stage
can fetch the full page.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Iterator
from typing import Any

import feedparser

from index.models import Article, LoadItem, LoadProblem
from index.normalize import canonical_url, html_to_text, looks_like_html, normalize_body
from index.pubdates import parse_published

SUMMARY_ONLY_CHARS = 400
# A numeric character reference, decimal or hex ("&#55357;", "&#xD83D;").
_CHAR_REF = re.compile(rb"&#(?:[xX]([0-9a-fA-F]{1,8})|([0-9]{1,10}));")
_HIGH = range(0xD800, 0xDC00)
_LOW = range(0xDC00, 0xE000)


def clean_feed_bytes(data: bytes) -> bytes:
    """Feed bytes with every character reference to a UTF-16 surrogate made harmless.

    Feeds written by UTF-16 software escape an emoji as two references ("&#55357;&#56832;");
    feedparser decodes each to a lone surrogate and then fails on the whole feed, on every
    poll. A high+low pair becomes the one character it stands for; a lone half becomes
    U+FFFD. Everything else is left byte for byte."""
    if b"&#" not in data:
        return data
    out: list[bytes] = []
    last = 0
    pending: tuple[int, int] | None = None  # (start, value) of a high surrogate just seen
    for match in _CHAR_REF.finditer(data):
        value = _ref_value(match)
        if pending is not None:
            start, high = pending
            pending = None
            if value in _LOW and match.start() == _end_of_ref(data, start):
                joined = 0x10000 + ((high - 0xD800) << 10) + (value - 0xDC00)
                out += [data[last:start], b"&#x%X;" % joined]
                last = match.end()
                continue
            out += [data[last:start], b"&#xFFFD;"]
            last = _end_of_ref(data, start)
        if value in _HIGH:
            pending = (match.start(), value)
        elif value in _LOW:
            out += [data[last:match.start()], b"&#xFFFD;"]
            last = match.end()
    if pending is not None:
        start, _ = pending
        out += [data[last:start], b"&#xFFFD;"]
        last = _end_of_ref(data, start)
    out.append(data[last:])
    return b"".join(out)


def _ref_value(match: re.Match[bytes]) -> int:
    hexa, decimal = match.group(1), match.group(2)
    return int(hexa, 16) if hexa is not None else int(decimal)


def _end_of_ref(data: bytes, start: int) -> int:
    return data.index(b";", start) + 1


def load_feed(data: bytes, origin: str, *, fallback_source: str) -> Iterator[LoadItem]:
    """Yield one article per feed entry; ``origin`` is the file path or feed URL."""
    parsed = feedparser.parse(clean_feed_bytes(data))
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


def feed_title(data: bytes) -> str:
    """The feed's own title as plain text ("" when it has none or does not parse)."""
    parsed = feedparser.parse(clean_feed_bytes(data))
    return _plain(parsed.get("feed", {}).get("title_detail"), parsed.get("feed", {}))


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

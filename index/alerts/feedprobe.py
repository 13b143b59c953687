"""Check a feed before following it: fetch it once through the guarded fetch (the SSRF
guard of ``index.netguard``, ``NEWSBOT_FETCH_ALLOW``), parse it, and report its title and
entry count — or say in one line why it is not something the poller could use.

Nothing is stored here: the poller fetches the feed again on its first poll and ingests
its entries through the ordinary pipeline.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from index.alerts.feedstore import check_feed_url
from index.fetch import FetchError, FetchRefused, fetch
from index.loaders import looks_like_feed
from index.loaders.feed import feed_title, load_feed
from index.models import Article, LoadProblem
from index.settings import IndexSettings


class FeedRejected(ValueError):
    """The URL is not a usable feed; the message is one line saying why."""


@dataclass(frozen=True, slots=True)
class FeedProbe:
    url: str  # as given
    final_url: str  # after redirects
    title: str  # the feed's title, or its host when it has none
    entries: int


def probe_feed(url: str, settings: IndexSettings) -> FeedProbe:
    """Fetch and parse ``url``; ``FeedRejected`` when it cannot be fetched or is no feed."""
    url = check_feed_url(url)
    try:
        result = fetch(url, timeout=settings.fetch_timeout, max_bytes=settings.fetch_max_bytes,
                       allow=settings.fetch_allow)
    except FetchRefused as exc:
        raise FeedRejected(f"not fetched: {exc}") from None
    except FetchError as exc:
        raise FeedRejected(f"could not fetch it: {exc}") from None
    if not looks_like_feed(result.content, result.mime_type):
        kind = result.mime_type or "unknown content"
        raise FeedRejected(f"{url} is not an RSS or Atom feed (the server sent {kind})")
    host = (urlsplit(result.url).hostname or url).removeprefix("www.")
    try:
        items = list(load_feed(result.content, result.url, fallback_source=host))
    except Exception as exc:  # noqa: BLE001 - a parser failure is a rejection, not a crash
        raise FeedRejected(f"{url} could not be read as a feed: {type(exc).__name__}") from None
    failed = [i for i in items if isinstance(i, LoadProblem) and i.kind == "failed"]
    if failed:
        raise FeedRejected(f"{url}: {failed[0].reason}")
    entries = sum(1 for i in items if isinstance(i, Article))
    return FeedProbe(url, result.url, feed_title(result.content) or host, entries)

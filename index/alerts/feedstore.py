"""The feeds the poller follows: ``NEWSBOT_FEEDS`` (read-only here) plus the feeds added at
run time (``/addfeed``, ``newsbot feeds add|import``), kept in the state database.

One numbered list serves every front end: the configured feeds first, in configuration
order, then the added ones in the order they were added. A configured feed cannot be
removed here (it would come back at the next start); removing an added one stops its
polling and forgets its poll state, while the articles it brought stay in the index.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from index.alerts.state import StateDatabase

MAX_URL_CHARS = 2000
ENV_NAME = "NEWSBOT_FEEDS"


class FeedStoreError(ValueError):
    """A feed change that cannot be made; the message is one line for the operator."""


@dataclass(frozen=True, slots=True)
class ListedFeed:
    """One feed of the numbered list; ``configured`` feeds come from ``NEWSBOT_FEEDS``."""

    number: int
    url: str
    title: str | None
    configured: bool


@dataclass(frozen=True, slots=True)
class ImportReport:
    added: list[str]
    present: list[str]  # already followed (configured or added before)


def check_feed_url(url: str) -> str:
    """``url`` stripped, or ``FeedStoreError`` when it is no http(s) URL with a host."""
    url = url.strip()
    if not url:
        raise FeedStoreError("no feed URL given")
    if len(url) > MAX_URL_CHARS:
        raise FeedStoreError(f"the URL is longer than {MAX_URL_CHARS} characters")
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        raise FeedStoreError(f"not a URL: {url}") from None
    if parts.scheme.lower() not in ("http", "https") or not host:
        raise FeedStoreError(f"not an http(s) URL: {url}")
    return url


class FeedStore:
    """The numbered feed list over the ``added_feeds`` table and ``configured`` URLs."""

    def __init__(self, db: StateDatabase, configured: Sequence[str],
                 clock: Callable[[], float] = time.time) -> None:
        self._db = db
        self.configured = list(dict.fromkeys(configured))
        self._clock = clock

    def urls(self) -> list[str]:
        """Every feed to poll: configured first, then added (each once)."""
        return [feed.url for feed in self.listing()]

    def listing(self) -> list[ListedFeed]:
        rows = self._db.query("SELECT url, title FROM added_feeds ORDER BY id")
        configured = set(self.configured)
        added = [(url, title) for url, title in rows if url not in configured]
        entries = [(url, None, True) for url in self.configured]
        entries += [(url, title, False) for url, title in added]
        return [ListedFeed(n, url, title, configured)
                for n, (url, title, configured) in enumerate(entries, 1)]

    def find(self, url: str) -> ListedFeed | None:
        return next((f for f in self.listing() if f.url == url.strip()), None)

    def add(self, url: str, *, title: str | None = None,
            added_by: int | None = None) -> ListedFeed:
        """Follow ``url`` from now on; ``FeedStoreError`` if it is followed already."""
        url = check_feed_url(url)
        existing = self.find(url)
        if existing is not None:
            where = f"in {ENV_NAME}" if existing.configured else "added before"
            raise FeedStoreError(f"{url} is already feed {existing.number} ({where})")
        with self._db.transaction() as cur:
            cur.execute("INSERT INTO added_feeds (url, title, added_at, added_by) "
                        "VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING", (url, title, self._clock(), added_by))
            cur.execute("INSERT INTO feeds (url) VALUES (?) ON CONFLICT DO NOTHING", (url,))
        found = self.find(url)
        assert found is not None
        return found

    def import_urls(self, feeds: Sequence[tuple[str, str | None]]) -> ImportReport:
        """Add each (url, title) not followed yet, in one transaction: importing the same
        list twice adds nothing the second time."""
        known = set(self.urls())
        added: list[str] = []
        present: list[str] = []
        with self._db.transaction() as cur:
            for raw, title in feeds:
                url = check_feed_url(raw)
                if url in known:
                    present.append(url)
                    continue
                cur.execute("INSERT INTO added_feeds (url, title, added_at, added_by) "
                            "VALUES (?, ?, ?, NULL)", (url, title, self._clock()))
                cur.execute("INSERT INTO feeds (url) VALUES (?) ON CONFLICT DO NOTHING",
                            (url,))
                known.add(url)
                added.append(url)
        return ImportReport(added, present)

    def remove(self, which: str) -> ListedFeed:
        """Stop following feed number ``which`` (as ``listing`` numbers them) or the feed
        with that URL; its poll state goes, its articles stay in the index."""
        listing = self.listing()
        which = which.strip()
        if which.isdigit():
            number = int(which)
            if not 1 <= number <= len(listing):
                raise FeedStoreError(f"there is no feed number {number} (there are "
                                     f"{len(listing)})")
            target = listing[number - 1]
        else:
            found = next((f for f in listing if f.url == which), None)
            if found is None:
                raise FeedStoreError(f"no feed has the URL {which}")
            target = found
        if target.configured:
            raise FeedStoreError(
                f"feed {target.number} is set in {ENV_NAME}: remove it there and restart")
        with self._db.transaction() as cur:
            cur.execute("DELETE FROM added_feeds WHERE url = ?", (target.url,))
            cur.execute("DELETE FROM feeds WHERE url = ?", (target.url,))
        return target

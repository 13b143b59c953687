"""Polling RSS/Atom feeds on a schedule, with per-feed state in the state database.

The feeds are ``NEWSBOT_FEEDS`` plus those added at run time (``index.alerts.feedstore``),
read afresh at every poll: an added feed is polled from the next tick, a removed one no
longer.

Each poll is a conditional GET (the ETag and Last-Modified of the last good response), so
an unchanged feed costs one 304 and nothing is parsed or ingested. New entries go through
the same ingest pipeline as everything else (dedup included). A feed whose entries carry
only a teaser gets each article page fetched and its main text extracted; when that fails
the summary is indexed and the article's note says so.

Feeds are fetched in parallel threads and each is ingested as soon as its fetch finishes,
so a slow or dead feed never delays the others. A failing feed backs off exponentially
(``interval × 2^failures``, capped) and returns to the normal interval after one good poll;
its last error is kept for ``/stats`` and ``/sources``. The feed's validators are saved
only after its articles are stored: a crash in between means the next poll fetches the
feed again rather than skipping its new entries.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlsplit

from index.alerts.feedstore import FeedStore
from index.alerts.state import StateDatabase
from index.api import Index
from index.fetch import FetchError, FetchRefused, FetchResult, fetch
from index.loaders import load_guarded, looks_like_feed
from index.loaders.feed import load_feed
from index.loaders.webpage import load_webpage
from index.models import Article, LoadItem, LoadProblem
from index.settings import IndexSettings

log = logging.getLogger(__name__)

SUMMARY_ONLY = "summary only"
PAGE_FAILED = "summary only: page fetch failed"
MAX_PAGES_PER_POLL = 30  # article pages fetched for one feed in one poll
MAX_WORKERS = 8
DUE_SLACK = 0.25  # a feed due within this share of an interval is polled now, not next tick
POLL_LOCK = "feed-poll"  # StateDatabase.exclusive: one polling process at a time

_COLUMNS = ("url, etag, last_modified, last_ok, last_error, last_error_at, error_count, "
            "next_poll_at, articles")


@dataclass(frozen=True, slots=True)
class FeedStatus:
    """One configured feed as ``/stats`` and ``/sources`` show it."""

    url: str
    etag: str | None = None
    last_modified: str | None = None
    last_ok: float | None = None  # unix seconds of the last good poll
    last_error: str | None = None
    last_error_at: float | None = None
    error_count: int = 0  # consecutive failures (0 = healthy)
    next_poll_at: float = 0.0
    articles: int = 0  # new or updated articles it brought in

    @property
    def failing(self) -> bool:
        return self.error_count > 0


@dataclass(slots=True)
class FeedPollResult:
    url: str
    outcome: Literal["new", "unchanged", "not_modified", "failed"]
    articles: int = 0
    error: str | None = None


@dataclass(slots=True)
class _Fetched:
    """A feed's network half: the response and its entries, ready to ingest."""

    feed: FeedStatus
    started: float
    result: FetchResult | None = None
    items: list[LoadItem] = field(default_factory=list)
    error: str | None = None


class FeedState:
    """Rows of the ``feeds`` table."""

    def __init__(self, db: StateDatabase) -> None:
        self._db = db

    def sync(self, urls: Sequence[str]) -> None:
        with self._db.transaction() as cur:
            cur.executemany("INSERT INTO feeds (url) VALUES (?) ON CONFLICT DO NOTHING", [(u,) for u in urls])

    def statuses(self, urls: Sequence[str]) -> list[FeedStatus]:
        """The configured feeds, in configuration order (unknown ones as never polled)."""
        rows = {r[0]: FeedStatus(*r) for r in self._db.query(f"SELECT {_COLUMNS} FROM feeds")}
        return [rows.get(url, FeedStatus(url)) for url in urls]

    def record_ok(self, feed: FeedStatus, result: FetchResult | None, articles: int,
                  now: float, next_at: float) -> None:
        etag = (result.etag if result and result.etag else None) or feed.etag
        modified = (result.last_modified if result and result.last_modified else None) \
            or feed.last_modified
        self._db.execute(
            "UPDATE feeds SET etag = ?, last_modified = ?, last_ok = ?, error_count = 0, "
            "next_poll_at = ?, articles = articles + ? WHERE url = ?",
            (etag, modified, now, next_at, articles, feed.url))

    def record_error(self, feed: FeedStatus, error: str, now: float, next_at: float) -> None:
        self._db.execute(
            "UPDATE feeds SET last_error = ?, last_error_at = ?, error_count = error_count + 1, "
            "next_poll_at = ? WHERE url = ?", (error[:500], now, next_at, feed.url))


class FeedPoller:
    def __init__(
        self,
        index: Index,
        db: StateDatabase,
        settings: IndexSettings,
        *,
        interval: float | None = None,
        max_backoff: float | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.index = index
        self.settings = settings
        self.store = FeedStore(db, settings.feeds)
        self.interval = float(interval if interval is not None else settings.feed_interval)
        self.max_backoff = max(self.interval, float(
            max_backoff if max_backoff is not None else settings.feed_max_backoff))
        self.state = FeedState(db)
        self._db = db
        self._clock = clock
        self._polling = threading.Lock()  # one poll at a time here (the timer, a poll-now)
        self.state.sync(self.store.configured)

    @property
    def urls(self) -> list[str]:
        """The feeds polled now: ``NEWSBOT_FEEDS`` and those added at run time."""
        return self.store.urls()

    def statuses(self) -> list[FeedStatus]:
        return self.state.statuses(self.urls)

    def backoff(self, failures: int) -> float:
        """Seconds until the next try after ``failures`` consecutive failures."""
        return min(self.interval * 2 ** max(0, failures), self.max_backoff)

    def poll_due(self, on_ingested: Callable[[], object] | None = None) -> list[FeedPollResult]:
        """Poll every feed that is due; ``on_ingested`` runs after each feed that brought
        new articles (e.g. to match alerts at once rather than after the slowest feed).

        On a shared state database (PostgreSQL) one process polls at a time: a round
        another process is running is skipped here (``[]``), and the feeds it polled are
        not due any more at the next tick."""
        with self._polling, self._db.exclusive(POLL_LOCK) as ours:
            if not ours:
                log.info("another process is polling the feeds; this round is skipped")
                return []
            return self._poll_due(on_ingested)

    def _poll_due(self, on_ingested: Callable[[], object] | None) -> list[FeedPollResult]:
        now = self._clock()
        due = [f for f in self.statuses()
               if f.next_poll_at <= now + DUE_SLACK * self.interval]
        if not due:
            return []
        results = []
        with ThreadPoolExecutor(max_workers=min(MAX_WORKERS, len(due)),
                                thread_name_prefix="feed") as pool:
            futures: list[Future[_Fetched]] = [pool.submit(self._fetch, f) for f in due]
            for future in as_completed(futures):
                result = self._store(future.result())
                results.append(result)
                if result.outcome == "new" and on_ingested is not None:
                    on_ingested()
        return results

    # -- the network half (worker threads) ---------------------------------------------------
    def _fetch(self, feed: FeedStatus) -> _Fetched:
        fetched = _Fetched(feed, self._clock())
        s = self.settings
        try:
            result = fetch(feed.url, timeout=s.fetch_timeout, max_bytes=s.fetch_max_bytes,
                           etag=feed.etag, last_modified=feed.last_modified,
                           allow=s.fetch_allow)
        except FetchError as exc:
            fetched.error = str(exc)
            return fetched
        fetched.result = result
        if result.not_modified:
            return fetched
        if not looks_like_feed(result.content, result.mime_type):
            fetched.error = f"{feed.url} is not an RSS or Atom feed"
            return fetched
        # Whatever goes wrong while parsing becomes a problem record, never an exception.
        fetched.items = list(load_guarded(result.url, "", lambda: self._entries(result)))
        if not any(isinstance(i, Article) for i in fetched.items):
            failed = [i for i in fetched.items if isinstance(i, LoadProblem) and i.kind == "failed"]
            if failed:
                fetched.error = failed[0].reason
        return fetched

    def _entries(self, result: FetchResult) -> list[LoadItem]:
        host = (urlsplit(result.url).hostname or result.url).removeprefix("www.")
        return self._with_full_text(
            list(load_feed(result.content, result.url, fallback_source=host)))

    def _with_full_text(self, items: list[LoadItem]) -> list[LoadItem]:
        """Replace teaser-only entries by their article page; skip ones already stored."""
        out: list[LoadItem] = []
        pages = 0
        for item in items:
            if isinstance(item, Article) and item.note == SUMMARY_ONLY:
                if item.key and self.index.has_key(item.key):
                    continue  # stored on an earlier poll: do not fetch its page again
                pages += 1
                if pages > MAX_PAGES_PER_POLL:
                    item.note = f"{SUMMARY_ONLY}: page not fetched (too many in one poll)"
                else:
                    refused = self._fill_from_page(item)
                    if refused is not None:
                        out.append(refused)
            out.append(item)
        return out

    def _fill_from_page(self, entry: Article) -> LoadProblem | None:
        """Replace the teaser by the page's main text; a page refused by the address guard
        (``index.netguard``) comes back as a report line, and the teaser is kept."""
        s = self.settings
        page: Article | None = None
        try:
            assert entry.url is not None
            result = fetch(entry.url, timeout=s.fetch_timeout, max_bytes=s.fetch_max_bytes,
                           allow=s.fetch_allow)
            page = next((i for i in load_webpage(result.content, result.url)
                         if isinstance(i, Article)), None)
        except FetchRefused as exc:
            log.warning("article page %s: %s", entry.url, exc)
            entry.note = f"{SUMMARY_ONLY}: page fetch refused (not a public address)"
            return LoadProblem("skipped", entry.url or entry.origin,
                               f"article page not fetched: {exc}")
        except Exception as exc:  # noqa: BLE001 - any failure means: keep the summary
            log.info("article page %s: %s", entry.url, exc)
        if page is None or len(page.body) <= len(entry.body):
            entry.note = PAGE_FAILED
            return None
        entry.body = page.body
        entry.title = entry.title or page.title
        entry.published_at = entry.published_at or page.published_at
        entry.note = None
        return None

    # -- the storing half (the polling thread, one feed at a time) ---------------------------
    def _store(self, fetched: _Fetched) -> FeedPollResult:
        feed, now = fetched.feed, self._clock()
        if fetched.error is not None:
            failures = feed.error_count + 1
            self.state.record_error(feed, fetched.error, now, now + self.backoff(failures))
            log.warning("feed %s failed (%d in a row): %s", feed.url, failures, fetched.error)
            return FeedPollResult(feed.url, "failed", error=fetched.error)
        next_at = fetched.started + self.interval
        result = fetched.result
        if result is not None and result.not_modified:
            self.state.record_ok(feed, result, 0, now, next_at)
            return FeedPollResult(feed.url, "not_modified")
        try:
            report = self.index.ingest_articles(fetched.items)
        except Exception as exc:  # a storage failure is this feed's failure, not the poll's
            log.exception("ingesting feed %s failed", feed.url)
            message = f"could not store its articles: {type(exc).__name__}: {exc}"
            self.state.record_error(feed, message, now, now + self.backoff(feed.error_count + 1))
            return FeedPollResult(feed.url, "failed", error=message)
        added = report.articles_new + report.articles_updated
        self.state.record_ok(feed, result, added, now, next_at)
        return FeedPollResult(feed.url, "new" if added else "unchanged", added)

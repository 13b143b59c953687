"""The feed poller against a local HTTP server: conditional GET, back-off and recovery,
slow feeds, teaser-only entries, broken feeds. Real index, real SQLite, real HTTP."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from index import Index, IndexSettings
from index.alerts.feeds import PAGE_FAILED, FeedPoller
from index.alerts.statedb import StateDB
from tests.e2e.alerts.feed_server import FeedServer
from tests.e2e.alerts.stories import oil_entries, seed_entry, wheat_entry

pytestmark = pytest.mark.usefixtures("local_fetches")  # servers on 127.0.0.1


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


SLOW = 4.0  # seconds a slow feed takes to answer: far above any timing under test


@pytest.fixture
def server() -> Iterator[FeedServer]:
    feeds = FeedServer().start()
    yield feeds
    feeds.stop()


@pytest.fixture
def db(tmp_path: Path) -> Iterator[StateDB]:
    state = StateDB.open(tmp_path / "data")
    yield state
    state.close()


def _poller(index: Index, db: StateDB, urls: list[str], *, timeout: float = 5,
            **kwargs: object) -> FeedPoller:
    settings = IndexSettings(_env_file=None, data_dir=index.settings.data_dir, feeds=urls,
                             fetch_timeout=timeout)
    return FeedPoller(index, db, settings, **kwargs)  # type: ignore[arg-type]


def test_unchanged_feed_is_a_304_and_nothing_is_ingested(
    index: Index, db: StateDB, server: FeedServer
) -> None:
    server.set_feed("/rss", "The Wire", [wheat_entry()])
    clock = Clock()
    poller = _poller(index, db, [server.url("/rss")], interval=60, clock=clock)
    [first] = poller.poll_due()
    assert (first.outcome, first.articles) == ("new", 1)
    assert poller.poll_due() == []  # not due yet

    clock.now += 60
    [second] = poller.poll_due()
    assert second.outcome == "not_modified"
    last = server.requests("/rss")[-1]
    assert last.status == 304 and last.headers["if-none-match"].startswith('"')
    assert index.stats().articles == 1

    server.set_feed("/rss", "The Wire", [wheat_entry(), seed_entry()])
    clock.now += 60
    [third] = poller.poll_due()
    assert (third.outcome, third.articles) == ("new", 1)  # the wheat story is a duplicate
    assert index.stats().articles == 2
    [status] = poller.statuses()
    assert status.articles == 2 and status.last_ok == clock.now and not status.failing


def test_failing_feed_backs_off_recovers_and_never_delays_the_others(
    index: Index, db: StateDB, server: FeedServer
) -> None:
    server.fail("/bad", 500)
    server.set_feed("/good", "Good", [wheat_entry()])
    clock = Clock()
    start = clock.now
    poller = _poller(index, db, [server.url("/bad"), server.url("/good")], interval=10,
                     max_backoff=40, clock=clock)
    bad_polls = []
    for step in range(12):
        clock.now = start + 10 * step
        if step == 10:
            server.heal("/bad")
            server.set_feed("/bad", "Bad", [seed_entry()])
        outcomes = {r.url: r.outcome for r in poller.poll_due()}
        assert outcomes[server.url("/good")] in ("new", "not_modified")  # every interval
        if server.url("/bad") in outcomes:
            bad_polls.append((10 * step, outcomes[server.url("/bad")]))
        if step == 2:
            bad, _ = poller.statuses()
            assert bad.failing and bad.error_count == 2
            assert bad.last_error == f"HTTP 500 Internal Server Error from {server.url('/bad')}"
    # 2×, 4× (capped at 40 s) the interval after each failure; back to every 10 s once healed.
    assert bad_polls == [(0, "failed"), (20, "failed"), (60, "failed"), (100, "new"),
                         (110, "not_modified")]
    bad, good = poller.statuses()
    assert not bad.failing and bad.articles == 1 and bad.last_error is not None
    assert good.error_count == 0


def test_a_slow_feed_does_not_hold_up_a_fast_one(
    index: Index, db: StateDB, server: FeedServer
) -> None:
    server.set_feed("/slow", "Slow", [wheat_entry()])
    server.delay("/slow", SLOW)
    server.set_feed("/fast", "Fast", oil_entries()[:1])
    poller = _poller(index, db, [server.url("/slow"), server.url("/fast")], interval=60)
    started = time.monotonic()
    ingested: list[float] = []
    results = poller.poll_due(on_ingested=lambda: ingested.append(time.monotonic() - started))
    assert [r.url for r in results] == [server.url("/fast"), server.url("/slow")]
    # the fast feed was stored while the slow one hung (with room for a loaded CI machine)
    assert ingested[0] < SLOW - 0.5 <= ingested[1]


def test_a_feed_slower_than_the_timeout_fails_and_is_retried_later(
    index: Index, db: StateDB, server: FeedServer
) -> None:
    server.set_feed("/hung", "Hung", [wheat_entry()])
    server.delay("/hung", SLOW)
    poller = _poller(index, db, [server.url("/hung")], timeout=0.3, interval=60)
    started = time.monotonic()
    [result] = poller.poll_due()
    assert time.monotonic() - started < SLOW - 1.0  # gave up at the timeout, not the reply
    assert result.error == f"timed out after 0.3 s fetching {server.url('/hung')}"
    [status] = poller.statuses()
    assert status.failing and status.next_poll_at > time.time() + 60


def test_teaser_entries_get_the_article_page_or_say_summary_only(
    index: Index, db: StateDB, server: FeedServer
) -> None:
    seed, wheat = seed_entry(), wheat_entry()
    server.set_page(seed, "The Nation")  # the wheat story's page is missing (404)
    server.set_feed("/teasers", "The Nation", [seed, wheat], summary_chars=160)
    clock = Clock()
    poller = _poller(index, db, [server.url("/teasers")], interval=60, clock=clock)
    [result] = poller.poll_due()
    assert result.articles == 2
    stored = {a.title: a for a in index.generation.store.latest(10)}
    full = stored[seed.title]
    assert full.note is None and "Jack Ma on the sidelines of World Economic Forum" in full.body
    assert full.source == "The Nation" and full.url == server.url(seed.path)
    teaser = stored[wheat.title]
    assert teaser.note == PAGE_FAILED and len(teaser.body) <= 170

    # The feed changes; entries stored before are not fetched again.
    server.set_feed("/teasers", "The Nation", [seed, wheat, *oil_entries()[:1]],
                    summary_chars=160)
    clock.now += 60
    poller.poll_due()
    assert len(server.requests(seed.path)) == 1 and len(server.requests(wheat.path)) == 1


def test_a_broken_feed_is_an_error_not_a_crash(
    index: Index, db: StateDB, server: FeedServer
) -> None:
    server.set_page(seed_entry(), "Not a feed")  # an HTML page where a feed should be
    poller = _poller(index, db, [server.url(seed_entry().path), "http://127.0.0.1:9/rss"],
                     interval=60)
    results = {r.url: r for r in poller.poll_due()}
    assert results[server.url(seed_entry().path)].error == (
        f"{server.url(seed_entry().path)} is not an RSS or Atom feed")
    assert results["http://127.0.0.1:9/rss"].error.startswith("could not connect to 127.0.0.1:9")
    assert all(s.failing for s in poller.statuses())
    assert index.stats().articles == 0

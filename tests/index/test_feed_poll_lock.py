"""One feed poller at a time on a shared state database (``FeedPoller.poll_due`` behind
``StateDatabase.exclusive``): two pollers on one PostgreSQL, as two bot processes would
have, against a local HTTP feed server. Real index, real PostgreSQL, real HTTP."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from index import Index, IndexSettings
from index.alerts.feeds import FeedPoller, FeedPollResult
from index.alerts.pgstate import PgStateDB
from tests.e2e.alerts.feed_server import FeedServer
from tests.e2e.alerts.stories import oil_entries, wheat_entry

pytestmark = pytest.mark.usefixtures("local_fetches")  # servers on 127.0.0.1

SLOW = 3.0  # seconds the feed takes to answer: the window in which both pollers are due


@pytest.fixture
def server() -> Iterator[FeedServer]:
    feeds = FeedServer().start()
    yield feeds
    feeds.stop()


def _poller(index: Index, db: PgStateDB, url: str) -> FeedPoller:
    settings = IndexSettings(_env_file=None, data_dir=index.settings.data_dir, feeds=[url])
    return FeedPoller(index, db, settings, interval=60)


def test_two_pollers_on_one_database_poll_a_feed_once_per_round(
    index: Index, pg_url: str, server: FeedServer
) -> None:
    server.set_feed("/rss", "The Wire", [wheat_entry()])
    server.delay("/rss", SLOW)
    first_db, second_db = PgStateDB(pg_url), PgStateDB(pg_url)  # as two processes
    try:
        first = _poller(index, first_db, server.url("/rss"))
        second = _poller(index, second_db, server.url("/rss"))
        results: list[FeedPollResult] = []
        polling = threading.Thread(target=lambda: results.extend(first.poll_due()))
        polling.start()
        deadline = time.monotonic() + 30
        while not server.requests("/rss") and time.monotonic() < deadline:
            time.sleep(0.05)
        assert server.requests("/rss"), "the first poller never fetched the feed"
        started = time.monotonic()
        assert second.poll_due() == []  # the round is the first one's: skipped, not waited
        assert time.monotonic() - started < SLOW / 2
        polling.join(timeout=60)
        assert [(r.outcome, r.articles) for r in results] == [("new", 1)]
        assert len(server.requests("/rss")) == 1

        # The round is over: the lock is free again, and what was polled is not due.
        assert second.poll_due() == []
        assert len(server.requests("/rss")) == 1
        server.delay("/rss", 0)
        server.set_feed("/rss", "The Wire", [wheat_entry(), *oil_entries()[:1]])
        second_db.execute("UPDATE feeds SET next_poll_at = 0")  # due again
        [again] = second.poll_due()
        assert (again.outcome, again.articles) == ("new", 1)
    finally:
        first_db.close()
        second_db.close()


def test_a_held_lock_is_exclusive_across_connections_and_free_after(pg_url: str) -> None:
    first, second = PgStateDB(pg_url), PgStateDB(pg_url)
    try:
        with first.exclusive("feed-poll") as mine:
            assert mine
            with second.exclusive("feed-poll") as theirs:
                assert not theirs
            with first.exclusive("feed-poll") as again:  # not re-entrant in one process
                assert not again
            with second.exclusive("other") as other:  # another name is another lock
                assert other
        with second.exclusive("feed-poll") as theirs:
            assert theirs
    finally:
        first.close()
        second.close()

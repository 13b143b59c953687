"""The feed list beside NEWSBOT_FEEDS (``index.alerts.feedstore``) and the check before a
feed is added (``index.alerts.feedprobe``): real SQLite state, a real local HTTP server,
the real guarded fetch."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator

import pytest

from index import IndexSettings
from index.alerts.feedprobe import FeedRejected, probe_feed
from index.alerts.feeds import FeedState
from index.alerts.feedstore import FeedStore, FeedStoreError
from index.alerts.state import StateDatabase
from tests.e2e.alerts.feed_server import Entry, FeedServer

ENV = ["https://env.example/rss", "https://env2.example/atom"]


@pytest.fixture
def db(state_db: StateDatabase) -> StateDatabase:
    """The alert state on each backend (tests/conftest.py ``open_state_db``)."""
    return state_db


@pytest.fixture
def server() -> Iterator[FeedServer]:
    feeds = FeedServer().start()
    yield feeds
    feeds.stop()


def test_configured_feeds_come_first_and_cannot_be_removed(db: StateDatabase) -> None:
    store = FeedStore(db, ENV)
    added = store.add("https://added.example/feed", title="Added", added_by=7)
    assert added.number == 3 and not added.configured
    assert store.urls() == [*ENV, "https://added.example/feed"]
    with pytest.raises(FeedStoreError, match="feed 1 is set in NEWSBOT_FEEDS"):
        store.remove("1")
    with pytest.raises(FeedStoreError, match="feed 2 is set in NEWSBOT_FEEDS"):
        store.remove(ENV[1])
    assert store.urls() == [*ENV, "https://added.example/feed"]


def test_add_twice_or_a_configured_url_is_refused(db: StateDatabase) -> None:
    store = FeedStore(db, ENV)
    store.add("https://added.example/feed")
    with pytest.raises(FeedStoreError, match="already feed 3 \\(added before\\)"):
        store.add(" https://added.example/feed ")
    with pytest.raises(FeedStoreError, match="already feed 1 \\(in NEWSBOT_FEEDS\\)"):
        store.add(ENV[0])
    for bad in ("", "ftp://x.example/feed", "not a url", "file:///etc/passwd",
                "https://", "https://x.example/" + "a" * 2001):
        with pytest.raises(FeedStoreError):
            store.add(bad)
    assert len(store.listing()) == 3


def test_remove_by_number_or_url_forgets_poll_state_and_renumbers(db: StateDatabase) -> None:
    store = FeedStore(db, ENV[:1])
    for name in ("a", "b", "c"):
        store.add(f"https://{name}.example/rss")
    state = FeedState(db)
    assert [s.url for s in state.statuses(store.urls())] == store.urls()
    removed = store.remove("2")
    assert removed.url == "https://a.example/rss"
    assert store.remove("https://c.example/rss").number == 3
    assert [(f.number, f.url) for f in store.listing()] == [
        (1, ENV[0]), (2, "https://b.example/rss")]
    assert db.query("SELECT url FROM feeds WHERE url LIKE '%a.example%'") == []
    with pytest.raises(FeedStoreError, match="no feed number 3 \\(there are 2\\)"):
        store.remove("3")
    with pytest.raises(FeedStoreError, match="no feed has the URL"):
        store.remove("https://a.example/rss")


def test_added_feeds_survive_reopening_the_database(open_state_db: Callable) -> None:
    first = open_state_db()
    FeedStore(first, []).add("https://kept.example/rss", title="Kept")
    first.close()
    [feed] = FeedStore(open_state_db(), []).listing()
    assert (feed.number, feed.url, feed.title) == (1, "https://kept.example/rss", "Kept")


def test_import_is_idempotent_and_all_or_nothing(db: StateDatabase) -> None:
    store = FeedStore(db, ENV[:1])
    feeds = [("https://a.example/rss", "A"), (ENV[0], None), ("https://a.example/rss", "A")]
    first = store.import_urls(feeds)
    assert first.added == ["https://a.example/rss"]
    assert first.present == [ENV[0], "https://a.example/rss"]
    second = store.import_urls(feeds)
    assert second.added == [] and len(second.present) == 3
    with pytest.raises(FeedStoreError):
        store.import_urls([("https://b.example/rss", None), ("gopher://x", None)])
    assert store.urls() == [ENV[0], "https://a.example/rss"]  # b was rolled back


def test_probe_reads_title_and_entries(server: FeedServer) -> None:
    when = dt.datetime(2024, 5, 1, 8, 0)
    server.set_feed("/rss", "The Wire", [
        Entry("One", "/one", "First story body.", when),
        Entry("Two", "/two", "Second story body.", when)])
    settings = IndexSettings(_env_file=None, fetch_allow=["127.0.0.1"])
    probe = probe_feed(server.url("/rss"), settings)
    assert (probe.title, probe.entries) == ("The Wire", 2)


def test_probe_refuses_what_is_not_a_feed(server: FeedServer) -> None:
    settings = IndexSettings(_env_file=None, fetch_allow=["127.0.0.1"])
    server.set_raw("/page", b"<!DOCTYPE html><html><body><p>Hello</p></body></html>",
                   "text/html; charset=utf-8")
    with pytest.raises(FeedRejected, match="is not an RSS or Atom feed \\(the server sent "
                                           "text/html\\)"):
        probe_feed(server.url("/page"), settings)
    server.set_raw("/labelled", b"just some text, whatever its label says",
                   "application/rss+xml")
    with pytest.raises(FeedRejected, match="labelled: not a valid feed: .*syntax error"):
        probe_feed(server.url("/labelled"), settings)
    server.fail("/gone", 404)
    with pytest.raises(FeedRejected, match="could not fetch it: HTTP 404"):
        probe_feed(server.url("/gone"), settings)


def test_probe_refused_by_the_ssrf_guard_says_so(server: FeedServer) -> None:
    """Without NEWSBOT_FETCH_ALLOW a loopback feed is never fetched: one clear line."""
    server.set_feed("/rss", "Internal", [])
    settings = IndexSettings(_env_file=None, fetch_allow=[])
    with pytest.raises(FeedRejected) as refused:
        probe_feed(server.url("/rss"), settings)
    assert str(refused.value) == (
        f"not fetched: {server.url('/rss')}: refused: 127.0.0.1 is a loopback address; "
        "list it in NEWSBOT_FETCH_ALLOW to fetch from it")
    assert server.requests("/rss") == []

"""Nothing written during a rebuild is lost at the swap (issue 14, item 1), and a rebuild
reads the stored articles in pages (item 10). Real index (SQLite, FAISS, MiniLM), a real
feed poller against a local HTTP server."""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from pathlib import Path

import pytest

from index import Index, IndexSettings
from index.alerts.feeds import FeedPoller
from index.alerts.statedb import StateDB
from index.models import RebuildProgress
from index.rebuild import CATCH_UP_MODEL_BATCH
from tests.conftest import write_article
from tests.e2e.alerts.feed_server import FeedServer
from tests.e2e.alerts.stories import wheat_entry


def _titles(index: Index) -> set[str]:
    return {a.title for a in index.latest(limit=100)}


def test_an_article_ingested_mid_rebuild_is_in_the_new_generation(
    index: Index, corpus_dir: Path, tmp_path: Path
) -> None:
    index.ingest([str(corpus_dir)])
    late = write_article(tmp_path / "late", "late.txt", title="Cotton exports rise in May",
                         date="2017-06-02", body=(
                             "KARACHI - Cotton yarn exports rose 12 percent in May, the "
                             "textile ministry said, led by orders from China."))
    seen: list[str] = []
    wrote: list[bool] = []
    batches: list[int | None] = []  # model batch of each model call after the write
    encode = index.embedder.encode_by_length

    def recording(texts, lengths, batch_size=None):  # type: ignore[no-untyped-def]
        if wrote:  # the rebuild's catch-up, after the writer below
            batches.append(batch_size)
        return encode(texts, lengths, batch_size=batch_size)

    index.embedder.encode_by_length = recording  # type: ignore[method-assign]

    def during(p: RebuildProgress) -> None:
        # The stored articles are copied; the swap has not happened: a writer now.
        if p.phase == "saving" and not seen:
            seen.append(index.generation.dir.name)
            assert index.ingest([str(late)]).articles_new == 1
            answer = index.answer("cotton yarn exports in May")  # served by the old one
            assert answer.found
            wrote.append(True)

    index.rebuild([], progress=during)
    assert seen and index.generation.dir.name != seen[0]  # swapped
    assert "Cotton exports rise in May" in _titles(index)
    # the catch-up embedded it beside both built indexes, one text per model call
    assert batches and set(batches) == {CATCH_UP_MODEL_BATCH}
    assert index.stats().articles == 6 and index.check() == []
    [hit, *_] = index.search("cotton yarn exports May", k=3)
    assert hit.article.title == "Cotton exports rise in May"


def test_a_feed_poll_during_a_rebuild_is_kept_and_does_not_wait(
    index: Index, corpus_dir: Path, tmp_path: Path
) -> None:
    index.ingest([str(corpus_dir)])
    server = FeedServer().start()
    db = StateDB.open(tmp_path / "state")
    try:
        server.set_feed("/rss", "The Wire", [wheat_entry()])
        settings = IndexSettings(_env_file=None, data_dir=index.settings.data_dir,
                                 feeds=[server.url("/rss")], fetch_allow=["127.0.0.1"])
        poller = FeedPoller(index, db, settings, interval=60)
        polled: list[float] = []

        def during(p: RebuildProgress) -> None:
            if p.phase == "embedding" and not polled:  # the rebuild is mid-way
                worker = threading.Thread(target=lambda: polled.append(_timed(poller)))
                worker.start()
                worker.join(timeout=30)
                assert not worker.is_alive()

        index.rebuild([], progress=during)
        assert polled and polled[0] < 10  # the poll did not wait for the rebuild
        assert wheat_entry().title in _titles(index)
        # The feed's ETag is saved: the next poll is a 304 and the article stays.
        [status] = poller.statuses()
        assert status.etag
        assert index.check() == []
    finally:
        db.close()
        server.stop()


def _timed(poller: FeedPoller) -> float:
    started = time.monotonic()
    [result] = poller.poll_due()
    assert (result.outcome, result.articles) == ("new", 1)
    return time.monotonic() - started


def test_a_rebuild_reads_the_stored_articles_in_pages(
    index: Index, corpus_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Item 10: a rebuild holds one page of stored articles at a time, never the whole
    store. Every statement the old generation's real SQLite connection runs is traced: the
    article rows come in reads of at most ``STORE_PAGE`` (made 2 here, so the five articles
    take three reads), and no read is unbounded (``LIMIT -1`` was the whole store)."""
    from index import rebuild

    index.ingest([str(corpus_dir)])
    monkeypatch.setattr(rebuild, "STORE_PAGE", 2)
    statements: list[str] = []
    old = index.generation.store
    old.conn.set_trace_callback(statements.append)
    try:
        index.rebuild([])
    finally:
        with contextlib.suppress(sqlite3.ProgrammingError):  # closed once retired (swap)
            old.conn.set_trace_callback(None)
    reads = [s for s in statements if s.startswith("SELECT id, ext_id, title")]
    assert len(reads) >= 3, statements
    assert all(s.endswith("LIMIT 2") for s in reads), reads
    assert index.stats().articles == 5 and index.check() == []

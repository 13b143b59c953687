"""Deleting articles (``Index.remove_source``, ``Index.prune``, ``Index.remove_loaded``):
rows, FTS entries, neighbour lists and vectors go together; a failed deletion leaves
everything; another process's index drops the deleted vectors; a rebuild refuses it."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest

from index import Index, RebuildRunning, Removed, retention_cutoff
from index.store import Store
from tests.conftest import SEED, write_article


def _titles(index: Index) -> set[str]:
    return {a.title for a in index.latest(limit=50)}


def _rows(index: Index, sql: str) -> int:
    path = index.generation.dir / "newsbot.sqlite"
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        return int(conn.execute(sql).fetchone()[0])


def test_remove_source_deletes_rows_fts_neighbours_and_vectors(index: Index,
                                                               corpus_dir: Path) -> None:
    index.ingest([str(corpus_dir)])
    _articles, chunks_before, _ = index.generation.store.counts()
    removed = index.remove_source("Test Wire")
    assert removed.articles == 4 and 0 < removed.chunks < chunks_before
    assert index.stats().articles == 1 and index.sources()[0].source == "corpus"
    assert index.check() == []  # FAISS ids, SQLite chunks and FTS rows agree
    assert index.generation.vectors.ntotal == chunks_before - removed.chunks
    assert _rows(index, "SELECT count(*) FROM neighbours WHERE chunk_id NOT IN "
                        "(SELECT id FROM chunks)") == 0
    hits = index.search("first container ship at Gwadar port")
    assert all(h.article.source != "Test Wire" for h in hits)
    assert index.remove_source("Test Wire") == Removed(0, 0)  # nothing left to remove


def test_prune_deletes_what_was_published_before_the_day(index: Index,
                                                         corpus_dir: Path) -> None:
    index.ingest([str(corpus_dir)])
    removed = index.prune(dt.date(2017, 2, 20))  # the telecom story of that day stays
    assert removed.articles == 2  # floods (Aug 2016) and rates (Jan 2017)
    assert _titles(index) >= {"Mobile broadband users pass 40 million",
                              "Gwadar port handles first container ship"}
    assert not _titles(index) & {"State Bank keeps policy rate at 5.75 percent",
                                 "Monsoon floods damage cotton crop in Sindh"}
    assert index.check() == []


def test_an_undated_article_ages_from_its_ingest_day(index: Index, tmp_path: Path) -> None:
    write_article(tmp_path / "undated", "a.txt", title="Undated note",
                  body="Officials in Quetta opened a new library for students on Monday.")
    index.ingest([str(tmp_path / "undated")])
    today = dt.date.today()
    assert index.prune(today).articles == 0  # ingested today: not before today
    assert index.prune(today + dt.timedelta(days=1)).articles == 1


def test_a_failed_deletion_deletes_nothing(index: Index, corpus_dir: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    index.ingest([str(corpus_dir)])
    before = (index.stats(), index.generation.store.fts_count())

    def fail(self, gone) -> None:
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(Store, "_forget_neighbours", fail)
    with pytest.raises(sqlite3.OperationalError):
        index.remove_source("Test Wire")
    monkeypatch.undo()
    assert (index.stats(), index.generation.store.fts_count()) == before
    assert index.check() == []


def test_vectors_left_by_a_crash_after_the_commit_are_dropped_at_open(
        settings, embedder, corpus_dir: Path) -> None:
    index = Index.open(settings, embedder=embedder)
    index.ingest([str(corpus_dir)])
    store = index.generation.store
    store.delete_articles(store.article_ids_from("Test Wire"))  # committed; FAISS not told
    assert index.check() != []
    index.generation.vectors.save(index.generation.dir / "vectors.faiss")
    index.generation.store.close()  # "crash": the vector file still holds the chunks
    with Index.open(settings, embedder=embedder) as again:
        assert again.check() == [] and again.stats().articles == 1


def test_another_process_stops_finding_deleted_articles(settings, embedder,
                                                        corpus_dir: Path) -> None:
    with Index.open(settings, embedder=embedder) as bot, \
            Index.open(settings, embedder=embedder) as cli:
        bot.ingest([str(corpus_dir)])
        question = "How many containers did the first ship bring to Gwadar?"
        assert bot.search(question)[0].article.source == "Test Wire"
        cli.remove_source("Test Wire")
        hits = bot.search(question)  # refreshed from SQLite before answering
        assert all(h.article.source != "Test Wire" for h in hits)
        assert bot.check() == []


def test_a_running_rebuild_refuses_deletions(index: Index, corpus_dir: Path) -> None:
    index.ingest([str(corpus_dir)])
    refused: list[BaseException] = []

    def during(progress) -> None:
        if progress.phase == "embedding" and not refused:
            try:
                index.prune(dt.date(2030, 1, 1))
            except RebuildRunning as exc:
                refused.append(exc)

    index.rebuild([], progress=during)
    assert len(refused) == 1 and index.stats().articles == 5


def test_remove_loaded_matches_by_text_even_after_a_rebuild(index: Index,
                                                            corpus_dir: Path) -> None:
    index.ingest([str(corpus_dir)])
    index.rebuild([])  # stored articles' origins now read "stored article N"
    removed = index.remove_loaded(str(SEED))
    assert removed.articles == 1 and index.stats().articles == 4
    assert index.check() == []


def test_retention_cutoff() -> None:
    assert retention_cutoff(30, dt.date(2024, 3, 31)) == dt.date(2024, 3, 1)
    with pytest.raises(ValueError):
        retention_cutoff(0, dt.date(2024, 3, 31))


def test_index_is_a_context_manager(settings, embedder) -> None:
    with Index.open(settings, embedder=embedder) as index:
        assert index.stats().articles == 0
    with pytest.raises(sqlite3.ProgrammingError):  # closed on leaving the block
        index.stats()

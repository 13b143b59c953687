"""``Index.rebuild`` (what /reindex runs) on PostgreSQL: a new generation schema is filled
beside the live one and named live in one transaction; writes made meanwhile (here by a
second ``Index`` on the same database, as another process would) are carried over; a
cancel leaves the live set as it was; only one process rebuilds at a time. Real server,
real model."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from index import Index
from index.api import RebuildCancelled, RebuildRunning
from index.backends import PgBackend
from index.models import RebuildProgress
from index.pgstore import GenerationRetired
from index.settings import IndexSettings
from tests.conftest import write_article
from tests.pg.test_index_backends import PLANT_2019, write_news


@pytest.fixture
def pg_settings(pg_url: str, tmp_path: Path) -> IndexSettings:
    return IndexSettings(data_dir=tmp_path / "data", database_url=pg_url)


@pytest.fixture
def filled(pg_settings: IndexSettings, embedder, tmp_path: Path):
    index = Index.open(pg_settings, embedder=embedder)
    index.ingest([str(write_news(tmp_path / "news"))])
    yield index
    index.close()


def schemas(url: str) -> set[str]:
    with psycopg.connect(url) as conn:
        return {r[0] for r in conn.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'gen\\_%'").fetchall()}


def late_article(tmp_path: Path) -> Path:
    return write_article(tmp_path / "late", "late.txt", title="Cotton exports rise in May",
                         date="2021-06-02", body=(
                             "KARACHI - Cotton yarn exports rose 12 percent in May, the "
                             "textile ministry said, led by orders from China."))


def test_a_rebuild_swaps_in_a_new_schema_and_other_processes_follow(
        filled: Index, pg_settings: IndexSettings, embedder, pg_url: str) -> None:
    reader = Index.open(pg_settings, embedder=embedder)  # another process, same database
    try:
        old = filled.generation_id
        before = [h.article.title for h in filled.search("desalination plant engineer")]
        report = filled.rebuild([])
        assert report.articles_new == 5
        new = filled.generation_id
        assert new != old and PgBackend(pg_url).live_name() == new
        assert [h.article.title for h in filled.search("desalination plant engineer")] == before
        assert filled.check() == [] and filled.stats().articles == 5
        # every chunk has its neighbour list in the new generation too (built once at the end)
        assert len(filled.generation.store.chunks_without_neighbours()) == 0
        assert reader.search("desalination plant engineer")[0].article.title == PLANT_2019
        assert reader.generation_id == new  # switched before answering
        # the retired schema stays for in-flight questions until the next swap retires it
        assert old in schemas(pg_url)
        filled.rebuild([])
        assert old not in schemas(pg_url)
        assert filled.generation_id in schemas(pg_url)
    finally:
        reader.close()


def test_writes_made_during_a_rebuild_are_carried_over(
        filled: Index, pg_settings: IndexSettings, embedder, tmp_path: Path) -> None:
    writer = Index.open(pg_settings, embedder=embedder)  # another process, same database
    late = late_article(tmp_path)
    wrote: list[str] = []

    def during(p: RebuildProgress) -> None:
        if p.phase == "embedding" and not wrote:  # the copy is under way: a write now
            wrote.append(writer.generation_id)
            assert writer.ingest([str(late)]).articles_new == 1

    try:
        filled.rebuild([], progress=during)
        assert wrote and filled.generation_id != wrote[0]
        assert filled.stats().articles == 6 and filled.check() == []
        assert filled.search("cotton yarn exports May")[0].article.title == \
            "Cotton exports rise in May"
    finally:
        writer.close()


def test_a_retired_generation_refuses_writes_and_writers_follow_the_swap(
        filled: Index, pg_settings: IndexSettings, embedder, tmp_path: Path) -> None:
    """A process still holding the old generation after another's swap cannot write into
    it (the write would be lost with it); its next ingest switches to the live one."""
    writer = Index.open(pg_settings, embedder=embedder)
    try:
        retired = writer.generation
        filled.rebuild([])
        with pytest.raises(GenerationRetired):
            retired.store.delete_articles(retired.store.article_ids_from("City Desk"))
        assert retired.store.counts()[0] == 5  # nothing deleted
        assert writer.ingest([str(late_article(tmp_path))]).articles_new == 1
        assert writer.generation_id == filled.generation_id
        assert filled.stats().articles == 6
    finally:
        writer.close()


def test_a_cancelled_rebuild_leaves_the_live_set(filled: Index, pg_url: str) -> None:
    live, present = filled.generation_id, schemas(pg_url)

    def during(p: RebuildProgress) -> None:
        if p.phase == "embedding":
            filled.cancel_rebuild()

    with pytest.raises(RebuildCancelled):
        filled.rebuild([], progress=during)
    assert filled.generation_id == live == PgBackend(pg_url).live_name()
    assert schemas(pg_url) == present  # the half-built schema is gone
    assert filled.stats().articles == 5 and filled.check() == []


def test_only_one_process_rebuilds_at_a_time(filled: Index, pg_url: str) -> None:
    other = PgBackend(pg_url)  # another process's rebuild, holding the lock
    with other.rebuild_lock() as ours:
        assert ours
        live = filled.generation_id
        with pytest.raises(RebuildRunning) as refused:
            filled.rebuild([])
        assert refused.value.elsewhere
        assert filled.generation_id == live
    filled.rebuild([])  # released: this one may now
    assert filled.generation_id != live


def test_a_generation_published_into_a_new_database_becomes_the_live_one(
        pg_settings: IndexSettings, pg_url: str, embedder) -> None:
    """A load (``newsbot copy``, tests/bench/pg_load.py) publishes into a database no index
    has opened yet: it must be the one ``Index.open`` serves, not a fresh empty one."""
    backend = PgBackend(pg_url)
    with backend.new_generation(embedder.dim, pg_settings.embedding_model) as new:
        new.publish(None)
    backend.close()
    assert PgBackend(pg_url).live_name() == new.gen.name
    with Index.open(pg_settings, embedder=embedder) as index:
        assert index.generation_id == new.gen.name
    new.gen.close()


def test_bm25_totals_stay_right_across_a_swap_and_a_removal(
        filled: Index, pg_settings: IndexSettings, embedder, tmp_path: Path) -> None:
    """N and the summed token count (bm25's avgdl) of the live generation after a rebuild
    that carried a write over, and after a removal: what the rows hold (``check``)."""
    tokens, _ = filled.generation.store.token_totals()
    writer = Index.open(pg_settings, embedder=embedder)
    wrote: list[int] = []

    def during(p: RebuildProgress) -> None:
        if p.phase == "embedding" and not wrote:
            wrote.append(writer.ingest([str(late_article(tmp_path))]).articles_new)

    try:
        filled.rebuild([], progress=during)
    finally:
        writer.close()
    store = filled.generation.store
    kept, counted = store.token_totals()
    assert wrote == [1] and kept == counted > tokens  # the late article's words added
    assert store.chunk_count() == len(store.chunk_ids()) and filled.check() == []
    assert filled.remove_source("City Desk").articles == 1
    kept_after, counted_after = store.token_totals()
    assert kept_after == counted_after < kept
    assert store.chunk_count() == len(store.chunk_ids()) and filled.check() == []

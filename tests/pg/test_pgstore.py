"""What only the PostgreSQL store has: its migrations, its vector search (pgvector HNSW,
exact within a date window) and its strict reading of keyword queries."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import psycopg
import pytest

from index.chunking import chunk_article
from index.models import Article
from index.normalize import body_hash
from index.pgfts import fold
from index.pgmigrations import HNSW_EF_CONSTRUCTION, HNSW_M, MIGRATIONS, migrate
from index.pgstore import PgStore, QuerySyntaxError, quoted_terms
from index.storage import IndexStore, NeighbourStore, RowStore
from index.store import PendingArticle, Store
from tests.storage_checks import protocol_mismatches


def test_pgstore_matches_the_storage_protocol_method_by_method(pg_url: str) -> None:
    assert protocol_mismatches(PgStore, IndexStore) == []
    assert protocol_mismatches(PgStore, NeighbourStore) == []
    assert protocol_mismatches(PgStore, RowStore) == []
    store = PgStore(pg_url, 8)
    try:
        assert isinstance(store, IndexStore) and isinstance(store, NeighbourStore)
    finally:
        store.close()


def test_migrations_run_once_even_when_processes_open_together(pg_url: str) -> None:
    errors: list[BaseException] = []

    def open_and_close() -> None:
        try:
            PgStore(pg_url, 8).close()
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=open_and_close) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT version FROM schema_version").fetchone()[0] == len(MIGRATIONS)
        assert conn.execute("SELECT count(*) FROM store_state").fetchone()[0] == 1
        indexes = {r[0] for r in conn.execute(
            "SELECT indexdef FROM pg_indexes WHERE tablename IN ('chunks', 'chunks_fts')")}
    assert any("USING hnsw" in d and "vector_ip_ops" in d for d in indexes)
    assert any("chunks_fts USING gin (tsv)" in d for d in indexes)
    with psycopg.connect(pg_url) as conn:
        assert graph_options(conn) == GRAPH


GRAPH = {"m": str(HNSW_M), "ef_construction": str(HNSW_EF_CONSTRUCTION)}


def graph_options(conn: psycopg.Connection) -> dict[str, str]:
    """The storage options of the schema's HNSW index ({} for pgvector's defaults)."""
    row = conn.execute("SELECT c.reloptions FROM pg_class AS c JOIN pg_index AS i ON "
                       "i.indexrelid = c.oid WHERE c.relname = 'chunks_vector' AND "
                       "c.relnamespace = current_schema()::regnamespace AND i.indisvalid"
                       ).fetchone()
    assert row is not None, "no valid chunks_vector index"
    return dict(option.split("=", 1) for option in row[0] or [])


def test_a_newer_schema_and_another_vector_size_are_refused(pg_url: str) -> None:
    PgStore(pg_url, 8).close()
    with pytest.raises(ValueError, match="8-dimensional vectors; the embedding model makes 16"):
        PgStore(pg_url, 16)
    with psycopg.connect(pg_url, autocommit=True) as conn:
        with pytest.raises(RuntimeError, match="newer than this newsbot"):
            migrate(conn, 8, MIGRATIONS[:0])


def test_keyword_queries_are_read_strictly() -> None:
    assert quoted_terms('"gwadar" OR "port"') == ["gwadar", "port"]
    assert quoted_terms('"new york"') == ["new york"]
    for bad in ["gwadar", '"a" AND "b"', '"a" NEAR "b"', "", '"a" OR b']:
        with pytest.raises(QuerySyntaxError):
            quoted_terms(bad)


STORIES = {
    "port": ("Gwadar port handles first container ship",
             "The port of Gwadar handled its first container ship on Tuesday, officials said."),
    "rain": ("Monsoon rains flood Karachi streets",
             "Heavy monsoon rain flooded the streets of Karachi and cut power to thousands."),
    "cricket": ("Pakistan win the cricket series",
                "Pakistan beat Australia by six wickets to win the one-day cricket series."),
    "budget": ("Government presents federal budget",
               "The finance minister presented the federal budget with new taxes on imports."),
}


@pytest.fixture
def filled(pg_url: str, embedder) -> Iterator[PgStore]:
    store = PgStore(pg_url, embedder.dim)
    batch = []
    for i, (key, (title, body)) in enumerate(STORIES.items()):
        article = Article(id=key, title=title, published_at=dt.date(2024, 1, 1 + i),
                          source="Wire", url=f"https://example.org/{key}", category=None,
                          body=body, key=key)
        chunks = chunk_article(article, count_tokens=embedder.count_tokens)
        vectors = embedder.encode([c.embed_text for c in chunks])
        batch.append(PendingArticle(article, body_hash(body), chunks, vectors))
    store.write_batch(batch)
    yield store
    store.close()


def test_nearest_finds_the_story_a_question_is_about(filled: PgStore, embedder) -> None:
    question = embedder.encode_query("Did Karachi flood after the rain?")
    ids, scores = filled.nearest(question, 2)
    assert len(ids) == 2 and scores[0] >= scores[1]
    assert filled.chunk_articles([int(ids[0])])[int(ids[0])] == filled.find_key("rain")
    # the cosine is the stored vector's inner product with the question
    _, vecs = next(filled.iter_vectors([int(ids[0])]))
    assert scores[0] == pytest.approx(float(vecs[0] @ question), abs=1e-5)


def test_nearest_within_a_window_is_exact_and_complete(filled: PgStore, embedder) -> None:
    allowed = filled.chunk_ids_published(dt.date(2024, 1, 3), dt.date(2024, 1, 4))
    question = embedder.encode_query("Did Karachi flood after the rain?")
    ids, scores = filled.nearest(question, 10, restrict=allowed)
    assert sorted(ids.tolist()) == sorted(allowed.tolist())  # all of them, none outside
    _, vecs = next(filled.iter_vectors(ids.tolist()))
    exact = np.sort(vecs @ question)[::-1]
    assert np.allclose(np.sort(scores)[::-1], exact, atol=1e-5)
    assert list(scores) == sorted(scores, reverse=True)


def test_nearest_many_answers_each_row_as_nearest_does(filled: PgStore, embedder) -> None:
    """The batched search ingest uses for neighbour lists: row by row what ``nearest``
    gives, padded with -1 beyond the chunks that exist."""
    questions = embedder.encode(["Did Karachi flood after the rain?",
                                 "Who took the wickets?", "budget deficit"])
    total = len(filled.chunk_ids())
    ids, sims = filled.nearest_many(questions, total + 2)
    assert ids.shape == sims.shape == (3, total + 2)
    for row, question in enumerate(questions):
        one_ids, one_sims = filled.nearest(question, total)
        assert ids[row, :total].tolist() == one_ids.tolist()
        assert np.allclose(sims[row, :total], one_sims, atol=1e-6)
        assert ids[row, total:].tolist() == [-1, -1]


def test_keyword_search_finds_the_story_by_its_words(filled: PgStore) -> None:
    rows = filled.keyword_search('"wickets" OR "zebra"', 5)
    assert [r[1] for r in rows] == [filled.find_key("cricket")]
    rows = filled.keyword_search('"budget"', 5)  # in the title and the text
    assert rows and rows[0][1] == filled.find_key("budget")


def kept_and_counted(store: PgStore) -> tuple[tuple[int, int], tuple[int, int]]:
    """(N, summed |D|) as ``store_state`` keeps them, and as counted from the rows."""
    with psycopg.connect(store.url) as conn:
        kept = conn.execute("SELECT chunks, tokens FROM store_state").fetchone()
        counted = conn.execute(
            "SELECT (SELECT count(*) FROM chunks), sum(tokens) FROM chunks_fts").fetchone()
    return tuple(kept), tuple(counted)


def words_of(store: PgStore) -> int:
    """|D| summed over the stored chunks, from their texts and search titles."""
    with psycopg.connect(store.url) as conn:
        rows = conn.execute("SELECT search_title, text FROM chunks").fetchall()
    return sum(len(fold(t).split()) + len(fold(x).split()) for t, x in rows)


def test_stop_words_count_and_the_kept_totals_stay_exact(filled: PgStore, embedder) -> None:
    """FTS5 keeps every word, so "the" finds chunks too; N and the summed token count
    (bm25's avgdl) follow every write: a new version replacing an article, a delete."""
    assert len(filled.keyword_search('"the"', 5)) == 4
    kept, counted = kept_and_counted(filled)
    assert kept == counted == (4, words_of(filled))
    rain = filled.find_key("rain")
    article = Article(id="rain", title="Rain", published_at=dt.date(2024, 2, 1), source="Wire",
                      url="https://example.org/rain", category=None, key="rain",
                      body="A short note on rain in the city of Karachi today.")
    chunks = chunk_article(article, count_tokens=embedder.count_tokens)
    filled.write_batch([PendingArticle(article, body_hash(article.body), chunks,
                                       embedder.encode([c.embed_text for c in chunks]), rain)])
    kept, counted = kept_and_counted(filled)
    assert kept == counted == (4, words_of(filled))
    filled.delete_articles([filled.find_key("cricket"), filled.find_key("budget")])
    kept, counted = kept_and_counted(filled)
    assert kept == counted == (2, words_of(filled)) and kept[1] > 0
    filled.delete_articles([filled.find_key("rain"), filled.find_key("port")])
    assert kept_and_counted(filled) == ((0, 0), (0, None))
    assert filled.keyword_search('"the"', 5) == []


def test_migration_3_rebuilds_the_keyword_rows_of_an_old_database(
        pg_url: str, tmp_path: Path) -> None:
    """A database at schema 2 (``english`` tsvector in ``chunks``, no folding) opened by
    this code: ``chunks_fts`` is filled from the stored chunks, folded; the token total
    is kept; the old column is gone; the ranking is FTS5's on the old rows."""
    texts = [("Café owners in Zürich", "Café owners in Zürich protested rising rents."),
             ("Café owners in Zürich", "The city council will debate the rents next week."),
             ("Port news", "The port of Karachi handled record cargo, the port said.")]
    with psycopg.connect(pg_url, autocommit=True) as conn:
        assert migrate(conn, 8, MIGRATIONS[:2]) == 2
        for ext, title in (("z", texts[0][0]), ("k", texts[2][0])):
            conn.execute("INSERT INTO articles (ext_id, key, body_hash, title, source, body, "
                         "ingested_at) VALUES (%s, %s, %s, %s, 'Wire', '', '2024-01-01')",
                         (ext, ext, ext, title))
        for ordinal, (title, text) in enumerate(texts):
            conn.execute(
                "INSERT INTO chunks (article_id, ordinal, start, \"end\", text, search_title, "
                "vector) SELECT id, %s, 0, 1, %s, %s, %s FROM articles WHERE title = %s",
                (ordinal, text, title, str([0.5] * 8), title))
        conn.execute("UPDATE store_state SET chunks = 3")
    store = PgStore(pg_url, 8)
    sqlite = Store(tmp_path / "index.sqlite")
    try:
        assert store.schema_version == len(MIGRATIONS) == 4
        kept, counted = kept_and_counted(store)
        assert kept == counted == (3, words_of(store))
        with psycopg.connect(pg_url) as conn:
            assert conn.execute("SELECT count(*) FROM information_schema.columns WHERE "
                                "table_name = 'chunks' AND column_name = 'tsv'").fetchone()[0] == 0
        # the same rows in FTS5: the same chunks, the same scores
        for title, text in texts:
            sqlite.conn.execute("INSERT INTO chunks_fts (title, text) VALUES (?, ?)",
                                (title, text))
        for match in ['"zurich" OR "rents"', '"cafe"', '"port" OR "the"']:
            got = [(store.chunks([c])[c].text, s) for c, _, s in store.keyword_search(match, 9)]
            want = [(texts[c - 1][1], s) for c, s in sqlite.conn.execute(
                "SELECT rowid, bm25(chunks_fts, 2.0, 1.0) AS s FROM chunks_fts "
                "WHERE chunks_fts MATCH ? ORDER BY s", (match,)).fetchall()]
            assert [t for t, _ in got] == [t for t, _ in want] and got, match
            assert [s for _, s in got] == pytest.approx([s for _, s in want], rel=1e-9)
    finally:
        store.close()
        sqlite.close()


def test_migration_4_rebuilds_an_old_graph_denser_and_finds_the_same_rows(
        filled: PgStore, pg_url: str, embedder) -> None:
    """A database at schema 3 (HNSW with pgvector's defaults) holding stories, opened by
    this code: the index is rebuilt with this code's graph options, and every story is
    still found by its own question."""
    with psycopg.connect(pg_url, autocommit=True) as conn:  # undo migration 4
        conn.execute("DROP INDEX chunks_vector")
        conn.execute("CREATE INDEX chunks_vector ON chunks USING hnsw (vector vector_ip_ops)")
        conn.execute("UPDATE schema_version SET version = 3")
        assert graph_options(conn) == {}
    store = PgStore(pg_url, embedder.dim)
    try:
        assert store.schema_version == 4
        with psycopg.connect(pg_url) as conn:
            assert graph_options(conn) == GRAPH
        for key, (title, _) in STORIES.items():
            ids, _ = store.nearest(embedder.encode_query(title), 1)
            assert store.chunk_articles([int(ids[0])])[int(ids[0])] == store.find_key(key)
    finally:
        store.close()


def test_a_bulk_load_builds_the_graph_with_the_same_options(filled: PgStore) -> None:
    filled.drop_vector_index()
    assert not filled.vector_index_valid()
    filled.create_vector_index()
    assert filled.vector_index_valid()
    assert graph_options(filled.conn) == GRAPH

"""The same store tests on both backends of ``index.storage.IndexStore`` (and
``NeighbourStore``): SQLite
(``index.store.Store``) and PostgreSQL with pgvector (``index.pgstore.PgStore``, on the real
server of tests/pg/fixtures.py)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from index.models import Article, Chunk
from index.storage import IndexStore
from index.store import PendingArticle, Store

DIM = 8
OpenStore = Callable[[], IndexStore]


@pytest.fixture(params=["sqlite", "postgres"])
def open_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[OpenStore]:
    """Opens a store (a new connection each call) on one fresh database of the backend."""
    opened: list[IndexStore] = []
    if request.param == "sqlite":
        def make() -> IndexStore:
            opened.append(Store(tmp_path / "index.sqlite"))
            return opened[-1]
    else:
        from index.pgstore import PgStore

        url = request.getfixturevalue("pg_url")

        def make() -> IndexStore:
            opened.append(PgStore(url, DIM))
            return opened[-1]
    yield make
    for store in opened:
        store.close()


@pytest.fixture
def store(open_store: OpenStore) -> IndexStore:
    return open_store()


def unit(seed: int, n: int = 1) -> np.ndarray:
    v = np.random.default_rng(seed).standard_normal((n, DIM)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def pending(ext_id: str, title: str, texts: list[str], *, published: dt.date | None = None,
            source: str = "Wire", key: str | None = None, replaces: int | None = None,
            seed: int = 0) -> PendingArticle:
    body = " ".join(texts)
    chunks, at = [], 0
    for i, text in enumerate(texts):
        chunks.append(Chunk(i, at, at + len(text), text, f"{title}\n{text}"))
        at += len(text) + 1
    article = Article(id=ext_id, title=title, published_at=published, source=source,
                      url=f"https://example.org/{ext_id}", category=None, body=body,
                      key=key or ext_id)
    return PendingArticle(article, f"hash-{ext_id}-{body}", chunks, unit(seed, len(texts)),
                          replaces)


def test_a_batch_is_stored_with_chunks_in_order(store: IndexStore) -> None:
    new, removed = store.write_batch([
        pending("a1", "Port opens", ["The port opened.", "Ships came in."], seed=1),
        pending("a2", "Rain falls", ["It rained all day."], seed=2)])
    assert removed == [] and len(new) == 3 and new == sorted(new)
    assert store.counts() == (2, 3, 1)
    rows = store.chunks(new)
    assert [rows[i].text for i in new] == ["The port opened.", "Ships came in.",
                                          "It rained all day."]
    first = rows[new[0]].article_id
    assert [c.id for c in store.article_chunks(first)] == new[:2]
    assert store.chunk_articles(new) == {new[0]: first, new[1]: first,
                                         new[2]: rows[new[2]].article_id}
    assert store.chunk_ids_of([first, 999]) == {first: new[:2], 999: []}
    assert store.articles([first])[first].title == "Port opens"
    assert set(store.articles_by_ext_id(["a2", "zz"])) == {"a2"}
    assert store.has_hash("hash-a1-The port opened. Ships came in.")
    assert not store.has_hash("hash-nope")
    assert store.find_key("a2") == rows[new[2]].article_id and store.find_key("x") is None
    assert np.array_equal(store.chunk_ids(), np.asarray(new))
    assert store.fts_count() == 3
    assert store.get_meta("last_ingest") is not None


def test_vectors_come_back_as_written(store: IndexStore) -> None:
    new, _ = store.write_batch([pending("a1", "T", ["one", "two", "three"], seed=7)])
    ids, vecs = next(store.iter_vectors(None))
    assert ids.tolist() == new and vecs.dtype == np.float32
    assert np.allclose(vecs, unit(7, 3), atol=1e-3)  # SQLite keeps float16
    ids, vecs = next(store.iter_vectors([new[2], new[0], 12345]))
    assert sorted(ids.tolist()) == [new[0], new[2]]
    batches = list(store.iter_vectors(None, batch=2))
    assert [len(i) for i, _ in batches] == [2, 1]
    chunks, vecs = store.article_vectors(store.find_key("a1"))
    assert [c.id for c in chunks] == new and vecs.shape == (3, DIM)


def test_a_new_version_replaces_the_old_one(store: IndexStore) -> None:
    old, _ = store.write_batch([pending("a1", "T", ["first", "draft"], key="k")])
    old_article = store.find_key("k")
    new, removed = store.write_batch(
        [pending("a1", "T", ["final text"], key="k", replaces=old_article, seed=3)])
    assert sorted(removed) == old and min(new) > max(old)
    assert store.counts()[:2] == (1, 1)
    assert store.chunks(old) == {}
    # (SQLite may give the newest article's id to its new version; Postgres never reuses)
    assert store.articles([store.find_key("k")])[store.find_key("k")].body == "final text"


def test_deleting_articles_by_source_hash_and_age(store: IndexStore) -> None:
    store.write_batch([
        pending("a", "A", ["a text"], source="One", published=dt.date(2020, 1, 1)),
        pending("b", "B", ["b text", "more b"], source="Two", published=dt.date(2021, 1, 1)),
        pending("c", "C", ["c text"], source="Two", published=None)])
    a, b, c = (store.find_key(k) for k in "abc")
    assert store.article_ids_from("Two") == [b, c]
    assert store.article_ids_with_hashes(["hash-a-a text", "none"]) == [a]
    assert store.article_ids_before(dt.date(2020, 6, 1)) == [a]
    # undated counts from its ingest day (today)
    assert store.article_ids_before(dt.date.today() + dt.timedelta(days=2)) == [a, b, c]
    b_chunks = store.chunk_ids_of([b])[b]
    assert sorted(store.delete_articles([b])) == sorted(b_chunks)
    assert store.counts() == (2, 2, 2)
    assert store.delete_articles([]) == []
    assert store.fts_count() == 2


def test_keyword_search_ranks_title_words_and_stems(store: IndexStore) -> None:
    store.write_batch([
        pending("t", "Harbour ships", ["A story about the weather today."]),
        pending("x", "Weather", ["The harbour saw three ships arrive today."]),
        pending("n", "Other", ["Nothing relevant here at all."])])
    rows = store.keyword_search('"harbour"', 10)
    assert [store.chunk_articles([r[0]])[r[0]] for r in rows] == \
        [store.find_key("t"), store.find_key("x")]  # the title counts more
    assert rows[0][2] <= rows[1][2]  # lower is better
    assert rows[0][1] == store.find_key("t")
    ship = store.keyword_search('"ship" OR "nowhere"', 10)  # stemmed: ship ~ ships
    assert {r[1] for r in ship} == {store.find_key("t"), store.find_key("x")}
    assert store.keyword_search('"zebra"', 10) == []
    assert len(store.keyword_search('"today"', 1)) == 1
    assert store.term_counts(["today", "zebra", "ships"], cap=1) == \
        {"today": 1, "zebra": 0, "ships": 1}
    assert store.term_counts(["today"], cap=10) == {"today": 2}


def test_words_with_diacritics_find_their_folded_forms_and_back(store: IndexStore) -> None:
    store.write_batch([
        pending("accent", "Café opens", ["A new café opened in Zürich on Monday."], seed=1),
        pending("plain", "Cafe closes", ["The old cafe in Zurich closed for good."], seed=2),
        pending("other", "Port", ["Ships came into the port."], seed=3)])
    both = {store.find_key("accent"), store.find_key("plain")}
    for match in ['"café"', '"cafe"', '"zürich"', '"zurich"', '"ZÜRICH"', '"Zürich" OR "x"']:
        assert {r[1] for r in store.keyword_search(match, 10)} == both, match
    assert store.term_counts(["café", "zurich", "zebra"], cap=10) == \
        {"café": 2, "zurich": 2, "zebra": 0}


def test_a_rare_word_outranks_a_common_one(store: IndexStore) -> None:
    store.write_batch([pending(f"c{i}", f"Markets {i}", [f"Markets rose; markets fell, {i}."])
                       for i in range(6)])
    store.write_batch([pending("z", "Note", ["A zeppelin flew over the town."])])
    rows = store.keyword_search('"markets" OR "zeppelin"', 10)
    assert len(rows) == 7
    assert rows[0][1] == store.find_key("z")  # the one chunk with the rare word


def test_dates_and_newest_articles(store: IndexStore) -> None:
    store.write_batch([
        pending("old", "Old", ["x"], published=dt.date(2020, 1, 1)),
        pending("mid", "Mid", ["y", "y2"], published=dt.date(2020, 1, 5)),
        pending("new", "New", ["z"], published=dt.date(2020, 1, 9)),
        pending("und", "Undated", ["u"])])
    by_key = {k: store.find_key(k) for k in ("old", "mid", "new", "und")}
    mid_chunks = store.chunk_ids_of([by_key["mid"]])[by_key["mid"]]
    window = store.chunk_ids_published(dt.date(2020, 1, 2), dt.date(2020, 1, 5))
    assert sorted(window.tolist()) == sorted(mid_chunks)
    assert len(store.chunk_ids_published(None, None)) == 4  # every dated chunk
    assert len(store.chunk_ids_published(dt.date(2020, 1, 5), None)) == 3
    assert store.published_dates([by_key["old"], by_key["und"]]) == \
        {by_key["old"]: dt.date(2020, 1, 1), by_key["und"]: None}
    assert [a.ext_id for a in store.latest(10)] == ["new", "mid", "old", "und"]
    assert [a.ext_id for a in store.latest(2, [by_key["old"], by_key["und"], by_key["mid"]])] \
        == ["mid", "old"]
    assert [a.ext_id for a in store.articles_published_since(dt.date(2020, 1, 5))] == \
        ["mid", "new"]
    assert store.max_article_id() == by_key["und"]
    assert [a.ext_id for a in store.articles_after(by_key["old"], limit=2)] == ["mid", "new"]
    assert [a.ext_id for a in store.iter_articles(by_key["old"], by_key["new"], page=1)] == \
        ["mid", "new"]
    assert [(s.source, s.articles) for s in store.sources()] == [("Wire", 4)]


def test_meta_and_another_connections_writes_are_seen(open_store: OpenStore) -> None:
    reader, writer = open_store(), open_store()
    assert reader.get_meta("model") is None
    before = reader.data_version()
    writer.set_meta("model", "minilm")
    assert reader.get_meta("model") == "minilm"
    middle = reader.data_version()
    assert middle != before
    writer.write_batch([pending("a", "A", ["text"])])
    assert reader.data_version() != middle
    assert reader.counts() == (1, 1, 1)


def test_an_empty_store_answers_every_read(store: IndexStore) -> None:
    assert store.counts() == (0, 0, 0)
    assert store.chunk_ids().tolist() == [] and list(store.iter_vectors(None)) == []
    assert store.max_article_id() == 0 and store.latest(5) == []
    assert store.keyword_search('"anything"', 5) == [] and store.sources() == []
    assert store.chunks([1, 2]) == {} and store.articles([1]) == {}


def test_neighbour_lists_are_written_merged_and_forgotten(store: IndexStore) -> None:
    new, _ = store.write_batch([pending("a", "A", ["a0", "a1"]), pending("b", "B", ["b0"]),
                                pending("c", "C", ["c0"])])
    a0, a1, b0, c0 = new
    assert store.chunks_without_neighbours().tolist() == new
    f32 = np.float32
    store.put_neighbours(
        {a0: (np.array([b0, c0, b0]), np.array([0.5, 0.7, 0.6], f32)),  # b0 twice: best kept
         c0: (np.array([a0]), np.array([0.7], f32)),
         987654: (np.array([a0]), np.array([0.9], f32))},  # no such chunk: not written
        {}, keep=5)
    lists = store.neighbour_lists([a0, c0, 987654])
    assert set(lists) == {a0, c0}
    assert lists[a0][0].tolist() == [c0, b0]
    assert np.allclose(lists[a0][1], [0.7, 0.6], atol=1e-3)  # SQLite keeps float16
    assert np.allclose(store.neighbour_sims([a0])[a0], [0.7, 0.6], atol=1e-3)
    assert store.chunks_without_neighbours().tolist() == [a1, b0]
    # merged: into an existing list only, best first, ``keep`` at most
    store.put_neighbours({}, {a0: (np.array([a1 + 100, b0]), np.array([0.9, 0.8], f32)),
                              b0: (np.array([a0]), np.array([0.5], f32))}, keep=2)
    lists = store.neighbour_lists([a0, b0])
    assert set(lists) == {a0} and lists[a0][0].tolist() == [a1 + 100, b0]
    # a deleted chunk leaves the lists of the chunks it listed (c0 lists b0), and its own
    # list goes
    store.put_neighbours({b0: (np.array([a0, c0]), np.array([0.6, 0.4], f32)),
                          c0: (np.array([b0]), np.array([0.4], f32))}, {}, keep=5)
    store.delete_articles([store.find_key("c")])
    assert store.neighbour_lists([b0])[b0][0].tolist() == [a0]
    assert c0 not in store.neighbour_lists([c0])

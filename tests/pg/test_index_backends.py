"""``Index`` end to end on both backends: SQLite + FAISS files (``NEWSBOT_DATABASE_URL``
unset) and PostgreSQL with pgvector (the real server of tests/pg/conftest.py), with the real
model on a few small articles written here. Ingest, answers with quotes, date windows,
dedup, deletes, neighbour lists and another process's writes are the same code on both."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from index import Index
from index.settings import IndexSettings
from tests.conftest import write_article

PLANT_2019 = "Karachi opens seawater desalination plant"
PLANT_2021 = "Hawkes Bay desalination plant doubles its output"
METRO = "Orange Line metro carries its first passengers"


@pytest.fixture
def news(tmp_path: Path) -> Path:
    return write_news(tmp_path / "news")


def write_news(folder: Path) -> Path:
    """Five short articles: two about one plant two years apart, three on other things."""
    write_article(folder, "plant2019.txt", title=PLANT_2019, date="2019-05-10", body=(
        "KARACHI - The Karachi Water Board opened a desalination plant at Hawkes Bay that "
        "turns 40 million gallons of seawater a day into drinking water, the board's chief "
        "engineer Farah Naz said on Friday. The plant cost 12 billion rupees."))
    write_article(folder, "plant2021.txt", title=PLANT_2021, date="2021-07-02", body=(
        "KARACHI - The desalination plant at Hawkes Bay now treats 80 million gallons of "
        "seawater a day after its second unit was commissioned, the water board said. "
        "Residents of Keamari will get piped water for the first time."))
    write_article(folder, "metro.txt", title=METRO, date="2020-10-26", source="City Desk",
                  body=("LAHORE - The Orange Line metro train carried its first paying "
                        "passengers on Monday between Ali Town and Dera Gujran. The fare was "
                        "set at 40 rupees and trains will run every six minutes."))
    write_article(folder, "wheat.txt", title="Punjab raises wheat support price",
                  date="2020-10-01", body=(
                      "LAHORE - The Punjab cabinet raised the support price of wheat to "
                      "1,650 rupees per 40 kilograms to encourage farmers to sow more."))
    write_article(folder, "cricket.txt", title="Zalmi win the league final",
                  date="2020-11-17", body=(
                      "KARACHI - Peshawar Zalmi beat Multan Sultans by five wickets in the "
                      "final at the National Stadium, with Wahab Riaz taking three wickets."))
    return folder


def settings_for(backend: str, tmp_path: Path, request: pytest.FixtureRequest
                 ) -> IndexSettings:
    url = request.getfixturevalue("pg_url") if backend == "postgres" else None
    return IndexSettings(data_dir=tmp_path / "data", database_url=url)


@pytest.fixture(params=["sqlite", "postgres"])
def backend_settings(request: pytest.FixtureRequest, tmp_path: Path) -> IndexSettings:
    return settings_for(request.param, tmp_path, request)


@pytest.fixture
def idx(backend_settings: IndexSettings, embedder) -> Iterator[Index]:
    index = Index.open(backend_settings, embedder=embedder)
    yield index
    index.close()


def titles(hits) -> list[str]:
    return [h.article.title for h in hits]


def test_the_backend_is_the_one_the_settings_name(idx: Index,
                                                   backend_settings: IndexSettings) -> None:
    kind = type(idx.generation).__name__
    assert kind == ("PgGeneration" if backend_settings.database_url else "Generation")


def test_ingest_then_answer_quotes_the_sentence(idx: Index, news: Path) -> None:
    report = idx.ingest([str(news)])
    assert (report.articles_new, report.failed) == (5, 0)
    answer = idx.answer("Who is the chief engineer of the Karachi Water Board?")
    assert answer.found
    first = answer.citations[0]
    assert first.article.title == PLANT_2019
    assert "Farah Naz" in first.quotes[0].text
    stats = idx.stats()
    assert (stats.articles, stats.sources) == (5, 2)
    assert stats.vectors == stats.chunks == report.chunks_embedded
    assert stats.disk_bytes > 0
    assert idx.check() == []


def test_a_named_period_picks_the_story_of_that_period(idx: Index, news: Path) -> None:
    idx.ingest([str(news)])
    question = "Karachi desalination plant news"
    assert titles(idx.search(f"{question} from May 2019"))[0] == PLANT_2019
    recent = idx.search(f"{question} this week", asked_at=dt.date(2021, 7, 5))
    assert titles(recent)[0] == PLANT_2021
    # asked before the later story was published: it does not exist yet
    early = idx.search(question, asked_at=dt.date(2019, 6, 1))
    assert PLANT_2021 not in titles(early) and titles(early)[0] == PLANT_2019


def test_the_same_articles_twice_are_stored_once(idx: Index, news: Path) -> None:
    first = idx.ingest([str(news)])
    second = idx.ingest([str(news)])
    assert first.chunks_embedded > 0
    assert (second.articles_new, second.articles_updated, second.chunks_embedded) == (0, 0, 0)
    assert second.duplicates == 5
    assert idx.stats().articles == 5


def test_deletes_take_articles_out_of_answers(idx: Index, news: Path) -> None:
    idx.ingest([str(news)])
    metro_question = "What is the fare on the Orange Line metro?"
    assert titles(idx.search(metro_question))[0] == METRO
    removed = idx.remove_source("City Desk")
    assert (removed.articles, removed.chunks) == (1, 1)
    assert METRO not in titles(idx.search(metro_question))
    pruned = idx.prune(dt.date(2020, 1, 1))  # the 2019 plant story
    assert pruned.articles == 1
    assert PLANT_2019 not in titles(idx.search("desalination plant chief engineer"))
    stats = idx.stats()
    assert stats.articles == 3 and stats.vectors == stats.chunks
    assert idx.check() == []


def test_every_chunk_gets_a_neighbour_list(idx: Index, news: Path) -> None:
    """Hubness densities change the ranking: on both backends every chunk has its list of
    neighbours in other stories, and a deleted chunk leaves the lists it was in."""
    idx.ingest([str(news)])
    store = idx.generation.store
    chunks = store.chunk_ids()
    assert len(store.chunks_without_neighbours()) == 0
    lists = store.neighbour_lists(chunks.tolist())
    assert set(lists) == set(chunks.tolist())
    assert all(0 < len(ids) for ids, _ in lists.values())
    metro = store.chunk_ids_of(idx.generation.store.article_ids_from("City Desk"))
    gone = {c for ids in metro.values() for c in ids}
    assert any(gone & set(ids.tolist()) for ids, _ in lists.values())
    idx.remove_source("City Desk")
    after = store.neighbour_lists(store.chunk_ids().tolist())
    assert not any(gone & set(ids.tolist()) for ids, _ in after.values())


def test_reopening_serves_the_same_index(backend_settings: IndexSettings, embedder,
                                         news: Path) -> None:
    first = Index.open(backend_settings, embedder=embedder)
    first.ingest([str(news)])
    name, before = first.generation_id, titles(first.search("wheat support price"))
    first.close()
    again = Index.open(backend_settings, embedder=embedder)
    try:
        assert again.generation_id == name
        assert titles(again.search("wheat support price")) == before
        assert again.stats().articles == 5 and again.check() == []
    finally:
        again.close()


def test_another_process_writes_are_answered(backend_settings: IndexSettings, embedder,
                                             news: Path) -> None:
    """A reader opened before a writer ingests answers from what the writer committed,
    date windows included (its in-memory publication days are read again)."""
    reader = Index.open(backend_settings, embedder=embedder)
    writer = Index.open(backend_settings, embedder=embedder)
    try:
        assert reader.search("desalination plant") == []
        writer.ingest([str(news)])
        hits = reader.search("desalination plant seawater gallons in July 2021?")
        assert titles(hits)[0] == PLANT_2021
    finally:
        writer.close()
        reader.close()


def test_both_backends_rank_alike(tmp_path: Path, embedder, news: Path,
                                  request: pytest.FixtureRequest) -> None:
    """The same articles and questions give the same ranking on both backends (SQLite
    keeps float16 vectors, PostgreSQL float32: cosines agree to ~1e-3)."""
    questions = ["Who is the chief engineer of the Karachi Water Board?",
                 "How much does a ride on the Lahore metro cost?",
                 "Which team won the cricket league final?",
                 "What price will farmers get for wheat?"]
    ranked = {}
    for backend in ("sqlite", "postgres"):
        settings = settings_for(backend, tmp_path / backend, request)
        with Index.open(settings, embedder=embedder) as index:
            index.ingest([str(news)])
            ranked[backend] = [[(h.article.title, h.dense_score) for h in index.search(q)]
                               for q in questions]
    for lite, pg in zip(ranked["sqlite"], ranked["postgres"], strict=True):
        assert [t for t, _ in lite] == [t for t, _ in pg]
        assert np.allclose([s for _, s in lite], [s for _, s in pg], atol=2e-3)


def test_two_processes_ingesting_the_same_sources_at_once_store_each_article_once(
        news: Path, pg_url: str, embedder, tmp_path: Path) -> None:
    """Two bot processes started together both ingest their sources into one database:
    the write lock lets one in at a time, and the second finds every article stored."""
    import threading

    settings = IndexSettings(data_dir=tmp_path / "data", database_url=pg_url)
    first, second = (Index.open(settings, embedder=embedder) for _ in range(2))
    reports, errors = [], []

    def ingest(index: Index) -> None:
        try:
            reports.append(index.ingest([str(news)]))
        except Exception as exc:  # the failure this test is about
            errors.append(exc)

    threads = [threading.Thread(target=ingest, args=(i,)) for i in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    try:
        assert errors == []
        assert sorted(r.articles_new for r in reports) == [0, 5]
        assert first.stats().articles == 5 and second.stats().articles == 5
    finally:
        first.close()
        second.close()

"""The index end to end over real SQLite/FAISS files and the real model."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import faiss
import numpy as np
import pytest

from index import Index
from index.generation import VECTORS_NAME
from tests.conftest import write_article

SEED_QUESTION = "Who led the Alibaba delegation that met Ishaq Dar?"


def _titles(hits) -> list[str]:
    return [h.article.headline for h in hits]


def test_ingest_then_search_finds_the_right_article(index: Index, corpus_dir: Path) -> None:
    report = index.ingest([str(corpus_dir)])
    assert report.articles_new == 5
    assert report.failed == 0
    hits = index.search("What is the central bank's interest rate?")
    assert hits[0].article.title == "State Bank keeps policy rate at 5.75 percent"
    assert len({h.article.rowid for h in hits}) == len(hits)  # one hit per article


def test_same_articles_twice_store_once_and_embed_nothing(index: Index, corpus_dir) -> None:
    first = index.ingest([str(corpus_dir)])
    second = index.ingest([str(corpus_dir)])
    assert first.chunks_embedded > 0
    assert (second.articles_new, second.articles_updated, second.chunks_embedded) == (0, 0, 0)
    assert second.duplicates == 5
    stats = index.stats()
    assert stats.articles == 5 and stats.vectors == stats.chunks == first.chunks_embedded


def test_same_body_from_another_file_is_a_duplicate(index: Index, corpus_dir, tmp_path) -> None:
    index.ingest([str(corpus_dir)])
    copy = tmp_path / "elsewhere"
    write_article(copy, "copy.txt", title="Another headline", date="2017-03-01",
                  body=(corpus_dir / "port.txt").read_text().split("\n\n", 1)[1])
    report = index.ingest([str(copy)])
    assert report.duplicates == 1 and report.articles_new == 0


def test_changed_body_replaces_old_chunks(index: Index, tmp_path: Path) -> None:
    folder = tmp_path / "news"
    url = "https://example.com/news/port?utm_source=x"
    write_article(folder, "a.txt", title="Port opens", date="2017-03-01", url=url,
                  body="The port opened with 250 containers on the first ship.")
    index.ingest([str(folder)])
    old_chunks = index.stats().chunks
    write_article(folder, "a.txt", title="Port opens", date="2017-03-01", url=url,
                  body="The port opened with 300 containers on the first ship, officials said.")
    report = index.ingest([str(folder)])
    assert (report.articles_new, report.articles_updated) == (0, 1)
    stats = index.stats()
    assert stats.articles == 1 and stats.chunks == old_chunks == stats.vectors
    answer = index.answer("How many containers did the first ship carry?")
    assert "300 containers" in answer.citations[0].quotes[0].text
    assert index.check() == []


def test_store_round_trip_across_restart(settings, embedder, corpus_dir) -> None:
    idx = Index.open(settings, embedder=embedder)
    idx.ingest([str(corpus_dir)])
    before = _titles(idx.search("cotton crop flood damage"))
    idx.close()
    reopened = Index.open(settings, embedder=embedder)
    try:
        assert reopened.stats().articles == 5
        assert _titles(reopened.search("cotton crop flood damage")) == before
        assert before[0] == "Monsoon floods damage cotton crop in Sindh"
        assert reopened.check() == []
    finally:
        reopened.close()


def test_interrupted_vector_save_leaves_previous_file_intact(
    settings, embedder, corpus_dir, monkeypatch: pytest.MonkeyPatch
) -> None:
    idx = Index.open(settings, embedder=embedder)
    idx.ingest([str(corpus_dir / "rates.txt")])
    vec_file = idx.generation.dir / VECTORS_NAME
    saved = vec_file.read_bytes()

    def torn_write(index, path):  # write half a file, then "crash"
        Path(path).write_bytes(b"IxM2" + b"\0" * 10)
        raise OSError("disk died")

    monkeypatch.setattr(faiss, "write_index", torn_write)
    with pytest.raises(OSError):
        idx.ingest([str(corpus_dir / "port.txt")])
    assert vec_file.read_bytes() == saved  # the rename never happened
    monkeypatch.undo()
    idx.close = lambda: None  # simulate the process dying: no clean close
    reopened = Index.open(settings, embedder=embedder)
    try:
        # Both articles were committed to SQLite; the vector file is repaired from it.
        assert reopened.check() == []
        assert reopened.stats().articles == 2
        assert _titles(reopened.search("container ship Gwadar"))[0].startswith("Gwadar port")
    finally:
        reopened.close()


def test_torn_vector_file_is_rebuilt_from_sqlite(settings, embedder, corpus_dir, caplog) -> None:
    idx = Index.open(settings, embedder=embedder)
    idx.ingest([str(corpus_dir)])
    vec_file = idx.generation.dir / VECTORS_NAME
    idx.close()
    data = vec_file.read_bytes()
    vec_file.write_bytes(data[: len(data) // 2])
    with caplog.at_level("WARNING"):
        reopened = Index.open(settings, embedder=embedder)
    try:
        assert any("unreadable" in r.getMessage() for r in caplog.records)
        assert reopened.check() == []
        assert reopened.stats().vectors == reopened.stats().chunks > 0
    finally:
        reopened.close()


def test_ask_over_samples_cites_the_seed_article(index: Index) -> None:
    from bot.cli import samples_dir

    index.ingest([str(samples_dir())])
    answer = index.answer(SEED_QUESTION, asked_at=dt.date(2017, 3, 5))
    assert answer.found
    top = answer.citations[0]
    assert top.article.published_at == "2017-03-04"
    assert top.article.body.startswith("ISLAMABAD - Alibaba Group delegation")
    best = [q for q in top.quotes if q.best][0]
    assert "led by Max Bittner" in best.text
    for c in answer.citations:
        for q in c.quotes:
            assert c.article.body[q.start : q.end] == q.text


def test_unrelated_question_says_nothing_found(index: Index, corpus_dir) -> None:
    index.ingest([str(corpus_dir)])
    answer = index.answer("What is the best recipe for chocolate chip cookies?")
    assert not answer.found
    assert answer.citations == ()
    assert "found nothing" in answer.notes[0]


def test_rebuild_swaps_in_a_new_generation(index: Index, corpus_dir, tmp_path) -> None:
    index.ingest([str(corpus_dir)])
    old_dir = index.generation.dir
    write_article(corpus_dir, "new.txt", title="Karachi metro line approved", date="2017-03-05",
                  body="The provincial cabinet approved a new metro line for Karachi on Sunday.")
    phases = []
    index.rebuild([], progress=lambda p: phases.append(p.phase))
    assert index.generation.dir != old_dir
    assert (Path(index.settings.data_dir) / "CURRENT").read_text().strip() == \
        index.generation.dir.name
    assert index.stats().articles == 6  # stored articles kept, the new file picked up
    assert phases[0] == "loading" and phases[-1] == "done"
    assert _titles(index.search("Karachi metro line"))[0] == "Karachi metro line approved"
    assert index.check() == []


def test_failed_rebuild_keeps_old_index_serving(index: Index, corpus_dir, monkeypatch) -> None:
    index.ingest([str(corpus_dir)])
    old_dir = index.generation.dir
    def boom(self, texts):
        raise RuntimeError("model exploded")

    monkeypatch.setattr(type(index.embedder), "encode", boom)
    with pytest.raises(RuntimeError, match="model exploded"):
        index.rebuild([])
    monkeypatch.undo()
    assert index.generation.dir == old_dir
    assert index.stats().articles == 5
    assert [p.name for p in Path(index.settings.data_dir).glob("gen-*")] == [old_dir.name]


def test_vectors_are_normalized(embedder) -> None:
    v = embedder.encode(["one text", "another, longer text about the economy"])
    assert v.dtype == np.float32 and v.shape == (2, 384)
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)


def test_same_story_from_two_outlets_is_one_citation(index: Index, tmp_path: Path) -> None:
    folder = tmp_path / "outlets"
    story = ("The provincial government approved a new metro line for Karachi on Sunday, "
             "with 22 stations along a 24-kilometre route. Construction will begin in June.")
    write_article(folder, "a.txt", title="Karachi metro approved", date="2017-03-05",
                  source="Daily Alpha", body=story)
    write_article(folder, "b.txt", title="Cabinet approves Karachi metro line",
                  date="2017-03-06", source="Beta News",
                  body=story.replace("on Sunday", "on Sunday, officials said"))
    write_article(folder, "c.txt", title="Wheat prices rise", date="2017-03-05",
                  source="Beta News", body="Wheat prices rose 3 percent in Lahore markets.")
    report = index.ingest([str(folder)])
    assert report.articles_new == 3  # different bodies: both outlets' versions are stored
    answer = index.answer("How many stations will the Karachi metro line have?")
    metro = [c for c in answer.citations if "metro" in c.headline.lower()]
    assert len(metro) == 1
    other = "Beta News" if metro[0].article.source == "Daily Alpha" else "Daily Alpha"
    assert [a.source for a in metro[0].also] == [other]
    assert metro[0].also[0].ext_id != metro[0].article.ext_id  # the other outlet's article


def test_another_process_ingest_and_reindex_are_picked_up(settings, embedder, corpus_dir,
                                                          tmp_path: Path) -> None:
    """The bot (reader) sees what a CLI ingest or reindex (writer) did to the same data dir."""
    writer = Index.open(settings, embedder=embedder)
    reader = Index.open(settings, embedder=embedder)
    try:
        writer.ingest([str(corpus_dir / "rates.txt")])
        hits = reader.search("Gwadar container ship")
        assert all("Gwadar" not in h.article.title for h in hits)
        writer.ingest([str(corpus_dir / "port.txt")])
        assert reader.search("Gwadar container ship")[0].article.title.startswith("Gwadar port")
        assert reader.check() == []
        writer.rebuild([])
        reader.search("anything")
        assert reader.generation.dir == writer.generation.dir
        assert reader.stats().articles == 2
    finally:
        reader.close()
        writer.close()

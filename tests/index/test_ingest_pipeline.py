"""The pipelined write path (producer thread + embedding in large length-sorted batches)
reports and stores exactly what the one-article-at-a-time path did, fails cleanly from
either side, and never leaves a thread behind; plus the query-side helpers it relies on."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import numpy as np
import pytest

from index import Index
from index import ingest as ingest_mod
from index.keywords import TermCounts, plan_terms
from index.models import LoadProblem


def _jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def _record(n: int, body: str, url: str | None = None) -> dict:
    return {"id": f"r{n}", "title": f"Story {n}", "published_at": "2016-05-0" + str(1 + n % 9),
            "source": "Wire", "url": url, "body": body}


def _producers() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "ingest-producer"]


def test_small_batches_report_exactly_and_store_everything(index: Index, tmp_path: Path,
                                                           monkeypatch) -> None:
    monkeypatch.setattr(ingest_mod, "BATCH_CHUNKS", 2)  # many flushes while the producer runs
    monkeypatch.setattr(ingest_mod, "AHEAD_ARTICLES", 1)
    bodies = [f"Company {n} reported a profit of {n * 7} million rupees in the quarter. "
              f"Its shares rose {n} percent on the news." for n in range(9)]
    records = [_record(n, b) for n, b in enumerate(bodies)]
    records.append(_record(99, bodies[3]))  # same body again in the same run
    path = _jsonl(tmp_path / "c.jsonl", records)
    path.write_text(path.read_text() + "{broken\n")
    report = index.ingest([str(path)])
    assert (report.articles_new, report.duplicates, report.failed) == (9, 1, 1)
    stats = index.stats()
    assert stats.articles == 9 and stats.chunks == stats.vectors == report.chunks_embedded
    assert index.check() == [] and not _producers()
    again = index.ingest([str(path)])
    assert (again.articles_new, again.duplicates, again.chunks_embedded) == (0, 10, 0)


def test_same_key_twice_in_one_run_keeps_the_later_version(index: Index, tmp_path: Path) -> None:
    url = "https://example.com/story/7"
    first = _jsonl(tmp_path / "a.jsonl", [
        _record(1, "The port handled 250 containers on its first day.", url),
        _record(2, "An unrelated article about cotton prices in Multan markets."),
    ])
    later = _jsonl(tmp_path / "b.jsonl", [
        _record(3, "The port handled 300 containers on its first day, officials said.", url),
    ])
    report = index.ingest([str(first), str(later)])  # one run: the earlier is still in flight
    assert (report.articles_new, report.articles_updated, report.failed) == (2, 1, 0)
    assert index.stats().articles == 2 and index.check() == []
    bodies = {a.body for a in index.generation.store.latest(10)}
    assert any("300 containers" in b for b in bodies)
    assert not any("250 containers" in b for b in bodies)


def test_a_loader_error_propagates_and_the_producer_ends(index: Index, monkeypatch) -> None:
    def broken(source, settings):
        yield LoadProblem("skipped", source, "fine so far")
        raise ValueError("loader bug")

    monkeypatch.setattr(ingest_mod, "load_source", broken)
    with pytest.raises(ValueError, match="loader bug"):
        index.ingest(["anything"])
    assert not _producers()


def test_a_model_error_stops_the_producer(index: Index, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(ingest_mod, "BATCH_CHUNKS", 1)
    monkeypatch.setattr(ingest_mod, "AHEAD_ARTICLES", 1)
    path = _jsonl(tmp_path / "m.jsonl", [
        _record(n, f"Article {n} says something different about wheat, number {n}.")
        for n in range(30)])

    def boom(self, texts, lengths, **options):
        raise RuntimeError("model exploded")

    monkeypatch.setattr(type(index.embedder), "encode_by_length", boom)
    with pytest.raises(RuntimeError, match="model exploded"):
        index.ingest([str(path)])
    assert not _producers()
    assert index.stats().articles == 0 and index.check() == []


def test_length_sorted_batches_give_the_same_vectors(embedder) -> None:
    texts = [("word " * n).strip() + f" number {n}" for n in (3, 40, 7, 120, 1, 60)] * 7
    lengths = embedder.count_tokens(texts)
    sorted_vectors = embedder.encode_by_length(texts, lengths)
    plain = embedder.encode(texts)
    np.testing.assert_allclose(sorted_vectors, plain, atol=2e-4)
    with pytest.raises(ValueError):
        embedder.encode_by_length(texts, lengths[:-1])


def test_query_embedding_restores_the_thread_count(embedder) -> None:
    import torch

    before = torch.get_num_threads()
    results: list[np.ndarray] = []
    workers = [threading.Thread(target=lambda: results.append(embedder.encode_query("rates")))
               for _ in range(4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert torch.get_num_threads() == before and len(results) == 4
    np.testing.assert_allclose(results[0], embedder.encode(["rates"])[0], atol=1e-5)


def test_keyword_planning_drops_the_commonest_words(index: Index, tmp_path: Path,
                                                    monkeypatch) -> None:
    records = [_record(n, f"Delegations from Karachi discussed textile exports, meeting {n}.")
               for n in range(12)]
    records.append(_record(50, "A Gwadar delegation discussed fisheries."))
    index.ingest([str(_jsonl(tmp_path / "kw.jsonl", records))])
    counts = TermCounts(index.generation.store)
    df = counts.get(["delegation", "karachi", "gwadar", "zzzunknown"], cap=100)
    # Stemmed by the FTS tokenizer itself: "delegation" also counts "Delegations".
    assert df == {"delegation": 13, "karachi": 12, "gwadar": 1, "zzzunknown": 0}
    terms = ["karachi", "gwadar", "delegation"]
    assert plan_terms(counts, terms) == terms  # a small index: every word is kept
    assert plan_terms(counts, terms, budget=14) == ["karachi", "gwadar"]
    assert plan_terms(counts, terms, budget=1) == ["gwadar"]
    assert plan_terms(counts, ["karachi", "delegation"], budget=5) == []  # all too common
    assert counts.get(["karachi"], cap=5) == {"karachi": 5}  # counted to cap
    hits = index.search("Gwadar delegation")
    assert hits[0].article.body.startswith("A Gwadar delegation")

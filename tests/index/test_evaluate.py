from __future__ import annotations

import json
from pathlib import Path

import pytest

from index.evaluate import EvalResult

ARTICLES = [
    ("w1", "2020-01-02", "The city council of Springfield voted to build a new tram line "
     "along the river, with construction starting in the spring."),
    ("w2", "2020-01-03", "A snowstorm closed every school in the mountain town of Alpenrose "
     "for three days, the mayor said."),
    ("w3", "2020-01-03", "The national football team appointed Maria Lopez as head coach "
     "after a two-year search."),
    ("w4", "2020-01-04", "Apple growers in the valley reported a record harvest thanks to a "
     "mild autumn and little frost."),
]
QUESTIONS = [
    ("q1", "Which city voted to build a tram line along the river?", ["w1"]),
    ("q2", "Why were schools in Alpenrose closed?", ["w2"]),
    ("q3", "Who was appointed head coach of the national football team?", ["w3"]),
    ("q4", "What did the central bank decide about interest rates?", ["missing-article"]),
]


def test_metrics_by_hand() -> None:
    r = EvalResult(questions=4, ranks=[1, 2, None, 5], latencies_ms=[1, 2, 3, 4])
    assert r.hits_at(1) == 0.25
    assert r.hits_at(3) == 0.5
    assert r.hits_at(10) == 0.75
    assert r.mrr_at(10) == pytest.approx((1 + 0.5 + 0.2) / 4)
    assert r.mrr_at(3) == pytest.approx((1 + 0.5) / 4)


def test_eval_command_on_a_fixture_corpus(tmp_path: Path, capsys, embedder, monkeypatch) -> None:
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text("".join(
        json.dumps({"id": i, "title": "", "published_at": d, "source": "Fixture Wire",
                    "url": None, "category": None, "body": b}) + "\n"
        for i, d, b in ARTICLES))
    questions = tmp_path / "questions.jsonl"
    questions.write_text("".join(
        json.dumps({"id": i, "question": q, "asked_at": "2020-01-05", "gold_ids": g,
                    "answer": []}) + "\n" for i, q, g in QUESTIONS))
    from bot import cli
    from index import api

    monkeypatch.setattr(api, "Embedder", lambda *a, **k: embedder)  # reuse the loaded model
    assert cli.main(["eval", str(corpus), str(questions), "--json", "--as-of"]) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    # Three answerable questions found first; the fourth's gold article does not exist.
    assert out["questions"] == 4
    assert out["hits@1"] == 0.75 and out["hits@10"] == 0.75 and out["mrr@10"] == 0.75
    assert set(out) >= {"hits@1", "hits@3", "hits@10", "mrr@10", "p50_ms", "p95_ms"}
    assert out["p50_ms"] > 0

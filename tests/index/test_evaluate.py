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


def _corpus(tmp_path: Path) -> Path:
    """The four fixture articles as a corpus JSONL file."""
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text("".join(
        json.dumps({"id": i, "title": "", "published_at": d, "source": "Fixture Wire",
                    "url": None, "category": None, "body": b}) + "\n"
        for i, d, b in ARTICLES))
    return corpus


def test_metrics_by_hand() -> None:
    r = EvalResult(questions=4, ranks=[1, 2, None, 5], latencies_ms=[1, 2, 3, 4])
    assert r.hits_at(1) == 0.25
    assert r.hits_at(3) == 0.5
    assert r.hits_at(10) == 0.75
    assert r.mrr_at(10) == pytest.approx((1 + 0.5 + 0.2) / 4)
    assert r.mrr_at(3) == pytest.approx((1 + 0.5) / 4)


def test_eval_command_on_a_fixture_corpus(tmp_path: Path, capsys, embedder, monkeypatch) -> None:
    corpus = _corpus(tmp_path)
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


def test_answers_match_loosely_but_as_whole_words() -> None:
    from index.evaluate import contains_answer

    assert contains_answer("Total outlay of Rs. 4,313 trillion.", ["rs 4 313 trillion"])
    assert contains_answer("“Mariah Carey” topped the chart", ["mariah carey"])
    assert not contains_answer("The Iraqi embassy", ["Iraq"])
    assert not contains_answer("anything", [""])


def test_time_words_follow_the_benchmark_list() -> None:
    from index.evaluate import Question, has_time_words, select

    assert has_time_words("Who won the vote this week?")
    assert has_time_words("What is the latest on the strike?")
    assert not has_time_words("Who won the 21st grand slam title at the Australian Open?")
    qs = [Question("a", "Who resigned last month?", None, ()),
          Question("b", "Who resigned from the cabinet?", None, (), split="tune")]
    assert [q.id for q in select(qs, timeless=True)] == ["b"]
    assert [q.id for q in select(qs, split="tune")] == ["b"]


def test_quote_counts_only_when_the_first_citation_is_gold_and_quotes_the_answer() -> None:
    from index.evaluate import Question, score
    from index.models import Answer, Citation, Quote, StoredArticle

    body = "The minister spoke first. The budget's total outlay is Rs 4.3 trillion."
    gold = StoredArticle(1, "g", "Budget", "2015-06-05", "Wire", None, None, body)
    other = StoredArticle(2, "o", "Other", "2015-06-05", "Wire", None, None, "Unrelated.")
    q = Question("q", "How big is the budget?", None, ("g",), ("Rs 4.3 trillion",))

    def cite(article, start, end):
        return Citation(article, (Quote(article.body[start:end], start, end, True),), 1.0)

    lead, answer = cite(gold, 0, 25), cite(gold, 26, len(body))
    assert score(q, Answer(q.question, (answer,)), {"g": gold}).quote_ok is True
    assert score(q, Answer(q.question, (lead,)), {"g": gold}).quote_ok is False
    wrong_first = score(q, Answer(q.question, (cite(other, 0, 10), answer)), {"g": gold})
    assert wrong_first.rank == 2 and wrong_first.quote_ok is False
    unscorable = Question("u", "?", None, ("g",), ("not in the passage",))
    assert score(unscorable, Answer(q.question, (answer,)), {"g": gold}).quote_ok is None


def test_a_gold_article_listed_under_a_citation_as_the_same_story_counts() -> None:
    """Another outlet's article on the cited story is shown and linked ("also"), so a gold
    one there is cited at that citation's rank; a gold article nowhere in the answer is not."""
    from index.evaluate import Question, score
    from index.models import AlsoReported, Answer, Citation, StoredArticle

    lead = StoredArticle(1, "cnn-1", "Ban passed", "2022-12-11", "CNN", None, None, "Text.")
    other = StoredArticle(2, "wk-9", "Other", "2022-12-01", "THE WEEK", None, None, "Other.")
    q = Question("q", "Which country banned tobacco?", None, ("wk-1",))
    merged = Citation(lead, (), 1.0, (AlsoReported("THE WEEK", "https://w.test/1", "wk-1"),))
    assert score(q, Answer(q.question, (merged,)), {}).rank == 1
    assert score(q, Answer(q.question, (Citation(other, (), 1.0), merged)), {}).rank == 2
    alone = Citation(lead, (), 1.0, (AlsoReported("THE WEEK", None, "wk-2"),))
    assert score(q, Answer(q.question, (alone,)), {}).rank is None


def test_eval_shift_and_offtopic(tmp_path: Path, capsys, embedder, monkeypatch) -> None:
    """Asked 400 days later, questions still find their stories; off-topic messages are
    refused; the JSON carries found, quote and refusal figures."""
    corpus = _corpus(tmp_path)
    questions = tmp_path / "questions.jsonl"
    questions.write_text("".join(
        json.dumps({"id": i, "question": q, "asked_at": "2020-01-05", "gold_ids": g,
                    "answer": ["Maria Lopez"] if i == "q3" else []}) + "\n"
        for i, q, g in QUESTIONS[:3]))
    offtopic = tmp_path / "offtopic.jsonl"
    offtopic.write_text("".join(
        json.dumps({"id": f"o{n}", "question": text, "asked_at": None, "gold_ids": []}) + "\n"
        for n, text in enumerate(["hello!", "thanks", "How do I tie a bow tie?"])))
    from bot import cli
    from index import api

    monkeypatch.setattr(api, "Embedder", lambda *a, **k: embedder)
    assert cli.main(["eval", str(corpus), str(questions), "--json", "--shift", "400",
                     "--offtopic", str(offtopic)]) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out["questions"] == 3 and out["hits@1"] == 1.0 and out["found"] == 1.0
    assert out["quotes_scored"] == 1 and out["quote@1"] == 1.0
    assert out["offtopic_refused"] == 1.0 and out["offtopic_questions"] == 3


def test_follow_ups_are_scored_with_and_without_their_context(
        tmp_path: Path, capsys, embedder, monkeypatch) -> None:
    """A question with ``follow_up_of`` is asked after the one it follows and alone; the
    stand-alone questions are scored as before, and asked one after another in a
    conversation none of them is read as a follow-up."""
    corpus = _corpus(tmp_path)
    records = [{"id": i, "question": q, "asked_at": "2020-01-05", "gold_ids": g}
               for i, q, g in QUESTIONS[:3]]
    # Written for this test: it only makes sense after q2.
    records.insert(2, {"id": "f2", "question": "Who said so?", "asked_at": "2020-01-05",
                       "gold_ids": ["w2"], "follow_up_of": "q2"})
    questions = tmp_path / "questions.jsonl"
    questions.write_text("".join(json.dumps(r) + "\n" for r in records))
    from bot import cli
    from index import api

    monkeypatch.setattr(api, "Embedder", lambda *a, **k: embedder)
    assert cli.main(["eval", str(corpus), str(questions), "--json", "--as-of"]) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out["questions"] == 3 and out["hits@1"] == 1.0  # the stand-alone ones
    assert out["followups"] == 1 and out["followup_read_as_followup"] == 1.0
    assert out["followup_hits@1"] == 1.0 and out["followup_alone_hits@3"] == 0.0

    assert cli.main(["eval", str(corpus), str(questions), "--as-of", "--conversation"]) == 0
    text = capsys.readouterr().out
    assert "asked in one conversation: 0 of 3 read as follow-ups" in text
    assert "Hits@1 1.000" in text
    assert "follow-ups 1  with context Hits@1 1.000  Hits@3 1.000  alone Hits@1 0.000" in text

    # A follow-up of a question the set does not hold is an error, not a silent zero.
    questions.write_text(json.dumps({**records[2], "follow_up_of": "nope"}) + "\n")
    assert cli.main(["eval", str(corpus), str(questions), "--as-of"]) != 0
    assert "question f2 follows up on nope, which is not in the set" in capsys.readouterr().err

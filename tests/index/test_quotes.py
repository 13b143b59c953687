"""Quotes: the sentence that answers, not the one that shares the story's words."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from index import Index
from index.quotes import QuestionTerms, choose, rank_sentences
from tests.conftest import write_article

BUDGET = [
    "ISLAMABAD - Finance Minister Ishaq Dar presented the federal budget for 2015-16 in the "
    "National Assembly on Friday.",
    "The minister said the federal budget aims at growth of 5.5 percent.",
    "Opposition members walked out of the federal budget session in protest.",
    "The total outlay of Rs 4.313 trillion is 11 percent more than last year.",
    "Defence was allocated Rs 780 billion, the minister told the house.",
    "He said the budget deficit would be brought down to 4.3 percent of GDP.",
]


def test_the_answering_sentence_beats_the_lead(index: Index) -> None:
    counts = index.generation.term_counts
    for question, expected in [
        ("How much was allocated for defence in the federal budget?", 4),
        ("What will the budget deficit be?", 5),
    ]:
        q = QuestionTerms.of(question, counts, 1000)
        scores = rank_sentences(q, BUDGET)
        assert max(range(len(BUDGET)), key=scores.__getitem__) == expected, (question, scores)


def test_runner_up_is_quoted_only_when_close_and_never_overlapping() -> None:
    spans = [(0, 10), (11, 20), (5, 15)]
    assert choose([2.0, 1.6, 1.9], spans) == (0, 1)  # (5, 15) overlaps the best
    assert choose([2.0, 1.6, 0.1], spans) == (0, 1)
    assert choose([2.0, 1.0, 0.1], spans) == (0,)
    assert choose([], []) == ()


def test_long_article_quotes_the_detail_asked_about(index: Index, tmp_path: Path) -> None:
    body = " ".join(BUDGET[:1] + [
        f"Members debated item {n} of the federal budget for hours." for n in range(1, 30)
    ] + BUDGET[1:])
    write_article(tmp_path / "b", "budget.txt", title="Dar unveils federal budget 2015-16",
                  date="2015-06-05", body=body)
    index.ingest([str(tmp_path / "b")])
    answer = index.answer("How big is the federal budget?", asked_at=dt.date(2015, 6, 6))
    assert answer.found
    best = [q for q in answer.citations[0].quotes if q.best][0]
    assert "Rs 4.313 trillion" in best.text
    assert answer.citations[0].article.body[best.start:best.end] == best.text

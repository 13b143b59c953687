"""The statement view of a question (index.queryview), the two-view query embedding
(Embedder.encode_queries) and how the retriever mixes them."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from index.queryview import statement_view
from index.search import Retriever
from index.settings import IndexSettings


@pytest.mark.parametrize(("question", "view"), [
    ("Which tennis champion won his 21st grand slam title at the Australian Open?",
     "tennis champion won his 21st grand slam title at the Australian Open"),
    ("How many people died in the Karachi heatwave this week?",
     "people died in the Karachi heatwave this week"),
    ("What did the State Bank announce about interest rates?",
     "the State Bank announce about interest rates"),
    ("The governor announced a measure that allocates $75 million to support what initiative?",
     "The governor announced a measure that allocates $75 million to support initiative"),
    ("Who is the new finance minister of Pakistan?", "the new finance minister of Pakistan"),
])
def test_interrogative_words_and_their_auxiliary_are_taken_out(question: str, view: str) -> None:
    assert statement_view(question) == view


@pytest.mark.parametrize("question", [
    "textile exports from Karachi",  # nothing to take out
    "Karachi textile exports?",  # only the question mark: the same text
    "What is it?",  # too little left
    "Who won?",
    "",
])
def test_no_view_when_it_would_add_nothing(question: str) -> None:
    assert statement_view(question) is None


def test_words_that_merely_contain_a_question_word_stay() -> None:
    assert statement_view("Whatever happened to somewhat cheaper petrol, whichever way?") is None
    assert statement_view("Whoever wins, when will the somewhat delayed budget pass?") == (
        "Whoever wins, will the somewhat delayed budget pass")


def test_two_views_embed_as_encode_would(embedder) -> None:
    texts = ["Which bank raised its policy rate by 150 basis points?",
             "bank raised its policy rate by 150 basis points"]
    both = embedder.encode_queries(texts)
    np.testing.assert_allclose(both, embedder.encode(texts), atol=1e-5)
    for wrong in (texts[:1], texts + texts):
        with pytest.raises(ValueError):
            embedder.encode_queries(wrong)


def test_every_concurrent_query_runs_on_one_thread_and_the_count_comes_back(embedder) -> None:
    """A second query beside a first must also run single-threaded (before, only the first
    holder switched, and the second split its pass over both cores), and threads started
    afterwards (an ingest) must get the original count back."""
    import torch

    from index.embed import _ONE_THREAD

    before = torch.get_num_threads()
    assert before > 1, "the machine running the tests has one core: nothing to check"
    inside_first = threading.Event()
    release = threading.Event()
    seen: list[int] = []

    def first() -> None:
        with _ONE_THREAD.held():
            inside_first.set()
            release.wait(10)

    def second() -> None:
        torch.get_num_threads()  # this thread has used torch before the first query started
        inside_first.wait(10)
        with _ONE_THREAD.held():
            seen.append(torch.get_num_threads())
        release.set()

    workers = [threading.Thread(target=second), threading.Thread(target=first)]
    workers[0].start()
    workers[0].join(0.2)
    workers[1].start()
    for w in workers:
        w.join(20)
    later: list[int] = []
    fresh = threading.Thread(target=lambda: later.append(torch.get_num_threads()))
    fresh.start()
    fresh.join()
    assert seen == [1]
    assert later == [before] and torch.get_num_threads() == before


def _retriever(embedder, weight: float) -> Retriever:
    return Retriever(embedder, IndexSettings(question_view_weight=weight))


def test_the_query_vector_averages_the_question_and_its_statement_view(embedder) -> None:
    question = "Which company recalled its cars because of faulty airbags?"
    view = statement_view(question)
    assert view is not None
    q, v = embedder.encode([question, view])
    for weight in (0.3, 0.5):
        expected = (1 - weight) * q + weight * v
        expected /= np.linalg.norm(expected)
        got = _retriever(embedder, weight)._query_vectors(question)[0]
        np.testing.assert_allclose(got, expected, atol=1e-5)
        assert got.dtype == np.float32
    np.testing.assert_allclose(_retriever(embedder, 0.0)._query_vectors(question)[0], q, atol=1e-5)


def test_a_question_without_a_view_is_embedded_once(embedder, monkeypatch) -> None:
    calls: list[object] = []
    monkeypatch.setattr(type(embedder), "encode_queries",
                        lambda self, texts: calls.append(texts))  # must not be reached
    vec = _retriever(embedder, 0.5)._query_vectors("Karachi textile exports")[0]
    assert calls == []
    np.testing.assert_allclose(vec, embedder.encode(["Karachi textile exports"])[0], atol=1e-5)


def test_hits_report_the_questions_own_cosine(index, corpus_dir) -> None:
    """The search vector mixes in the statement view, but "found" and the citation floor
    are calibrated on the question's own cosine, so that is what a hit carries."""
    index.ingest([str(corpus_dir)])
    question = "Which port handled its first container ship?"
    view = statement_view(question)
    assert view is not None
    hits = index.search(question, k=5)
    assert hits and hits[0].article.title == "Gwadar port handles first container ship"
    asked, _ = index.embedder.encode([question, view])
    store = index.generation.store
    for hit in hits:
        rows = list(store.iter_vectors(list(hit.chunk_ids)))
        vecs = np.concatenate([v for _, v in rows])
        assert hit.dense_score == pytest.approx(float(np.max(vecs @ asked)), abs=1e-4)
    mixed = Retriever(index.embedder, index.settings)._query_vectors(question)[0]
    assert abs(float(np.max(vecs @ mixed)) - hits[-1].dense_score) > 1e-3  # they do differ

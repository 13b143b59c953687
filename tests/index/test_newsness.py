"""The newsness classifier: trained on the shipped prototypes, cached, and used to refuse."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from index import Index, newsness
from index.newsness import NewsnessModel, newsness_model, prototypes, relevance_bar


def test_prototypes_train_a_model_that_tells_news_from_trivia(embedder, tmp_path: Path) -> None:
    newsness._MODELS.clear()
    model = newsness_model(embedder, tmp_path)
    news, other = prototypes()
    assert len(news) >= 200 and len(other) >= 200
    held_out_news = ["What did the central bank decide about interest rates on Tuesday?",
                     "Which company announced layoffs at its Karachi plant?"]
    held_out_other = ["How do I bake banana bread?", "what is the capital of peru"]
    scores = [model.score(v) for v in embedder.encode(held_out_news + held_out_other)]
    assert min(scores[:2]) > max(scores[2:])
    cached = list(tmp_path.glob("newsness-*.npz"))
    assert len(cached) == 1
    newsness._MODELS.clear()  # a restart reads the weights back instead of retraining
    again = newsness_model(embedder, tmp_path)
    assert np.allclose(again.weights, model.weights) and again.bias == model.bias
    assert np.array_equal(again.news, model.news) and np.array_equal(again.other, model.other)
    assert len(model.news) == len(news) and len(model.other) == len(other)


def test_the_score_is_the_neighbour_margin_plus_a_share_of_the_regression() -> None:
    """Closer to its nearest news prototypes than to its nearest other ones scores above 0;
    the regression only adds its small share."""
    news = np.eye(4, dtype=np.float32)[:2]  # two news prototypes, two other ones
    other = np.eye(4, dtype=np.float32)[2:]
    silent = NewsnessModel(news, other, np.zeros(4, np.float32), 0.0)
    like_news = np.array([0.8, 0.6, 0, 0], np.float32)
    like_other = np.array([0, 0, 0.6, 0.8], np.float32)
    k = min(newsness.NEIGHBOURS, 2)
    assert silent.score(like_news) == pytest.approx((0.8 + 0.6) / k)
    assert silent.score(like_other) == pytest.approx(-(0.6 + 0.8) / k)
    leaning = NewsnessModel(news, other, np.zeros(4, np.float32), -10.0)
    assert leaning.score(like_news) == pytest.approx(
        silent.score(like_news) - 10.0 * newsness.REGRESSION_SHARE)


def _scoring(value: float, dim: int) -> NewsnessModel:
    """A model that scores every question ``value`` (no prototypes lean either way)."""
    flat = np.zeros((1, dim), np.float32)
    return NewsnessModel(flat, flat, np.zeros(dim, np.float32),
                         value / newsness.REGRESSION_SHARE)


def test_the_bar_follows_how_clearly_a_question_reads_like_news(index: Index,
                                                                corpus_dir) -> None:
    """News-like: the found bar; not news-like: the off-news bar unless a rare indexed word
    is named; clearly not news-like: the strict bar, rare word or not; a time named: the
    found bar however it reads."""
    from dataclasses import replace

    index.ingest([str(corpus_dir)])
    s = replace_settings(index, newsness_threshold=0.0, offnews_clear_threshold=-0.1,
                         min_relevance=0.33, offnews_min_relevance=0.5,
                         offnews_clear_min_relevance=0.65)
    gen = index.generation
    rare = "Which port handled its first container ship?"  # "container": one fixture story
    plain = "Who is the tallest?"
    hits = [replace(h, dense_score=0.6) for h in index.search(rare, k=3)]
    dim = index.embedder.dim
    vector = np.zeros(dim, np.float32)

    def bar(question: str, score: float) -> float:
        return relevance_bar(question, vector, hits, gen, _scoring(score, dim), s, None)

    assert bar(plain, 0.05) == 0.33
    assert bar(plain, -0.05) == 0.5
    assert bar(rare, -0.05) == 0.33
    assert bar(rare, -0.2) == bar(plain, -0.2) == 0.65
    assert bar("Which port recently handled its first container ship?", -0.2) == 0.33


def replace_settings(index: Index, **values: float):
    return index.settings.model_copy(update=values)


def test_a_question_that_reads_like_trivia_needs_a_strong_match(index: Index, corpus_dir,
                                                                monkeypatch) -> None:
    index.ingest([str(corpus_dir)])
    question = "Which port handled its first container ship?"
    assert index.answer(question).found
    # Read as not-news, the question must now reach a cosine no story reaches …
    monkeypatch.setattr(index.settings, "newsness_threshold", 1e9)
    monkeypatch.setattr(index.settings, "offnews_clear_threshold", -1e9)
    monkeypatch.setattr(index.settings, "offnews_min_relevance", 0.99)
    # … unless it names something the index holds by a rare word ("container" is in one
    # fixture story), as "what is K-IV?" does …
    assert index.answer(question).found
    # … and not when it reads clearly like trivia or how-to: then a rare word is no evidence.
    monkeypatch.setattr(index.settings, "offnews_clear_threshold", 1e9)
    monkeypatch.setattr(index.settings, "offnews_clear_min_relevance", 0.99)
    answer = index.answer(question)
    assert not answer.found and answer.citations == ()
    monkeypatch.setattr(newsness, "names_indexed_thing", lambda *args: False)
    monkeypatch.setattr(index.settings, "offnews_clear_threshold", -1e9)
    answer = index.answer(question)
    assert not answer.found and answer.citations == ()
    # A question that names a time is about the news, however it reads.
    assert index.answer("Which port recently handled its first container ship?").found


def test_a_rare_word_counts_only_when_the_story_holds_it(index: Index, corpus_dir) -> None:
    from index.newsness import names_indexed_thing

    index.ingest([str(corpus_dir)])
    gen = index.generation
    [port] = [h for h in index.search("Gwadar container ship", k=5)
              if "Gwadar" in h.article.title]
    assert names_indexed_thing("what about the container ship?", port, gen)
    assert not names_indexed_thing("what about the cotton crop?", port, gen)
    assert not names_indexed_thing("what about zebras?", port, gen)


def test_further_citations_must_be_relevant_on_their_own(index: Index, corpus_dir) -> None:
    """A second or third story is cited only when it reaches the bar of a found answer, not
    merely the citation floor."""
    from dataclasses import replace

    from index.answer import compose

    index.ingest([str(corpus_dir)])
    hits = index.search("Which port handled its first container ship?", k=3)
    assert len(hits) == 3
    hits = [replace(h, dense_score=d) for h, d in zip(hits, (0.6, 0.30, 0.5), strict=True)]
    answer = compose("Which port handled its first container ship?", hits, index.generation,
                     min_relevance=0.33, citation_floor=0.25, limit=10, confident=0.40,
                     same_story=0.9)
    assert [c.article.rowid for c in answer.citations] == [hits[0].article.rowid,
                                                           hits[2].article.rowid]


def test_warm_up_keeps_the_newsness_weights_in_the_data_dir(index: Index) -> None:
    newsness._MODELS.clear()
    index.warm_up()
    assert list(Path(index.settings.data_dir).glob("newsness-*.npz"))


def test_an_uncertain_first_story_keeps_its_alternatives(index: Index, corpus_dir) -> None:
    """When even the first story is a weak match, the others above the floor stay: one of
    them may be the story asked about."""
    from dataclasses import replace

    from index.answer import compose

    index.ingest([str(corpus_dir)])
    hits = index.search("Which port handled its first container ship?", k=3)
    hits = [replace(h, dense_score=d) for h, d in zip(hits, (0.35, 0.30, 0.20), strict=True)]
    answer = compose("Which port handled its first container ship?", hits, index.generation,
                     min_relevance=0.33, citation_floor=0.25, limit=10, confident=0.40,
                     same_story=0.9)
    assert [c.article.rowid for c in answer.citations] == [h.article.rowid for h in hits[:2]]

"""The newsness classifier: trained on the shipped prototypes, cached, and used to refuse."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from index import Index, newsness
from index.newsness import newsness_model, prototypes


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


def test_a_question_that_reads_like_trivia_needs_a_strong_match(index: Index, corpus_dir,
                                                                monkeypatch) -> None:
    from index import api

    index.ingest([str(corpus_dir)])
    question = "Which port handled its first container ship?"
    assert index.answer(question).found
    # Read as not-news, the question must now reach a cosine no story reaches …
    monkeypatch.setattr(index.settings, "newsness_threshold", 1e9)
    monkeypatch.setattr(index.settings, "offnews_min_relevance", 0.99)
    # … unless it names something the index holds by a rare word ("container" is in one
    # fixture story), as "what is K-IV?" does.
    assert index.answer(question).found
    monkeypatch.setattr(api, "names_indexed_thing", lambda *args: False)
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

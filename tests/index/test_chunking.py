from __future__ import annotations

import datetime as dt

from index.chunking import chunk_article, embed_prefix
from index.models import Article


def _article(body: str, title: str = "Budget deficit narrows") -> Article:
    return Article("a1", title, dt.date(2017, 3, 4), "Test Wire", None, None, body)


def _long_body(sentences: int) -> str:
    return " ".join(
        f"Sentence number {i} reports that the provincial government allocated "
        f"Rs {i}.5 billion to project {i} in district {i % 7}." for i in range(sentences)
    )


def test_chunks_fit_model_window_and_are_exact_slices(embedder) -> None:
    article = _article(_long_body(120))
    chunks = chunk_article(article, count_tokens=embedder.count_tokens,
                           max_tokens=embedder.max_tokens)
    assert len(chunks) > 5
    counts = embedder.count_tokens([c.embed_text for c in chunks])
    assert max(counts) <= embedder.max_tokens
    for c in chunks:
        assert article.body[c.start : c.end] == c.text
        assert len(c.text.split()) <= 180


def test_consecutive_chunks_overlap_by_one_sentence(embedder) -> None:
    article = _article(_long_body(60))
    chunks = chunk_article(article, count_tokens=embedder.count_tokens, overlap=1)
    for prev, nxt in zip(chunks, chunks[1:]):
        assert nxt.start < prev.end  # shared sentence
        shared = article.body[nxt.start : prev.end]
        assert shared.startswith("Sentence number") and shared.endswith(".")


def test_prefix_is_embedded_but_not_quoted(embedder) -> None:
    article = _article("The deficit fell to 4.2 percent of GDP. Officials were pleased.")
    (chunk,) = chunk_article(article, count_tokens=embedder.count_tokens,
                             prefix_fields=("title", "date", "source"))
    assert embed_prefix(article) == "Budget deficit narrows · 4 March 2017 · Test Wire"
    assert chunk.embed_text.startswith("Budget deficit narrows · 4 March 2017 · Test Wire\n")
    assert chunk.text == article.body
    assert "Budget deficit" not in chunk.text


def test_one_megabyte_single_line_without_punctuation_still_fits(embedder) -> None:
    body = ("word " * 150_000) + "x" * 20_000
    article = _article(body)
    chunks = chunk_article(article, count_tokens=embedder.count_tokens)
    counts = embedder.count_tokens([c.embed_text for c in chunks])
    assert max(counts) <= embedder.max_tokens
    assert chunks[-1].end == len(body.rstrip())
    assert all(body[c.start : c.end] == c.text for c in chunks)


def test_prefix_fields_are_selectable() -> None:
    article = _article("Body.")
    assert embed_prefix(article, ("title",)) == "Budget deficit narrows"
    assert embed_prefix(_article("Body.", title=""), ("title",)) == ""

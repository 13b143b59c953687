"""Sentence-aware chunking that always fits the embedding model's window.

Chunks are runs of whole sentences (≤ ``max_words`` words and ≤ the token budget left after
the title/date/source prefix), overlapping by ``overlap`` sentences so an answer that
straddles a boundary is still inside one chunk. A sentence too long on its own (a 1 MB
single-line "article") is cut at word boundaries. ``Chunk.text`` is always
``body[start:end]``, so quotes taken from it are verbatim.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

from index.models import Article, Chunk
from index.normalize import search_title
from index.sentences import split_sentences

TokenCounter = Callable[[list[str]], list[int]]
_WORD = re.compile(r"\S+")
PREFIX_MAX_CHARS = 160


PREFIX_FIELDS = ("title", "date", "source")


def embed_prefix(article: Article, fields: tuple[str, ...] = PREFIX_FIELDS) -> str:
    """Title (or, without one, the link topics), date and/or outlet, prepended to what is
    embedded (never to what is quoted).

    Which fields is a setting (``NEWSBOT_EMBED_PREFIX``): on the dev set the date and outlet
    cost Hits@1 (dates are handled by the date-aware search instead), the headline helps.
    """
    parts = []
    headline = search_title(article.title, article.link_topics)
    if "title" in fields and headline:
        parts.append(headline[:PREFIX_MAX_CHARS])
    if "date" in fields and article.published_at:
        parts.append(_format_date(article.published_at))
    if "source" in fields and article.source:
        parts.append(article.source[:60])
    return " · ".join(parts)


def _format_date(value: dt.date | dt.datetime) -> str:
    return f"{value.day} {value.strftime('%B %Y')}"


def chunk_article(
    article: Article,
    *,
    count_tokens: TokenCounter,
    max_tokens: int = 256,
    max_words: int = 180,
    overlap: int = 1,
    prefix_fields: tuple[str, ...] = PREFIX_FIELDS,
) -> list[Chunk]:
    body = article.body
    prefix = embed_prefix(article, prefix_fields)
    prefix_tokens = count_tokens([prefix + "\n"])[0] if prefix else 0
    # Leave room for the prefix and a small safety margin; special tokens are in counts.
    budget = max(32, max_tokens - prefix_tokens - 4)

    pieces = _sentence_pieces(body, count_tokens, budget, max_words)
    if not pieces:
        return []
    chunks: list[Chunk] = []
    i = 0
    while i < len(pieces):
        j = i
        words = tokens = 0
        while j < len(pieces):
            s, e, w, t = pieces[j]
            if j > i and (words + w > max_words or tokens + t > budget):
                break
            words += w
            tokens += t
            j += 1
        start, end = pieces[i][0], pieces[j - 1][1]
        text = body[start:end]
        embed_text = f"{prefix}\n{text}" if prefix else text
        chunks.append(Chunk(len(chunks), start, end, text, embed_text))
        if j >= len(pieces):
            break
        i = max(i + 1, j - overlap)
    return chunks


def _sentence_pieces(
    body: str, count_tokens: TokenCounter, budget: int, max_words: int
) -> list[tuple[int, int, int, int]]:
    """(start, end, words, tokens) per sentence, long sentences cut to fit alone."""
    spans = split_sentences(body)
    counts = count_tokens([body[s:e] for s, e in spans])
    pieces: list[tuple[int, int, int, int]] = []
    for (s, e), tokens in zip(spans, counts, strict=True):
        words = len(_WORD.findall(body, s, e))
        if tokens <= budget and words <= max_words:
            pieces.append((s, e, words, tokens))
        else:
            pieces.extend(_cut_long(body, s, e, count_tokens, budget, max_words))
    return pieces


def _cut_long(
    body: str, s: int, e: int, count_tokens: TokenCounter, budget: int, max_words: int
) -> list[tuple[int, int, int, int]]:
    words = list(_WORD.finditer(body, s, e))
    out: list[tuple[int, int, int, int]] = []
    step = max(8, min(max_words, budget // 2))
    i = 0
    while i < len(words):
        n = min(step, len(words) - i)
        while True:
            start, end = words[i].start(), words[i + n - 1].end()
            tokens = count_tokens([body[start:end]])[0]
            if tokens <= budget or n == 1:
                break
            n = max(1, n * budget // (tokens + 1))
        if tokens > budget:  # one absurd "word" (e.g. 10 kB without spaces): cut by chars
            width = max(8, budget - 4)  # a character is at most one WordPiece token here
            for lo in range(words[i].start(), words[i].end(), width):
                hi = min(words[i].end(), lo + width)
                out.append((lo, hi, 1, count_tokens([body[lo:hi]])[0]))
        else:
            out.append((start, end, n, tokens))
        i += n
    return out

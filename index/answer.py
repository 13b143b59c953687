"""Answer composition: pick the sentences that answer, quote them verbatim, cite the story.

Quotes are spans of the stored article body (``Quote.text == body[start:end]``), never
rewritten, so numbers and names are exactly what the outlet printed.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from index.models import AlsoReported, Answer, Citation, Hit, Quote
from index.quotes import QuestionTerms, choose, rank_sentences
from index.sentences import split_sentences
from index.settings import STORY_DAYS
from index.storage import IndexGeneration

MAX_QUOTE_CHARS = 600


def compose(
    question: str,
    hits: Sequence[Hit],
    gen: IndexGeneration,
    *,
    min_relevance: float,
    citation_floor: float,
    limit: int,
    confident: float,
    same_story: float,
    found_relevance: float | None = None,
) -> Answer:
    """Cite the hits that are relevant enough; say plainly when none is.

    Two calibrated cosine thresholds (docs/quality.md): some hit must reach
    ``min_relevance`` for the answer to count as found; the first citation must reach
    ``citation_floor``, and every further one ``min_relevance`` — each citation earns its
    place on its own, rather than padding a right first story with unrelated ones.
    When even the first story matches only weakly (cosine below ``confident``), the others
    above the floor are shown as alternatives: the answer is uncertain, and one of them may
    be the story asked about. ``found_relevance`` (default ``min_relevance``) is the bar for
    "found" alone: higher for a question that does not read like news (``index.newsness``).
    """
    relevant: list[Hit] = []
    bar = min_relevance if found_relevance is None else found_relevance
    first = next((h for h in hits if _is_relevant(h, bar)), None)
    if first is not None:
        # The first citation is the best-ranked hit above the floor (a fresher story may rank
        # above the best match by meaning); each further one must be relevant on its own,
        # at the bar that makes an answer "found".
        start = hits.index(first)
        lead = [h for h in hits[:start + 1] if _is_relevant(h, citation_floor)][:1]
        further = citation_floor if not _is_relevant(lead[0], confident) else min_relevance
        relevant = lead + [h for h in hits if h not in lead and _is_relevant(h, further)]
    if not relevant:
        topics = [h.article.headline for h in hits[:3]]
        note = f"I found nothing about “{_short(question)}” in the news I have."
        notes = (note,) + ((("Closest topics: " + "; ".join(topics)),) if topics else ())
        return Answer(question, (), notes, found=False)
    terms = QuestionTerms.of(question, gen.term_counts, gen.ntotal)
    citations = []
    for hit, also in same_story_groups(relevant, gen, same_story)[:limit]:
        quotes = _quotes(hit, gen, terms)
        citations.append(Citation(hit.article, quotes, hit.score, also))
    return Answer(question, tuple(citations), (), found=True)


def same_story_groups(
    hits: Sequence[Hit], gen: IndexGeneration, similarity: float, days: int = STORY_DAYS
) -> list[tuple[Hit, tuple[AlsoReported, ...]]]:
    """Collapse hits that are one story told by several outlets (near-identical leading
    chunk, published within ``days``): the best-ranked one is cited, the others' articles
    are listed as "also" with their links, one per outlet (a second article of the cited
    outlet is the same report again and is left out)."""
    if not hits:
        return []
    first_ids = [h.chunk_ids[0] if h.chunk_ids else -1 for h in hits]
    stored = gen.vectors_of([i for i in first_ids if i >= 0])
    vectors = [stored.get(i) for i in first_ids]
    groups: list[tuple[Hit, list[AlsoReported], np.ndarray | None]] = []
    for hit, vec in zip(hits, vectors, strict=True):
        for lead, also, lead_vec in groups:
            if vec is None or lead_vec is None:
                continue
            close_in_time = _days_apart(lead, hit) <= days
            if close_in_time and float(vec @ lead_vec) >= similarity:
                source = hit.article.source
                if source != lead.article.source and all(a.source != source for a in also):
                    also.append(AlsoReported(source, hit.article.url, hit.article.ext_id))
                break
        else:
            groups.append((hit, [], vec))
    return [(hit, tuple(also)) for hit, also, _ in groups]


def _days_apart(a: Hit, b: Hit) -> int:
    da, db = a.article.published_date, b.article.published_date
    if da is None or db is None:
        return 0
    return abs((da - db).days)


def _is_relevant(hit: Hit, threshold: float) -> bool:
    """The question's own cosine with the hit's best chunk reaches ``threshold``; keyword
    evidence alone does not make a story relevant (docs/quality.md, "Every citation earns
    its place")."""
    return hit.dense_score is not None and hit.dense_score >= threshold


def _quotes(hit: Hit, gen: IndexGeneration, question: QuestionTerms) -> tuple[Quote, ...]:
    """The answering sentence(s) of the hit's matched chunks (``index.quotes``), verbatim."""
    body = hit.article.body
    rows = gen.store.chunks(list(hit.chunk_ids))
    ordered = [rows[c] for c in hit.chunk_ids if c in rows]
    if not ordered:
        ordered = gen.store.article_chunks(hit.article.rowid)[:1]
    spans = sorted({(row.start + s, row.start + e)
                    for row in ordered for s, e in split_sentences(row.text)})
    if not spans:
        return ()
    scores = rank_sentences(question, [body[s:e] for s, e in spans])
    chosen = choose(scores, spans)
    quotes = []
    for position in sorted(chosen, key=lambda i: spans[i]):
        s, e = spans[position]
        if e - s > MAX_QUOTE_CHARS:  # keep a runaway "sentence" readable, still verbatim
            cut = body.rfind(" ", s, s + MAX_QUOTE_CHARS)
            e = cut if cut > s else s + MAX_QUOTE_CHARS
        quotes.append(Quote(body[s:e], s, e, best=(position == chosen[0])))
    return tuple(quotes)


def _short(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"

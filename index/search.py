"""Retrieval: candidates by meaning (FAISS) and by words (BM25 over FTS5), fused per article,
then shaped by dates.

Every candidate article gets its best chunk similarity (``dense``), less a penalty for
sitting in a crowded neighbourhood (``hub``, see ``index.hubness``), and its best BM25 score
normalized by the best in the candidate set (``keyword``); the fusion (``index.fusion``)
combines them. Dates then act in three ways, all relative to the day the question was
asked: articles published after it do not exist yet; an explicit calendar phrase ("in March
2017") filters, a relative one ("this week", "the latest") boosts and favours newer stories;
a question with no time cue is about whenever its story happened (``Retriever._date_shape``).
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace

import numpy as np

from index import hubness
from index.embed import Embedder
from index.fusion import make_fusion
from index.keywords import plan_terms
from index.models import Hit
from index.querydates import DateRange, parse_query_dates
from index.queryview import statement_view
from index.settings import IndexSettings
from index.storage import IndexGeneration
from index.text import content_terms

log = logging.getLogger(__name__)
MAX_CHUNKS_PER_HIT = 4
_BACKGROUND = ThreadPoolExecutor(max_workers=4, thread_name_prefix="keyword-search")


@dataclass(slots=True)
class Candidate:
    article_id: int
    dense: float | None = None
    dense_rank: int | None = None
    bm25: float | None = None  # higher is better (negated FTS5 bm25)
    keyword_rank: int | None = None
    chunk_ids: list[int] = field(default_factory=list)
    best_chunk: int | None = None  # the chunk ``dense`` was measured on
    hub: float = 0.0  # hub penalty (λ · density of the best chunk), taken off ``dense``
    published: dt.date | None = None
    score: float = 0.0

    def add_chunk(self, chunk_id: int) -> None:
        if chunk_id not in self.chunk_ids and len(self.chunk_ids) < MAX_CHUNKS_PER_HIT:
            self.chunk_ids.append(chunk_id)


def fts_query(text: str, max_terms: int = 24,
              select: Callable[[list[str]], list[str]] | None = None) -> str | None:
    """An FTS5 OR-query of the question's content words, each quoted (no syntax leaks);
    ``select`` may drop words too common to be worth scoring (``index.keywords``)."""
    terms = content_terms(text)[:max_terms]
    if select is not None and terms:
        terms = select(terms)
    if not terms:
        return None
    return " OR ".join('"' + t.replace('"', "") + '"' for t in terms)


@dataclass(slots=True)
class Retrieval:
    """What one search found, and the question's own embedding (None for an empty query)."""

    hits: list[Hit]
    question_vector: np.ndarray | None


class Retriever:
    def __init__(self, embedder: Embedder, settings: IndexSettings) -> None:
        self.embedder = embedder
        self.settings = settings
        self.fusion = make_fusion(settings)

    def search(
        self, gen: IndexGeneration, query: str, *, k: int = 10, asked_at: dt.date | None = None
    ) -> list[Hit]:
        return self.retrieve(gen, query, k=k, asked_at=asked_at).hits

    def retrieve(
        self, gen: IndexGeneration, query: str, *, k: int = 10, asked_at: dt.date | None = None
    ) -> Retrieval:
        """The top ``k`` articles, with the question's own embedding (``index.newsness``
        reads it)."""
        query = query.strip()
        if not query:
            return Retrieval([], None)
        s = self.settings
        # The keyword search needs no query vector: SQLite runs it on the other core while
        # the model embeds the question (both release the GIL), hiding its cost.
        keyword_rows = _BACKGROUND.submit(self._keyword_rows, gen, query, s.search_candidates)
        qvec, asked = self._query_vectors(query)
        own = asked if asked is not None else qvec
        drange = parse_query_dates(query, asked_at)
        cands: dict[int, Candidate] = {}

        self._dense(gen, qvec, s.search_candidates, cands, None)
        self._keyword(keyword_rows.result(), cands)
        window = self._window(drange, asked_at)
        if window is not None:
            ids = gen.chunk_ids_published(window[0], window[1])
            if len(ids):
                self._dense(gen, qvec, s.search_candidates, cands, ids)
        if not cands:
            return Retrieval([], own)

        dates = gen.store.published_dates(list(cands))
        for c in cands.values():
            c.published = dates.get(c.article_id)
        if asked_at is not None:  # "as of": later articles do not exist yet
            latest = asked_at + dt.timedelta(days=1)
            cands = {a: c for a, c in cands.items() if c.published is None or c.published <= latest}
        self._fill_dense(gen, qvec, cands)
        drange = self._strict_filter(cands, drange)
        if drange is not None and drange.strict:
            cands = {a: c for a, c in cands.items() if c.published and drange.contains(c.published)}
        self._hub_penalty(gen, cands.values())
        self.fusion.score(list(cands.values()))
        self._date_shape(cands.values(), drange, asked_at)

        ranked = sorted(cands.values(), key=lambda c: c.score, reverse=True)[:k]
        if asked is not None:
            self._asked_cosines(gen, asked, ranked)
        if drange is None and asked_at is not None:
            ranked = fresh_story_up(ranked, asked_at, s)
        articles = gen.store.articles([c.article_id for c in ranked])
        return Retrieval([
            Hit(articles[c.article_id], c.score, tuple(c.chunk_ids), c.dense, c.keyword_rank)
            for c in ranked
            if c.article_id in articles
        ], own)

    def _query_vectors(self, query: str) -> tuple[np.ndarray, np.ndarray | None]:
        """The vector to search with and, when it is not the question's own embedding, that
        embedding too.

        The search vector averages the question's embedding with its statement view's
        (``index.queryview``; weight ``question_view_weight``) when it has one. The
        relevance thresholds ("found", the citation floor) are calibrated on the question's
        own cosine, so hits report that one (``Hit.dense_score``).
        """
        weight = self.settings.question_view_weight
        view = statement_view(query) if weight > 0 else None
        if view is None:
            return self.embedder.encode_query(query), None
        both = self.embedder.encode_queries([query, view])
        mixed = (1.0 - weight) * both[0] + weight * both[1]
        return (mixed / np.linalg.norm(mixed)).astype(np.float32), both[0]

    # -- candidate generators ---------------------------------------------------------------
    def _dense(self, gen: IndexGeneration, qvec: np.ndarray, n: int, cands: dict[int, Candidate],
               restrict: np.ndarray | None) -> None:
        ids, scores = gen.search(qvec, n, restrict=restrict)
        rows = gen.store.chunk_articles(ids.tolist())
        rank = 0
        for cid, score in zip(ids.tolist(), scores.tolist(), strict=True):
            article_id = rows.get(cid)
            if article_id is None:  # deleted since; reconciled at next open
                continue
            c = cands.get(article_id)
            if c is None:
                c = cands[article_id] = Candidate(article_id)
            if c.dense is None or score > c.dense:
                c.dense = score
                c.best_chunk = cid
            if c.dense_rank is None:
                rank += 1
                c.dense_rank = rank
            c.add_chunk(cid)

    @staticmethod
    def _keyword_rows(gen: IndexGeneration, query: str, n: int) -> list[tuple[int, int, float]]:
        match = fts_query(query, select=lambda terms: plan_terms(gen.term_counts, terms))
        if not match:
            return []
        try:
            return gen.store.keyword_search(match, n)
        except Exception as exc:  # a malformed MATCH must never fail a question
            log.warning("keyword search failed: %s", exc)
            return []

    def _keyword(self, rows: list[tuple[int, int, float]], cands: dict[int, Candidate]) -> None:
        rank = 0
        for cid, article_id, bm25 in rows:
            c = cands.get(article_id)
            if c is None:
                c = cands[article_id] = Candidate(article_id)
            if c.keyword_rank is None:
                rank += 1
                c.keyword_rank = rank
                c.bm25 = -bm25
            c.add_chunk(cid)

    def _window(self, drange: DateRange | None, asked_at: dt.date | None
                ) -> tuple[dt.date | None, dt.date | None] | None:
        """Publication window searched on its own so in-window stories are candidates even
        when older ones crowd the global top-N: the period a question names; for a relative
        cue ("this week", "recently") its range; with no cue the current-news days, so this
        week's story is a candidate when it is the answer."""
        if drange is not None and (drange.start or drange.end):
            return drange.start, drange.end
        if asked_at is None:
            return None
        return asked_at - dt.timedelta(days=self.settings.current_news_days), asked_at

    def _fill_dense(self, gen: IndexGeneration, qvec: np.ndarray,
                    cands: dict[int, Candidate]) -> None:
        """Best chunk similarity for candidates found only by keywords."""
        need = [a for a, c in cands.items() if c.dense is None]
        if not need:
            return
        by_article = gen.store.chunk_ids_of(need)
        sims = gen.cosines(qvec, [cid for ids in by_article.values() for cid in ids])
        for article_id, ids in by_article.items():
            present = [cid for cid in ids if cid in sims]
            if present:
                best = max(present, key=sims.__getitem__)
                cands[article_id].dense = sims[best]
                cands[article_id].best_chunk = best

    @staticmethod
    def _asked_cosines(gen: IndexGeneration, asked: np.ndarray, ranked: list[Candidate]) -> None:
        """Replace each ranked candidate's ``dense`` with the question's own cosine (best
        over its chunks), which the relevance thresholds are calibrated on."""
        chunks = {c.article_id: set(c.chunk_ids) | ({c.best_chunk} - {None}) for c in ranked}
        sims = gen.cosines(asked, sorted({cid for group in chunks.values() for cid in group}))
        for c in ranked:
            own = [sims[cid] for cid in chunks[c.article_id] if cid in sims]
            if own:
                c.dense = max(own)

    def _hub_penalty(self, gen: IndexGeneration, cands) -> None:
        """λ · the best chunk's neighbour density (``index.hubness``), for ranking only."""
        s = self.settings
        if s.hub_penalty <= 0:
            return
        best = [c.best_chunk for c in cands if c.best_chunk is not None]
        density = hubness.densities(gen, best, s.hub_neighbours)
        for c in cands:
            if c.best_chunk is not None:
                c.hub = s.hub_penalty * density.get(c.best_chunk, 0.0)

    def _strict_filter(self, cands: dict[int, Candidate], drange: DateRange | None
                       ) -> DateRange | None:
        """Keep a calendar filter ("in July 2020", "on 4 March") only when the period holds a
        story about as close in meaning as the best one anywhere; otherwise demote it to a
        boost. A date in a question often names when something *happened* ("a report said
        Downing Street was hacked in July 2020") while the story is from later; filtering
        then leaves only unrelated articles from that month (docs/quality.md)."""
        if drange is None or not drange.strict:
            return drange
        dense = [c.dense for c in cands.values() if c.dense is not None]
        inside = [c.dense for c in cands.values()
                  if c.dense is not None and c.published and drange.contains(c.published)]
        if not inside:
            return replace(drange, strict=False)
        if dense and max(inside) < max(dense) - self.settings.date_filter_margin:
            return replace(drange, strict=False)
        return drange

    def _date_shape(self, cands, drange: DateRange | None, asked_at: dt.date | None) -> None:
        """Date boosts that follow the question's own time cue.

        - A relative cue ("this week", "yesterday", "recently", "the latest") asks about the
          news around the day asked: a boost inside its range and the recency prior
          (``recency_weight`` · exp(−age / ``recency_days``)) counted from that day.
        - A calendar period the filter kept ("in March 2017", "in 2016") asks for that
          period: the prior counts from the end of the period, so the latest story within it
          wins. A period demoted to a boost names when something happened, not which
          stories to read: it boosts the period and sets no anchor of its own.
        - No cue: the question is about whenever its story happened. Only when it matches
          current news — a story of the last ``current_news_days`` scores within
          ``current_news_margin`` of the best — is it read as asking about that news: a
          prior of ``current_news_weight`` · exp(−age / ``current_news_decay_days``) then
          lifts the newest of near-equal stories.
          An older story that matches clearly better is never buried for its age.
        """
        s = self.settings
        cands = list(cands)
        weight, days = s.recency_weight, s.recency_days
        anchor: dt.date | None = None
        if drange is not None and drange.strict and drange.calendar and drange.end:
            anchor = min(drange.end, asked_at) if asked_at else drange.end
        elif drange is not None and not drange.calendar:
            anchor = asked_at
        elif asked_at is not None and _matches_current_news(cands, asked_at, s):
            anchor, weight, days = asked_at, s.current_news_weight, s.current_news_decay_days
        for c in cands:
            if c.published is None:
                continue
            if drange is not None and not drange.strict and drange.contains(c.published):
                c.score += s.date_range_weight
            if anchor is not None and weight > 0:
                age = abs((anchor - c.published).days)
                c.score += weight * math.exp(-age / days)


def _matches_current_news(cands: list[Candidate], asked_at: dt.date,
                          settings: IndexSettings) -> bool:
    """True when a story published in the ``current_news_days`` before ``asked_at`` scores
    within ``current_news_margin`` of the best candidate (scores before any date boost)."""
    best = max((c.score for c in cands), default=None)
    if best is None:
        return False
    since = asked_at - dt.timedelta(days=settings.current_news_days)
    return any(c.published is not None and since <= c.published <= asked_at
               and c.score >= best - settings.current_news_margin for c in cands)


def fresh_story_up(ranked: list[Candidate], asked_at: dt.date,
                   settings: IndexSettings) -> list[Candidate]:
    """A question with no time cue, asked on a known day, sees that day's news among its
    first ``fresh_story_place`` stories when one is relevant on its own (the question's
    cosine reaches ``confident_relevance``): the best match by meaning keeps first place,
    and a story of the last ``current_news_days`` that ranked lower only for matching less
    well than older ones on a recurring topic moves up to that place."""
    place = settings.fresh_story_place
    if place <= 0 or len(ranked) <= place:
        return ranked
    since = asked_at - dt.timedelta(days=settings.current_news_days)

    def current(c: Candidate) -> bool:
        return c.published is not None and since <= c.published <= asked_at

    if any(current(c) for c in ranked[:place]):
        return ranked
    pick = next((c for c in ranked[place:] if current(c) and c.dense is not None
                 and c.dense >= settings.confident_relevance), None)
    if pick is None:
        return ranked
    rest = [c for c in ranked if c is not pick]
    return rest[:place - 1] + [pick] + rest[place - 1:]

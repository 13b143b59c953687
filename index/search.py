"""Retrieval: dense (FAISS) and keyword (BM25 over FTS5) candidates, fused per article.

Chunks are grouped by article before fusion, so a story with many matching chunks counts
once; each hit keeps the ids of its best chunks for quote selection.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from index.embed import Embedder
from index.fusion import reciprocal_rank_fusion
from index.generation import Generation
from index.models import Hit
from index.settings import IndexSettings
from index.text import content_terms

log = logging.getLogger(__name__)


@dataclass(slots=True)
class _ArticleCandidate:
    article_id: int
    dense: float | None = None
    keyword_rank: int | None = None
    chunk_ids: list[int] | None = None


def fts_query(text: str, max_terms: int = 24) -> str | None:
    """An FTS5 OR-query of the question's content words, each quoted (no syntax leaks)."""
    terms = content_terms(text)[:max_terms]
    if not terms:
        return None
    return " OR ".join('"' + t.replace('"', "") + '"' for t in terms)


class Retriever:
    def __init__(self, embedder: Embedder, settings: IndexSettings) -> None:
        self.embedder = embedder
        self.settings = settings

    def search(
        self,
        gen: Generation,
        query: str,
        *,
        k: int = 10,
        asked_at: dt.date | None = None,
        article_filter: Callable[[int], bool] | None = None,
    ) -> list[Hit]:
        query = query.strip()
        if not query:
            return []
        n = self.settings.search_candidates
        qvec = self.embedder.encode_query(query)
        with gen.lock:
            ids, scores = gen.vectors.search(qvec, n)
        candidates: dict[int, _ArticleCandidate] = {}
        chunk_rows = gen.store.chunks(ids.tolist())
        dense_order: list[int] = []
        for cid, score in zip(ids.tolist(), scores.tolist(), strict=True):
            row = chunk_rows.get(cid)
            if row is None:  # vector of a chunk deleted since (reconciled at next open)
                continue
            cand = candidates.get(row.article_id)
            if cand is None:
                cand = candidates[row.article_id] = _ArticleCandidate(row.article_id, score, None, [])
                dense_order.append(row.article_id)
            assert cand.chunk_ids is not None
            if len(cand.chunk_ids) < 3:
                cand.chunk_ids.append(cid)

        keyword_order: list[int] = []
        match = fts_query(query)
        if match:
            try:
                rows = gen.store.keyword_search(match, n)
            except Exception as exc:  # a malformed MATCH must never fail a question
                log.warning("keyword search failed: %s", exc)
                rows = []
            for cid, article_id, _bm25 in rows:
                cand = candidates.get(article_id)
                if cand is None:
                    cand = candidates[article_id] = _ArticleCandidate(article_id, None, None, [])
                if cand.keyword_rank is None:
                    keyword_order.append(article_id)
                    cand.keyword_rank = len(keyword_order)
                assert cand.chunk_ids is not None
                if cid not in cand.chunk_ids and len(cand.chunk_ids) < 4:
                    cand.chunk_ids.append(cid)

        if article_filter is not None:
            dense_order = [a for a in dense_order if article_filter(a)]
            keyword_order = [a for a in keyword_order if article_filter(a)]
        fused = reciprocal_rank_fusion([dense_order, keyword_order], k=self.settings.rrf_k)
        ranked = sorted(fused.items(), key=lambda kv: kv[1], reverse=True)[:k]
        articles = gen.store.articles([a for a, _ in ranked])
        missing_dense = [a for a, _ in ranked if candidates[a].dense is None]
        dense_of = self._dense_scores(gen, qvec, missing_dense)
        hits = []
        for article_id, score in ranked:
            art = articles.get(article_id)
            if art is None:
                continue
            cand = candidates[article_id]
            dense = cand.dense if cand.dense is not None else dense_of.get(article_id)
            hits.append(Hit(art, float(score), tuple(cand.chunk_ids or ()), dense,
                            cand.keyword_rank))
        return hits

    def _dense_scores(self, gen: Generation, qvec: np.ndarray, article_ids: list[int]
                      ) -> dict[int, float]:
        """Best chunk similarity for articles found only by keywords (for thresholds)."""
        out: dict[int, float] = {}
        for article_id in article_ids:
            ids = [c.id for c in gen.store.article_chunks(article_id)]
            best = None
            for _ids, vecs in gen.store.iter_vectors(ids):
                s = float(np.max(vecs @ qvec))
                best = s if best is None else max(best, s)
            if best is not None:
                out[article_id] = best
        return out

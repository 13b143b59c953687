"""Fusion of the dense and keyword evidence for each candidate article.

Two strategies, chosen by ``NEWSBOT_FUSION``: ``weighted`` (cosine + w · BM25 normalized by
the best BM25 among the candidates; the measured default) and ``rrf`` (reciprocal-rank
fusion, which needs no score calibration). Both write ``candidate.score``.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Protocol

from index.settings import IndexSettings


class Scored(Protocol):
    dense: float | None
    hub: float  # subtracted from dense for ranking (index.hubness)
    dense_rank: int | None
    bm25: float | None
    keyword_rank: int | None
    score: float


def reciprocal_rank_fusion(
    rankings: Sequence[Sequence[Hashable]],
    *,
    k: int = 60,
    weights: Sequence[float] | None = None,
) -> dict[Hashable, float]:
    """Score each item by Σ weight / (k + rank), rank starting at 1; higher is better."""
    weights = weights or [1.0] * len(rankings)
    scores: dict[Hashable, float] = {}
    for ranking, weight in zip(rankings, weights, strict=True):
        for rank, item in enumerate(ranking, start=1):
            scores[item] = scores.get(item, 0.0) + weight / (k + rank)
    return scores


def ranking_dense(c: Scored) -> float:
    """The similarity a candidate is ranked by: cosine less its hub penalty."""
    return (c.dense if c.dense is not None else 0.0) - c.hub


class WeightedFusion:
    """score = cosine − hub penalty + keyword_weight · bm25 / max(bm25 among candidates)."""

    def __init__(self, keyword_weight: float) -> None:
        self.keyword_weight = keyword_weight

    def score(self, cands: Sequence[Scored]) -> None:
        best = max((c.bm25 for c in cands if c.bm25 is not None), default=0.0)
        for c in cands:
            kw = (c.bm25 / best) if (c.bm25 is not None and best > 0) else 0.0
            c.score = ranking_dense(c) + self.keyword_weight * kw


class RankFusion:
    """Reciprocal-rank fusion of the dense and keyword rankings."""

    def __init__(self, k: int, keyword_weight: float = 1.0) -> None:
        self.k = k
        self.keyword_weight = keyword_weight

    def score(self, cands: Sequence[Scored]) -> None:
        dense = sorted((c for c in cands if c.dense is not None), key=lambda c: -ranking_dense(c))
        kw = sorted((c for c in cands if c.bm25 is not None), key=lambda c: -(c.bm25 or 0))
        scores = reciprocal_rank_fusion(
            [[id(c) for c in dense], [id(c) for c in kw]], k=self.k,
            weights=[1.0, self.keyword_weight])
        for c in cands:
            c.score = scores.get(id(c), 0.0)


def make_fusion(settings: IndexSettings) -> WeightedFusion | RankFusion:
    if settings.fusion == "rrf":
        return RankFusion(settings.rrf_k)
    return WeightedFusion(settings.keyword_weight)

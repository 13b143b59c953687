from __future__ import annotations

from dataclasses import dataclass

import pytest

from index.fusion import RankFusion, WeightedFusion, reciprocal_rank_fusion


@dataclass
class C:
    dense: float | None
    bm25: float | None
    dense_rank: int | None = None
    keyword_rank: int | None = None
    score: float = 0.0
    hub: float = 0.0


def test_rrf_by_hand() -> None:
    scores = reciprocal_rank_fusion([["a", "b", "c"], ["b", "d"]], k=1)
    assert scores["a"] == pytest.approx(1 / 2)
    assert scores["b"] == pytest.approx(1 / 3 + 1 / 2)
    assert scores["c"] == pytest.approx(1 / 4)
    assert scores["d"] == pytest.approx(1 / 3)
    assert max(scores, key=scores.get) == "b"


def test_weighted_fusion_normalizes_bm25_by_the_best() -> None:
    a, b, c = C(0.50, 10.0), C(0.55, None), C(None, 5.0)
    WeightedFusion(0.2).score([a, b, c])
    assert a.score == pytest.approx(0.50 + 0.2 * 1.0)
    assert b.score == pytest.approx(0.55)
    assert c.score == pytest.approx(0.2 * 0.5)


def test_rank_fusion_prefers_items_found_by_both() -> None:
    both, dense_only, kw_only = C(0.6, 3.0), C(0.9, None), C(None, 9.0)
    RankFusion(k=60).score([both, dense_only, kw_only])
    assert both.score > dense_only.score and both.score > kw_only.score


def test_weighted_fusion_takes_the_hub_penalty_off_the_cosine() -> None:
    hub, specific = C(0.60, None, hub=0.30), C(0.50, None, hub=0.15)
    WeightedFusion(0.2).score([hub, specific])
    assert hub.score == pytest.approx(0.30)
    assert specific.score == pytest.approx(0.35)
    assert hub.dense == 0.60  # the raw cosine (what thresholds read) is left alone


def test_rank_fusion_ranks_dense_by_the_penalized_cosine() -> None:
    hub, specific = C(0.60, None, hub=0.30), C(0.50, None, hub=0.15)
    RankFusion(k=1).score([hub, specific])
    assert specific.score == pytest.approx(1 / 2)
    assert hub.score == pytest.approx(1 / 3)

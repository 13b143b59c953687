"""Retrieval quality as a number: Hits@k and MRR@10 over questions with gold articles.

Questions go through ``Index.answer`` — the same path as the bot — and a question is a hit
at k when a gold article is among the first k distinct articles cited. The bare cost of the
model (query embedding + FAISS search) is timed in the same run so latency can be compared
with what the hardware allows.
"""

from __future__ import annotations

import datetime as dt
import json
import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from index.api import Index


@dataclass(slots=True, frozen=True)
class Question:
    id: str
    question: str
    asked_at: dt.date | None
    gold_ids: tuple[str, ...]


@dataclass(slots=True)
class EvalResult:
    questions: int = 0
    ranks: list[int | None] = field(default_factory=list)  # 1-based rank of first gold
    latencies_ms: list[float] = field(default_factory=list)
    bare_ms: list[float] = field(default_factory=list)

    def hits_at(self, k: int) -> float:
        return sum(1 for r in self.ranks if r is not None and r <= k) / max(1, self.questions)

    def mrr_at(self, k: int = 10) -> float:
        return sum(1.0 / r for r in self.ranks if r is not None and r <= k) / max(
            1, self.questions)

    def as_dict(self) -> dict[str, float | int]:
        return {
            "hits@1": round(self.hits_at(1), 4),
            "hits@3": round(self.hits_at(3), 4),
            "hits@10": round(self.hits_at(10), 4),
            "mrr@10": round(self.mrr_at(10), 4),
            "p50_ms": round(_percentile(self.latencies_ms, 50), 2),
            "p95_ms": round(_percentile(self.latencies_ms, 95), 2),
            "bare_p50_ms": round(_percentile(self.bare_ms, 50), 2),
            "questions": self.questions,
        }


def _percentile(values: list[float], pct: float) -> float:
    if not values:
        return 0.0
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(pct) - 1]


def read_questions(path: Path) -> Iterator[Question]:
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
                asked = rec.get("asked_at")
                yield Question(
                    str(rec.get("id", lineno)),
                    str(rec["question"]),
                    dt.date.fromisoformat(asked[:10]) if asked else None,
                    tuple(str(g) for g in rec.get("gold_ids") or ()),
                )
            except (ValueError, KeyError, TypeError) as exc:
                raise ValueError(f"{path}:{lineno}: bad question record ({exc})") from None


def evaluate(
    index: Index,
    questions: list[Question],
    *,
    as_of: bool = False,
    on_question: Callable[[], None] | None = None,
) -> EvalResult:
    """Ask every question; rank = position of the first gold article among citations."""
    result = EvalResult()
    index.embedder.load()
    gen = index.generation
    for q in questions:
        started = time.perf_counter()
        answer = index.answer(q.question, asked_at=q.asked_at if as_of else None, limit=10)
        result.latencies_ms.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        vec = index.embedder.encode_query(q.question)
        with gen.lock:
            gen.vectors.search(vec, index.settings.search_candidates)
        result.bare_ms.append((time.perf_counter() - started) * 1000)
        cited = [c.article.ext_id for c in answer.citations]
        rank = next((i for i, ext in enumerate(cited, start=1) if ext in q.gold_ids), None)
        result.ranks.append(rank)
        result.questions += 1
        if on_question is not None:
            on_question()
    return result

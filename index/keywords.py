"""Which of a question's words are worth a BM25 pass, judged by how many chunks hold them.

FTS5 scores every posting of every OR-ed term before it can sort and cut to the top N, so
one word found in a third of a million-chunk index ("pakistan", "bank") costs hundreds of
milliseconds — while BM25 weighs such a word at a fraction of a rare one (IDF ln 2 against
ln 200), and the meaning-based search covers it anyway. Terms are therefore taken rarest
first while their postings stay within ``POSTINGS_BUDGET``. An index of a few thousand
chunks is unaffected (every term fits), so answer quality on small corpora does not move.

A term's document count is probed with a ``LIMIT``-ed match, so it costs at most
``POSTINGS_BUDGET`` postings (~0.3 ms) however common the word is — an ``fts5vocab`` count
walks all of a word's postings. Counts are cached per store for ``CACHE_SECONDS``: they
only steer cost and weights, so a slightly stale one is harmless.
"""

from __future__ import annotations

import threading
import time

from index.storage import IndexStore

POSTINGS_BUDGET = 4_000  # ~5–8 ms of FTS5 scoring per question on one core
CACHE_SECONDS = 600.0
CACHE_TERMS = 50_000


def plan_terms(counts: TermCounts, terms: list[str], budget: int = POSTINGS_BUDGET
               ) -> list[str]:
    """``terms`` (in their order) whose summed postings stay within ``budget``, rarest first;
    a word more common than the whole budget is never scored."""
    if not terms:
        return terms
    try:
        df = counts.get(terms, cap=budget + 1)
    except Exception:  # a count that fails must not fail the question: keep every term
        return terms
    if sum(df.values()) <= budget:
        return terms
    keep: set[str] = set()
    spent = 0
    for term in sorted(terms, key=lambda t: df[t]):
        if spent + df[term] > budget:
            break
        keep.add(term)
        spent += df[term]
    return [t for t in terms if t in keep]


class TermCounts:
    """Chunks of one store holding each term (as an FTS5 phrase), counted up to a cap and
    kept for ``CACHE_SECONDS`` — one cache per cap, since a count capped lower says
    nothing about a higher cap. A generation owns one for its store."""

    def __init__(self, store: IndexStore) -> None:
        self._store = store
        self._lock = threading.Lock()
        self._by_cap: dict[int, _Counts] = {}

    def get(self, terms: list[str], cap: int = POSTINGS_BUDGET + 1) -> dict[str, int]:
        with self._lock:
            cache = self._by_cap.setdefault(cap, _Counts())
        out = cache.get(set(terms))
        unknown = [t for t in dict.fromkeys(terms) if t not in out]
        if unknown:
            fresh = self._store.term_counts(unknown, cap)
            cache.put(fresh)
            out.update(fresh)
        return {t: out[t] for t in terms}


class _Counts:
    """Document counts by term, each valid for ``CACHE_SECONDS``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: dict[str, tuple[int, float]] = {}

    def get(self, terms: set[str]) -> dict[str, int]:
        now = time.monotonic()
        out: dict[str, int] = {}
        with self._lock:
            for term in terms:
                hit = self._items.get(term)
                if hit is not None and now - hit[1] < CACHE_SECONDS:
                    out[term] = hit[0]
        return out

    def put(self, counts: dict[str, int]) -> None:
        now = time.monotonic()
        with self._lock:
            if len(self._items) + len(counts) > CACHE_TERMS:
                self._items.clear()
            for term, n in counts.items():
                self._items[term] = (n, now)

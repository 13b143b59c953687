"""BM25 as SQLite's FTS5 computes it (``bm25()`` in fts5_aux.c): the one definition both
index backends rank keywords by.

For a query of phrases p and a row D, FTS5 scores

    -Σ_p idf(p) · f(p, D) · (k1 + 1) / (f(p, D) + k1 · (1 − b + b · |D| / avgdl))

where f(p, D) is the phrase's occurrences in D, each counted with its column's weight
(title ``TITLE_WEIGHT``, text ``TEXT_WEIGHT``); |D| is the row's token count over all its
columns, unweighted; avgdl the mean of |D| over the table; idf is ``idf`` below. k1 and b
are fixed in FTS5. The SQLite store passes the weights to ``bm25()``; the PostgreSQL store
(``index.pgfts``) evaluates the same formula in SQL.
"""

from __future__ import annotations

import math

K1 = 1.2
B = 0.75
TITLE_WEIGHT = 2.0  # a title (search title: headline + link topics) hit counts twice
TEXT_WEIGHT = 1.0
MIN_IDF = 1e-6  # FTS5's floor for a phrase in half the rows or more (its idf would be ≤ 0)


def idf(rows: int, hits: int) -> float:
    """FTS5's idf of a phrase held by ``hits`` of ``rows`` rows: ln((N − n + 0.5) /
    (n + 0.5)), floored at ``MIN_IDF`` (a very common word still counts, a little)."""
    value = math.log((max(rows, hits) - hits + 0.5) / (hits + 0.5))
    return value if value > 0.0 else MIN_IDF

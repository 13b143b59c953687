"""Whole-column reads a rebuild makes at 1M chunks (every chunk id for the FAISS build and
the check before the swap; every article's day for the neighbour lists) come row by row
into numpy arrays, never through a list of row tuples first (~90 MB at 1M, beside two
indexes): the values are the same, and the Python memory they take at their peak is the
arrays' own."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import numpy as np

from index.chunkdays import UNDATED, day_number
from index.store import Store

ROWS = 30_000
DATES = ["2015-03-04T10:00:00+05:00", "2015-03-04", None, "", "not a date", "2014-12-31"]


def _filled(path: Path) -> Store:
    store = Store(path)
    with store.lock:
        conn = store.conn
        conn.executemany(
            "INSERT INTO articles (id, ext_id, body_hash, title, published_at, source, body, "
            "ingested_at) VALUES (?, ?, ?, 't', ?, 's', 'b', '2020-01-01')",
            [(a, f"e{a}", f"h{a}", DATES[a % len(DATES)]) for a in range(1, ROWS // 3 + 1)])
        conn.executemany(
            "INSERT INTO chunks (id, article_id, ordinal, start, end, text, vector) "
            "VALUES (?, ?, 0, 0, 1, 'x', x'00')",
            [(5 + 2 * c, 1 + c // 3) for c in range(ROWS)])
        conn.commit()
    return store


def _peak(call):  # type: ignore[no-untyped-def]
    tracemalloc.start()
    try:
        out = call()
        return out, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_chunk_ids_and_article_days_come_without_row_lists(tmp_path: Path) -> None:
    store = _filled(tmp_path / "s.sqlite")
    ids, peak = _peak(store.chunk_ids)
    assert ids.dtype == np.int64 and ids.tolist() == [5 + 2 * c for c in range(ROWS)]
    # the array (240 kB) grown by doubling; 30,000 row tuples alone would be ~2.4 MB
    assert peak < 4 * ids.nbytes
    (articles, days), peak = _peak(store.article_days)
    assert articles.tolist() == list(range(1, ROWS // 3 + 1))
    want = [day_number(DATES[a % len(DATES)]) for a in articles.tolist()]
    assert days.tolist() == want and UNDATED in want and day_number("2015-03-04") in want
    assert peak < 8 * (articles.nbytes + days.nbytes)
    store.close()

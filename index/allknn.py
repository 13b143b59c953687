"""The nearest stored vectors of many stored vectors at once, by matrix products.

A rebuild needs the neighbour list of every chunk (``index.hubness``). Asking FAISS one
batch at a time scans codes with a distance function per vector; here the queries are
grouped by the inverted lists they probe (the same lists a FAISS search would probe), each
list is decoded once per block of queries, and all its scores come from one BLAS product.
Results are FAISS's own up to float rounding: same probed lists, same codes, same k.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np

from index.vectors import VectorIndex

BLOCK_ROWS = 4_096  # queries whose running best lists are kept at once
PRODUCT_ROWS = 1_024  # queries multiplied against one part of a list at a time


def nearest_of_all(index: VectorIndex, batches: Iterable[tuple[np.ndarray, np.ndarray]],
                   k: int, *, block_rows: int = BLOCK_ROWS
                   ) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """For each block of the query rows in ``batches`` ((ids, vectors) pairs): (their ids,
    ids of their ``k`` nearest in ``index``, the inner products), best first, padded with
    id -1 where the probed lists hold fewer than ``k`` vectors."""
    for ids, queries in _blocks(batches, block_rows):
        found, scores = _block_nearest(index, queries, k)
        yield ids, found, scores


def _blocks(batches: Iterable[tuple[np.ndarray, np.ndarray]], rows: int
            ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """``batches`` regrouped into blocks of exactly ``rows`` queries (the last may be
    shorter). The float32 rows are copied into one buffer reused for every block, so a
    block costs its own size and no list of parts besides: each block must be used up
    before the next is asked for."""
    buffer: np.ndarray | None = None
    ids: list[np.ndarray] = []
    held = 0
    for part_ids, part_vectors in batches:
        part_ids = np.asarray(part_ids, dtype=np.int64)
        if buffer is None:
            buffer = np.empty((rows, np.shape(part_vectors)[1]), dtype=np.float32)
        start = 0
        while start < len(part_ids):
            take = min(rows - held, len(part_ids) - start)
            buffer[held:held + take] = part_vectors[start:start + take]
            ids.append(part_ids[start:start + take])
            held += take
            start += take
            if held == rows:
                yield np.concatenate(ids), buffer
                ids, held = [], 0
    if held and buffer is not None:
        yield np.concatenate(ids), buffer[:held]


def _block_nearest(index: VectorIndex, queries: np.ndarray, k: int
                   ) -> tuple[np.ndarray, np.ndarray]:
    n = len(queries)
    best = np.full((n, k), -np.inf, dtype=np.float32)
    best_ids = np.full((n, k), -1, dtype=np.int64)
    probes = index.probes(queries)
    # (list, query row) pairs sorted by list; 32-bit, as lists and rows are few
    pair_lists = probes.ravel().astype(np.int32)
    pair_rows = np.repeat(np.arange(n, dtype=np.int32), probes.shape[1])
    del probes
    order = np.argsort(pair_lists, kind="stable")
    pair_lists, pair_rows = pair_lists[order], pair_rows[order]
    del order
    for lst, ids, vectors in index.lists():
        lo, hi = np.searchsorted(pair_lists, [lst, lst + 1])
        rows = pair_rows[lo:hi]
        for start in range(0, len(rows), PRODUCT_ROWS):
            part = rows[start:start + PRODUCT_ROWS]
            _merge(best, best_ids, part, queries[part] @ vectors.T, ids, k)
    order = np.argsort(-best, axis=1, kind="stable")
    best = np.take_along_axis(best, order, axis=1)
    best_ids = np.take_along_axis(best_ids, order, axis=1)
    best_ids[~np.isfinite(best)] = -1
    return best_ids, best


def _merge(best: np.ndarray, best_ids: np.ndarray, rows: np.ndarray, scores: np.ndarray,
           ids: np.ndarray, k: int) -> None:
    """Keep, for each of ``rows``, the ``k`` highest of its current best and ``scores``."""
    cand = np.concatenate([best[rows], scores], axis=1)
    cand_ids = np.concatenate([best_ids[rows], np.broadcast_to(ids, scores.shape)], axis=1)
    top = np.argpartition(-cand, k - 1, axis=1)[:, :k]
    best[rows] = np.take_along_axis(cand, top, axis=1)
    best_ids[rows] = np.take_along_axis(cand_ids, top, axis=1)

"""Resident memory of the neighbour pass a rebuild ends with (``index.allknn``) over a
built vector index: the resident size once the index is built and trimmed, and the
highest resident size sampled while the first blocks of queries are answered.

Run as ``python -m tests.bench.allknn_memory COUNT [--dim 768] [--blocks 2]
[--block-rows N]``, e.g.
``300000``. Vectors are random unit vectors rounded to float16 (what SQLite holds), fed
in batches of 10,000 as ``Store.iter_vectors`` yields them; the index is built by the
product's ``VectorIndex.build``. Prints one JSON object (MB).
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from collections.abc import Iterator

import numpy as np

from index.allknn import BLOCK_ROWS, nearest_of_all
from index.bench.rebuild import MB, resident_bytes
from index.memory import release_memory
from index.vectors import VectorIndex

BATCH = 10_000  # Store.iter_vectors' batch
K = 41  # hubness.SEARCHED


def _batches(n: int, dim: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(1)
    for start in range(0, n, BATCH):
        m = min(BATCH, n - start)
        v = rng.standard_normal((m, dim), dtype=np.float32)
        v /= np.linalg.norm(v, axis=1, keepdims=True)
        yield np.arange(start + 1, start + m + 1, dtype=np.int64), \
            v.astype(np.float16).astype(np.float32)


class _High:
    """The highest resident size sampled every 20 ms on a thread."""

    def __init__(self) -> None:
        self.high = resident_bytes()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            self.high = max(self.high, resident_bytes())

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return max(self.high, resident_bytes())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("count", type=int)
    parser.add_argument("--dim", type=int, default=768)
    parser.add_argument("--blocks", type=int, default=2)
    parser.add_argument("--block-rows", type=int, default=BLOCK_ROWS)
    args = parser.parse_args()
    sample = next(_batches(args.count, args.dim))[1]
    index = VectorIndex.build(args.dim, args.count, lambda n: sample[:n],
                              lambda: _batches(args.count, args.dim))
    release_memory()
    out: dict[str, object] = {"layout": index.describe(), "built_rss": round(resident_bytes() / MB)}
    high = _High()
    started = time.perf_counter()
    queries = 0
    for n, (ids, _found, _scores) in enumerate(
            nearest_of_all(index, _batches(args.count, args.dim), K,
                           block_rows=args.block_rows), start=1):
        queries += len(ids)
        if n >= args.blocks:
            break
    out["pass_peak"] = round(high.stop() / MB)
    out["pass_over_built"] = out["pass_peak"] - out["built_rss"]  # type: ignore[operator]
    out["queries"] = queries
    out["block_rows"] = args.block_rows
    out["seconds"] = round(time.perf_counter() - started, 1)
    print(json.dumps(out))


if __name__ == "__main__":
    main()

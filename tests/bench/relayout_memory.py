"""Resident memory of two vector indexes built one after the other in one process, as a
relayout holds them (``Generation.relayout`` builds the new index beside the old one),
then of dropping the first, then of handing freed heap back with glibc's ``malloc_trim``.

Run as ``python -m tests.bench.relayout_memory FIRST SECOND [--dim 768]``, e.g.
``699000 700000``: an mpnet index crossing the float16 → 8-bit code budget. Vectors are
random unit vectors (the memory of IVF codes does not depend on their values); the
indexes are built by the product's ``VectorIndex.build``. Prints one JSON object (MB).
"""

from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import gc
import json
from collections.abc import Callable, Iterator

import numpy as np

from index.bench.probe import peak_rss_bytes
from index.bench.rebuild import MB, resident_bytes
from index.vectors import VectorIndex

BATCH = 20_000


def _unit(rng: np.random.Generator, n: int, dim: int) -> np.ndarray:
    v = rng.standard_normal((n, dim), dtype=np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def _batches(n: int, dim: int) -> Callable[[], Iterator[tuple[np.ndarray, np.ndarray]]]:
    def gen() -> Iterator[tuple[np.ndarray, np.ndarray]]:
        rng = np.random.default_rng(1)
        for start in range(0, n, BATCH):
            m = min(BATCH, n - start)
            yield np.arange(start + 1, start + m + 1, dtype=np.int64), _unit(rng, m, dim)
    return gen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("first", type=int)
    parser.add_argument("second", type=int)
    parser.add_argument("--dim", type=int, default=768)
    args = parser.parse_args()
    sample = lambda n: _unit(np.random.default_rng(99), n, args.dim)  # noqa: E731
    out: dict[str, object] = {"base": round(resident_bytes() / MB)}
    first = VectorIndex.build(args.dim, args.first, sample, _batches(args.first, args.dim))
    out["first"] = {"layout": first.describe(), "rss": round(resident_bytes() / MB),
                    "peak": round(peak_rss_bytes() / MB)}
    second = VectorIndex.build(args.dim, args.second, sample, _batches(args.second, args.dim))
    out["both"] = {"layout": second.describe(), "rss": round(resident_bytes() / MB),
                   "peak": round(peak_rss_bytes() / MB)}
    del first
    gc.collect()
    out["first_dropped_rss"] = round(resident_bytes() / MB)
    libc = ctypes.util.find_library("c")
    if libc and hasattr(ctypes.CDLL(libc), "malloc_trim"):
        ctypes.CDLL(libc).malloc_trim(0)
        out["after_malloc_trim_rss"] = round(resident_bytes() / MB)
    print(json.dumps(out))


if __name__ == "__main__":
    main()

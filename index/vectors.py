"""The FAISS side of the index: chunk vectors keyed by chunk id, saved atomically.

SQLite holds every vector too, so this file is a fast cache that can always be rebuilt;
``VectorIndex.load`` therefore treats a torn or unreadable file as "rebuild from SQLite",
never as data loss.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import faiss
import numpy as np

log = logging.getLogger(__name__)

# Single queries are faster on one thread; batch work does not gain much from more here.
faiss.omp_set_num_threads(1)


class VectorIndex:
    """``IndexIDMap2(IndexFlatIP)``: exact inner-product search with removable ids."""

    def __init__(self, dim: int, index: faiss.Index | None = None) -> None:
        self.dim = dim
        self.index = index if index is not None else faiss.IndexIDMap2(faiss.IndexFlatIP(dim))

    @classmethod
    def load(cls, path: Path, dim: int) -> VectorIndex | None:
        """The saved index, or None when missing, torn or of another dimension."""
        if not path.exists():
            return None
        try:
            index = faiss.read_index(str(path))
        except Exception as exc:  # faiss raises RuntimeError with C++ text
            log.warning("vector file %s is unreadable (%s); rebuilding it from SQLite", path,
                        str(exc).splitlines()[0][:200])
            return None
        if index.d != dim:
            log.warning("vector file %s has dimension %d, model has %d; rebuilding",
                        path, index.d, dim)
            return None
        return cls(dim, index)

    @property
    def ntotal(self) -> int:
        return int(self.index.ntotal)

    def ids(self) -> np.ndarray:
        if self.ntotal == 0:
            return np.zeros(0, dtype=np.int64)
        return faiss.vector_to_array(self.index.id_map).astype(np.int64)

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        if len(ids):
            self.index.add_with_ids(
                np.ascontiguousarray(vectors, dtype=np.float32),
                np.ascontiguousarray(ids, dtype=np.int64),
            )

    def remove(self, ids: np.ndarray | list[int]) -> int:
        if len(ids) == 0:
            return 0
        return int(self.index.remove_ids(np.asarray(ids, dtype=np.int64)))

    def search(self, vector: np.ndarray, k: int, *, restrict: np.ndarray | None = None
               ) -> tuple[np.ndarray, np.ndarray]:
        """Chunk ids and inner-product scores of the ``k`` nearest vectors, best first;
        ``restrict`` limits the search to those chunk ids."""
        if self.ntotal == 0 or k <= 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        params = None
        if restrict is not None:
            params = faiss.SearchParameters(
                sel=faiss.IDSelectorBatch(np.ascontiguousarray(restrict, dtype=np.int64)))
        scores, ids = self.index.search(vector.reshape(1, -1).astype(np.float32), k,
                                        params=params)
        keep = ids[0] >= 0
        return ids[0][keep], scores[0][keep]

    def save(self, path: Path) -> None:
        """Write beside the old file, fsync, then rename over it: never a half-written index."""
        tmp = path.with_name(path.name + ".tmp")
        faiss.write_index(self.index, str(tmp))
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
        fsync_dir(path.parent)


def fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)

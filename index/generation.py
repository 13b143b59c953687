"""One generation of the index: a directory holding ``newsbot.sqlite`` and ``vectors.faiss``.

``data_dir/CURRENT`` names the live generation. A rebuild fills a new generation beside it
and then replaces ``CURRENT`` by an atomic rename, so a crash at any instant leaves either
the old or the new generation live — never a mix.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import threading
import time
import uuid
from pathlib import Path

import numpy as np

from index.chunkdays import ChunkDays
from index.store import Store
from index.vectors import VectorIndex, fsync_dir

log = logging.getLogger(__name__)

CURRENT = "CURRENT"
SQLITE_NAME = "newsbot.sqlite"
VECTORS_NAME = "vectors.faiss"


class ModelChanged(RuntimeError):
    """The generation was embedded by another model than the configured one."""

    def __init__(self, stored_model: str, model: str) -> None:
        super().__init__(
            f"this index was built with embedding model {stored_model!r}; the setting "
            f"NEWSBOT_EMBEDDING_MODEL is {model!r}")
        self.stored_model = stored_model
        self.model = model


class Generation:
    def __init__(self, directory: Path, store: Store, vectors: VectorIndex) -> None:
        self.dir = directory
        self.store = store
        self.vectors = vectors
        self.lock = threading.RLock()  # guards FAISS (not thread-safe for add + search)
        self.dirty = False
        self.days = ChunkDays()  # publication day per chunk, for date windows

    @property
    def vectors(self) -> VectorIndex:
        return self._vectors

    @vectors.setter
    def vectors(self, vectors: VectorIndex) -> None:
        """Every vector index this generation serves can read exact (float16) vectors
        from SQLite, which an index with 8-bit codes re-scores its candidates with."""
        vectors.exact = self._exact_vectors
        self._vectors = vectors

    def _exact_vectors(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        parts = list(self.store.iter_vectors(np.asarray(ids, dtype=np.int64).tolist()))
        if not parts:
            return np.zeros(0, dtype=np.int64), np.zeros((0, self._vectors.dim), np.float32)
        return (np.concatenate([i for i, _ in parts]),
                np.concatenate([v for _, v in parts]))

    @classmethod
    def open(cls, directory: Path, dim: int, model: str) -> Generation:
        directory.mkdir(parents=True, exist_ok=True)
        store = Store(directory / SQLITE_NAME)
        stored_model = store.get_meta("model")
        if stored_model is None:
            store.set_meta("model", model)
            store.set_meta("dim", str(dim))
        elif stored_model != model or store.get_meta("dim") != str(dim):
            store.close()
            raise ModelChanged(stored_model, model)
        vectors = VectorIndex.load(directory / VECTORS_NAME, dim) or VectorIndex(dim)
        gen = cls(directory, store, vectors)
        if gen.reconcile() == (0, 0):  # a repair already started reading the days
            gen.days.load_in_background(directory / SQLITE_NAME)
        return gen

    def reconcile(self) -> tuple[int, int]:
        """Make FAISS hold exactly the chunks SQLite holds (SQLite is the truth).

        After a crash between a committed batch and the next vector save, FAISS lacks the
        newest chunks (or still has replaced ones); both are fixed from SQLite's copies. A
        missing or torn vector file is rebuilt whole, directly in the layout its size calls
        for, and a file whose layout no longer fits its size is rebuilt too.
        """
        with self.lock:
            want = self.store.chunk_ids()
            have = self.vectors.ids()
            if len(np.unique(have)) != len(have):
                log.warning("vector file has duplicate ids; rebuilding it from SQLite")
                self.vectors = VectorIndex(self.vectors.dim)
                have = np.zeros(0, dtype=np.int64)
            if len(have) == 0 and len(want):
                self.vectors = self._build(want)
                log.info("rebuilt vector file from SQLite: %d vectors (%s)", len(want),
                         self.vectors.describe())
                self.save_vectors()
                self.days.load_in_background(self.dir / SQLITE_NAME)
                return len(want), 0
            missing = np.setdiff1d(want, have, assume_unique=True)
            extra = np.setdiff1d(have, want, assume_unique=True)
            if len(extra):
                self.vectors.remove(extra)
            if len(missing):
                for ids, vecs in self.store.iter_vectors(missing.tolist()):
                    self.vectors.add(ids, vecs)
            if len(missing) or len(extra):
                log.info("repaired vector file: %d added, %d removed", len(missing), len(extra))
                self.dirty = True
                self.days.load_in_background(self.dir / SQLITE_NAME)  # re-read them too
            if self.vectors.needs_relayout():
                self.relayout(want)
            if self.dirty:
                self.save_vectors()
            return len(missing), len(extra)

    def relayout(self, ids: np.ndarray | None = None) -> None:
        """Rebuild FAISS from SQLite's vectors in the layout its size now calls for (flat →
        IVF as it grows, IVF retrained after ~16× growth). The new index is built beside the
        old one, which keeps answering queries until the swap.

        Callers hold the only write access (``Index``'s write lock, or the open), so no
        vector is added or removed while the copy is made.
        """
        ids = self.store.chunk_ids() if ids is None else ids
        old = self.vectors.describe()
        new = self._build(ids)
        with self.lock:
            self.vectors = new
            self.dirty = True
        log.info("vector index relaid out: %s → %s (%d vectors)", old, new.describe(), len(ids))

    def _build(self, ids: np.ndarray) -> VectorIndex:
        def sample(n: int) -> np.ndarray:
            pick = ids if n >= len(ids) else np.sort(
                np.random.default_rng(len(ids)).choice(ids, size=n, replace=False))
            parts = [vecs for _, vecs in self.store.iter_vectors(pick.tolist())]
            return np.concatenate(parts) if parts else np.zeros((0, self.vectors.dim), np.float32)

        return VectorIndex.build(self.vectors.dim, len(ids), sample,
                                 lambda: self.store.iter_vectors(None))

    def chunk_ids_published(self, start: dt.date | None, end: dt.date | None) -> np.ndarray:
        """Ids of chunks whose article was published within [start, end] (inclusive)."""
        ids = self.days.window(start, end)
        return ids if ids is not None else self.store.chunk_ids_published(start, end)

    def note_written(self, added: np.ndarray, published: list[int],
                     removed: np.ndarray | list[int]) -> None:
        """Keep the in-memory day index in step with a committed batch."""
        self.days.update(np.asarray(added), np.asarray(published),
                         np.asarray(removed, dtype=np.int64))

    def check(self) -> list[str]:
        """Disagreements between FAISS ids, SQLite chunks and FTS rows (empty = healthy)."""
        problems = []
        with self.lock:
            want = self.store.chunk_ids()
            have = np.sort(self.vectors.ids())
            fts = self.store.fts_count()
        if len(want) != len(have) or not np.array_equal(want, have):
            problems.append(f"FAISS holds {len(have)} vectors, SQLite {len(want)} chunks")
        if fts != len(want):
            problems.append(f"FTS holds {fts} rows, SQLite {len(want)} chunks")
        return problems

    def delete_articles(self, article_ids: list[int]) -> int:
        """Delete these articles from SQLite (one transaction: rows, chunks, FTS) and then
        their vectors; returns the number of chunks removed. Should a crash fall between the
        two, opening the generation again removes the leftover vectors (SQLite is the truth)."""
        with self.lock:
            removed = self.store.delete_articles(article_ids)
            if removed:
                self.vectors.remove(np.asarray(removed, dtype=np.int64))
                self.note_written(np.zeros(0, dtype=np.int64), [], removed)
                self.save_vectors()
        return len(removed)

    def save_vectors(self) -> None:
        with self.lock:
            self.vectors.save(self.dir / VECTORS_NAME)
            self.dirty = False

    def disk_bytes(self) -> int:
        return sum(p.stat().st_size for p in self.dir.iterdir() if p.is_file())

    def close(self) -> None:
        with self.lock:
            if self.dirty:
                self.save_vectors()
            self.store.close()


def current_dir(data_dir: Path) -> Path | None:
    pointer = data_dir / CURRENT
    if not pointer.exists():
        return None
    name = pointer.read_text().strip()
    return data_dir / name if name else None


def new_dir(data_dir: Path) -> Path:
    # Microseconds keep names in creation order (the pointer fallback picks the newest by
    # name); the random suffix only guards against two processes in the same microsecond.
    now = time.time()
    name = (time.strftime("gen-%Y%m%dT%H%M%S", time.localtime(now))
            + f"{int(now * 1_000_000) % 1_000_000:06d}-" + uuid.uuid4().hex[:6])
    path = data_dir / name
    path.mkdir(parents=True)
    return path


def point_current(data_dir: Path, directory: Path) -> None:
    """Atomically make ``directory`` the live generation."""
    tmp = data_dir / (CURRENT + ".tmp")
    with open(tmp, "w") as fh:
        fh.write(directory.name + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, data_dir / CURRENT)
    fsync_dir(data_dir)

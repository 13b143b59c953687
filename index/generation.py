"""One generation of the index: a directory holding ``newsbot.sqlite`` and ``vectors.faiss``,
and the only door to them — searches, vector reads and batch writes take its lock here.

Which generation is live, and how a new one replaces it, is ``index.lifecycle``'s job.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from index import hubness
from index.chunkdays import ChunkDays
from index.keywords import TermCounts
from index.memory import release_memory
from index.store import VECTOR_PAGE, PendingArticle, Store
from index.vectors import VectorIndex, cosines_with

log = logging.getLogger(__name__)

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
        # A generation a rebuild is filling writes SQLite only; ``index_written`` then builds
        # FAISS once, in its final layout, and every neighbour list (``defer_vectors``).
        self.vectors_deferred = False
        self.days = ChunkDays()  # publication day per chunk, for date windows
        self.term_counts = TermCounts(store)  # how many chunks hold a word (cached)

    @property
    def vectors(self) -> VectorIndex:
        return self._vectors

    @vectors.setter
    def vectors(self, vectors: VectorIndex) -> None:
        """Every vector index this generation serves can read exact (float16) vectors
        from SQLite, which an index with 8-bit codes re-scores its candidates with."""
        vectors.exact = self._exact_vectors
        self._vectors = vectors

    def read_days(self, undated: int) -> str:
        """Every chunk's publication day, for ``ChunkDays`` (on a read-only connection)."""
        return Store.chunk_days_text(self.dir / SQLITE_NAME, undated)

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
            gen.days.load_in_background(gen.read_days)
        return gen

    @classmethod
    def open_as_built(cls, directory: Path) -> Generation:
        """Open a generation with the model name and vector size it records, so no embedder
        is needed: for tools that verify or repair an index without embedding (a restore
        rebuilds a missing vector file from SQLite here)."""
        built = built_with(directory)
        if built is None:
            raise FileNotFoundError(f"{directory} holds no index")
        model, dim = built
        return cls.open(directory, dim, model)

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
                self.days.load_in_background(self.read_days)
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
                self.days.load_in_background(self.read_days)  # re-read them too
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
        release_memory()  # the replaced index's memory, which glibc would otherwise keep
        log.info("vector index relaid out: %s → %s (%d vectors)", old, new.describe(), len(ids))

    def _build(self, ids: np.ndarray) -> VectorIndex:
        def sample(n: int) -> np.ndarray:
            pick = ids if n >= len(ids) else np.sort(
                np.random.default_rng(len(ids)).choice(ids, size=n, replace=False))
            parts = [vecs for _, vecs in self.store.iter_vectors(pick.tolist())]
            return np.concatenate(parts) if parts else np.zeros((0, self.vectors.dim), np.float32)

        return VectorIndex.build(self.vectors.dim, len(ids), sample,
                                 lambda: self.store.iter_vectors(None, batch=VECTOR_PAGE))

    # -- the door: reads and writes of this generation's vectors take its lock here ------
    @property
    def name(self) -> str:
        return self.dir.name

    @property
    def ntotal(self) -> int:
        return self.vectors.ntotal

    def describe(self) -> str:
        return self.vectors.describe()

    def search(self, vector: np.ndarray, k: int, *, restrict: np.ndarray | None = None
               ) -> tuple[np.ndarray, np.ndarray]:
        """(chunk ids, scores) of the ``k`` nearest chunks, optionally only among ``restrict``."""
        with self.lock:
            return self.vectors.search(vector, k, restrict=restrict)

    def neighbours(self, vectors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        with self.lock:
            return self.vectors.neighbours(vectors, k)

    def vectors_of(self, ids: list[int]) -> dict[int, np.ndarray]:
        """Each chunk's stored vector: FAISS's copy when it keeps float16 codes (exact),
        SQLite's when FAISS keeps 8-bit codes (so a cosine is the same at every size).
        Ids not stored are left out (deleted since, or awaiting the next open's repair)."""
        if not ids:
            return {}
        if self.vectors.reranks:
            found, vecs = self._exact_vectors(np.asarray(ids, dtype=np.int64))
        else:
            with self.lock:
                found, vecs = self.vectors.reconstruct(ids)
        return dict(zip(found.tolist(), vecs, strict=True))

    def cosines(self, vector: np.ndarray, ids: list[int]) -> dict[int, float]:
        """Cosine of ``vector`` with each stored chunk of ``ids`` (missing ones left out)."""
        return cosines_with(self.vectors_of(ids), vector)

    def write_batch(self, batch: Sequence[PendingArticle], vectors: np.ndarray
                    ) -> tuple[list[int], list[int]]:
        """Commit a batch to SQLite and its vectors to FAISS as one step (the vector file
        is saved later); returns (new chunk ids, chunk ids removed by replaced articles)."""
        with self.lock:
            new_ids, removed = self.store.write_batch(batch)
            if not self.vectors_deferred:
                self.vectors.remove(removed)
                self.vectors.add(np.asarray(new_ids, dtype=np.int64), vectors)
                self.dirty = True
        return new_ids, removed

    def relayout_if_needed(self) -> None:
        if not self.vectors_deferred and self.vectors.needs_relayout():
            self.relayout()

    def defer_vectors(self) -> None:
        """From now until ``index_written``, batches are committed to SQLite only: no FAISS
        adds, no relayouts on the way (an index growing to 1M chunks would be rebuilt three
        times, each beside the last), no neighbour lists per batch. Only for a generation
        nobody searches yet (a rebuild's or a re-embed's new one)."""
        with self.lock:
            if self.store.counts()[1]:
                raise RuntimeError("vectors can only be deferred in an empty generation")
            self.vectors_deferred = True

    def index_written(self, *, story_similarity: float,
                      on_block: Callable[[int, int], None] | None = None,
                      neighbours: bool = True) -> None:
        """End ``defer_vectors``: build FAISS from SQLite once, in the layout its size calls
        for, then (``neighbours``) every chunk's neighbour list against the whole index
        (``hubness.record_all``; ``on_block(done, total)`` after each block). Later batches
        take the usual path. Freed build memory is handed back to the system."""
        if not self.vectors_deferred:
            return
        release_memory()  # what the copy freed (the model's activations) before the build
        self.relayout()
        release_memory()
        if neighbours:
            hubness.record_all(self, self.vectors, story_similarity=story_similarity,
                               on_block=on_block)
        self.vectors_deferred = False
        release_memory()

    def save_if_dirty(self) -> None:
        with self.lock:
            if self.dirty:
                self.save_vectors()

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
        """Save, close the database and let go of the vector index (a retired generation
        object may stay referenced until its files are deleted; its memory should not)."""
        with self.lock:
            self.save_if_dirty()
            self.store.close()
            self._vectors = VectorIndex(self._vectors.dim)


def built_with(directory: Path) -> tuple[str, int] | None:
    """The embedding model name and vector size a generation records (None when the
    directory holds no index yet)."""
    if not (directory / SQLITE_NAME).is_file():
        return None
    store = Store(directory / SQLITE_NAME)
    try:
        model, dim = store.get_meta("model"), store.get_meta("dim")
    finally:
        store.close()
    return (model, int(dim)) if model is not None and dim is not None else None

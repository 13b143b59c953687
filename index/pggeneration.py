"""One generation of the index in PostgreSQL: a schema holding ``index.pgstore``'s tables,
searched by pgvector instead of a FAISS file.

It offers what ``index.generation.Generation`` offers (``index.storage.IndexGeneration``),
so ingest, retrieval, dates, quotes and answers run on it unchanged. What differs: the
vectors live in the database, so there is nothing to save, repair or re-lay out; the
vector search is ``PgStore.nearest`` (HNSW, or an exact scan inside a date window); a
rebuild's bulk load writes rows without the HNSW index and builds it once at the end.
Which schema is live, and how a new one replaces it, is ``index.backends``'s job.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable, Sequence

import numpy as np

from index import hubness
from index.chunkdays import ChunkDays
from index.generation import ModelChanged
from index.keywords import TermCounts
from index.memory import release_memory
from index.pgstore import PgStore
from index.store import PendingArticle
from index.vectors import VectorIndex, cosines_with

log = logging.getLogger(__name__)


class PgGeneration:
    def __init__(self, store: PgStore) -> None:
        if store.schema is None:
            raise ValueError("a PostgreSQL generation lives in a schema of its own")
        self.store = store
        self.lock = threading.RLock()  # taken by hubness.record_all, as on SQLite
        self.vectors_deferred = False
        self.days = ChunkDays()
        self.term_counts = TermCounts(store)

    @classmethod
    def open(cls, url: str, schema: str, dim: int, model: str) -> PgGeneration:
        """Open (creating if needed) the generation in ``schema``; one embedded by another
        model raises ``ModelChanged``, as on SQLite."""
        store = PgStore(url, dim, schema=schema)
        try:
            stored_model = store.get_meta("model")
            if stored_model is None:
                store.set_meta("model", model)
                store.set_meta("dim", str(dim))
            elif stored_model != model or store.get_meta("dim") != str(dim):
                raise ModelChanged(stored_model, model)
        except BaseException:
            store.close()
            raise
        gen = cls(store)
        gen.days.load_in_background(store.chunk_days_text)
        return gen

    @property
    def name(self) -> str:
        return str(self.store.schema)

    @property
    def ntotal(self) -> int:
        return self.store.chunk_count()

    def describe(self) -> str:
        return f"pgvector hnsw ({self.ntotal} vectors)"

    # -- vector search --------------------------------------------------------------------
    def search(self, vector: np.ndarray, k: int, *, restrict: np.ndarray | None = None
               ) -> tuple[np.ndarray, np.ndarray]:
        return self.store.nearest(vector, k, restrict=restrict)

    def neighbours(self, vectors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        return self.store.nearest_many(vectors, k)

    def vectors_of(self, ids: list[int]) -> dict[int, np.ndarray]:
        if not ids:
            return {}
        out: dict[int, np.ndarray] = {}
        for found, vecs in self.store.iter_vectors(ids):
            out.update(zip(found.tolist(), vecs, strict=True))
        return out

    def cosines(self, vector: np.ndarray, ids: list[int]) -> dict[int, float]:
        return cosines_with(self.vectors_of(ids), vector)

    def chunk_ids_published(self, start: dt.date | None, end: dt.date | None) -> np.ndarray:
        ids = self.days.window(start, end)
        return ids if ids is not None else self.store.chunk_ids_published(start, end)

    # -- writes ---------------------------------------------------------------------------
    def write_batch(self, batch: Sequence[PendingArticle], vectors: np.ndarray
                    ) -> tuple[list[int], list[int]]:
        """One transaction: rows, vectors and full text (each item carries its vectors)."""
        return self.store.write_batch(batch)

    def note_written(self, added: np.ndarray, published: list[int],
                     removed: np.ndarray | list[int]) -> None:
        self.days.update(np.asarray(added), np.asarray(published),
                         np.asarray(removed, dtype=np.int64))

    def delete_articles(self, article_ids: list[int]) -> int:
        removed = self.store.delete_articles(article_ids)
        if removed:
            self.note_written(np.zeros(0, dtype=np.int64), [], removed)
        return len(removed)

    def relayout_if_needed(self) -> None:
        """HNSW needs no relayout as it grows."""

    def save_if_dirty(self) -> None:
        """Every write is committed as it is made: nothing to save."""

    def save_vectors(self) -> None:
        """Every write is committed as it is made: nothing to save."""

    def defer_vectors(self) -> None:
        """Until ``index_written``, rows are written without the HNSW index (built once at
        the end, far faster than growing it row by row) and without neighbour lists. Only
        for a generation nobody searches yet."""
        if self.store.counts()[1]:
            raise RuntimeError("vectors can only be deferred in an empty generation")
        self.store.drop_vector_index()
        self.vectors_deferred = True

    def index_written(self, *, story_similarity: float,
                      on_block: Callable[[int, int], None] | None = None,
                      neighbours: bool = True) -> None:
        """End ``defer_vectors``: build the HNSW index, then (``neighbours``) every chunk's
        neighbour list against an exact in-memory copy of the vectors
        (``hubness.record_all``, as a rebuild on SQLite computes them), freed afterwards."""
        if not self.vectors_deferred:
            return
        self.store.create_vector_index()
        ids = self.store.chunk_ids()
        if len(ids) and neighbours:
            exact = VectorIndex.build(self.store.dim, len(ids), self._sample(ids),
                                      lambda: self.store.iter_vectors(None))
            hubness.record_all(self, exact, story_similarity=story_similarity,
                               on_block=on_block)
            del exact
            release_memory()
        self.vectors_deferred = False

    def _sample(self, ids: np.ndarray) -> Callable[[int], np.ndarray]:
        def sample(n: int) -> np.ndarray:
            pick = ids if n >= len(ids) else np.sort(
                np.random.default_rng(len(ids)).choice(ids, size=n, replace=False))
            parts = [vecs for _, vecs in self.store.iter_vectors(pick.tolist())]
            return np.concatenate(parts) if parts else np.zeros((0, self.store.dim), np.float32)
        return sample

    # -- upkeep ---------------------------------------------------------------------------
    def reconcile(self) -> tuple[int, int]:
        """Another process committed a write: the vectors are in the database already,
        only the in-memory publication days are read again."""
        self.days.load_in_background(self.store.chunk_days_text)
        return 0, 0

    def check(self) -> list[str]:
        """Disagreements between the chunk rows, the kept chunk and token counts and the
        full text, and a missing or invalid HNSW index (outside a bulk load, which builds it
        last)."""
        problems = []
        if not self.vectors_deferred and not self.store.vector_index_valid():
            problems.append("the HNSW vector index is missing or invalid")
        chunks = len(self.store.chunk_ids())
        kept = self.store.chunk_count()
        if kept != chunks:
            problems.append(f"the chunk count says {kept}, the table holds {chunks} chunks")
        fts = self.store.fts_count()
        if fts != chunks:
            problems.append(f"full text holds {fts} rows, {chunks} chunks stored")
        kept_tokens, tokens = self.store.token_totals()
        if kept_tokens != tokens:
            problems.append(f"the token count says {kept_tokens}, the full text holds {tokens}")
        return problems

    def disk_bytes(self) -> int | None:
        return self.store.disk_bytes()

    def close(self) -> None:
        self.store.close()

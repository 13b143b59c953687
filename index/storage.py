"""The storage interface the index's two backends share: SQLite (``index.store.Store``, the
embedded default) and PostgreSQL (``index.pgstore.PgStore``).

Written from what the rest of ``index/`` asks of a store: articles and their chunks, each
chunk's float vector (the source of truth a vector index is built from), keyword search,
publication dates, metadata and counts. Retrieval, fusion, dates, quotes and answers use
only these methods, so they run unchanged on either backend.

Conventions both backends keep:
- Ids are integers the backend assigns; a chunk id is never reused (a vector index maps
  ids to vectors), an article id grows with each new article (alert cursors read "after").
- ``published_at`` is an ISO date or datetime string, as ``StoredArticle`` carries it.
- Vectors are returned as float32 rows, L2-normalized as they were written.
- ``keyword_search`` takes the OR-query ``index.search.fts_query`` builds: double-quoted
  terms joined by `` OR ``. Scores are "lower is better" (FTS5's bm25 sign); only their order
  within one result is relied on.

What stays backend-specific and is not here: how a store is opened (a file path or a URL),
the SQLite file helpers used before a store is open (``Store.peek``, ``Store.chunk_days_text``),
and the benchmarks' direct SQL.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np

from index.models import ChunkRow, SourceStats, StoredArticle
from index.rows import RowPage
from index.store import Neighbours, PendingArticle

if TYPE_CHECKING:
    from index.chunkdays import ChunkDays
    from index.keywords import TermCounts


@runtime_checkable
class IndexStore(Protocol):
    """Articles, chunks with vectors, full text, dates, metadata: one generation's rows."""

    schema_was: int  # the schema version found on opening (0: new), before migrations
    schema_version: int  # the version after them (``newsbot migrate`` reports both)

    # -- lifecycle and metadata ----------------------------------------------------------------
    def close(self) -> None:
        """Release the connection(s); the store is not used afterwards."""
        ...

    def data_version(self) -> int:
        """A number that changes whenever another connection commits a write, so a process
        notices another's ingest (its value means nothing else)."""
        ...

    def get_meta(self, key: str) -> str | None:
        """A metadata value (model name, vector size, last ingest, ...), None when unset."""
        ...

    def set_meta(self, key: str, value: str) -> None:
        """Set a metadata value (committed at once)."""
        ...

    # -- dedup lookups --------------------------------------------------------------------------
    def has_hash(self, body_hash: str) -> bool:
        """Whether an article with this normalized-body hash is stored."""
        ...

    def find_key(self, key: str) -> int | None:
        """The id of the article with this dedup key (link or source id), if stored."""
        ...

    # -- writes ---------------------------------------------------------------------------------
    def write_batch(self, batch: Sequence[PendingArticle]) -> tuple[list[int], list[int]]:
        """Store the batch in one transaction (articles, chunks, vectors, full text; an item
        with ``replaces`` deletes that article first); return (new chunk ids in batch and
        chunk order, chunk ids removed by replaced articles)."""
        ...

    def delete_articles(self, article_ids: Sequence[int]) -> list[int]:
        """Delete these articles with everything of theirs in one transaction; return the
        removed chunk ids."""
        ...

    # -- choosing articles to delete --------------------------------------------------------
    def article_ids_from(self, source: str) -> list[int]:
        """Ids of one outlet's articles, ascending."""
        ...

    def article_ids_with_hashes(self, body_hashes: Sequence[str]) -> list[int]:
        """Ids of the articles with one of these body hashes, ascending."""
        ...

    def article_ids_before(self, day: dt.date) -> list[int]:
        """Ids of the articles published before ``day`` (undated: by ingest time), ascending."""
        ...

    # -- chunks and vectors ---------------------------------------------------------------------
    def chunk_ids(self) -> np.ndarray:
        """Every chunk id, ascending (int64)."""
        ...

    def iter_vectors(self, ids: Sequence[int] | None = None, batch: int = 10_000
                     ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """(ids, float32 vectors) in batches: all chunks in id order, or only ``ids``
        (unknown ids left out)."""
        ...

    def chunks(self, ids: Sequence[int]) -> dict[int, ChunkRow]:
        """Chunk rows by id (unknown ids left out)."""
        ...

    def article_chunks(self, article_id: int) -> list[ChunkRow]:
        """An article's chunks in text order."""
        ...

    def chunk_articles(self, chunk_ids: Sequence[int]) -> dict[int, int]:
        """chunk id → article id (unknown ids left out)."""
        ...

    def chunk_ids_of(self, article_ids: Sequence[int]) -> dict[int, list[int]]:
        """article id → its chunk ids (every asked id present, maybe with an empty list)."""
        ...

    def article_vectors(self, article_id: int) -> tuple[list[ChunkRow], np.ndarray]:
        """An article's chunks in text order with their float32 vectors."""
        ...

    # -- articles -------------------------------------------------------------------------------
    def articles(self, ids: Sequence[int]) -> dict[int, StoredArticle]:
        """Articles by id (unknown ids left out)."""
        ...

    def articles_by_ext_id(self, ext_ids: Sequence[str]) -> dict[str, StoredArticle]:
        """Articles by the id their source gave them."""
        ...

    def latest(self, limit: int, ids: Sequence[int] | None = None) -> list[StoredArticle]:
        """The newest ``limit`` articles (by publication, undated last, then newest id), of
        all or only of ``ids``."""
        ...

    def max_article_id(self) -> int:
        """The highest article id (0 when empty)."""
        ...

    def articles_after(self, last_id: int, limit: int = 200) -> list[StoredArticle]:
        """Up to ``limit`` articles with an id above ``last_id``, ascending."""
        ...

    def iter_articles(self, after: int = 0, upto: int | None = None, *,
                      page: int = 500) -> Iterator[StoredArticle]:
        """Articles with ``after < id <= upto`` in id order, read a page at a time."""
        ...

    def articles_published_since(self, day: dt.date, limit: int = 5000
                                 ) -> list[StoredArticle]:
        """Articles published on or after ``day``, in id order."""
        ...

    # -- keyword search -------------------------------------------------------------------------
    def keyword_search(self, match: str, limit: int) -> list[tuple[int, int, float]]:
        """(chunk id, article id, score), best first (lower score = better), for an OR-query
        of quoted terms; the title counts twice the text."""
        ...

    def term_counts(self, terms: list[str], cap: int) -> dict[str, int]:
        """Chunks holding each term (as a phrase), counted up to ``cap``."""
        ...

    def fts_count(self) -> int:
        """Chunks in the full-text index (equals the chunk count when healthy)."""
        ...

    # -- dates ----------------------------------------------------------------------------------
    def chunk_ids_published(self, start: dt.date | None, end: dt.date | None) -> np.ndarray:
        """Ids of chunks whose article was published within [start, end] (inclusive; an open
        end is unbounded; undated articles never match)."""
        ...

    def published_dates(self, article_ids: Sequence[int]) -> dict[int, dt.date | None]:
        """Each article's publication day (None when undated)."""
        ...

    # -- counts ---------------------------------------------------------------------------------
    def counts(self) -> tuple[int, int, int]:
        """(articles, chunks, distinct sources)."""
        ...

    def sources(self) -> list[SourceStats]:
        """Per outlet: article count and first/last publication, most articles first."""
        ...


@runtime_checkable
class NeighbourStore(Protocol):
    """Each chunk's nearest neighbours in other stories (``index.hubness``): kept beside the
    chunks, so a store that is an ``IndexStore`` usually is this too."""

    def neighbour_sims(self, chunk_ids: Sequence[int]) -> dict[int, np.ndarray]:
        """chunk id → similarities to its nearest neighbours, best first."""
        ...

    def neighbour_lists(self, chunk_ids: Sequence[int]) -> dict[int, Neighbours]:
        """chunk id → (neighbour chunk ids, similarities), best first."""
        ...

    def put_neighbours(self, own: dict[int, Neighbours], merged: dict[int, Neighbours],
                       keep: int) -> None:
        """Write the lists in ``own`` whole; merge ``merged`` into existing lists, keeping
        the best ``keep``; one transaction."""
        ...

    def chunks_without_neighbours(self) -> np.ndarray:
        """Ids of chunks that have no list yet, ascending."""
        ...


class RowStore(Protocol):
    """Whole rows with their ids, for moving a generation between backends without
    re-embedding (``index.copy``, ``newsbot copy``)."""

    def meta_items(self) -> dict[str, str]:
        """Every metadata key and value."""
        ...

    def neighbour_count(self) -> int:
        """Chunks with a neighbour list."""
        ...

    def dump_rows(self, after: int, limit: int) -> RowPage:
        """Up to ``limit`` articles with an id above ``after`` as stored, their chunks,
        float32 vectors and neighbour lists."""
        ...

    def load_rows(self, page: RowPage) -> None:
        """Write a page with its ids as they are, in one transaction (into an empty
        generation: ids must not collide)."""
        ...


class GenerationStore(IndexStore, NeighbourStore, RowStore, Protocol):
    """What a generation's store is: the rows, the neighbour lists, whole-row copies."""


@runtime_checkable
class IndexGeneration(Protocol):
    """One generation of the index, the only door to its store and its vector search:
    what ``Index``, ingest, retrieval and answers use. ``index.generation.Generation``
    (SQLite + FAISS in a directory) and ``index.pggeneration.PgGeneration`` (a schema of
    one PostgreSQL database, searched by pgvector) are the two."""

    store: GenerationStore
    lock: threading.RLock
    days: ChunkDays  # publication day per chunk, in memory, for date windows
    term_counts: TermCounts  # chunks holding a word (cached), for the keyword planner
    vectors_deferred: bool  # True while a rebuild writes rows only (``defer_vectors``)

    @property
    def name(self) -> str:
        """Names this generation; article ids start over when the live one changes."""
        ...

    @property
    def ntotal(self) -> int:
        """Vectors searchable."""
        ...

    def describe(self) -> str:
        """The vector index's layout, for logs and stats."""
        ...

    # -- vector search ------------------------------------------------------------------------
    def search(self, vector: np.ndarray, k: int, *, restrict: np.ndarray | None = None
               ) -> tuple[np.ndarray, np.ndarray]:
        """(chunk ids, cosines) of the ``k`` nearest chunks, best first, optionally only
        among ``restrict``."""
        ...

    def neighbours(self, vectors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """For each row of ``vectors``: the ``k`` nearest chunk ids and cosines (id -1 where
        fewer exist), best first."""
        ...

    def vectors_of(self, ids: list[int]) -> dict[int, np.ndarray]:
        """Each stored chunk's vector (ids not stored left out)."""
        ...

    def cosines(self, vector: np.ndarray, ids: list[int]) -> dict[int, float]:
        """Cosine of ``vector`` with each stored chunk of ``ids``."""
        ...

    def chunk_ids_published(self, start: dt.date | None, end: dt.date | None) -> np.ndarray:
        """Ids of chunks whose article was published within [start, end]."""
        ...

    # -- writes ---------------------------------------------------------------------------------
    def write_batch(self, batch: Sequence[PendingArticle], vectors: np.ndarray
                    ) -> tuple[list[int], list[int]]:
        """Commit a batch with its vectors; (new chunk ids, chunk ids removed)."""
        ...

    def note_written(self, added: np.ndarray, published: list[int],
                     removed: np.ndarray | list[int]) -> None:
        """Keep the in-memory day index in step with a committed batch."""
        ...

    def delete_articles(self, article_ids: list[int]) -> int:
        """Delete these articles with their chunks and vectors; the chunks removed."""
        ...

    def relayout_if_needed(self) -> None:
        """Give the vector index the layout its size calls for (no-op where it has one)."""
        ...

    def save_if_dirty(self) -> None:
        ...

    def save_vectors(self) -> None:
        ...

    def defer_vectors(self) -> None:
        """Until ``index_written``, write rows only (an empty generation a rebuild fills)."""
        ...

    def index_written(self, *, story_similarity: float,
                      on_block: Callable[[int, int], None] | None = None,
                      neighbours: bool = True) -> None:
        """End ``defer_vectors``: build the vector index and (``neighbours``) every
        neighbour list once; a copy that brought the lists along passes False."""
        ...

    # -- upkeep ---------------------------------------------------------------------------------
    def reconcile(self) -> tuple[int, int]:
        """Catch up with writes another process committed: (chunks added, removed) to the
        vector index where it is apart from the store."""
        ...

    def check(self) -> list[str]:
        """Disagreements between the vector index, the chunks and the full text (empty =
        healthy)."""
        ...

    def disk_bytes(self) -> int | None:
        """Bytes the generation takes on disk (None where the server cannot say)."""
        ...

    def close(self) -> None:
        ...

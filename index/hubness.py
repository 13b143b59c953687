"""Hub penalty: a passage that sits close to many other stories is close to many questions.

Dense retrieval has *hubs* — passages near a large share of the corpus (a generic line about
an ongoing inquiry, a statistic retold every week) that come near the top for many
questions they do not answer. The fix from cross-lingual retrieval (CSLS, Conneau et al.
2018) is to rank by ``cosine − λ · density``, where a passage's density is the mean cosine
of its ``k`` nearest neighbours: a hub has to beat the others by more than its crowd
(docs/quality.md has what it gained). Thresholds ("found", citation floor) stay on the raw
cosine.

Each chunk keeps its nearest neighbours in *other stories* (up to ``STORED`` of them: chunk
ids and float16 cosines, best first) in the ``neighbours`` table. Chunks of the same
article and retellings of the same story (cosine ≥ the same-story threshold, published
within ``STORY_DAYS``) do not count: a story many outlets covered is news, not a hub.

A new chunk's list comes from one batched FAISS search at ingest, and each older chunk it
finds has the new similarity merged into its own list, so densities follow the corpus as it
grows; a deleted chunk (an article replaced by its new version) is taken out of the lists it
appears in, so a story updated ten times is not counted ten times. (Not exactly: an old
chunk can gain a neighbour that does not count the old one among its own nearest, and keeps
a deleted one that did not list it back until the next rebuild — one stale value moves a
density by at most 1/k of a cosine.) Chunks stored before this table existed get their
lists when the index opens (``backfill``). A rebuild writes all its chunks first and then
computes every list once against the whole new index (``record_all``), which also clears
the stale entries the incremental path leaves.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from index.allknn import nearest_of_all
from index.chunkdays import UNDATED
from index.settings import STORY_DAYS
from index.store import VECTOR_PAGE

if TYPE_CHECKING:
    from index.storage import IndexGeneration
    from index.vectors import VectorIndex

log = logging.getLogger(__name__)

STORED = 20  # similarities kept per chunk; the setting ``hub_neighbours`` uses the first k
SEARCHED = 2 * STORED + 1  # neighbours searched per chunk: itself, plus room for exclusions
BACKFILL_BATCH = 1024


def record(gen: IndexGeneration, ids: np.ndarray, vectors: np.ndarray, *,
           story_similarity: float, merge: bool = True) -> None:
    """Neighbour lists for chunks ``ids`` (already in FAISS and SQLite) from their
    ``vectors``; with ``merge``, each older chunk found gets the new similarity too."""
    ids = np.asarray(ids, dtype=np.int64)
    if len(ids) == 0:
        return
    found, sims = gen.neighbours(vectors, SEARCHED)
    involved = np.unique(np.concatenate([ids, found[found >= 0]]))
    article_of = gen.store.chunk_articles(involved.tolist())
    day_of = _days(gen, set(article_of.values()))
    fresh = set(ids.tolist())
    own: dict[int, list[tuple[int, float]]] = {}
    merged: dict[int, list[tuple[int, float]]] = defaultdict(list)
    for row, chunk in enumerate(ids.tolist()):
        article = article_of.get(chunk)
        kept: list[tuple[int, float]] = []
        for other, sim in zip(found[row].tolist(), sims[row].tolist(), strict=True):
            if other < 0 or other == chunk:
                continue
            other_article = article_of.get(other)
            if other_article is None or other_article == article:
                continue
            if sim >= story_similarity and _near(day_of.get(article), day_of.get(other_article)):
                continue  # a retelling of the same story
            if len(kept) < STORED:
                kept.append((other, sim))
            if merge and other not in fresh:
                merged[other].append((chunk, sim))
        own[chunk] = kept
    gen.store.put_neighbours({c: _arrays(v) for c, v in own.items()},
                             {c: _arrays(v) for c, v in merged.items()}, STORED)


def backfill(gen: IndexGeneration, *, story_similarity: float) -> int:
    """Lists for every chunk that lacks one (an index from before this table); returns how
    many. Each is computed against the whole index, so nothing is merged."""
    missing = gen.store.chunks_without_neighbours()
    if len(missing) == 0:
        return 0
    log.info("computing neighbour densities for %d chunks", len(missing))
    for start in range(0, len(missing), BACKFILL_BATCH):
        part = missing[start:start + BACKFILL_BATCH].tolist()
        for ids, vecs in gen.store.iter_vectors(part):
            record(gen, ids, vecs, story_similarity=story_similarity, merge=False)
    return len(missing)


def record_all(gen: IndexGeneration, vectors: VectorIndex, *, story_similarity: float,
               on_block: Callable[[int, int], None] | None = None) -> int:
    """Lists for every chunk of ``gen``, each against the whole index, as ``backfill``
    computes them but in a few large passes (``index.allknn``) with the exclusions applied
    to whole blocks at once: what a rebuild runs once its chunks are all written, instead
    of a search and a merge per written batch. ``on_block(done, total)`` is called after
    each block (a rebuild's progress, and where it may be cancelled). ``vectors`` is the
    index searched: the generation's own FAISS index, or on PostgreSQL one built in memory
    for this pass. Returns how many."""
    chunks, articles = gen.store.chunk_article_table()
    if len(chunks) == 0:
        return 0
    dated, days = gen.store.article_days()
    done = 0
    with gen.lock:
        passes = nearest_of_all(vectors, gen.store.iter_vectors(None, batch=VECTOR_PAGE),
                                SEARCHED)
        for ids, found, sims in passes:
            own = _lookup(chunks, articles, ids, missing=-1)
            other = _lookup(chunks, articles, found, missing=-1)
            keep = (found >= 0) & (found != ids[:, None]) & (other >= 0) & (other != own[:, None])
            own_day = _lookup(dated, days, own, missing=UNDATED)[:, None]
            other_day = _lookup(dated, days, other, missing=UNDATED)
            near = (own_day == UNDATED) | (other_day == UNDATED) | (
                np.abs(own_day - other_day) <= STORY_DAYS)
            keep &= ~((sims >= story_similarity) & near)  # retellings of the same story
            keep &= np.cumsum(keep, axis=1) <= STORED
            gen.store.replace_neighbour_lists([
                (int(chunk), found[row][keep[row]], sims[row][keep[row]])
                for row, chunk in enumerate(ids.tolist())])
            done += len(ids)
            if on_block is not None:
                on_block(done, len(chunks))
    return done


def _lookup(keys: np.ndarray, values: np.ndarray, wanted: np.ndarray, *, missing: int
            ) -> np.ndarray:
    """``values`` at the positions of ``wanted`` in the sorted ``keys`` (``missing`` for
    a key not there)."""
    if len(keys) == 0:
        return np.full(wanted.shape, missing, dtype=np.int64)
    at = np.clip(np.searchsorted(keys, wanted), 0, len(keys) - 1)
    return np.where(keys[at] == wanted, values[at], missing)


def densities(gen: IndexGeneration, chunk_ids: list[int], k: int) -> dict[int, float]:
    """Mean similarity of each chunk's ``k`` nearest neighbours in other stories (0 for a
    chunk alone in its corner of the index); chunks without a list are left out."""
    return {chunk: (float(np.mean(sims[:k])) if len(sims) else 0.0)
            for chunk, sims in gen.store.neighbour_sims(chunk_ids).items()}


def _arrays(pairs: list[tuple[int, float]]) -> tuple[np.ndarray, np.ndarray]:
    return (np.array([p[0] for p in pairs], dtype=np.int64),
            np.array([p[1] for p in pairs], dtype=np.float32))


def _days(gen: IndexGeneration, articles: set[int]) -> dict[int, int | None]:
    dates = gen.store.published_dates(sorted(articles))
    return {a: (d.toordinal() if d else None) for a, d in dates.items()}


def _near(a: int | None, b: int | None) -> bool:
    """Published within ``STORY_DAYS`` of each other (undated articles count as near)."""
    return a is None or b is None or abs(a - b) <= STORY_DAYS

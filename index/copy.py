"""Copying a whole index from one backend to another without re-embedding (``newsbot
copy``): every article, chunk, stored vector and neighbour list with its id, the metadata
(model and vector size included), into a new generation of the destination that goes live
only when the caller publishes it. A failure before that leaves the destination as it was.

Ids are kept, so the neighbour lists (which name chunk ids) and the alert cursors (which
name article ids) mean the same on both sides. Vectors move as stored: SQLite keeps
float16, PostgreSQL float32, so SQLite → PostgreSQL → SQLite gives back the same bits;
PostgreSQL → SQLite rounds vectors written on PostgreSQL to float16, as an ingest into
SQLite would have. The vector index (FAISS or HNSW) is built once after the rows.
The alert state is ``index.alerts``'s to copy (``index.alerts.datacopy``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass

from index.backends import Backend, Building
from index.lifecycle import COMPLETE_META, SOURCES_META
from index.storage import IndexGeneration

COPY_PAGE = 200  # articles read and written at a time (one transaction each)
# Metadata a copy does not carry over: the model and size are set when the generation is
# created, the sources and the completeness mark when it is published.
SET_BY_GENERATION = frozenset({"model", "dim", COMPLETE_META, SOURCES_META})

# progress(phase, done, total): "rows" counts articles; "vector index" is one step.
Progress = Callable[[str, int, int], None]


class CopyRefused(RuntimeError):
    """A copy that would mix, lose or mislabel data: refused before anything is written."""


@dataclass(frozen=True, slots=True)
class IndexCounts:
    articles: int
    chunks: int
    vectors: int
    neighbour_lists: int

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def counts_of(gen: IndexGeneration) -> IndexCounts:
    """What a copy must carry over whole, counted on one generation."""
    articles, chunks, _ = gen.store.counts()
    return IndexCounts(articles, chunks, gen.ntotal, gen.store.neighbour_count())


def built_as(gen: IndexGeneration) -> tuple[str, int]:
    """(model, vector size) a generation records."""
    model, dim = gen.store.get_meta("model"), gen.store.get_meta("dim")
    if model is None or dim is None:
        raise CopyRefused(f"generation {gen.name} records no embedding model")
    return model, int(dim)


def source_list(gen: IndexGeneration) -> str | None:
    """The sources a rebuild reads again, as ``gen`` records them (JSON), for ``publish``."""
    return gen.store.get_meta(SOURCES_META)


def refuse_unless_empty(dest: Backend, model: str, dim: int) -> None:
    """Refuse a destination whose live index holds articles (a copy never merges) or was
    set up for another model or vector size."""
    gen = dest.open_as_built()
    if gen is None:
        return
    try:
        articles = gen.store.counts()[0]
        built = built_as(gen)
    finally:
        gen.close()
    if articles:
        raise CopyRefused(f"the destination already holds an index of {articles} articles; "
                          "newsbot copy only fills an empty one (it never merges)")
    if built != (model, dim):
        raise CopyRefused(f"the destination's (empty) index is set up for model {built[0]!r} "
                          f"({built[1]} dimensions), the source holds {model!r} ({dim})")


def copy_rows(source: IndexGeneration, building: Building, *,
              progress: Progress | None = None, page: int = COPY_PAGE) -> IndexCounts:
    """Fill ``building.gen`` (new and empty) with every row of ``source`` page by page,
    then build its vector index once. Not published: the caller does that last."""
    _, dim = built_as(source)
    total = source.store.counts()[0]
    gen = building.gen
    gen.defer_vectors()
    done = after = 0
    while (rows := source.store.dump_rows(after, page)).articles:
        if rows.chunks and rows.vectors.shape[1] != dim:
            raise CopyRefused(f"the source records {dim}-dimensional vectors but stores "
                              f"{rows.vectors.shape[1]}-dimensional ones")
        gen.store.load_rows(rows)
        done, after = done + len(rows.articles), rows.last_article
        if progress is not None:
            progress("rows", done, total)
    if progress is not None:
        progress("vector index", 0, 1)
    gen.index_written(story_similarity=1.0, neighbours=False)  # the lists came along
    for key, value in source.store.meta_items().items():
        if key not in SET_BY_GENERATION:
            gen.store.set_meta(key, value)
    if progress is not None:
        progress("vector index", 1, 1)
    return counts_of(gen)

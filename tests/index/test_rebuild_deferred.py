"""A rebuild fills its new generation in SQLite only, then builds FAISS once in its final
layout and every neighbour list (``Generation.defer_vectors`` / ``index_written``); it can
be cancelled in that last phase too, and it embeds in ``rebuild_embed_batch_size`` calls."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from index import Index
from index.api import RebuildCancelled
from index.ingest import Ingestor
from index.lifecycle import NewGeneration, current_dir
from index.loaders import load_source
from index.models import RebuildProgress
from index.settings import IndexSettings


def test_a_deferred_generation_holds_no_vectors_until_indexed(
        settings: IndexSettings, embedder, corpus_dir: Path) -> None:
    with NewGeneration(Path(settings.data_dir), embedder.dim, settings.embedding_model) as new:
        gen = new.gen
        gen.defer_vectors()
        ingestor = Ingestor(gen, embedder, settings)
        ingestor.add_items(load_source(str(corpus_dir), settings))
        ingestor.flush()
        chunks = gen.store.counts()[1]
        assert chunks > 0 and gen.ntotal == 0  # SQLite only
        assert len(gen.store.chunks_without_neighbours()) == chunks
        with pytest.raises(RuntimeError, match="index_written"):
            new.publish(None)  # never a live generation without its vectors
        blocks: list[tuple[int, int]] = []
        gen.index_written(story_similarity=0.9, on_block=lambda d, t: blocks.append((d, t)))
        assert gen.ntotal == chunks and gen.check() == []
        assert gen.describe() == "flat fp16"
        assert len(gen.store.chunks_without_neighbours()) == 0
        assert blocks[-1] == (chunks, chunks)
        ingestor.add_items(load_source(str(corpus_dir / "port.txt"), settings))
        new.publish(None)


def test_only_an_empty_generation_can_defer_its_vectors(index: Index, corpus_dir: Path) -> None:
    index.ingest([str(corpus_dir)])
    with pytest.raises(RuntimeError, match="empty generation"):
        index.generation.defer_vectors()
    assert not index.generation.vectors_deferred


def test_a_rebuild_cancelled_while_indexing_leaves_the_live_generation(
        index: Index, corpus_dir: Path, settings: IndexSettings) -> None:
    index.ingest([str(corpus_dir)])
    live = index.generation.dir
    phases: list[str] = []

    def progress(p: RebuildProgress) -> None:
        phases.append(p.phase)
        if p.phase == "indexing":
            index.cancel_rebuild()

    with pytest.raises(RebuildCancelled):
        index.rebuild([], progress=progress)
    assert "embedding" in phases and phases[-1] == "indexing"
    data_dir = Path(settings.data_dir)
    assert current_dir(data_dir) == live == index.generation.dir
    assert [p for p in data_dir.glob("gen-*")] == [live]  # the half-built one is gone
    assert index.check() == []
    assert index.search("policy rate", k=1)


def test_a_rebuild_embeds_in_calls_of_rebuild_embed_batch_size(
        settings: IndexSettings, embedder, corpus_dir: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    encode = embedder.encode

    def counted(texts: list[str], **kwargs) -> np.ndarray:
        calls.append(len(texts))
        return encode(texts, **kwargs)

    index = Index.open(settings.model_copy(update={"rebuild_embed_batch_size": 2}),
                       embedder=embedder)
    try:
        index.ingest([str(corpus_dir)])
        monkeypatch.setattr(embedder, "encode", counted)
        report = index.rebuild([])
    finally:
        index.close()
    assert sum(calls) == report.chunks_embedded > 2
    assert max(calls) == 2

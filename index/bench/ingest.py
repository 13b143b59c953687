"""Ingest throughput of the real path (``Index.ingest``) against bare ``model.encode`` of
the very same chunk texts with the same batch size — in float32 *and* in bfloat16, so the
report shows this machine's limit and holds ingest to the faster of the two — and the cost
of an unchanged re-ingest.

The corpus is split into parts and the three sides are interleaved part by part (rotating
which goes first), so load from other processes on a shared machine hits every side alike
rather than whichever happened to run during a busy minute. CPU seconds are reported beside
wall seconds for the same reason.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from index.api import Index
from index.embed import Embedder
from index.embed_dtype import Dtype
from index.generation import SQLITE_NAME
from index.ingest import chunks_of
from index.loaders import load_source
from index.models import Article
from index.normalize import body_hash
from index.settings import IndexSettings


@dataclass(frozen=True, slots=True)
class IngestResult:
    numbers: dict[str, Any]
    seed_db: Path  # the real, embedded index the size runs grow from


DTYPES: tuple[Dtype, ...] = ("float32", "bfloat16")


def measure_ingest(records: list[dict], settings: IndexSettings, embedder: Embedder,
                   directory: Path, parts: int, say: Callable[[str], None]) -> IngestResult:
    """Ingest with ``embedder`` (the configured dtype), and bare-encode the same chunks in
    every dtype of ``DTYPES`` (``embedder`` itself for its own dtype)."""
    directory.mkdir(parents=True, exist_ok=True)
    files = _write_parts(_distinct(records), directory, parts)
    index = Index.open(settings.model_copy(update={"data_dir": directory / "data"}),
                       embedder=embedder)
    bare = {d: embedder if d == embedder.dtype.dtype else
            Embedder(settings.embedding_model, batch_size=embedder.batch_size, dtype=d)
            for d in DTYPES}
    try:
        for model in (embedder, *bare.values()):
            model.load()
            model.encode(["warm up the model", "and its thread pool"])
        texts = [_chunk_texts(f, embedder, settings) for f in files]
        sides = ["ingest", *DTYPES]
        wall = dict.fromkeys(sides, 0.0)
        cpu = dict.fromkeys(sides, 0.0)
        vectors: dict[str, list[np.ndarray]] = {d: [] for d in DTYPES}
        embedded = 0
        for n, (path, part_texts) in enumerate(zip(files, texts, strict=True)):
            for side in sides[n % len(sides):] + sides[: n % len(sides)]:
                say(f"ingest part {n + 1}/{len(files)}: {side} ({len(part_texts)} chunks)")
                w, c = time.perf_counter(), time.process_time()
                if side == "ingest":
                    embedded += index.ingest([str(path)]).chunks_embedded
                else:
                    vectors[side].append(bare[side].encode(part_texts))
                wall[side] += time.perf_counter() - w
                cpu[side] += time.process_time() - c
        say("unchanged re-ingest")
        w = time.perf_counter()
        again = index.ingest([str(f) for f in files])
        reingest = time.perf_counter() - w
        chunks = sum(len(t) for t in texts)
        faster = min(DTYPES, key=lambda d: wall[d])
        cosines = (np.concatenate(vectors["float32"]) * np.concatenate(vectors["bfloat16"])
                   ).sum(axis=1)
        numbers = {
            "articles": index.stats().articles,
            "chunks": chunks,
            "chunks_embedded": embedded,
            "same_chunks": embedded == chunks,
            "parts": len(files),
            "batch_size": embedder.batch_size,
            "dtype": embedder.dtype.dtype,
            "dtype_line": embedder.dtype.describe(),
            "bare_by_dtype": {d: {"s": round(wall[d], 2),
                                  "chunks_per_s": round(chunks / wall[d], 2),
                                  "cpu_s": round(cpu[d], 2)} for d in DTYPES},
            "bf16_cosine_to_float32": {"min": round(float(cosines.min()), 5),
                                       "mean": round(float(cosines.mean()), 5)},
            "faster_dtype": faster,
            "ingest_s": round(wall["ingest"], 2),
            "bare_s": round(wall[faster], 2),
            "ingest_chunks_per_s": round(chunks / wall["ingest"], 2),
            "bare_chunks_per_s": round(chunks / wall[faster], 2),
            "ratio": round(wall[faster] / wall["ingest"], 3),
            "over_float32": round(wall["float32"] / wall["ingest"], 3),
            "ingest_cpu_s": round(cpu["ingest"], 2),
            "bare_cpu_s": round(cpu[faster], 2),
            "cpu_ratio": round(cpu[faster] / cpu["ingest"], 3) if cpu["ingest"] else None,
            "reingest_s": round(reingest, 3),
            "reingest_chunks_embedded": again.chunks_embedded,
            "reingest_duplicates": again.duplicates,
            "reingest_speedup": round(wall["ingest"] / reingest, 1) if reingest else None,
        }
        return IngestResult(numbers, index.generation.dir / SQLITE_NAME)
    finally:
        index.close()


def ingest_seed(records: list[dict], settings: IndexSettings, embedder: Embedder,
                directory: Path) -> Path:
    """Only the real index the sizes grow from (``newsbot ingest`` of the corpus, nothing
    timed): for a run that measures rebuilds only. Returns its SQLite file."""
    directory.mkdir(parents=True, exist_ok=True)
    [path] = _write_parts(_distinct(records), directory, 1)
    index = Index.open(settings.model_copy(update={"data_dir": directory / "data"}),
                       embedder=embedder)
    try:
        index.ingest([str(path)])
        return index.generation.dir / SQLITE_NAME
    finally:
        index.close()


def _distinct(records: list[dict]) -> list[dict]:
    """Drop repeated bodies up front, so both sides embed exactly the same chunks."""
    seen: set[str] = set()
    out = []
    for record in records:
        digest = body_hash(str(record.get("body") or ""))
        if digest not in seen:
            seen.add(digest)
            out.append(record)
    return out


def _write_parts(records: list[dict], directory: Path, parts: int) -> list[Path]:
    parts = max(1, min(parts, len(records)))
    size = -(-len(records) // parts)
    files = []
    for n in range(parts):
        chunk = records[n * size : (n + 1) * size]
        if not chunk:
            break
        path = directory / f"part-{n + 1}.jsonl"
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in chunk),
                        encoding="utf-8")
        files.append(path)
    return files


def _chunk_texts(path: Path, embedder: Embedder, settings: IndexSettings) -> list[str]:
    return [c.embed_text for item in load_source(str(path), settings)
            if isinstance(item, Article) for c in chunks_of(item, embedder, settings)]

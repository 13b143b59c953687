"""Ingest throughput of the real path (``Index.ingest``) against bare ``model.encode`` of
the very same chunk texts with the same batch size, and the cost of an unchanged re-ingest.

The corpus is split into parts and the two are interleaved part by part (alternating which
goes first), so load from other processes on a shared machine hits both sides alike rather
than whichever happened to run during a busy minute. CPU seconds are reported beside wall
seconds for the same reason.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from index.api import Index
from index.embed import Embedder
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


def measure_ingest(records: list[dict], settings: IndexSettings, embedder: Embedder,
                   directory: Path, parts: int, say: Callable[[str], None]) -> IngestResult:
    directory.mkdir(parents=True, exist_ok=True)
    files = _write_parts(_distinct(records), directory, parts)
    index = Index.open(settings.model_copy(update={"data_dir": directory / "data"}),
                       embedder=embedder)
    try:
        embedder.load()
        embedder.encode(["warm up the model", "and its thread pool"])
        texts = [_chunk_texts(f, embedder, settings) for f in files]
        wall = {"ingest": 0.0, "bare": 0.0}
        cpu = {"ingest": 0.0, "bare": 0.0}
        embedded = 0
        for n, (path, part_texts) in enumerate(zip(files, texts, strict=True)):
            order = ("ingest", "bare") if n % 2 == 0 else ("bare", "ingest")
            for side in order:
                say(f"ingest part {n + 1}/{len(files)}: {side} ({len(part_texts)} chunks)")
                w, c = time.perf_counter(), time.process_time()
                if side == "ingest":
                    embedded += index.ingest([str(path)]).chunks_embedded
                else:
                    embedder.encode(part_texts)
                wall[side] += time.perf_counter() - w
                cpu[side] += time.process_time() - c
        say("unchanged re-ingest")
        w = time.perf_counter()
        again = index.ingest([str(f) for f in files])
        reingest = time.perf_counter() - w
        chunks = sum(len(t) for t in texts)
        numbers = {
            "articles": index.stats().articles,
            "chunks": chunks,
            "chunks_embedded": embedded,
            "same_chunks": embedded == chunks,
            "parts": len(files),
            "batch_size": embedder.batch_size,
            "ingest_s": round(wall["ingest"], 2),
            "bare_s": round(wall["bare"], 2),
            "ingest_chunks_per_s": round(chunks / wall["ingest"], 2),
            "bare_chunks_per_s": round(chunks / wall["bare"], 2),
            "ratio": round(wall["bare"] / wall["ingest"], 3),
            "ingest_cpu_s": round(cpu["ingest"], 2),
            "bare_cpu_s": round(cpu["bare"], 2),
            "cpu_ratio": round(cpu["bare"] / cpu["ingest"], 3) if cpu["ingest"] else None,
            "reingest_s": round(reingest, 3),
            "reingest_chunks_embedded": again.chunks_embedded,
            "reingest_duplicates": again.duplicates,
            "reingest_speedup": round(wall["ingest"] / reingest, 1) if reingest else None,
        }
        return IngestResult(numbers, index.generation.dir / SQLITE_NAME)
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

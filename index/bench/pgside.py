"""``newsbot bench --postgres URL``: each size's index also loaded into PostgreSQL and
measured beside the embedded one: the same rows and vectors (``index.copy``, no
re-embedding, the HNSW index built once after the rows), the same questions asked on both
one by one, alternating which goes first, and each side's recall@10 against an exact scan
of every stored vector.

The database is the bench's own: it must hold no newsbot index, and what the bench made is
dropped after each size. The URL is only ever taken from the command line, never from
``NEWSBOT_DATABASE_URL``, so a deployment's database cannot be filled by a benchmark.
"""

from __future__ import annotations

import datetime as dt
import statistics
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import SecretStr

from index.api import Index
from index.backends import PgBackend
from index.copy import built_as, copy_rows, refuse_unless_empty
from index.embed import Embedder
from index.generation import Generation
from index.lifecycle import SOURCES_META
from index.pgstore import LIVE_TABLE
from index.settings import IndexSettings
from index.storage import IndexGeneration

WARMUP = 5  # questions asked on each side before timing
K = 10  # recall@K


def load_generation(generation: Path, url: str) -> dict[str, Any]:
    """Load one SQLite generation directory into the (empty) database at ``url`` as its
    live generation; rows written and HNSW build seconds, and the new side's problems."""
    source = Generation.open_as_built(generation)
    backend = PgBackend(url)
    model, dim = built_as(source)
    marks: dict[str, float] = {"started": time.perf_counter()}

    def note(phase: str, done: int, total: int) -> None:
        if phase == "vector index" and done == 0:
            marks["written"] = time.perf_counter()

    try:
        refuse_unless_empty(backend, model, dim)
        with backend.new_generation(dim, model) as new:
            counts = copy_rows(source, new, progress=note)
            new.publish(source.store.get_meta(SOURCES_META))
            problems = new.gen.check()
            new.gen.close()
    finally:
        source.close()
        backend.close()
    written = marks.get("written", time.perf_counter())
    return {"articles": counts.articles, "chunks": counts.chunks,
            "write_s": round(written - marks["started"], 1),
            "index_s": round(time.perf_counter() - written, 1), "problems": problems}


def drop_bench_index(url: str) -> None:
    """Remove every generation schema and the live pointer the bench's load made."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        schemas = [n for (n,) in conn.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'gen\\_%'")]
        for name in schemas:
            conn.execute(f'DROP SCHEMA "{name}" CASCADE')
        conn.execute(f"DROP TABLE IF EXISTS public.{LIVE_TABLE}")


def measure_size(data_dir: Path, url: str, questions: Sequence[tuple[str, dt.date]],
                 settings: IndexSettings, embedder: Embedder, work: Path) -> dict[str, Any]:
    """Load the live generation of ``data_dir`` into ``url``, measure both sides, drop it."""
    from index.lifecycle import pointed_dir

    generation = pointed_dir(data_dir)
    if generation is None:
        raise RuntimeError(f"{data_dir} holds no live generation to load")
    out: dict[str, Any] = {"load": load_generation(generation, url)}
    embedded = settings.model_copy(update={"data_dir": data_dir, "database_url": None})
    postgres = settings.model_copy(update={"data_dir": work / "pg-process",
                                           "database_url": SecretStr(url)})
    sides = {"sqlite": Index.open(embedded, embedder=embedder),
             "postgres": Index.open(postgres, embedder=embedder)}
    try:
        out.update(measure(sides, embedder, questions))
    finally:
        for index in sides.values():
            index.close()
        drop_bench_index(url)
    return out


def measure(sides: dict[str, Index], embedder: Embedder,
            questions: Sequence[tuple[str, dt.date]]) -> dict[str, Any]:
    """Ask every question on each side, alternating which goes first; p50/p95 per side,
    their ratio, and each side's chunk count and recall@10."""
    for index in sides.values():
        for q, day in questions[:WARMUP]:
            index.answer(q, asked_at=day)
    times: dict[str, list[float]] = {name: [] for name in sides}
    for i, (q, day) in enumerate(questions):
        for name in (list(sides) if i % 2 == 0 else list(reversed(sides))):
            started = time.perf_counter()
            sides[name].answer(q, asked_at=day)
            times[name].append((time.perf_counter() - started) * 1000)
    out: dict[str, Any] = {
        f"{name}_ask_p50_ms": round(statistics.median(t), 1) for name, t in times.items()}
    out.update({f"{name}_ask_p95_ms": round(float(np.percentile(t, 95)), 1)
                for name, t in times.items()})
    out["ask_p50_ratio"] = round(statistics.median(times["postgres"])
                                 / statistics.median(times["sqlite"]), 3)
    vectors = [embedder.encode_query(q) for q, _ in questions]
    for name, index in sides.items():
        gen = index.generation
        out[f"{name}_chunks"] = gen.ntotal
        out[f"{name}_recall_at_10"] = round(recall(gen, vectors), 4)
    return out


def recall(gen: IndexGeneration, vectors: list[np.ndarray]) -> float:
    """Mean share of the exact top ``K`` (a float32 scan of every stored vector) that the
    generation's own vector search returns."""
    ids, rows = [], []
    for batch_ids, batch in gen.store.iter_vectors(None):
        ids.append(batch_ids)
        rows.append(batch)
    every_id, matrix = np.concatenate(ids), np.concatenate(rows)
    shares = []
    for vector in vectors:
        exact = set(every_id[np.argsort(-(matrix @ vector))[:K]].tolist())
        found, _ = gen.search(vector, K)
        shares.append(len(exact & set(found.tolist())) / K)
    return float(np.mean(shares))

"""Ingest speed end to end (``Index.ingest``: load, chunk, embed, write, neighbour lists) on
SQLite + FAISS against PostgreSQL, on a real server started here from pgserver.

The corpus is cut into parts; both backends ingest each part with one shared model,
alternating which goes first, so load from other processes hits both alike. Prints one JSON
object: per-part chunks/s of each side, the medians, the totals and their ratio.

    PYTHONPATH=. HF_HUB_OFFLINE=1 .venv/bin/python -m tests.bench.pg_ingest \\
        ../shared/data/rtqa_dev_corpus.jsonl --articles 300 --parts 6
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from pydantic import SecretStr

from index.api import Index
from index.embed import Embedder
from index.settings import IndexSettings


def start_server(root: Path) -> tuple[object, str]:
    """A pgserver PostgreSQL in ``root`` and the URL of a fresh database with pgvector."""
    import pgserver
    import psycopg

    server = pgserver.get_server(root / "pg", cleanup_mode="delete")
    with psycopg.connect(server.get_uri(), autocommit=True) as conn:
        conn.execute("CREATE DATABASE bench")
    url = server.get_uri("bench")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
    return server, url


def open_sides(base: IndexSettings, root: Path, url: str, embedder: Embedder
               ) -> dict[str, Index]:
    """The two backends side by side with one embedder: SQLite + FAISS under ``root`` and
    PostgreSQL at ``url``."""
    return {
        "sqlite": Index.open(base.model_copy(update={"data_dir": root / "lite"}),
                             embedder=embedder),
        "postgres": Index.open(base.model_copy(update={"data_dir": root / "pgdata",
                                                       "database_url": SecretStr(url)}),
                               embedder=embedder),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpus", help="corpus JSONL")
    parser.add_argument("--articles", type=int, default=300)
    parser.add_argument("--parts", type=int, default=6)
    args = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="nb-pgi-"))  # short: the server's socket lives here
    lines = Path(args.corpus).read_text(encoding="utf-8").splitlines()[: args.articles]
    parts = write_parts(lines, root, args.parts)
    server, url = start_server(root)
    base = IndexSettings()
    embedder = Embedder(base.embedding_model, batch_size=base.embed_batch_size,
                        dtype=base.embed_dtype)
    embedder.load()
    embedder.encode(["warm up the model", "and its thread pool"])
    sides = open_sides(base, root, url, embedder)
    try:
        out = ingest_side_by_side(sides, parts)
    finally:
        for index in sides.values():
            index.close()
        server.cleanup()
        shutil.rmtree(root, ignore_errors=True)
    print(json.dumps({"model": base.embedding_model, "dtype": embedder.dtype.dtype,
                      "articles": len(lines), "parts": args.parts,
                      "load_average": os.getloadavg(), **out}))


def write_parts(lines: list[str], root: Path, parts: int) -> list[Path]:
    """``lines`` (JSONL records) cut into ``parts`` files of about equal size in ``root``."""
    size = -(-len(lines) // parts)
    paths = []
    for i in range(parts):
        path = root / f"part{i}.jsonl"
        path.write_text("\n".join(lines[i * size:(i + 1) * size]) + "\n", encoding="utf-8")
        paths.append(path)
    return paths


def ingest_side_by_side(sides: dict[str, Index], parts: list[Path]) -> dict[str, object]:
    """Ingest each part into both backends, alternating which goes first; chunks/s per
    part and in total, their ratio, and ``check()`` of each side afterwards."""
    rates: dict[str, list[float]] = {name: [] for name in sides}
    totals = {name: [0, 0.0] for name in sides}
    for i, part in enumerate(parts):
        order = list(sides) if i % 2 == 0 else list(reversed(sides))
        for name in order:
            started = time.perf_counter()
            report = sides[name].ingest([str(part)])
            seconds = time.perf_counter() - started
            rates[name].append(report.chunks_embedded / seconds)
            totals[name][0] += report.chunks_embedded
            totals[name][1] += seconds
    if not all(c for c, _ in totals.values()):
        raise SystemExit(f"nothing was embedded on one side ({totals}): are the articles "
                         "already in the index?")
    total_rate = {name: c / s for name, (c, s) in totals.items()}
    return {
        "chunks_per_s": {n: [round(r, 2) for r in v] for n, v in rates.items()},
        "median_chunks_per_s": {n: round(statistics.median(v), 2) for n, v in rates.items()},
        "total": {n: {"chunks": c, "seconds": round(s, 1)} for n, (c, s) in totals.items()},
        "ratio_postgres_to_sqlite": round(total_rate["postgres"] / total_rate["sqlite"], 3),
        "part_ratios": [round(p / q, 3) for p, q in zip(rates["postgres"], rates["sqlite"],
                                                        strict=True)],
        "check": {name: index.check() for name, index in sides.items()},
    }


if __name__ == "__main__":
    main()

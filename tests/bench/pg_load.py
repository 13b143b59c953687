"""Load an embedded index (a SQLite generation directory) into a PostgreSQL database as its
live generation, without re-embedding, for measuring the two backends on the same vectors
(``newsbot eval`` with ``NEWSBOT_DATABASE_URL``). The rows, vectors and neighbour lists move
by ``index.copy.copy_rows`` (what ``newsbot copy`` runs), the HNSW index built once after
them; unlike ``newsbot copy`` it takes any generation directory, not only a live one, and
leaves the alert state alone.

    PYTHONPATH=. .venv/bin/python -m tests.bench.pg_load DATA_DIR/gen-… postgresql://…
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from index.backends import PgBackend
from index.copy import built_as, copy_rows
from index.generation import Generation
from index.lifecycle import SOURCES_META


def load(generation: Path, url: str) -> dict[str, object]:
    source = Generation.open_as_built(generation)
    backend = PgBackend(url)
    model, dim = built_as(source)
    marks: dict[str, float] = {"started": time.perf_counter()}

    def note(phase: str, done: int, total: int) -> None:
        if phase == "vector index" and done == 0:
            marks["written"] = time.perf_counter()

    try:
        with backend.new_generation(dim, model) as new:
            counts = copy_rows(source, new, progress=note)
            new.publish(source.store.get_meta(SOURCES_META))
            problems = new.gen.check()
            new.gen.close()
    finally:
        source.close()
        backend.close()
    return {"articles": counts.articles, "chunks": counts.chunks,
            "write_s": round(marks["written"] - marks["started"], 1),
            "index_s": round(time.perf_counter() - marks["written"], 1), "problems": problems}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("generation", type=Path, help="a gen-… directory of a data directory")
    parser.add_argument("url", help="postgresql://… (the vector extension available)")
    args = parser.parse_args()
    print(json.dumps(load(args.generation, args.url)))


if __name__ == "__main__":
    main()

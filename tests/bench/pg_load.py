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
from pathlib import Path

from index.bench.pgside import load_generation as load


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("generation", type=Path, help="a gen-… directory of a data directory")
    parser.add_argument("url", help="postgresql://… (the vector extension available)")
    args = parser.parse_args()
    print(json.dumps(load(args.generation, args.url)))


if __name__ == "__main__":
    main()

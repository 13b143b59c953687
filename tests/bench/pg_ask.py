"""Questions at size: ``Index.answer`` on SQLite + FAISS against PostgreSQL, on the same
index grown to ``--size`` chunks, and the recall@10 of pgvector's HNSW search against exact
search.

The embedded index is grown from a real seed with ``newsbot bench``'s stand-ins
(``index.bench.synthetic``), then loaded into a PostgreSQL started here from pgserver
(``tests.bench.pg_load``: same chunks, vectors and neighbour lists, the HNSW index built
once). Questions are asked question by question on both, alternating which goes first.
With ``--ingest CORPUS`` (articles the seed does not hold: seed the dev passages alone and
ingest the 2015 business corpus), they are then ingested into both grown indexes, part by
part, alternating which goes first: ingest speed at that size (``tests.bench.pg_ingest``
measures it on empty indexes).

    PYTHONPATH=. HF_HUB_OFFLINE=1 .venv/bin/python -m tests.bench.pg_ask \\
        DATA_DIR/gen-…/newsbot.sqlite ../shared/data/rtqa_dev_questions.jsonl --size 100000 \\
        --ingest ../shared/data/pk_business_2015.jsonl
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

from index.bench.pgside import measure
from index.bench.synthetic import build
from index.embed import Embedder
from index.settings import IndexSettings
from index.store import Store
from tests.bench.pg_ingest import ingest_side_by_side, open_sides, start_server, write_parts
from tests.bench.pg_load import load


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("seed", type=Path, help="newsbot.sqlite of a real (embedded) index")
    parser.add_argument("questions", type=Path, help="questions JSONL (question, asked_at)")
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--questions-asked", type=int, default=200)
    parser.add_argument("--ingest", type=Path, metavar="CORPUS",
                        help="a corpus JSONL of articles the seed does not hold: then "
                             "ingested into both grown indexes")
    parser.add_argument("--ingest-articles", type=int, default=120)
    parser.add_argument("--ingest-parts", type=int, default=4)
    args = parser.parse_args()

    seed = Store(args.seed)
    model, dim = str(seed.get_meta("model")), int(seed.get_meta("dim") or 0)
    seed.close()
    root = Path(tempfile.mkdtemp(prefix="nb-pga-"))
    out: dict[str, object] = {"size": args.size, "model": model}
    server = None
    try:
        started = time.perf_counter()
        built = build(args.seed, root / "lite", args.size, dim=dim, model=model)
        out["sqlite_build_s"] = round(time.perf_counter() - started, 1)
        server, url = start_server(root)
        out["pg_load"] = load(built.directory, url)
        base = IndexSettings(embedding_model=model)
        embedder = Embedder(model, batch_size=base.embed_batch_size, dtype=base.embed_dtype)
        embedder.load()
        sides = open_sides(base, root, url, embedder)
        try:
            out.update(measure(sides, embedder, read_questions(args.questions,
                                                               args.questions_asked)))
            if args.ingest:
                lines = args.ingest.read_text(encoding="utf-8").splitlines()
                lines = [line for line in lines if line.strip()][: args.ingest_articles]
                ingest = ingest_side_by_side(sides, write_parts(lines, root, args.ingest_parts))
                out["ingest_at_size"] = ingest
        finally:
            for index in sides.values():
                index.close()
    finally:
        if server is not None:
            server.cleanup()
        shutil.rmtree(root, ignore_errors=True)
    out["load_average"] = os.getloadavg()
    print(json.dumps(out))


def read_questions(path: Path, limit: int) -> list[tuple[str, dt.date]]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip()]
    return [(r["question"], dt.date.fromisoformat(r["asked_at"][:10])) for r in rows[:limit]]


if __name__ == "__main__":
    main()

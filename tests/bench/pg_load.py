"""Load an embedded index (a SQLite generation directory) into a PostgreSQL database as its
live generation, without re-embedding: the stored chunks and vectors as they are, the HNSW
index and every neighbour list built once at the end (as a rebuild does). For measuring the
two backends on the same vectors (``newsbot eval`` with ``NEWSBOT_DATABASE_URL``); the
operator's tool for this is ``newsbot copy`` (not built yet).

    PYTHONPATH=. .venv/bin/python -m tests.bench.pg_load DATA_DIR/gen-… postgresql://…
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from index.backends import PgBackend
from index.generation import SQLITE_NAME
from index.lifecycle import SOURCES_META
from index.models import Chunk
from index.rebuild import stored_as_articles
from index.settings import IndexSettings
from index.store import PendingArticle, Store

BATCH = 64


def load(generation: Path, url: str) -> dict[str, float]:
    source = Store(generation / SQLITE_NAME)
    model, dim = source.get_meta("model"), int(source.get_meta("dim") or 0)
    hashes = dict(source.conn.execute("SELECT id, body_hash FROM articles").fetchall())
    backend = PgBackend(url)
    started = time.perf_counter()
    with backend.new_generation(dim, str(model)) as new:
        new.gen.defer_vectors()
        batch: list[PendingArticle] = []
        stored = list(source.iter_articles())
        for stored_article, article in zip(stored, stored_as_articles(stored), strict=True):
            rows, vectors = source.article_vectors(stored_article.rowid)
            chunks = [Chunk(i, r.start, r.end, r.text, r.text) for i, r in enumerate(rows)]
            batch.append(PendingArticle(article, hashes[stored_article.rowid], chunks,
                                        np.asarray(vectors, dtype=np.float32)))
            if len(batch) == BATCH:
                new.gen.write_batch(batch, np.zeros(0))
                batch = []
        if batch:
            new.gen.write_batch(batch, np.zeros(0))
        written = time.perf_counter()
        settings = IndexSettings(embedding_model=str(model))
        new.gen.index_written(story_similarity=float(settings.same_story_similarity or 1.0))
        new.publish(source.get_meta(SOURCES_META))
        articles, chunks, _ = new.gen.store.counts()
        problems = new.gen.check()
    source.close()
    return {"articles": articles, "chunks": chunks, "write_s": round(written - started, 1),
            "index_s": round(time.perf_counter() - written, 1), "problems": problems}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("generation", type=Path, help="a gen-… directory of a data directory")
    parser.add_argument("url", help="postgresql://… (the vector extension available)")
    args = parser.parse_args()
    print(json.dumps(load(args.generation, args.url)))


if __name__ == "__main__":
    main()

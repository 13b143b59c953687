"""The two store backends side by side: write speed and the keyword side's ranking.

    .venv/bin/python -m tests.bench.pg_store CORPUS.jsonl QUESTIONS.jsonl [--batch N]

Starts a throwaway PostgreSQL + pgvector (``pgserver``, dev extra) and a SQLite store in a
temporary directory, loads the corpus with the project's loader, chunks it as ingest does
(the MiniLM tokenizer counts tokens), and writes the same batches to both stores,
alternating which goes first, with random unit vectors of the default model's size (the
store's write cost does not depend on what the vectors say; the embedder is left out on
purpose). Then every question runs the keyword side only (``index.search.fts_query``, no
term planning) on both stores, interleaved, and is scored as ``newsbot eval`` scores
answers: Hits@k and MRR@10 over the first distinct articles, for all questions and for
those asked before and from ``--split-year`` (tune on one half, confirm on the other).

Store writes only: the SQLite figure has no FAISS add, the Postgres figure includes the
HNSW and GIN index maintenance that replaces it.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

from index.chunking import chunk_article
from index.embed import Embedder
from index.evaluate import read_questions
from index.loaders import load_source
from index.models import Article
from index.normalize import body_hash
from index.search import fts_query
from index.settings import IndexSettings
from index.storage import IndexStore
from index.store import PendingArticle, Store

DIM = 768  # all-mpnet-base-v2, the default model


def pending_batches(corpus: str, batch: int) -> list[list[PendingArticle]]:
    counter = Embedder("minilm")
    rng = np.random.default_rng(0)
    items, seen = [], set()
    for item in load_source(corpus, IndexSettings(data_dir=Path(tempfile.gettempdir()))):
        if not isinstance(item, Article):
            continue
        digest = body_hash(item.body)
        if digest in seen:
            continue
        seen.add(digest)
        chunks = chunk_article(item, count_tokens=counter.count_tokens)
        vecs = rng.standard_normal((len(chunks), DIM)).astype(np.float32)
        vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
        items.append(PendingArticle(item, digest, chunks, vecs))
    return [items[i:i + batch] for i in range(0, len(items), batch)]


def articles_ranked(store: IndexStore, question: str, k: int = 10) -> list[int]:
    match = fts_query(question)
    if not match:
        return []
    out: list[int] = []
    for _chunk, article, _score in store.keyword_search(match, 100):
        if article not in out:
            out.append(article)
    return out[:k]


def report(label: str, questions: list, runs: list[dict[str, tuple[list[str], float]]]
           ) -> None:
    """Hits@k, MRR@10 and p50 per store, and how often Postgres agrees with SQLite."""
    n = len(questions)
    if not n:
        return
    print(f"keyword side only, {label}, {n} questions:")
    for name in runs[0]:
        hits = {1: 0, 3: 0, 10: 0}
        rr = 0.0
        for q, run in zip(questions, runs, strict=True):
            rank = next((r for r, e in enumerate(run[name][0], 1) if e in q.gold_ids), None)
            if rank:
                rr += 1 / rank
                for k in hits:
                    hits[k] += rank <= k
        p50 = statistics.median(run[name][1] for run in runs) * 1000
        print(f"  {name:8s} Hits@1 {hits[1] / n:.4f}  Hits@3 {hits[3] / n:.4f}  "
              f"Hits@10 {hits[10] / n:.4f}  MRR@10 {rr / n:.4f}  p50 {p50:.1f} ms")
    same_top = 0
    overlap: list[float] = []
    for run in runs:
        a, b = run["sqlite"][0], run["postgres"][0]
        same_top += bool(a) and bool(b) and a[0] == b[0]
        if a or b:
            overlap.append(len(set(a) & set(b)) / max(len(a), len(b)))
    print(f"  same first article: {same_top / n:.3f}; "
          f"top-10 overlap (mean): {statistics.mean(overlap):.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus")
    parser.add_argument("questions")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--split-year", type=int, default=2022,
                        help="also report questions asked before this year and from it "
                             "(tune on the first, confirm on the second)")
    args = parser.parse_args()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR")
        import pgserver
    from index.pgstore import PgStore

    root = Path(tempfile.mkdtemp(prefix="newsbot-pgbench-"))
    started = time.perf_counter()
    server = pgserver.get_server(root / "pg", cleanup_mode="delete")
    print(f"server start: {time.perf_counter() - started:.2f} s")
    try:
        import psycopg

        with psycopg.connect(server.get_uri(), autocommit=True) as conn:
            conn.execute("CREATE DATABASE bench")
        with psycopg.connect(server.get_uri("bench"), autocommit=True) as conn:
            conn.execute("CREATE EXTENSION vector")
        stores: dict[str, IndexStore] = {
            "sqlite": Store(root / "index.sqlite"),
            "postgres": PgStore(server.get_uri("bench"), DIM)}
        batches = pending_batches(args.corpus, args.batch)
        chunks = sum(len(p.chunks) for b in batches for p in b)
        spent = {name: 0.0 for name in stores}
        for i, batch in enumerate(batches):
            order = list(stores) if i % 2 == 0 else list(stores)[::-1]
            for name in order:
                t = time.perf_counter()
                stores[name].write_batch(batch)
                spent[name] += time.perf_counter() - t
        print(f"write: {len(batches)} batches, {chunks} chunks")
        for name, seconds in spent.items():
            print(f"  {name:8s} {chunks / seconds:8.0f} chunks/s ({seconds:.1f} s)")

        ext = {name: {a.rowid: a.ext_id for a in s.iter_articles()} for name, s in stores.items()}
        questions = list(read_questions(Path(args.questions)))
        runs: list[dict[str, tuple[list[str], float]]] = []
        for i, q in enumerate(questions):
            run = {}
            for name in (list(stores) if i % 2 == 0 else list(stores)[::-1]):
                t = time.perf_counter()
                ranked = [ext[name][a] for a in articles_ranked(stores[name], q.question)]
                run[name] = (ranked, time.perf_counter() - t)
            runs.append(run)
        halves = {"all": range(len(questions)),
                  f"asked before {args.split_year}": [
                      i for i, q in enumerate(questions) if q.asked_at.year < args.split_year],
                  f"asked in {args.split_year} or later": [
                      i for i, q in enumerate(questions) if q.asked_at.year >= args.split_year]}
        for label, chosen in halves.items():
            report(label, [questions[i] for i in chosen], [runs[i] for i in chosen])
        for store in stores.values():
            store.close()
    finally:
        server.cleanup()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()

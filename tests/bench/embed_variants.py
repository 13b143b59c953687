"""Ways to run the embedding model on this CPU, measured side by side on the same chunks:
float32, the model cast to bfloat16, float32 weights inside ``torch.autocast(bfloat16)``,
bfloat16 with other batch sizes and with one thread; and one-question latency for the
first three. docs/performance.md ("bfloat16") quotes one run.

Every variant encodes the same chunk texts (real ``pk_business_2015`` chunks, as the ingest
path makes them) once per round, in rotating order, so load from other processes hits all
alike; speeds are chunks/s from the median round, cosines are against float32.

    .venv/bin/python tests/bench/embed_variants.py [--chunks 96] [--rounds 3] [--model mpnet]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from index.bench.corpus import DEFAULT_CORPUS  # noqa: E402
from index.embed import Embedder  # noqa: E402
from index.ingest import chunks_of  # noqa: E402
from index.loaders import load_source  # noqa: E402
from index.models import Article  # noqa: E402
from index.settings import IndexSettings  # noqa: E402


def chunk_texts(model: str, count: int) -> tuple[list[str], list[str]]:
    """``count`` chunk texts and the headlines of their articles (asked as questions)."""
    settings = IndexSettings(embedding_model=model)
    embedder = Embedder(model)
    texts: list[str] = []
    titles: list[str] = []
    with tempfile.TemporaryDirectory() as tmp, DEFAULT_CORPUS.open(encoding="utf-8") as fh:
        part = Path(tmp) / "part.jsonl"
        part.write_text("".join(line for _, line in zip(range(count), fh, strict=False)))
        for item in load_source(str(part), settings):
            if isinstance(item, Article):
                texts += [c.embed_text for c in chunks_of(item, embedder, settings)]
                titles.append(item.title)
    return texts[:count], titles


@contextlib.contextmanager
def threads(n: int) -> Iterator[None]:
    import torch

    saved = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(saved)


def main(argv: list[str] | None = None) -> int:
    import torch

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="mpnet")
    parser.add_argument("--chunks", type=int, default=96)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--questions", type=int, default=30)
    args = parser.parse_args(argv)

    texts, titles = chunk_texts(args.model, args.chunks)
    full = Embedder(args.model, dtype="float32")
    low = Embedder(args.model, dtype="bfloat16")
    full.load()
    low.load()
    cores = torch.get_num_threads()

    def autocast(batch: list[str]) -> np.ndarray:
        with torch.autocast("cpu", dtype=torch.bfloat16):
            return full.encode(batch)

    def batched(size: int) -> Callable[[list[str]], np.ndarray]:
        def run(batch: list[str]) -> np.ndarray:
            low.batch_size, saved = size, low.batch_size
            try:
                return low.encode(batch)
            finally:
                low.batch_size = saved
        return run

    def one_thread(batch: list[str]) -> np.ndarray:
        with threads(1):
            return low.encode(batch)

    variants: dict[str, Callable[[list[str]], np.ndarray]] = {
        "float32": full.encode,
        "bfloat16 (model cast)": low.encode,
        "float32 in autocast(bfloat16)": autocast,
        "bfloat16, batch 8": batched(8),
        "bfloat16, batch 16": batched(16),
        "bfloat16, batch 64": batched(64),
        "bfloat16, 1 thread": one_thread,
    }
    names = list(variants)
    for name in names:
        variants[name](texts[:4])  # warm up
    seconds: dict[str, list[float]] = {n: [] for n in names}
    vectors: dict[str, np.ndarray] = {}
    for r in range(args.rounds):
        for name in names[r % len(names):] + names[: r % len(names)]:
            started = time.perf_counter()
            vectors[name] = variants[name](texts)
            seconds[name].append(time.perf_counter() - started)
    query_variants = {"float32": full.encode_query, "bfloat16 (model cast)": low.encode_query,
                      "float32 in autocast(bfloat16)": lambda q: autocast([q])[0]}
    latency: dict[str, list[float]] = {n: [] for n in query_variants}
    for q in titles[: args.questions]:
        for name, encode in query_variants.items():
            with threads(1):  # as Embedder.encode_query runs
                started = time.perf_counter()
                encode(q)
                latency[name].append(time.perf_counter() - started)

    base = vectors["float32"]
    rows = []
    for name in names:
        cos = (vectors[name] * base).sum(axis=1)
        rows.append({"variant": name, "chunks_per_s": round(len(texts) / float(
            np.median(seconds[name])), 2), "cosine_min": round(float(cos.min()), 5),
            "cosine_mean": round(float(cos.mean()), 6),
            "query_p50_ms": round(1000 * float(np.median(latency[name])), 1)
            if name in latency else None})
    print(json.dumps({"model": args.model, "chunks": len(texts), "rounds": args.rounds,
                      "threads": cores, "rows": rows}))
    print("| variant | chunks/s | query p50 ms | cosine to float32 (min / mean) |",
          file=sys.stderr)
    print("|---|---:|---:|---:|", file=sys.stderr)
    for row in rows:
        q = row["query_p50_ms"]
        print(f"| {row['variant']} | {row['chunks_per_s']:.2f} | {'' if q is None else q} | "
              f"{row['cosine_min']:.5f} / {row['cosine_mean']:.6f} |", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

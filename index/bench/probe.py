"""One index size, measured in a fresh process so its peak RSS is the serving process's own.

Run as ``python -m index.bench.probe SPEC.json``; prints one JSON object. The order matters:
open the index and load the model, warm up, time ``Index.answer`` (the real query path),
read the peak RSS, and only then build the float32 flat index that ``bare`` and recall
are measured against — so the baseline's memory never counts against the product.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

WARMUP = 3
FULL_SCAN = re.compile(r"\bSCAN (?!.*VIRTUAL TABLE)(?!.*USING (?:COVERING )?INDEX)")


def main(argv: list[str]) -> int:
    spec = json.loads(Path(argv[0]).read_text())
    print(json.dumps(probe(spec)))
    return 0


def probe(spec: dict[str, Any]) -> dict[str, Any]:
    import faiss

    from index import Index, IndexSettings

    settings = IndexSettings(**spec["settings"])
    questions = [(q, dt.date.fromisoformat(d)) for q, d in spec["questions"]]
    started = time.perf_counter()
    index = Index.open(settings)
    open_seconds = time.perf_counter() - started
    index.embedder.load()
    out: dict[str, Any] = {"open_s": round(open_seconds, 3)}
    out["ready_s"] = round(_wait_ready(index, started), 3)
    try:
        for q, day in questions[:WARMUP]:
            index.answer(q, asked_at=day)
        ask = _timed(lambda q, day: index.answer(q, asked_at=day), questions)
        out["plans"] = _query_plans(index, questions[0])
        out["peak_rss_mb"] = round(peak_rss_bytes() / 2**20, 1)
        gen = index.generation
        out["layout"] = gen.vectors.describe()
        out["chunks"] = gen.vectors.ntotal
        out["disk_bytes"] = gen.disk_bytes()
        out["faiss_bytes"] = (gen.dir / "vectors.faiss").stat().st_size

        flat = faiss.IndexFlatIP(index.embedder.dim)
        ids = []
        for batch_ids, vectors in gen.store.iter_vectors(None):
            flat.add(vectors)
            ids.append(batch_ids)
        flat_ids = np.concatenate(ids)
        k = 10

        def bare(q: str, _day: dt.date) -> None:
            flat.search(index.embedder.encode_query(q).reshape(1, -1), k)

        bare_times = _timed(bare, questions)
        out.update(_latencies("ask", ask))
        out.update(_latencies("bare", bare_times))
        out["dtype"] = index.embedder.dtype.dtype
        out["weights_dtype"] = index.embedder.weights_dtype
        out["recall_at_10"], out["window_recall_at_10"] = _recall(
            index, flat, flat_ids, questions, k)
        if spec.get("compare_dtypes"):
            out["by_dtype"] = _side_by_side(index, spec["compare_dtypes"], flat, questions, k)
    finally:
        index.close()
    return out


def _side_by_side(index: Any, dtypes: list[str], flat: Any,
                  questions: list[tuple[str, dt.date]], k: int) -> dict[str, dict[str, float]]:
    """Ask and bare p50 of the index's own dtype and of each of ``dtypes``, question by
    question in rotating order, so load on a shared machine hits every dtype alike. The
    other dtypes answer through an ``Index`` over the same generation with their own model."""
    from index import Index
    from index.embed import Embedder

    own = index.embedder
    twins = {own.dtype.dtype: index}
    for dtype in dtypes:
        model = Embedder(own.model_name, batch_size=own.batch_size, dtype=dtype)
        model.load()
        twins[dtype] = Index(index.settings, model, index.generation)
    names = list(twins)
    for q, day in questions[:WARMUP]:
        for name in names:
            twins[name].answer(q, asked_at=day)
    ask: dict[str, list[float]] = {name: [] for name in names}
    bare: dict[str, list[float]] = {name: [] for name in names}
    for n, (q, day) in enumerate(questions):
        for name in names[n % len(names):] + names[: n % len(names)]:
            twin = twins[name]
            started = time.perf_counter()
            twin.answer(q, asked_at=day)
            ask[name].append(time.perf_counter() - started)
            started = time.perf_counter()
            flat.search(twin.embedder.encode_query(q).reshape(1, -1), k)
            bare[name].append(time.perf_counter() - started)
    return {name: {**_latencies("ask", ask[name]), **_latencies("bare", bare[name])}
            for name in names}


def _wait_ready(index: Any, started: float, limit: float = 120.0) -> float:
    """Seconds from opening until the model is loaded and background loading (chunk days)
    is done: steady-state latency is what a long-running bot serves; the wait is reported."""
    while not index.generation.days.ready and time.perf_counter() - started < limit:
        time.sleep(0.05)
    return time.perf_counter() - started


def _timed(call: Any, questions: list[tuple[str, dt.date]]) -> list[float]:
    times = []
    for q, day in questions:
        started = time.perf_counter()
        call(q, day)
        times.append(time.perf_counter() - started)
    return times


def _latencies(name: str, times: list[float]) -> dict[str, float]:
    ms = np.asarray(times) * 1000
    return {f"{name}_p50_ms": round(float(np.percentile(ms, 50)), 2),
            f"{name}_p95_ms": round(float(np.percentile(ms, 95)), 2)}


def _recall(index: Any, flat: Any, flat_ids: np.ndarray, questions: list[tuple[str, dt.date]],
            k: int) -> tuple[float, float]:
    """recall@k of the index's own search against exact search, unrestricted and within a
    30-day publication window (the recency window every chat question searches)."""
    gen = index.generation
    whole, window = [], []
    for q, day in questions:
        qvec = index.embedder.encode_query(q)
        _, exact = flat.search(qvec.reshape(1, -1), k)
        want = set(flat_ids[exact[0][exact[0] >= 0]].tolist())
        got, _ = gen.vectors.search(qvec, k)
        whole.append(len(want & set(got.tolist())) / max(1, len(want)))
        allowed = gen.store.chunk_ids_published(day - dt.timedelta(days=30), day)
        if len(allowed) >= k:  # exact: SQLite's float16 vectors, whatever FAISS's codes
            parts = list(gen.store.iter_vectors(allowed.tolist()))
            found = np.concatenate([i for i, _ in parts])
            vectors = np.concatenate([v for _, v in parts])
            top = found[np.argsort(-(vectors @ qvec), kind="stable")[:k]]
            got, _ = gen.vectors.search(qvec, k, restrict=allowed)
            window.append(len(set(top.tolist()) & set(got.tolist())) / k)
    return (round(float(np.mean(whole)), 4),
            round(float(np.mean(window)), 4) if window else float("nan"))


def _query_plans(index: Any, question: tuple[str, dt.date]) -> list[dict[str, Any]]:
    """EXPLAIN QUERY PLAN of every statement one question runs; ``full_scan`` marks a
    plain table scanned without an index (FTS5 virtual-table scans are its own index)."""
    conn = index.generation.store.conn
    seen: list[str] = []
    conn.set_trace_callback(lambda sql: seen.append(sql))
    try:
        index.answer(question[0], asked_at=question[1])
    finally:
        conn.set_trace_callback(None)
    plans = []
    shapes: set[str] = set()
    for sql in (s.strip() for s in seen):
        shape = _shape(sql)
        if not sql.upper().startswith("SELECT") or shape in shapes:
            continue
        shapes.add(shape)
        with index.generation.store.lock:
            rows = conn.execute("EXPLAIN QUERY PLAN " + sql).fetchall()
        steps = [str(r[-1]) for r in rows]
        plans.append({"sql": _short(shape), "plan": steps,
                      "full_scan": any(FULL_SCAN.search(s) for s in steps)})
    return plans


def _shape(sql: str) -> str:
    """The statement with its literals replaced, so one query shape is explained once."""
    sql = re.sub(r"'(?:[^']|'')*'", "?", " ".join(sql.split()))
    return re.sub(r"\(\s*-?\d+(?:\s*,\s*-?\d+)*\s*\)", "(…)", sql)


def _short(sql: str) -> str:
    return sql if len(sql) <= 160 else sql[:159] + "…"


def peak_rss_bytes() -> int:
    """Peak resident set size of this process (VmHWM; ru_maxrss where /proc is absent)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    import resource

    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""``newsbot bench``: one run measures ingest, re-ingest, ask latency, memory, disk and
recall, on this machine, and checks the issue's targets.

Each index size is grown from the real ingested index (``synthetic``) and measured in a
fresh process (``probe``), so its peak RSS is that of a process serving it — model
included — and nothing the parent loaded counts against it. The probe is started with
``subprocess`` (fork + exec): a process that has used torch must not fork workers that use
torch.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from index.bench.corpus import questions_for, read_records
from index.bench.ingest import ingest_seed, measure_ingest
from index.bench.machine import load_average, machine_facts
from index.bench.rebuild import measure_rebuild, rebuild_targets
from index.embed import Embedder
from index.settings import IndexSettings

FULL_SIZES = (10_000, 100_000, 1_000_000)
QUICK_SIZES = (10_000,)
REBUILD_SIZES: tuple[int, ...] = ()  # opt in (--rebuild-sizes): hours at 1M (index.bench.rebuild)


@dataclass(slots=True)
class BenchOptions:
    sizes: tuple[int, ...] = FULL_SIZES
    quick: bool = False
    corpus: Path | None = None  # default: ../shared/data/pk_business_2015.jsonl if present
    articles: int | None = None  # only the first N corpus articles
    questions: int = 60
    parts: int = 4
    work_dir: Path | None = None
    keep: bool = False
    rebuild_sizes: tuple[int, ...] = REBUILD_SIZES
    # only the rebuilds of ``rebuild_sizes``: a plain seed ingest, no ingest-speed or ask
    # phases (a 1M rebuild is long enough on its own)
    rebuild_only: bool = False
    command: str = "newsbot bench"
    # a PostgreSQL database (pgvector) holding no newsbot index: each size is also loaded
    # there and measured side by side (``index.bench.pgside``)
    postgres: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def quick_run(cls, **changes: Any) -> BenchOptions:
        """What ``--quick`` means: 10k chunks, a slice of the corpus, fewer questions."""
        base = {"sizes": QUICK_SIZES, "quick": True, "articles": 24, "questions": 20,
                "parts": 2, "rebuild_sizes": ()}
        base.update(changes)
        return cls(**base)


def run_bench(options: BenchOptions, settings: IndexSettings,
              say: Callable[[str], None] = lambda _msg: None,
              embedder: Embedder | None = None) -> dict[str, Any]:
    """Run every measurement ``options`` asks for; ``embedder`` may be passed in so a
    caller that already loaded the model (tests) does not load it twice."""

    started = time.monotonic()
    load_at_start = load_average()
    work = Path(tempfile.mkdtemp(prefix="newsbot-bench-", dir=options.work_dir))
    try:
        records, corpus = read_records(options.corpus, options.articles)
        if embedder is None:
            embedder = Embedder(settings.embedding_model, batch_size=settings.embed_batch_size,
                                dtype=settings.embed_dtype)
        say(f"corpus: {corpus}")
        if options.postgres:
            _refuse_a_used_database(options.postgres, settings.embedding_model, embedder.dim)
        if options.rebuild_only:
            return _rebuilds_only(options, settings, embedder, records, corpus, work, say,
                                  started, load_at_start)
        ingest = measure_ingest(records, settings, embedder, work / "ingest", options.parts, say)
        questions = questions_for(records, options.questions)
        sizes = []
        for size in options.sizes:
            sizes.append(_measure_size(size, ingest.seed_db, questions, settings, embedder,
                                       work, say))
            if options.postgres:
                from index.bench.pgside import measure_size

                say(f"{size:,} chunks: PostgreSQL side by side")
                sizes[-1]["postgres"] = measure_size(
                    work / f"size-{size}", options.postgres,
                    [(q.text, q.asked_at) for q in questions], settings, embedder, work)
            if size in options.rebuild_sizes:
                sizes[-1]["rebuild"] = measure_rebuild(work / f"size-{size}", settings, work, say)
            if not options.keep:
                shutil.rmtree(work / f"size-{size}", ignore_errors=True)
        facts = machine_facts()
        facts["load_average"] = load_at_start
        facts["load_average_end"] = load_average()
        report: dict[str, Any] = {
            "command": options.command,
            "model": model_facts(settings.embedding_model, embedder),
            "machine": facts,
            "corpus": corpus,
            "questions": len(questions),
            "ingest": ingest.numbers,
            "sizes": sizes,
            "seconds": round(time.monotonic() - started, 1),
        }
        report["targets"] = check_targets(report)
        if options.keep:
            report["work_dir"] = str(work)
        return report
    finally:
        if not options.keep:
            shutil.rmtree(work, ignore_errors=True)


def _rebuilds_only(options: BenchOptions, settings: IndexSettings, embedder: Embedder,
                   records: list[dict], corpus: str, work: Path,
                   say: Callable[[str], None], started: float,
                   load_at_start: list[float] | None) -> dict[str, Any]:
    """``--rebuild-only``: the seed index, then each of ``rebuild_sizes`` written and rebuilt."""
    from index.bench.synthetic import build

    say("ingesting the seed index (not timed)")
    seed_db = ingest_seed(records, settings, embedder, work / "ingest")
    sizes = []
    for size in options.rebuild_sizes:
        say(f"{size:,} chunks: writing the index")
        data_dir = work / f"size-{size}"
        built = build(seed_db, data_dir, size, dim=embedder.dim, model=settings.embedding_model)
        sizes.append({"size": size, "chunks": built.chunks, "layout": built.layout,
                      "real_chunks": built.real_chunks,
                      "build_sqlite_s": round(built.sqlite_seconds, 1),
                      "build_faiss_s": round(built.faiss_seconds, 1),
                      "rebuild": measure_rebuild(data_dir, settings, work, say)})
        if not options.keep:
            shutil.rmtree(data_dir, ignore_errors=True)
    facts = machine_facts()
    facts["load_average"] = load_at_start
    facts["load_average_end"] = load_average()
    return {"command": options.command, "rebuild_only": True,
            "model": model_facts(settings.embedding_model, embedder), "machine": facts,
            "corpus": corpus, "sizes": sizes, "seconds": round(time.monotonic() - started, 1),
            "targets": rebuild_targets({s["size"]: s for s in sizes})}


def _refuse_a_used_database(url: str, model: str, dim: int) -> None:
    """Before anything is measured: the bench's database must hold no newsbot index."""
    from index.backends import PgBackend
    from index.copy import CopyRefused, refuse_unless_empty

    backend = PgBackend(url)
    try:
        refuse_unless_empty(backend, model, dim)
    except CopyRefused as exc:
        raise RuntimeError(f"newsbot bench --postgres needs a database of its own: {exc}") \
            from None
    finally:
        backend.close()


def model_facts(name: str, embedder: Embedder) -> dict[str, Any]:
    """The embedding model measured: its setting value, its name, its dimension and the
    dtype it computed in (with the CPU flags that decided it)."""
    from index.modelzoo import PROFILES

    profile = PROFILES.get(name)
    label = profile.description.split()[0] if profile else Path(embedder.path).name
    return {"setting": name, "name": label, "dim": embedder.dim,
            "dtype": embedder.dtype.describe()}


def _measure_size(size: int, seed_db: Path, questions: list[Any], settings: IndexSettings,
                  embedder: Embedder, work: Path, say: Callable[[str], None]) -> dict[str, Any]:
    from index.bench.synthetic import build

    say(f"{size:,} chunks: writing the index")
    data_dir = work / f"size-{size}"
    built = build(seed_db, data_dir, size, dim=embedder.dim, model=settings.embedding_model)
    say(f"{size:,} chunks: measuring ({built.layout})")
    spec = {
        "settings": {**settings.model_dump(mode="json", include=set(IndexSettings.model_fields)),
                     "data_dir": str(data_dir), "embed_dtype": embedder.dtype.dtype},
        "questions": [(q.text, q.asked_at.isoformat()) for q in questions],
        # ask in float32 beside the configured dtype ("today's" speed, side by side)
        "compare_dtypes": [] if embedder.dtype.dtype == "float32" else ["float32"],
    }
    spec_path = work / f"probe-{size}.json"
    spec_path.write_text(json.dumps(spec))
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSBOT_")}
    done = subprocess.run([sys.executable, "-m", "index.bench.probe", str(spec_path)],
                          capture_output=True, text=True, env=env, cwd=work, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"probe at {size:,} chunks failed:\n{done.stderr[-2000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    chunks = max(1, result["chunks"])
    result.update({
        "size": size,
        "real_chunks": built.real_chunks,
        "build_sqlite_s": round(built.sqlite_seconds, 1),
        "build_faiss_s": round(built.faiss_seconds, 1),
        "ask_over_bare": round(result["ask_p50_ms"] / result["bare_p50_ms"], 2),
        "disk_bytes_per_chunk": round(result["disk_bytes"] / chunks),
        "faiss_bytes_per_chunk": round(result["faiss_bytes"] / chunks),
        "full_scans": [p["sql"] for p in result["plans"] if p["full_scan"]],
    })
    return result


def check_targets(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The issue's targets, each with the measured value and whether it is met."""
    ing = report["ingest"]
    by_size = {s["size"]: s for s in report["sizes"]}
    out = [
        _target(f"ingest ≥ 0.9× bare encode ({ing['faster_dtype']}, the faster)",
                ing["ratio"], ing["ratio"] >= 0.9),
        _target("unchanged re-ingest ≥ 50× faster", ing["reingest_speedup"],
                bool(ing["reingest_speedup"]) and ing["reingest_speedup"] >= 50),
        _target("unchanged re-ingest embeds 0 chunks", ing["reingest_chunks_embedded"],
                ing["reingest_chunks_embedded"] == 0),
    ]
    if ing["dtype"] == "bfloat16":
        out.append(_target("ingest ≥ 2× bare float32 encode", ing["over_float32"],
                           ing["over_float32"] >= 2.0))
    if 100_000 in by_size:
        ratio = by_size[100_000]["ask_over_bare"]
        out.append(_target("ask p50 ≤ 1.5× bare at 100k", ratio, ratio <= 1.5))
        pair = by_size[100_000].get("by_dtype")
        if pair and "float32" in pair and ing["dtype"] in pair:
            ratio = round(pair[ing["dtype"]]["ask_p50_ms"] / pair["float32"]["ask_p50_ms"], 2)
            out.append(_target(f"ask p50 ({ing['dtype']}) ≤ 0.6× float32's at 100k "
                               "(side by side)", ratio, ratio <= 0.6))
    if 100_000 in by_size and 1_000_000 in by_size:
        growth = round(by_size[1_000_000]["ask_p50_ms"] / by_size[100_000]["ask_p50_ms"], 2)
        out.append(_target("ask p50 at 1M ≤ 2× the 100k figure", growth, growth <= 2.0))
    if 1_000_000 in by_size:
        rss = by_size[1_000_000]["peak_rss_mb"]
        out.append(_target("peak RSS at 1M ≤ 2.5 GB (model included)", rss, rss <= 2560))
    out += rebuild_targets(by_size)
    for size, s in by_size.items():
        pg = s.get("postgres")
        if not pg:
            continue
        if size == 100_000:
            out.append(_target("PostgreSQL ask p50 ≤ 2× embedded at 100k (side by side)",
                               pg["ask_p50_ratio"], pg["ask_p50_ratio"] <= 2.0))
        out.append(_target(f"pgvector recall@10 ≥ 0.98 at {size:,}", pg["postgres_recall_at_10"],
                           pg["postgres_recall_at_10"] >= 0.98))
    for size, s in by_size.items():
        if s["layout"].startswith("ivf"):
            out.append(_target(f"recall@10 ≥ 0.98 at {size:,}", s["recall_at_10"],
                               s["recall_at_10"] >= 0.98))
        if s["full_scans"]:
            out.append(_target(f"no full table scan on the query path at {size:,}",
                               len(s["full_scans"]), False))
    return out


def _target(name: str, value: Any, met: bool) -> dict[str, Any]:
    return {"target": name, "value": value, "met": bool(met)}

"""``newsbot bench --quick`` end to end: the report has every number the issue asks for,
each of a sane kind. No timing thresholds here — timings belong to the benchmark itself."""

from __future__ import annotations

import json

import pytest

from bot import cli
from index.bench.report import render
from index.bench.run import BenchOptions, run_bench


@pytest.mark.slow
def test_quick_bench_reports_every_measure(settings, embedder) -> None:
    report = run_bench(BenchOptions.quick_run(), settings, embedder=embedder)

    machine = report["machine"]
    assert machine["cores"] >= 1 and isinstance(machine["flags"], list)
    assert {"faiss", "sqlite", "load_average", "load_average_end"} <= machine.keys()
    # the suite runs on MiniLM (tests/conftest.py); the report names the model it measured
    assert report["model"] == {"setting": "minilm", "name": "all-MiniLM-L6-v2", "dim": 384,
                               "dtype": embedder.dtype.describe()}

    ing = report["ingest"]
    assert ing["chunks"] > 0 and ing["same_chunks"] and ing["chunks_embedded"] == ing["chunks"]
    assert ing["ingest_chunks_per_s"] > 0 and ing["bare_chunks_per_s"] > 0 and ing["ratio"] > 0
    assert ing["reingest_chunks_embedded"] == 0 and ing["reingest_duplicates"] > 0
    assert ing["reingest_speedup"] > 1
    # bare encode in both dtypes on the same chunks; ingest is held to the faster one
    assert set(ing["bare_by_dtype"]) == {"float32", "bfloat16"} and ing["dtype"] == "float32"
    fastest = min(ing["bare_by_dtype"], key=lambda d: ing["bare_by_dtype"][d]["s"])
    assert ing["faster_dtype"] == fastest
    assert ing["bare_s"] == ing["bare_by_dtype"][fastest]["s"]
    assert 0.99 < ing["bf16_cosine_to_float32"]["min"] <= ing["bf16_cosine_to_float32"]["mean"]
    assert ing["bf16_cosine_to_float32"]["mean"] < 1.0  # really computed in bfloat16

    [size] = report["sizes"]
    assert size["size"] == size["chunks"] == 10_000 and size["layout"] == "flat fp16"
    assert 0 < size["bare_p50_ms"] and 0 < size["ask_p50_ms"] <= size["ask_p95_ms"]
    assert size["recall_at_10"] == pytest.approx(1.0)  # exact search: nothing to lose
    assert 0.0 <= size["window_recall_at_10"] <= 1.0
    assert 100 < size["peak_rss_mb"] < 4096  # the model alone is a few hundred MB
    assert 0 < size["faiss_bytes_per_chunk"] < size["disk_bytes_per_chunk"] < 100_000
    assert size["plans"] and size["full_scans"] == []
    assert 0 <= size["open_s"] <= size["ready_s"]

    assert size["dtype"] == size["weights_dtype"] == "float32" and "by_dtype" not in size

    names = [t["target"] for t in report["targets"]]
    assert f"ingest ≥ 0.9× bare encode ({fastest}, the faster)" in names
    assert all("met" in t for t in report["targets"])
    table = render(report)
    assert "| 10,000 | flat fp16 |" in table and "re-ingest" in table
    assert ("Model: all-MiniLM-L6-v2 (384-d, `NEWSBOT_EMBEDDING_MODEL=minilm`) computing in "
            "float32 (set by NEWSBOT_EMBED_DTYPE") in table
    assert "| bare `model.encode` in bfloat16, same texts, batch 32 |" in table
    json.dumps(report)  # --json prints it as one object


@pytest.mark.slow
def test_bfloat16_bench_asks_side_by_side_with_float32(settings) -> None:
    from index.embed import Embedder

    embedder = Embedder("minilm", dtype="bfloat16")
    options = BenchOptions.quick_run(articles=6, questions=6, parts=2)
    report = run_bench(options, settings, embedder=embedder)

    ing = report["ingest"]
    assert ing["dtype"] == "bfloat16" and ing["over_float32"] > 0
    [size] = report["sizes"]
    assert size["dtype"] == size["weights_dtype"] == "bfloat16"
    assert set(size["by_dtype"]) == {"bfloat16", "float32"}
    assert all(0 < p["ask_p50_ms"] <= p["ask_p95_ms"] and p["bare_p50_ms"] > 0
               for p in size["by_dtype"].values())
    names = [t["target"] for t in report["targets"]]
    assert "ingest ≥ 2× bare float32 encode" in names
    assert "| ask / bare p50 ms, bfloat16 | ask / bare p50 ms, float32 |" in render(report)


def test_bench_is_a_cli_command_that_imports_nothing_heavy() -> None:
    parser = cli.build_parser()
    args = parser.parse_args(["bench", "--quick", "--sizes", "10000", "--json"])
    assert args.quick and args.sizes == "10000" and args.json
    assert BenchOptions.quick_run().sizes == (10_000,)

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
    assert report["model"] == {"setting": "minilm", "name": "all-MiniLM-L6-v2", "dim": 384}

    ing = report["ingest"]
    assert ing["chunks"] > 0 and ing["same_chunks"] and ing["chunks_embedded"] == ing["chunks"]
    assert ing["ingest_chunks_per_s"] > 0 and ing["bare_chunks_per_s"] > 0 and ing["ratio"] > 0
    assert ing["reingest_chunks_embedded"] == 0 and ing["reingest_duplicates"] > 0
    assert ing["reingest_speedup"] > 1

    [size] = report["sizes"]
    assert size["size"] == size["chunks"] == 10_000 and size["layout"] == "flat fp16"
    assert 0 < size["bare_p50_ms"] and 0 < size["ask_p50_ms"] <= size["ask_p95_ms"]
    assert size["recall_at_10"] == pytest.approx(1.0)  # exact search: nothing to lose
    assert 0.0 <= size["window_recall_at_10"] <= 1.0
    assert 100 < size["peak_rss_mb"] < 4096  # the model alone is a few hundred MB
    assert 0 < size["faiss_bytes_per_chunk"] < size["disk_bytes_per_chunk"] < 100_000
    assert size["plans"] and size["full_scans"] == []
    assert 0 <= size["open_s"] <= size["ready_s"]

    names = [t["target"] for t in report["targets"]]
    assert "ingest ≥ 0.9× bare encode" in names and all("met" in t for t in report["targets"])
    table = render(report)
    assert "| 10,000 | flat fp16 |" in table and "re-ingest" in table
    assert "Model: all-MiniLM-L6-v2 (384-d, `NEWSBOT_EMBEDDING_MODEL=minilm`)" in table
    json.dumps(report)  # --json prints it as one object


def test_bench_is_a_cli_command_that_imports_nothing_heavy() -> None:
    parser = cli.build_parser()
    args = parser.parse_args(["bench", "--quick", "--sizes", "10000", "--json"])
    assert args.quick and args.sizes == "10000" and args.json
    assert BenchOptions.quick_run().sizes == (10_000,)

"""The rebuild-memory phase of ``newsbot bench`` at a tiny size: a real synthetic index is
rebuilt in a child process with the stand-in encoder, the model is measured in another,
and the report carries both figures, their sum and the target."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from index import Index
from index.bench.rebuild import (
    TARGET_MB,
    compose,
    measure_rebuild,
    rebuild_lines,
    rebuild_targets,
)
from index.bench.run import BenchOptions
from index.bench.standin import StandInEmbedder
from index.bench.synthetic import build
from index.embed_dtype import choose_embed_dtype
from index.generation import SQLITE_NAME

SAMPLES = Path(__file__).resolve().parents[2] / "index" / "samples"
CHUNKS = 400


def test_stand_in_vectors_are_deterministic_unit_vectors_of_the_model_dimension() -> None:
    standin = StandInEmbedder("minilm")
    first = standin.encode(["a text", "another text", "a text"])
    assert first.shape == (3, 384) and first.dtype == np.float32
    assert np.allclose(np.linalg.norm(first, axis=1), 1.0, atol=1e-5)
    assert np.array_equal(first[0], first[2]) and not np.allclose(first[0], first[1])
    assert np.array_equal(standin.encode(["a text"])[0], first[0])  # same text, same vector


@pytest.mark.slow
def test_rebuild_phase_reports_peak_rss_of_both_sides(settings, embedder, tmp_path) -> None:
    seed = Index.open(settings, embedder=embedder)
    try:
        seed.ingest([str(p) for p in sorted(SAMPLES.glob("*.txt"))])
        seed_db = seed.generation.dir / SQLITE_NAME
        data_dir = tmp_path / "size"
        built = build(seed_db, data_dir, CHUNKS, dim=embedder.dim, model=settings.embedding_model)
    finally:
        seed.close()
    assert built.chunks == CHUNKS

    result = measure_rebuild(data_dir, settings, tmp_path)

    assert result["chunks_before"] == CHUNKS and result["articles_before"] > 0
    # every stored article was re-chunked and embedded (by the stand-in) into the new index
    assert result["articles_after"] > 0 and result["chunks_after"] > 0
    assert result["chunks_embedded"] == result["chunks_after"]
    assert result["torch_loaded"] is False  # the index side never ran the model
    assert result["index_peak_rss_mb"] > 0
    assert {"open", "rebuild: embedding"} <= result["by_phase_mb"].keys()
    assert max(result["by_phase_mb"].values()) <= result["index_peak_rss_mb"]
    model = result["model"]
    assert model["name"] == "minilm" and model["dim"] == 384 and model["model_mb"] > 0
    assert model["tokens_each"] >= embedder.max_tokens  # texts fill the model's window
    assert model["dtype"] == choose_embed_dtype(settings.embed_dtype).dtype
    assert 0 < model["resident_mb"] <= model["model_mb"]
    assert 0 < model["catch_up_mb"] <= model["model_mb"]
    assert result["sum_rss_mb"] == pytest.approx(
        result["index_peak_rss_mb"] + model["model_mb"], abs=0.11)
    assert (result["peak_rss_mb"], result["peak_phase"]) == compose(result["by_phase_mb"], model)
    assert result["peak_rss_mb"] <= result["sum_rss_mb"] + 0.11

    report = {"sizes": [{"size": CHUNKS, "rebuild": result}]}
    [target] = rebuild_targets({CHUNKS: report["sizes"][0]})
    assert target["value"] == result["peak_rss_mb"]
    assert target["met"] is (result["peak_rss_mb"] <= TARGET_MB)
    table = "\n".join(rebuild_lines(report))
    assert f"| {CHUNKS:,} → {result['chunks_after']:,} |" in table
    json.dumps(result)


def test_rebuild_phase_is_opt_in_and_never_in_quick_runs() -> None:
    """At 1M a rebuild runs for hours, so ``--rebuild-sizes`` asks for it."""
    assert BenchOptions().rebuild_sizes == ()
    assert BenchOptions(rebuild_sizes=(1_000_000,)).rebuild_sizes == (1_000_000,)
    assert BenchOptions.quick_run().rebuild_sizes == ()
    assert rebuild_lines({"sizes": [{"size": 10_000}]}) == []


@pytest.mark.slow
def test_rebuild_only_run_measures_just_the_rebuilds(settings, embedder) -> None:
    """``newsbot bench --rebuild-only --rebuild-sizes N``: a seed ingest, then each size
    written and rebuilt; no ingest-speed or ask phase, and the text report says so."""
    from index.bench.report import render
    from index.bench.run import run_bench

    options = BenchOptions(sizes=(), rebuild_sizes=(CHUNKS,), rebuild_only=True, articles=12,
                           command="newsbot bench --rebuild-only")
    report = run_bench(options, settings, embedder=embedder)

    assert report["rebuild_only"] is True and "ingest" not in report
    [size] = report["sizes"]
    assert size["size"] == CHUNKS == size["chunks"] and "ask_p50_ms" not in size
    rebuilt = size["rebuild"]
    assert rebuilt["chunks_before"] == CHUNKS and rebuilt["chunks_after"] > 0
    assert "rebuild: indexing" in rebuilt["by_phase_mb"]  # FAISS and the lists, once
    assert rebuilt["model"]["texts"] == 2 * settings.rebuild_embed_batch_size
    [target] = report["targets"]
    assert target["value"] == rebuilt["peak_rss_mb"]
    text = render(report)
    assert text.startswith("$ newsbot bench --rebuild-only")
    assert f"| {CHUNKS:,} → {rebuilt['chunks_after']:,} |" in text and "ask p50" not in text


def test_rebuild_only_needs_the_sizes_to_rebuild(capsys: pytest.CaptureFixture[str]) -> None:
    from bot import cli

    args = cli.build_parser().parse_args(["bench", "--rebuild-only"])
    assert args.func(args) == 2
    assert "--rebuild-only needs --rebuild-sizes" in capsys.readouterr().err


def test_compose_adds_the_model_peak_only_where_it_embeds() -> None:
    """The model's activations count in the phases it embeds in; the FAISS build and the
    neighbour lists (``indexing``) carry only its resident weights."""
    model = {"model_mb": 600.0, "catch_up_mb": 300.0, "resident_mb": 250.0}
    phases = {"open": 900.0, "rebuild: embedding": 1000.0, "rebuild: indexing": 1900.0,
              "rebuild: saving": 1800.0}
    assert compose(phases, model) == (2150.0, "rebuild: indexing")
    phases["rebuild: saving"] = 1900.0  # a catch-up embeds beside both built indexes
    assert compose(phases, model) == (2200.0, "rebuild: saving")
    assert compose({"rebuild: embedding": 1000.0, "rebuild: indexing": 1200.0}, model) == (
        1600.0, "rebuild: embedding")

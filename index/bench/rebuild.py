"""Peak memory of a rebuild (``Index.rebuild``, what ``/reindex`` and ``newsbot reindex`` run)
of a benchmark index, measured in fresh processes.

A real rebuild re-embeds every chunk: half a day at 1M chunks on two cores. So the figure
is composed from two measurements, each in its own process so nothing else counts:

- **index side**: the real ``Index.open`` + ``Index.rebuild`` of the index, every stored
  article re-chunked with the real tokenizer, written to a new generation (SQLite, FTS;
  then FAISS built once and every neighbour list) and swapped in, with the model replaced by
  ``StandInEmbedder`` (same dimension, no torch). Peak RSS is the child's ``VmHWM``; a
  sampler thread also records the resident size per rebuild phase, to show where it goes.
- **model side**: the real model, in the dtype the settings choose (``embed_dtype``),
  loaded and run twice on the largest model batch a rebuild runs
  (``rebuild_embed_batch_size`` texts of the model's full window: larger write batches go
  through the model that many at a time): its peak RSS minus the process's resident size
  before loading (``model_mb``); before those, its peak on one text at the catch-up's
  batch (``catch_up_mb``, ``index.rebuild.CATCH_UP_MODEL_BATCH``); and what stays resident
  once the batches are done and freed memory is handed back (``resident_mb``).

The figure composes them phase by phase (``compose``): the model runs only while
articles are embedded, so phase ``embedding`` (the copy) counts the index side's peak in
that phase plus the model's peak, and ``saving`` (whose catch-up may embed articles
written meanwhile, beside both built indexes) plus its catch-up peak; every other phase
(the FAISS build and neighbour lists of ``indexing`` above all, which start by handing
freed memory back) counts its peak plus the model's resident size. The plain sum of both
peaks is reported beside it: it adds the model's activations to the FAISS build, which
never run at the same time.

Run as ``python -m index.bench.rebuild index|model SPEC.json``; prints one JSON object.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from index.bench.probe import peak_rss_bytes
from index.settings import IndexSettings

MB = 2**20
SAMPLE_SECONDS = 0.2
REPORT_SECONDS = 60.0  # how often the index side prints a progress line to stderr
TARGET_MB = 2560  # the 2.5 GB, counted as in the serving figure (2.5 GiB)


def measure_rebuild(data_dir: Path, settings: IndexSettings, work: Path,
                    say: Callable[[str], None] = lambda _msg: None) -> dict[str, Any]:
    """Rebuild the live index in ``data_dir`` (index side) and measure the model (model
    side), each in a fresh process; returns both figures and their sum in MB."""
    fields = settings.model_dump(mode="json", include=set(IndexSettings.model_fields))
    spec = {"settings": {**fields, "data_dir": str(data_dir)}}
    spec_path = work / f"rebuild-{data_dir.name}.json"
    spec_path.write_text(json.dumps(spec))
    say(f"rebuild of {data_dir.name}: index side, stand-in encoder")
    out = _child("index", spec_path, work)
    say(f"rebuild of {data_dir.name}: model side, {settings.embedding_model}")
    out["model"] = _child("model", spec_path, work)
    out["sum_rss_mb"] = round(out["index_peak_rss_mb"] + out["model"]["model_mb"], 1)
    out["peak_rss_mb"], out["peak_phase"] = compose(out["by_phase_mb"], out["model"])
    return out


# Rebuild phases in which the model embeds, and which of its figures each counts: the
# copy at the rebuild's batch, the catch-up before the swap at its own.
MODEL_PHASES = {"rebuild: embedding": "model_mb", "rebuild: saving": "catch_up_mb"}


def compose(by_phase_mb: dict[str, float], model: dict[str, Any]) -> tuple[float, str]:
    """A rebuild's peak with the model in the process: the highest over phases of the index
    side's peak in that phase plus the model's peak at that phase's batch (phases where it
    embeds) or its resident size (the others); returns (MB, the phase it falls in)."""
    def with_model(phase: str, mb: float) -> float:
        return mb + model[MODEL_PHASES.get(phase, "resident_mb")]

    phase = max(by_phase_mb, key=lambda p: with_model(p, by_phase_mb[p]))
    return round(with_model(phase, by_phase_mb[phase]), 1), phase


def rebuild_targets(by_size: dict[int, dict[str, Any]]) -> list[dict[str, Any]]:
    """The issue's rebuild target, for each size whose rebuild was measured."""
    return [{"target": f"rebuild peak RSS at {size:,} ≤ 2.5 GB (index side + model, "
                       "by phase)",
             "value": s["rebuild"]["peak_rss_mb"],
             "met": s["rebuild"]["peak_rss_mb"] <= TARGET_MB}
            for size, s in by_size.items() if "rebuild" in s]


def rebuild_lines(report: dict[str, Any]) -> list[str]:
    """The rebuild table of the text report (nothing when no rebuild was measured)."""
    rows = [s for s in report["sizes"] if "rebuild" in s]
    if not rows:
        return []
    lines = ["", "Rebuild memory: `Index.rebuild` of the index with the model replaced by a "
             "stand-in encoder of its dimension (index side, peak RSS of that process, per "
             "phase), plus the real model loaded and embedding one full rebuild batch (model "
             "side: its peak growth, and its resident growth once done). The figure is the "
             "highest phase: index side plus the model's peak where it embeds, plus its "
             "resident size elsewhere; the plain sum of the two peaks is beside it.", "",
             "| chunks before → after | rebuild s (stand-in) | index side MB | model peak / "
             "resident MB | peak RSS MB (phase) | sum of peaks MB | index side's peak during |",
             "|---:|---:|---:|---:|---:|---:|---|"]
    for s in rows:
        r = s["rebuild"]
        at = r["peak_sampled_at"]
        lines.append(
            f"| {r['chunks_before']:,} → {r['chunks_after']:,} | {r['rebuild_s']:,.0f} | "
            f"{r['index_peak_rss_mb']:,.0f} | {r['model']['model_mb']:,.0f} / "
            f"{r['model']['resident_mb']:,.0f} ({r['model']['dtype']}) | "
            f"{r['peak_rss_mb']:,.0f} ({r['peak_phase']}) | {r['sum_rss_mb']:,.0f} | "
            f"{at.get('phase', '?')} ({at.get('fraction', 0):.0%}) |")
    return lines


def _child(side: str, spec_path: Path, work: Path) -> dict[str, Any]:
    """Run one side in a fresh process; its progress lines and errors go to our stderr
    (a rebuild at 1M runs for hours)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSBOT_")}
    done = subprocess.run([sys.executable, "-m", "index.bench.rebuild", side, str(spec_path)],
                          stdout=subprocess.PIPE, text=True, env=env, cwd=work, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"rebuild benchmark ({side} side) failed with exit code "
                           f"{done.returncode}; its error is printed above")
    return json.loads(done.stdout.strip().splitlines()[-1])


def rebuild_index(spec: dict[str, Any]) -> dict[str, Any]:
    """Index side: open the index and rebuild it with the stand-in encoder."""
    from index import Index
    from index.bench.standin import StandInEmbedder
    from index.models import RebuildProgress

    settings = IndexSettings(**spec["settings"])
    embedder = StandInEmbedder(settings.embedding_model, batch_size=settings.embed_batch_size)
    sampler = _Sampler()
    sampler.start()
    try:
        started = time.perf_counter()
        index = Index.open(settings, embedder=embedder)
        try:
            before = index.stats()
            opened = time.perf_counter() - started

            def progress(p: RebuildProgress) -> None:
                sampler.enter(f"rebuild: {p.phase}", p.fraction, p.chunks)

            started = time.perf_counter()
            report = index.rebuild([], progress=progress)
            seconds = time.perf_counter() - started
            sampler.enter("after the swap")
            after = index.stats()
            layout = index.generation.vectors.describe()
        finally:
            index.close()
    finally:
        sampler.stop()
    return {
        "chunks_before": before.chunks,
        "articles_before": before.articles,
        "chunks_after": after.chunks,
        "articles_after": after.articles,
        "chunks_embedded": report.chunks_embedded,
        "layout_after": layout,
        "open_s": round(opened, 1),
        "rebuild_s": round(seconds, 1),
        # VmHWM can lag a sample read moments before (the kernel syncs RSS counters late)
        "index_peak_rss_mb": round(max(peak_rss_bytes(), sampler.high) / MB, 1),
        "by_phase_mb": {k: round(v / MB, 1) for k, v in sampler.peaks.items()},
        "peak_sampled_at": sampler.peak_at,
        "torch_loaded": "torch" in sys.modules,
    }


def rebuild_model(spec: dict[str, Any]) -> dict[str, Any]:
    """Model side: resident growth from loading the real model (in the configured dtype)
    and running it on the largest model batch a rebuild runs: at its peak, and once done
    with freed memory handed back (as ``Generation.index_written`` does first)."""
    from index.embed import Embedder
    from index.memory import release_memory
    from index.rebuild import CATCH_UP_MODEL_BATCH

    settings = IndexSettings(**spec["settings"])
    embedder = Embedder(settings.embedding_model,
                        batch_size=settings.rebuild_embed_batch_size,
                        dtype=settings.embed_dtype)
    words = " ".join(f"word{i}" for i in range(embedder.max_tokens))
    texts = [f"{n} {words}" for n in range(2 * embedder.batch_size)]  # two model calls
    lengths = embedder.count_tokens(texts)
    base = resident_bytes()
    embedder.load()
    embedder.encode_by_length(texts[:CATCH_UP_MODEL_BATCH], lengths[:CATCH_UP_MODEL_BATCH],
                              batch_size=CATCH_UP_MODEL_BATCH)
    catch_up = peak_rss_bytes()  # loading included: an upper bound of a catch-up's peak
    embedder.encode_by_length(texts, lengths)
    peak = peak_rss_bytes()
    after = resident_bytes()
    release_memory()
    return {"name": settings.embedding_model, "dim": embedder.dim,
            "dtype": embedder.dtype.dtype, "weights_dtype": embedder.weights_dtype,
            "texts": len(texts), "tokens_each": min(lengths), "base_mb": round(base / MB, 1),
            "model_mb": round((peak - base) / MB, 1),
            "catch_up_mb": round((catch_up - base) / MB, 1),
            "after_batches_mb": round((after - base) / MB, 1),
            "resident_mb": round((resident_bytes() - base) / MB, 1)}


def resident_bytes() -> int:
    """Resident set size of this process now (VmRSS), 0 where /proc is absent."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


class _Sampler:
    """Samples this process's resident size on a thread, and at every progress report;
    keeps the highest per phase."""

    def __init__(self) -> None:
        self.phase = "open"
        self.fraction = 0.0
        self.chunks = 0
        self.peaks: dict[str, int] = {}
        self.peak_at: dict[str, Any] = {}
        self._high = 0
        self._lock = threading.Lock()  # the thread and the progress callback both sample
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def enter(self, phase: str, fraction: float | None = None, chunks: int | None = None
              ) -> None:
        """Close the current phase with a sample, then count samples against ``phase``."""
        self._sample()
        self.phase = phase
        if fraction is not None:
            self.fraction = fraction
        if chunks is not None:
            self.chunks = chunks
        self._sample()

    @property
    def high(self) -> int:
        """The highest resident size sampled, in bytes."""
        return self._high

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()

    def _run(self) -> None:
        started = last = time.monotonic()
        while not self._stop.wait(SAMPLE_SECONDS):
            self._sample()
            if time.monotonic() - last >= REPORT_SECONDS:
                last = time.monotonic()
                print(f"bench: {self.phase} {self.fraction:.0%}, {self.chunks:,} chunks "
                      f"after {last - started:,.0f} s: RSS {resident_bytes() / MB:,.0f} MB, "
                      f"peak {self._high / MB:,.0f} MB", file=sys.stderr, flush=True)

    def _sample(self) -> None:
        with self._lock:
            rss, phase = resident_bytes(), self.phase
            self.peaks[phase] = max(self.peaks.get(phase, 0), rss)
            if rss > self._high:
                self._high = rss
                self.peak_at = {"phase": phase, "fraction": round(self.fraction, 3),
                                "rss_mb": round(rss / MB, 1)}


def main(argv: list[str]) -> int:
    side, path = argv
    spec = json.loads(Path(path).read_text())
    run = {"index": rebuild_index, "model": rebuild_model}[side]
    print(json.dumps(run(spec)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""The benchmark as text: Markdown tables, so the same output pastes into the README."""

from __future__ import annotations

from typing import Any

from index.bench.rebuild import rebuild_lines


def render(report: dict[str, Any]) -> str:
    if report.get("rebuild_only"):
        return _render_rebuilds(report)
    m, ing = report["machine"], report["ingest"]
    lines = [
        f"$ {report['command']}",
        "",
        _machine_line(m),
        _model_line(report.get("model")),
        f"Corpus: {report['corpus']}; {report['questions']} questions; "
        f"run took {report['seconds']:.0f} s.",
        "",
        "| ingest | chunks/s | seconds | CPU s |",
        "|---|---:|---:|---:|",
        f"| `newsbot ingest` path, {ing['dtype']} ({ing['chunks']} chunks, {ing['parts']} "
        f"parts) | {ing['ingest_chunks_per_s']:.1f} | {ing['ingest_s']:.1f} | "
        f"{ing['ingest_cpu_s']:.1f} |",
        *(f"| bare `model.encode` in {d}, same texts, batch {ing['batch_size']} | "
          f"{b['chunks_per_s']:.1f} | {b['s']:.1f} | {b['cpu_s']:.1f} |"
          for d, b in ing["bare_by_dtype"].items()),
        f"| **ratio** to the faster bare ({ing['faster_dtype']}; wall; CPU) | "
        f"**{ing['ratio']:.2f}×** | | {_num(ing['cpu_ratio'])}× |",
        f"| ingest ÷ bare float32 (wall) | {ing['over_float32']:.2f}× | | |",
        f"| unchanged re-ingest: {ing['reingest_chunks_embedded']} chunks embedded, "
        f"{ing['reingest_duplicates']} duplicates | {ing['reingest_speedup']}× faster | "
        f"{ing['reingest_s']:.2f} | |",
        "",
        "| chunks | FAISS layout | ask p50 / p95 ms | bare p50 / p95 ms | ask ÷ bare | "
        "peak RSS MB | disk B/chunk (FAISS) | recall@10 (30-day window) | open / ready s |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for s in report["sizes"]:
        lines.append(
            f"| {s['chunks']:,} | {s['layout']} | {s['ask_p50_ms']:.1f} / {s['ask_p95_ms']:.1f} | "
            f"{s['bare_p50_ms']:.1f} / {s['bare_p95_ms']:.1f} | {s['ask_over_bare']:.2f} | "
            f"{s['peak_rss_mb']:,.0f} | {s['disk_bytes_per_chunk']:,} "
            f"({s['faiss_bytes_per_chunk']:,}) | {s['recall_at_10']:.3f} "
            f"({_num(s['window_recall_at_10'], 3)}) | {s['open_s']:.1f} / "
            f"{s.get('ready_s', float('nan')):.1f} |")
    lines += rebuild_lines(report)
    cos = ing["bf16_cosine_to_float32"]
    lines += ["", f"bfloat16 vectors against float32's, same chunks: cosine min {cos['min']:.4f}"
              f", mean {cos['mean']:.5f}."]
    pairs = [(s["chunks"], s["by_dtype"]) for s in report["sizes"] if s.get("by_dtype")]
    if pairs:
        names = list(pairs[0][1])
        lines += ["", "| chunks | " + " | ".join(f"ask / bare p50 ms, {d}" for d in names)
                  + " | ask ratio |", "|---:|" + "---:|" * (len(names) + 1)]
        for n, pair in pairs:
            cells = [f"{pair[d]['ask_p50_ms']:.1f} / {pair[d]['bare_p50_ms']:.1f}"
                     for d in names]
            ratio = pair[names[0]]["ask_p50_ms"] / pair[names[-1]]["ask_p50_ms"]
            lines.append(f"| {n:,} | " + " | ".join(cells) + f" | {ratio:.2f} |")
        lines.append(f"(side by side in one process, question by question; ask ratio = "
                     f"{names[0]} ÷ {names[-1]})")
    pg = [(s["chunks"], s["postgres"]) for s in report["sizes"] if s.get("postgres")]
    if pg:
        lines += ["", "| chunks | ask p50 / p95 ms, embedded | ask p50 / p95 ms, PostgreSQL | "
                  "PostgreSQL ÷ embedded | recall@10 embedded / pgvector | load s / HNSW s |",
                  "|---:|---:|---:|---:|---:|---:|"]
        for n, p in pg:
            lines.append(
                f"| {n:,} | {p['sqlite_ask_p50_ms']:.1f} / {p['sqlite_ask_p95_ms']:.1f} | "
                f"{p['postgres_ask_p50_ms']:.1f} / {p['postgres_ask_p95_ms']:.1f} | "
                f"{p['ask_p50_ratio']:.2f} | {p['sqlite_recall_at_10']:.3f} / "
                f"{p['postgres_recall_at_10']:.3f} | {p['load']['write_s']:.1f} / "
                f"{p['load']['index_s']:.1f} |")
        lines.append("(the same rows and vectors on both, questions one by one alternating "
                     "which goes first; recall against an exact scan of every stored vector)")
    lines += ["", "| target | measured | met |", "|---|---:|:---:|"]
    for t in report["targets"]:
        lines.append(f"| {t['target']} | {t['value']} | {'yes' if t['met'] else '**no**'} |")
    scans = [(s["chunks"], sql) for s in report["sizes"] for sql in s["full_scans"]]
    lines.append("")
    if scans:
        lines += [f"Full table scan at {n:,}: `{sql}`" for n, sql in scans]
    else:
        lines.append("EXPLAIN QUERY PLAN: every SQLite query of a question uses an index "
                     "(FTS5, primary key or secondary index) at every size.")
    return "\n".join(lines)


def _render_rebuilds(report: dict[str, Any]) -> str:
    """``--rebuild-only``: the machine, the model, the rebuild table and its targets."""
    lines = [f"$ {report['command']}", "", _machine_line(report["machine"]),
             _model_line(report.get("model")),
             f"Corpus: {report['corpus']}; run took {report['seconds']:.0f} s."]
    lines += rebuild_lines(report)
    lines += ["", "| target | measured | met |", "|---|---:|:---:|"]
    lines += [f"| {t['target']} | {t['value']} | {'yes' if t['met'] else '**no**'} |"
              for t in report["targets"]]
    return "\n".join(lines)


def _machine_line(m: dict[str, Any]) -> str:
    return (f"Machine: {m['cores']} cores ({m['cpu']}), {m.get('memory_gb')} GB; flags "
            f"{' '.join(m['notable_flags']) or '-'}; faiss {m.get('faiss')} "
            f"({m.get('faiss_build', '?')}), torch {m.get('torch', '?')} "
            f"({m.get('torch_threads', '?')} threads), SQLite {m['sqlite']}; load average "
            f"{_load(m.get('load_average'))} at start, {_load(m.get('load_average_end'))} at "
            "end.")


def _model_line(model: dict[str, Any] | None) -> str:
    if not model:
        return "Model: ?"
    return (f"Model: {model['name']} ({model['dim']}-d, "
            f"`NEWSBOT_EMBEDDING_MODEL={model['setting']}`) computing in "
            f"{model.get('dtype', '?')}; recall is measured for its own query vectors.")


def _load(values: list[float] | None) -> str:
    return "/".join(f"{v:.1f}" for v in values) if values else "?"


def _num(value: Any, digits: int = 2) -> str:
    if value is None or value != value:  # None or NaN
        return "-"
    return f"{value:.{digits}f}"

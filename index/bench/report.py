"""The benchmark as text: Markdown tables, so the same output pastes into the README."""

from __future__ import annotations

from typing import Any

from index.bench.rebuild import rebuild_lines


def render(report: dict[str, Any]) -> str:
    m, ing = report["machine"], report["ingest"]
    lines = [
        f"$ {report['command']}",
        "",
        f"Machine: {m['cores']} cores ({m['cpu']}), {m.get('memory_gb')} GB; flags "
        f"{' '.join(m['notable_flags']) or '-'}; faiss {m.get('faiss')} "
        f"({m.get('faiss_build', '?')}), torch {m.get('torch', '?')} "
        f"({m.get('torch_threads', '?')} threads), SQLite {m['sqlite']}; load average "
        f"{_load(m.get('load_average'))} at start, {_load(m.get('load_average_end'))} at end.",
        _model_line(report.get("model")),
        f"Corpus: {report['corpus']}; {report['questions']} questions; "
        f"run took {report['seconds']:.0f} s.",
        "",
        "| ingest | chunks/s | seconds | CPU s |",
        "|---|---:|---:|---:|",
        f"| `newsbot ingest` path ({ing['chunks']} chunks, {ing['parts']} parts) | "
        f"{ing['ingest_chunks_per_s']:.1f} | {ing['ingest_s']:.1f} | {ing['ingest_cpu_s']:.1f} |",
        f"| bare `model.encode`, same texts, batch {ing['batch_size']} | "
        f"{ing['bare_chunks_per_s']:.1f} | {ing['bare_s']:.1f} | {ing['bare_cpu_s']:.1f} |",
        f"| **ratio** (wall; CPU) | **{ing['ratio']:.2f}×** | | {_num(ing['cpu_ratio'])}× |",
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


def _model_line(model: dict[str, Any] | None) -> str:
    if not model:
        return "Model: ?"
    return (f"Model: {model['name']} ({model['dim']}-d, "
            f"`NEWSBOT_EMBEDDING_MODEL={model['setting']}`); recall is measured for its own "
            "query vectors.")


def _load(values: list[float] | None) -> str:
    return "/".join(f"{v:.1f}" for v in values) if values else "?"


def _num(value: Any, digits: int = 2) -> str:
    if value is None or value != value:  # None or NaN
        return "-"
    return f"{value:.{digits}f}"

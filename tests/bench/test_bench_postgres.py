"""``newsbot bench --postgres URL``: each size also measured on PostgreSQL, side by side on
the same rows and vectors, and the bench's database left as empty as it found it. No timing
thresholds here; the figures belong to the benchmark itself (docs/postgres.md)."""

from __future__ import annotations

import psycopg
import pytest

from bot import cli
from index import Index
from index.bench.report import render
from index.bench.run import BenchOptions, run_bench
from index.settings import IndexSettings


def _newsbot_schemas(url: str) -> list[str]:
    with psycopg.connect(url) as conn:
        return [n for (n,) in conn.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'gen\\_%' "
            "UNION ALL SELECT 'public.newsbot_live' WHERE "
            "to_regclass('public.newsbot_live') IS NOT NULL")]


@pytest.mark.slow
def test_each_size_is_measured_on_postgres_too_and_the_database_emptied(
        settings, embedder, pg_url: str) -> None:
    options = BenchOptions.quick_run(articles=6, questions=8, parts=2, sizes=(1_500,),
                                     postgres=pg_url)
    report = run_bench(options, settings, embedder=embedder)

    [size] = report["sizes"]
    pg = size["postgres"]
    assert pg["load"]["problems"] == [] and pg["load"]["chunks"] == size["chunks"]
    assert pg["sqlite_chunks"] == pg["postgres_chunks"] == size["chunks"] == 1_500
    for side in ("sqlite", "postgres"):
        assert 0 < pg[f"{side}_ask_p50_ms"] <= pg[f"{side}_ask_p95_ms"]
        assert 0.0 <= pg[f"{side}_recall_at_10"] <= 1.0
    assert pg["sqlite_recall_at_10"] == pytest.approx(1.0)  # flat: exact search
    assert pg["ask_p50_ratio"] == pytest.approx(
        pg["postgres_ask_p50_ms"] / pg["sqlite_ask_p50_ms"], rel=0.01)
    recall_target = next(t for t in report["targets"] if t["target"].startswith("pgvector"))
    assert recall_target["value"] == pg["postgres_recall_at_10"]
    assert "| 1,500 |" in render(report).split("PostgreSQL ÷ embedded")[1]
    assert _newsbot_schemas(pg_url) == []  # what the bench made is gone


def test_a_database_holding_an_index_is_refused_before_anything_runs(
        settings, embedder, pg_url: str, tmp_path, corpus_dir) -> None:
    used = IndexSettings(data_dir=tmp_path / "other", database_url=pg_url)
    with Index.open(used, embedder=embedder) as index:
        index.ingest([str(corpus_dir)])
    before = _newsbot_schemas(pg_url)
    options = BenchOptions.quick_run(articles=6, questions=8, parts=2, sizes=(1_500,),
                                     postgres=pg_url)
    with pytest.raises(RuntimeError, match="needs a database of its own.*already holds"):
        run_bench(options, settings, embedder=embedder)
    assert _newsbot_schemas(pg_url) == before  # left alone


def test_the_command_line_never_prints_the_url(capsys: pytest.CaptureFixture[str]) -> None:
    from bot.cli_bench import _command_line

    args = cli.build_parser().parse_args(
        ["bench", "--quick", "--postgres", "postgresql://bench:s3cret@db/bench"])
    assert _command_line(args) == "newsbot bench --quick --postgres URL"
    assert cli.main(["bench", "--rebuild-only", "--rebuild-sizes", "1000", "--postgres",
                     "postgresql://bench:s3cret@db/bench"]) == 2
    assert "s3cret" not in capsys.readouterr().err

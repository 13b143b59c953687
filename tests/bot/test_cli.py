"""The ``newsbot`` command line: reports, answers, the terminal chat, start-up cost."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from bot import cli
from bot.terminal import chat_loop, render_answer
from index.embed_dtype import choose_embed_dtype

SEED_QUESTION = "Who led the Alibaba delegation that met Ishaq Dar?"


@pytest.fixture(autouse=True)
def _shared_model(monkeypatch, embedder):
    from index import api

    monkeypatch.setattr(api, "Embedder", lambda *a, **k: embedder)  # load the model once


def test_ingest_json_report_then_reingest_embeds_nothing(corpus_dir: Path, capsys) -> None:
    assert cli.main(["ingest", str(corpus_dir), "--json"]) == 0
    first = json.loads(capsys.readouterr().out)
    assert {k: first[k] for k in ("articles_new", "articles_updated", "duplicates", "skipped",
                                  "failed")} == {
        "articles_new": 5, "articles_updated": 0, "duplicates": 0, "skipped": 0, "failed": 0}
    assert first["chunks_embedded"] >= 5
    assert cli.main(["ingest", str(corpus_dir), "--json"]) == 0
    second = json.loads(capsys.readouterr().out)
    assert (second["articles_new"], second["duplicates"], second["chunks_embedded"]) == (0, 5, 0)


def test_ingest_reports_problems_with_reasons(tmp_path: Path, capsys) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "x", "body": "fine article text here", "source": "S"}\n{broken\n')
    assert cli.main(["ingest", str(bad), str(tmp_path / "missing.txt")]) == 1  # cron notices
    out = capsys.readouterr().out
    assert out.startswith("1 new, 0 updated, 0 duplicate, 0 skipped, 2 failed")
    assert "bad.jsonl:2" in out and "no such file or directory" in out


def test_ask_prints_quote_and_citation(capsys) -> None:
    assert cli.main(["ingest", str(cli.samples_dir())]) == 0
    capsys.readouterr()
    assert cli.main(["ask", SEED_QUESTION, "--as-of", "2017-03-06"]) == 0
    out = capsys.readouterr().out
    first = out.splitlines()[0]
    assert first.startswith("1. ") and "led by Max Bittner" in first
    assert "4 Mar 2017" in out.splitlines()[1]


def test_stats_and_check(corpus_dir: Path, capsys) -> None:
    cli.main(["ingest", str(corpus_dir)])
    capsys.readouterr()
    assert cli.main(["stats", "--json"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["articles"] == 5 and stats["chunks"] == stats["vectors"] > 0
    assert cli.main(["check"]) == 0
    assert capsys.readouterr().out.startswith("ok")


def test_stats_names_the_embedding_dtype(monkeypatch, capsys) -> None:
    from index import api
    from index.embed import Embedder

    monkeypatch.setattr(api, "Embedder", Embedder)  # stats names the dtype without loading
    monkeypatch.setenv("NEWSBOT_EMBED_DTYPE", "bfloat16")
    assert cli.main(["stats"]) == 0
    line = capsys.readouterr().out.splitlines()[0]
    assert line.endswith("model minilm computing in bfloat16 (set by NEWSBOT_EMBED_DTYPE; "
                         "CPU has " + (" ".join(choose_embed_dtype("auto").bf16_flags)
                                       or "no native bfloat16") + ")")
    monkeypatch.setenv("NEWSBOT_EMBED_DTYPE", "auto")
    assert cli.main(["stats", "--json"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["embed_dtype"] == {
        "dtype": choose_embed_dtype("auto").dtype, "setting": "auto",
        "bf16_flags": list(choose_embed_dtype("auto").bf16_flags)}


def test_bad_setting_exits_2_naming_it(monkeypatch, capsys) -> None:
    monkeypatch.setenv("NEWSBOT_CHUNK_WORDS", "many")
    assert cli.main(["stats"]) == 2
    assert "NEWSBOT_CHUNK_WORDS" in capsys.readouterr().err


def test_chat_loop_answers_pages_and_quits(index, corpus_dir) -> None:
    from index.models import Answer

    index.ingest([str(corpus_dir)])
    seed = index.answer(SEED_QUESTION)
    rates = index.answer("What did the State Bank decide about the policy rate?")
    combined = Answer(SEED_QUESTION, seed.citations[:1] + rates.citations[:1])
    stdin = io.StringIO(f"{SEED_QUESTION}\nmore\nmore\n\nquit\nnever asked\n")
    stdout = io.StringIO()
    chat_loop(lambda q: combined, stdin=stdin, stdout=stdout, per_page=1)
    out = stdout.getvalue()
    assert "1. ISLAMABAD - Alibaba Group delegation, led by Max Bittner" in out
    assert "(1 more: type \"more\")" in out
    assert "\n2. " in out and "State Bank" in out  # "more" continued the numbering
    assert out.rstrip().endswith("No more results.")
    assert "never asked" not in out


def test_render_marks_best_quote_only_with_color(index, corpus_dir) -> None:
    index.ingest([str(corpus_dir)])
    answer = index.answer("What did the State Bank decide about the policy rate?")
    plain = render_answer(answer, color=False)
    colored = render_answer(answer, color=True)
    assert "\033[1m" not in plain and "\033[1m" in colored
    assert "State Bank keeps policy rate at 5.75 percent · Test Wire · 28 Jan 2017" in plain


@pytest.mark.parametrize("argv", [["--help"], ["stats"]])
def test_non_model_commands_never_import_torch(argv, tmp_path: Path) -> None:
    code = (
        "import sys; from bot.cli import main\n"
        "try:\n    main(%r)\nexcept SystemExit:\n    pass\n"
        "print('TORCH' if 'torch' in sys.modules else 'NO-TORCH')" % argv
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=tmp_path, timeout=60, check=True).stdout
    assert out.strip().splitlines()[-1] == "NO-TORCH"

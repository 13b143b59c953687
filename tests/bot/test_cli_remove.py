"""``newsbot remove --source NAME`` and ``newsbot prune [--before DATE]`` on the command
line: what they print, what they refuse, and ``NEWSBOT_RETENTION_DAYS``."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from bot import cli
from bot.cli_common import EXIT_FAILED, EXIT_USAGE
from tests.conftest import write_article


@pytest.fixture(autouse=True)
def _shared_model(monkeypatch, embedder):
    from index import api

    monkeypatch.setattr(api, "Embedder", lambda *a, **k: embedder)  # load the model once


def _stats(capsys) -> dict:
    capsys.readouterr()
    assert cli.main(["stats", "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_remove_an_outlet(corpus_dir: Path, capsys) -> None:
    assert cli.main(["ingest", str(corpus_dir)]) == 0
    capsys.readouterr()
    assert cli.main(["remove", "--source", "Test Wire"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Removed 4 articles (") and out.rstrip().endswith("of 'Test Wire'.")
    stats = _stats(capsys)
    assert stats["articles"] == 1 and [o["source"] for o in stats["outlets"]] == ["corpus"]
    assert cli.main(["check"]) == 0


def test_remove_an_unknown_outlet_suggests_the_closest(corpus_dir: Path, capsys) -> None:
    assert cli.main(["ingest", str(corpus_dir)]) == 0
    capsys.readouterr()
    assert cli.main(["remove", "--source", "Test wire"]) == EXIT_FAILED
    assert capsys.readouterr().err.strip() == (
        "newsbot: no outlet named 'Test wire'; did you mean 'Test Wire'?")
    assert _stats(capsys)["articles"] == 5


def test_prune_before_a_date(corpus_dir: Path, capsys) -> None:
    assert cli.main(["ingest", str(corpus_dir)]) == 0
    capsys.readouterr()
    assert cli.main(["prune", "--before", "2017-01-01"]) == 0
    assert capsys.readouterr().out.startswith("Removed 1 articles published before 2017-01-01")
    assert _stats(capsys)["articles"] == 4


def test_prune_rejects_a_bad_date(capsys) -> None:
    with pytest.raises(SystemExit) as done:
        cli.main(["prune", "--before", "last week"])
    assert done.value.code == EXIT_USAGE
    assert "not a date (YYYY-MM-DD): 'last week'" in capsys.readouterr().err


def test_prune_without_a_date_needs_the_retention_setting(capsys) -> None:
    assert cli.main(["prune"]) == EXIT_USAGE
    assert capsys.readouterr().err.strip() == (
        "newsbot: prune needs --before YYYY-MM-DD, or NEWSBOT_RETENTION_DAYS set")


def test_prune_without_a_date_applies_the_retention(tmp_path: Path, monkeypatch,
                                                    capsys) -> None:
    today = dt.date.today()
    news = tmp_path / "news"
    write_article(news, "fresh.txt", title="Fresh story", date=str(today - dt.timedelta(days=3)),
                  body="The city council in Multan approved a new bus depot on Monday.")
    write_article(news, "old.txt", title="Old story", date=str(today - dt.timedelta(days=40)),
                  body="Fishermen in Thatta asked for a repaired fish harbour last month.")
    assert cli.main(["ingest", str(news)]) == 0
    monkeypatch.setenv("NEWSBOT_RETENTION_DAYS", "30")
    capsys.readouterr()
    assert cli.main(["prune"]) == 0
    cutoff = today - dt.timedelta(days=30)
    assert capsys.readouterr().out.startswith(
        f"Removed 1 articles published before {cutoff.isoformat()}")
    assert _stats(capsys)["articles"] == 1

"""``newsbot copy`` on the command line, against a real PostgreSQL (tests/pg/fixtures.py):
a data directory into the database and back, each checked by ``newsbot check``; refusals
and failures with one line and the right exit code; the URL's password never printed."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from bot import cli, cli_copy
from bot.cli_common import EXIT_INTERRUPTED
from bot.redact import url_password, url_without_password
from index.settings import IndexSettings
from tests.pg.test_copy import fill, generation_schemas
from tests.pg.test_index_backends import write_news

PASSWORD = "Sekr1t-pw"


@pytest.fixture(autouse=True)
def _shared_model(monkeypatch, embedder):
    from index import api

    monkeypatch.setattr(api, "Embedder", lambda *a, **k: embedder)  # load the model once


@pytest.fixture
def data(tmp_path: Path, embedder) -> Path:
    fill(IndexSettings(data_dir=tmp_path / "data"), embedder, write_news(tmp_path / "news"))
    return tmp_path / "data"


@pytest.fixture
def secret_url(pg_url: str) -> str:
    """The test database's URL with a password (the test server trusts its socket, so
    the password is accepted and ignored)."""
    assert "://postgres:@" in pg_url
    return pg_url.replace("://postgres:@", f"://postgres:{PASSWORD}@")


def test_into_postgres_and_back_each_side_checked(data: Path, tmp_path: Path, secret_url: str,
                                                  monkeypatch, capsys) -> None:
    assert cli.main(["copy", "--to", secret_url, "--data-dir", str(data)]) == 0
    out, err = capsys.readouterr()
    assert "ok: every count agrees" in out and PASSWORD not in out + err
    assert url_without_password(secret_url) in out  # the URL is named, without the password
    assert "articles" in out and "outbox pending" in out
    assert "copy: rows 5/5 articles" in err  # progress lines without a terminal

    monkeypatch.setenv("NEWSBOT_DATABASE_URL", secret_url)  # --from without a URL reads it
    back = tmp_path / "back"
    assert cli.main(["copy", "--from", "--data-dir", str(back)]) == 0
    out, err = capsys.readouterr()
    assert "ok: every count agrees" in out and PASSWORD not in out + err

    assert cli.main(["check"]) == 0  # on PostgreSQL: says what it checked there
    out = capsys.readouterr().out
    assert "PostgreSQL chunk rows" in out and "FAISS" not in out and PASSWORD not in out
    monkeypatch.delenv("NEWSBOT_DATABASE_URL")
    assert cli.main(["check", "--data-dir", str(back)]) == 0
    assert "ok: FAISS ids, SQLite chunks and FTS rows agree" in capsys.readouterr().out


def test_a_second_copy_is_refused_in_one_line(data: Path, secret_url: str, capsys) -> None:
    assert cli.main(["copy", "--to", secret_url, "--data-dir", str(data)]) == 0
    capsys.readouterr()
    assert cli.main(["copy", "--to", secret_url, "--data-dir", str(data)]) == 1
    out, err = capsys.readouterr()
    assert "refused, nothing written: the destination already holds an index of 5" in err
    assert PASSWORD not in out + err


def test_an_unreachable_database_is_one_line_without_the_password(data: Path, secret_url: str,
                                                                  capsys) -> None:
    missing = secret_url.replace("/test_", "/nosuchdb_", 1)
    assert cli.main(["copy", "--to", missing, "--data-dir", str(data)]) == 1
    out, err = capsys.readouterr()
    assert "newsbot copy: RuntimeError: cannot use the database" in err
    assert "nosuchdb_" in err and PASSWORD not in out + err and "Traceback" not in err


def test_copy_needs_a_url(data: Path, capsys) -> None:
    assert cli.main(["copy", "--to", "--data-dir", str(data)]) == 2
    assert "give a postgresql://… URL, or set NEWSBOT_DATABASE_URL" in capsys.readouterr().err


def test_a_busy_data_dir_is_exit_code_3(data: Path, secret_url: str, capsys) -> None:
    from index.datalock import DataDirLock

    with DataDirLock(data, "newsbot run"):
        assert cli.main(["copy", "--to", secret_url, "--data-dir", str(data)]) == 3
    assert "in use by another newsbot process" in capsys.readouterr().err


@pytest.mark.parametrize("url, shown, password", [
    ("postgresql://bot:pw@db.example:5432/news", "postgresql://bot@db.example:5432/news", "pw"),
    ("postgresql://bot@db/news?password=pw&sslmode=require",
     "postgresql://bot@db/news?sslmode=require", "pw"),
    ("postgresql:///news?host=/run/pg", "postgresql:///news?host=/run/pg", None),
])
def test_a_url_is_shown_without_its_password(url: str, shown: str, password: str | None
                                             ) -> None:
    assert url_without_password(url) == shown
    assert url_password(url) == password


def test_sigterm_mid_copy_stops_it_like_ctrl_c_and_nothing_goes_live(
        data: Path, secret_url: str, monkeypatch, capsys) -> None:
    """A service manager stopping `newsbot copy` (SIGTERM) unwinds it as Ctrl-C does: the
    half-built generation is dropped, the database stays unused, a later copy succeeds."""
    real = cli_copy.progress_display

    def terminated_at_rows():
        show, close = real()

        def progress(phase: str, done: int, total: int) -> None:
            show(phase, done, total)
            if phase == "rows" and done > 0:
                os.kill(os.getpid(), signal.SIGTERM)  # delivered to this (main) thread
        return progress, close

    before = signal.getsignal(signal.SIGTERM)
    monkeypatch.setattr(cli_copy, "progress_display", terminated_at_rows)
    assert cli.main(["copy", "--to", secret_url, "--data-dir", str(data)]) == EXIT_INTERRUPTED
    err = capsys.readouterr().err
    assert "newsbot copy: stopped; nothing of it went live at the destination" in err
    assert signal.getsignal(signal.SIGTERM) is before  # the handler is put back
    assert generation_schemas(secret_url) == []
    monkeypatch.setattr(cli_copy, "progress_display", real)
    assert cli.main(["copy", "--to", secret_url, "--data-dir", str(data)]) == 0
    assert "ok: every count agrees" in capsys.readouterr().out

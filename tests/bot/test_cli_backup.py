"""``newsbot backup`` beside a running bot (its data directory lock held), then
``newsbot restore`` into a fresh directory that ``newsbot check`` accepts."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot import cli
from index import Index
from index.datalock import DataDirLock
from index.settings import IndexSettings


@pytest.fixture
def live(tmp_path: Path, corpus_dir: Path, embedder) -> Path:
    data = tmp_path / "live"
    index = Index.open(IndexSettings(data_dir=data), embedder=embedder)
    index.ingest([str(corpus_dir)])
    index.close()
    return data


def test_backup_while_running_then_restore_and_check(live: Path, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    dest, fresh = tmp_path / "backup", tmp_path / "fresh"
    with DataDirLock(live, "newsbot run"):  # the bot holds the directory
        assert cli.main(["backup", str(dest), "--data-dir", str(live)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Backed up gen-") and "5 articles" in out and f"to {dest}" in out

    assert cli.main(["restore", str(dest), "--data-dir", str(fresh)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Restored gen-") and "5 articles" in out
    assert cli.main(["check", "--data-dir", str(fresh)]) == 0
    assert capsys.readouterr().out.startswith("ok:")


def test_restore_refuses_a_used_directory(live: Path, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["backup", str(tmp_path / "b"), "--data-dir", str(live)]) == 0
    capsys.readouterr()
    assert cli.main(["restore", str(tmp_path / "b"), "--data-dir", str(live)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("newsbot restore: ") and "is not empty" in err
    assert cli.main(["check", "--data-dir", str(live)]) == 0  # left as it was


def test_restore_names_a_model_mismatch(live: Path, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["backup", str(tmp_path / "b"), "--data-dir", str(live)]) == 0
    monkeypatch.setenv("NEWSBOT_EMBEDDING_MODEL", "mpnet")
    assert cli.main(["restore", str(tmp_path / "b"), "--data-dir", str(tmp_path / "f")]) == 0
    err = capsys.readouterr().err
    assert "embedded with 'minilm'" in err and "newsbot reindex" in err


def test_with_a_database_url_backup_and_restore_refuse_and_say_what_to_use(
        live: Path, tmp_path: Path, monkeypatch, capsys: pytest.CaptureFixture[str]) -> None:
    """The data directory still holds the SQLite index it had before `newsbot copy --to`:
    with NEWSBOT_DATABASE_URL set, backing it up would silently save stale data."""
    assert cli.main(["backup", str(tmp_path / "b"), "--data-dir", str(live)]) == 0
    capsys.readouterr()
    monkeypatch.setenv("NEWSBOT_DATABASE_URL", "postgresql://newsbot@/newsbot?host=/nowhere")
    dest, fresh = tmp_path / "backup", tmp_path / "fresh"
    assert cli.main(["backup", str(dest), "--data-dir", str(live)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("newsbot backup: the index and alert state are in PostgreSQL")
    assert "pg_dump" in err and "newsbot copy --from" in err
    assert cli.main(["restore", str(tmp_path / "b"), "--data-dir", str(fresh)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("newsbot restore: NEWSBOT_DATABASE_URL is set")
    assert not dest.exists() and not fresh.exists()

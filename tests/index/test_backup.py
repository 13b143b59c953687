"""Backups taken while articles are being written restore into a fresh directory as an
index that answers and passes the consistency check (real SQLite, FAISS and model)."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path

import pytest

from index import Index
from index.alerts.statedb import StateDB
from index.alerts.subscriptions import Subscriptions
from index.backup import MANIFEST, BackupError, BackupManifest, backup, restore
from index.generation import VECTORS_NAME
from index.settings import IndexSettings
from tests.conftest import write_article

SEED_QUESTION = "Who led the Alibaba delegation that met Ishaq Dar?"
BATCHES = 16  # separate ingests (each one commit), as the feed poller writes


def _batches(root: Path) -> list[Path]:
    """Small folders of distinct made-up articles, two per folder."""
    folders = []
    for b in range(BATCHES):
        folder = root / f"batch{b:02d}"
        for k in range(2):
            n = 2 * b + k
            write_article(
                folder, f"a{n}.txt", title=f"Textile mill {n} opens in Faisalabad district",
                date="2017-02-01", body=(
                    f"FAISALABAD - Textile mill number {n} opened on Monday with {100 + n} "
                    f"looms and {40 * n + 7} workers, its owner said. The mill will spin "
                    f"cotton yarn for export to {['China', 'Turkey', 'Italy'][n % 3]}. "
                    f"Officials said the plant cost {n + 3} billion rupees and would use "
                    "solar power for part of its needs."))
        folders.append(folder)
    return folders


def _restored(embedder, data_dir: Path) -> Index:
    return Index.open(IndexSettings(data_dir=data_dir), embedder=embedder)


def test_backups_during_ingest_restore_to_a_working_index(
        index: Index, settings: IndexSettings, corpus_dir: Path, embedder, tmp_path: Path,
) -> None:
    index.ingest([str(corpus_dir)])
    state = StateDB.open(Path(settings.data_dir))
    Subscriptions(state, per_chat_limit=10).add(-1001, "textile exports")
    state.close()
    folders = _batches(tmp_path / "incoming")

    writer = threading.Thread(target=lambda: [index.ingest([str(f)]) for f in folders])
    writer.start()
    taken: list[tuple[Path, BackupManifest]] = []
    while writer.is_alive():
        dest = tmp_path / f"backup{len(taken):03d}"
        manifest = backup(Path(settings.data_dir), dest)
        if writer.is_alive():  # it finished while this one was taken: not "during"
            taken.append((dest, manifest))
    writer.join()
    assert taken, "no backup was taken while the ingest ran"
    final = index.stats().articles
    assert final == 5 + 2 * BATCHES
    assert all(5 <= m.articles <= final and m.state for _, m in taken)
    assert len({m.articles for _, m in taken}) > 1, "no commit landed between two backups"

    for n, (dest, manifest) in enumerate(dict.fromkeys([taken[0], taken[len(taken) // 2],
                                                        taken[-1]])):
        fresh = tmp_path / f"restored{n}"
        report = restore(dest, fresh)
        assert report.manifest == manifest
        restored = _restored(embedder, fresh)
        try:
            assert restored.check() == []
            stats = restored.stats()
            assert (stats.articles, stats.chunks) == (manifest.articles, manifest.chunks)
            assert stats.vectors == stats.chunks
            answer = restored.answer(SEED_QUESTION, asked_at=dt.date(2017, 3, 5))
            assert answer.found and any("Max Bittner" in q.text for q in answer.citations[0].quotes)
        finally:
            restored.close()
        db = StateDB.open(fresh)
        try:
            topics = [s.topic_text for s in Subscriptions(db, per_chat_limit=10).for_chat(-1001)]
        finally:
            db.close()
        assert topics == ["textile exports"]


def test_restore_rebuilds_a_missing_vector_file(
        index: Index, settings: IndexSettings, corpus_dir: Path, embedder, tmp_path: Path,
) -> None:
    index.ingest([str(corpus_dir)])
    manifest = backup(Path(settings.data_dir), tmp_path / "b")
    assert manifest.vectors and not manifest.state  # no alert state written yet
    (tmp_path / "b" / manifest.generation / VECTORS_NAME).unlink()

    report = restore(tmp_path / "b", tmp_path / "fresh")
    assert report.vectors_rebuilt
    assert (tmp_path / "fresh" / manifest.generation / VECTORS_NAME).is_file()
    restored = _restored(embedder, tmp_path / "fresh")
    try:
        assert restored.check() == []
        assert restored.stats().vectors == manifest.chunks
        hits = restored.search("What is the central bank's interest rate?")
        assert hits[0].article.title == "State Bank keeps policy rate at 5.75 percent"
    finally:
        restored.close()


def test_refusals_change_nothing(index: Index, settings: IndexSettings, corpus_dir: Path,
                                 tmp_path: Path) -> None:
    index.ingest([str(corpus_dir)])
    used = tmp_path / "used"
    used.mkdir()
    (used / "keep.txt").write_text("mine")
    with pytest.raises(BackupError, match="not empty"):
        backup(Path(settings.data_dir), used)
    assert [p.name for p in used.iterdir()] == ["keep.txt"]

    backup(Path(settings.data_dir), tmp_path / "b")
    with pytest.raises(BackupError, match="not empty"):
        restore(tmp_path / "b", used)
    assert [p.name for p in used.iterdir()] == ["keep.txt"]
    with pytest.raises(BackupError, match="not a newsbot backup"):
        restore(used, tmp_path / "fresh")
    assert not (tmp_path / "fresh").exists()
    assert (tmp_path / "b" / MANIFEST).is_file()
    assert not list(tmp_path.glob(".*partial*"))  # no half-written backup left behind

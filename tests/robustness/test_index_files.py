"""Damaged index files: a torn or garbage FAISS file, a truncated or garbage ``CURRENT``
pointer, a pointer to a missing generation. In every case the index opens on the last good
data (SQLite is the truth), says what happened in one clear log line, and answers."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from index import Index
from index.generation import VECTORS_NAME
from index.lifecycle import CURRENT
from tests.conftest import write_article

TITLE = "Quorvane dam commissioned on the Zelbrook river"


@pytest.fixture
def built(settings, embedder, tmp_path: Path) -> Path:
    """A data dir holding one closed index with three articles; returns the data dir."""
    folder = tmp_path / "src"
    write_article(folder, "dam.txt", title=TITLE, date="2021-05-02", body=(
        "ZELBROOK - The Quorvane dam was commissioned on Monday and will store 40 million "
        "cubic metres of water, the irrigation department said."))
    write_article(folder, "wheat.txt", title="Wheat procurement target raised", date="2021-04-01",
                  body="LAHORE - The provincial food department raised its wheat procurement "
                       "target to 4 million tonnes for the season.")
    write_article(folder, "metro.txt", title="Metro line opens to passengers", date="2021-03-10",
                  body="KARACHI - The new metro line opened to passengers on Friday with 22 "
                       "stations between the airport and the port.")
    idx = Index.open(settings, embedder=embedder)
    assert idx.ingest([str(folder)]).articles_new == 3
    idx.close()
    return Path(settings.data_dir)


def _assert_healthy(settings, embedder, articles: int = 3) -> None:
    idx = Index.open(settings, embedder=embedder)
    try:
        assert idx.check() == []
        assert idx.stats().articles == articles
        hits = idx.search(TITLE, k=3)
        assert hits and hits[0].article.title == TITLE
    finally:
        idx.close()


def _live(data: Path) -> Path:
    return data / (data / CURRENT).read_text().strip()


@pytest.mark.parametrize("damage", ["truncated", "garbage", "empty"])
def test_torn_vector_file_is_detected_and_rebuilt_from_sqlite(
        built, settings, embedder, caplog, damage):
    path = _live(built) / VECTORS_NAME
    data = path.read_bytes()
    if damage == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "garbage":
        path.write_bytes(os.urandom(len(data)))
    else:
        path.write_bytes(b"")
    with caplog.at_level(logging.WARNING, logger="index"):
        _assert_healthy(settings, embedder)
    assert any("vector file" in r.getMessage() and "rebuilding it from SQLite" in r.getMessage()
               for r in caplog.records), caplog.text


def test_leftover_temp_vector_file_is_harmless(built, settings, embedder):
    (_live(built) / (VECTORS_NAME + ".tmp")).write_bytes(b"half a faiss file")
    _assert_healthy(settings, embedder)


@pytest.mark.parametrize("pointer", [b"", b"gen-", b"\xff\xfe\x00garbage\x00", b"../../etc\n",
                                     b"gen-20990101T000000-ffffff\n", b"gen-2021"])
def test_damaged_current_pointer_falls_back_to_the_newest_complete_generation(
        built, settings, embedder, caplog, pointer):
    good = _live(built)
    # an abandoned, half-built rebuild beside it must not be chosen
    (built / "gen-29990101T000000-abcdef").mkdir()
    os.utime(good, (0, 0))  # old enough that abandoned-generation cleanup would apply
    (built / CURRENT).write_bytes(pointer)
    with caplog.at_level(logging.WARNING, logger="index"):
        _assert_healthy(settings, embedder)
    assert any("falling back to generation " + good.name in r.getMessage()
               for r in caplog.records), caplog.text
    assert _live(built) == good  # re-pointed
    assert good.exists()


def test_crashed_rebuild_generation_never_wins_over_the_live_one(built, settings, embedder):
    """A rebuild killed half-way leaves a newer generation with fewer articles; if the
    pointer is then lost, the complete one is used."""
    good = _live(built)
    idx = Index.open(settings, embedder=embedder)
    idx.close()
    from index.generation import Generation
    from index.lifecycle import new_dir

    half = Generation.open(new_dir(built), embedder.dim, settings.embedding_model)
    half.close()  # empty, unmarked: what a rebuild killed before its first batch leaves
    (built / CURRENT).unlink()
    _assert_healthy(settings, embedder)
    assert _live(built) == good


def test_rebuilt_generation_is_used_after_pointer_loss(built, settings, embedder):
    idx = Index.open(settings, embedder=embedder)
    idx.rebuild([])
    new = idx.generation.dir
    idx.close()
    (built / CURRENT).write_text("garbage")
    _assert_healthy(settings, embedder)
    assert _live(built) == new


def test_garbage_pointer_while_serving_does_not_break_questions(built, settings, embedder):
    idx = Index.open(settings, embedder=embedder)
    try:
        (built / CURRENT).write_bytes(b"\xff\xfe garbage")
        hits = idx.search(TITLE, k=3)  # refresh() reads the pointer before every question
        assert hits[0].article.title == TITLE
    finally:
        idx.close()

"""The data-directory lock with a database URL (``bot.cli_common.writer_lock``): with
``NEWSBOT_DATABASE_URL`` several ``newsbot run`` processes share one data directory (the
shared state is in the database), while the other writers stay exclusive beside them and
without a URL nothing changes. Real ``flock`` locks, each on its own open file, as separate
processes hold them."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli_common import writer_lock
from bot.settings import Settings
from index.datalock import SHARED_HOLDERS, DataDirLocked

URL = "postgresql://newsbot@db.example/newsbot"  # never connected to: only the rule is read


def _settings(data: Path, url: str | None) -> Settings:
    return Settings(_env_file=None, data_dir=data, database_url=url)


def test_with_a_database_url_several_runs_share_the_data_directory(tmp_path: Path) -> None:
    settings = _settings(tmp_path / "data", URL)
    with writer_lock(settings, "run"), writer_lock(settings, "run"):
        with pytest.raises(DataDirLocked, match=SHARED_HOLDERS):
            writer_lock(settings, "ingest").acquire()
        with pytest.raises(DataDirLocked, match=SHARED_HOLDERS):
            writer_lock(settings, "reindex").acquire()
    with writer_lock(settings, "ingest") as ingest:  # free again once the runs are gone
        with pytest.raises(DataDirLocked, match=r"pid \d+ \(newsbot ingest\)"):
            writer_lock(settings, "run").acquire()
    assert ingest.path.read_text() == ""


def test_the_last_shared_holder_out_leaves_no_stale_name(tmp_path: Path) -> None:
    settings = _settings(tmp_path / "data", URL)
    first, second = writer_lock(settings, "run"), writer_lock(settings, "run")
    first.acquire()
    second.acquire()
    first.release()
    with pytest.raises(DataDirLocked, match=SHARED_HOLDERS):  # the second still holds it
        writer_lock(settings, "prune").acquire()
    second.release()
    writer_lock(settings, "prune").acquire()


def test_without_a_database_url_a_second_run_is_refused(tmp_path: Path) -> None:
    settings = _settings(tmp_path / "data", None)
    with writer_lock(settings, "run"):
        with pytest.raises(DataDirLocked, match=r"pid \d+ \(newsbot run\)"):
            writer_lock(settings, "run").acquire()

"""Ctrl-C or SIGTERM while ``/reindex`` runs (issue 14, item 11): the bot stops at the
rebuild's next batch instead of waiting for the whole rebuild, the live generation stays
as it was, the half-built one is removed, and the admin who asked is told. The real bot
stopped the way ``run_polling`` stops it on a signal; the real index, with the stand-in
embedder (each model batch takes 0.12 s) and small batches, so the rebuild takes seconds."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from bot.app import build_application
from bot.settings import Settings
from index import Index, ingest
from tests.conftest import write_article
from tests.e2e.conftest import ADMIN
from tests.e2e.fakeapi import FakeBotApi
from tests.e2e.lifecycle import halt, launch
from tests.robustness.hashed_embedder import HashedEmbedder


async def test_shutdown_stops_a_rebuild_at_its_next_batch(
    fake_api: FakeBotApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"
    settings = Settings(_env_file=None, data_dir=data, telegram_token=fake_api.token,
                        telegram_api_url=fake_api.base_url, admin_ids=[ADMIN.id])
    index = Index.open(settings, embedder=HashedEmbedder("minilm"))
    for n in range(60):
        write_article(tmp_path / "news", f"s{n:02}.txt", title=f"Story number {n}",
                      date="2023-05-01", body=f"Story {n} happened on Monday, people said.")
    assert index.ingest([str(tmp_path / "news")]).articles_new == 60
    live = (data / "CURRENT").read_text()
    monkeypatch.setattr(ingest, "BATCH_CHUNKS", 2)  # 30 batches of 0.12 s: about 4 s
    application = build_application(settings, index, progress_interval=0.1)
    await launch(application)
    try:
        admin = fake_api.private_chat(ADMIN)
        fake_api.send(admin, ADMIN, "/reindex")
        await fake_api.wait_for(lambda: (index.rebuild_fraction or 0) > 0.1,
                                what="the rebuild to be under way")
        building = [p for p in data.glob("gen-*") if p.name != live.strip()]
        assert building  # the half-built generation exists
        started = time.monotonic()
        await halt(application)  # what run_polling does on SIGINT/SIGTERM
        stopped_in = time.monotonic() - started
    finally:
        await halt(application)
    assert stopped_in < 2.0, stopped_in  # not the seconds the rest of the rebuild takes
    assert (data / "CURRENT").read_text() == live
    assert not any(p.exists() for p in building)  # removed
    assert index.rebuild_fraction is None and index.stats().articles == 60
    assert index.check() == []
    [status] = [m for m in fake_api.sent(admin.id) if m.text.startswith("Rebuild")]
    assert status.text.startswith("Rebuild stopped: the bot is shutting down.")
    index.close()

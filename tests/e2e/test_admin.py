"""Admin commands: /reindex with live progress and an atomic swap, /stats, refusals."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

import pytest

from index.api import Index
from index.models import RebuildProgress
from tests.e2e.conftest import ADMIN, ALICE, BOB, Corpus, RunningBot

NEW_ARTICLE = """date 2017-02-20
title Quetta hosts its first hot-air balloon festival
source Balochistan Post
url https://news.example.com/bp/balloons

QUETTA - Eleven hot-air balloons rose over Hanna Lake on Sunday at Quetta's first balloon \
festival, organised by the provincial tourism department, which said 30,000 visitors came.
"""
BALLOONS = "Where was the hot-air balloon festival held?"


class PausedRebuild:
    """Wraps ``Index.rebuild`` so it stops at its first embedding progress report until the
    test releases it: the test then acts while a rebuild is provably half-way."""

    def __init__(self, index: Index) -> None:
        self._rebuild = index.rebuild
        self.paused = threading.Event()
        self.release = threading.Event()
        self.calls = 0

    def __call__(
        self, sources: list[str], *, progress: Callable[[RebuildProgress], None] | None = None
    ) -> Any:
        self.calls += 1

        def report(update: RebuildProgress) -> None:
            if progress is not None:
                progress(update)
            if update.phase == "embedding" and not self.paused.is_set():
                self.paused.set()
                if not self.release.wait(timeout=30):
                    raise TimeoutError("the test never released the rebuild")

        return self._rebuild(sources, progress=report)


async def test_admin_reindex_shows_progress_keeps_answering_and_swaps(
    bot: RunningBot, news_index: Index, corpus: Corpus, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = bot.api
    paused = PausedRebuild(news_index)
    monkeypatch.setattr(news_index, "rebuild", paused)
    (corpus.extra / "balloons.txt").write_text(NEW_ARTICLE, encoding="utf-8")
    admin_chat = bot.chat_with(ADMIN)
    reader = bot.chat_with(ALICE)
    [before] = await bot.ask(reader, ALICE, BALLOONS)
    assert "Hanna Lake" not in before.text

    [status] = await bot.ask(admin_chat, ADMIN, "/reindex")
    assert status.text.startswith("Rebuilding the index")
    await api.wait_for(paused.paused.is_set, what="the rebuild to start embedding")
    edited = await api.wait_for_message(
        admin_chat.id, lambda m: m.edits and "%" in m.text, what="a progress edit"
    )
    assert "articles" in edited.text and "chunks" in edited.text

    # Meanwhile: questions are answered from the old index, a second /reindex is refused.
    [during] = await bot.ask(reader, ALICE, BALLOONS)
    assert "Hanna Lake" not in during.text
    [again] = await bot.ask(admin_chat, ADMIN, "/reindex")
    assert again.text.startswith("A rebuild is already running, ") and again.text.endswith(" %.")
    assert paused.calls == 1

    paused.release.set()
    final = await api.wait_for_message(
        admin_chat.id,
        lambda m: m.text.startswith("Rebuild finished"),
        timeout=60,
        what="the final status edit",
    )
    stats = news_index.stats()
    assert f"{stats.articles} articles, {stats.chunks} chunks, 0 errors" in final.text
    assert len(final.edits) >= 2  # started → progress … → summary, one message throughout
    assert len(api.sent(admin_chat.id)) == 2  # the status message and the "already running"

    [after] = await bot.ask(reader, ALICE, BALLOONS)
    assert "Hanna Lake" in after.text and "Balochistan Post" in after.text


async def test_reindex_and_stats_refused_for_non_admins(
    bot: RunningBot,
    news_index: Index,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    api = bot.api
    calls: list[object] = []
    monkeypatch.setattr(news_index, "rebuild", lambda *a, **k: calls.append(a))
    before = news_index.stats()
    group = api.group(-100301, "Readers")
    chat = bot.chat_with(BOB)
    caplog.set_level(logging.WARNING, logger="bot.handlers.admin")

    [refusal] = await bot.ask(chat, BOB, "/reindex")
    assert refusal.text == "Sorry, /reindex is only for this bot's admins."
    [stats_refusal] = await bot.ask(chat, BOB, "/stats")
    assert stats_refusal.text == "Sorry, /stats is only for this bot's admins."
    [group_refusal] = await bot.ask(group, BOB, f"/reindex@{api.bot.username}")
    assert "only for this bot's admins" in group_refusal.text

    assert calls == []
    assert news_index.stats() == before
    refusals = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
    assert refusals == [
        f"refused /reindex from user id {BOB.id} in chat {BOB.id}",
        f"refused /stats from user id {BOB.id} in chat {BOB.id}",
        f"refused /reindex from user id {BOB.id} in chat {group.id}",
    ]


async def test_failed_rebuild_keeps_the_old_index(
    bot: RunningBot, news_index: Index, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = bot.api

    def broken(sources: list[str], *, progress: Any = None) -> None:
        raise OSError(f"No space left on device: {api.token}\nsecond line")

    monkeypatch.setattr(news_index, "rebuild", broken)
    admin_chat = bot.chat_with(ADMIN)
    await bot.ask(admin_chat, ADMIN, "/reindex")
    failed = await api.wait_for_message(
        admin_chat.id, lambda m: m.text.startswith("Rebuild failed"), what="the failure edit"
    )
    assert failed.text == (
        "Rebuild failed: No space left on device: <redacted>; the previous index is still serving."
    )
    reader = bot.chat_with(ALICE)
    [answer] = await bot.ask(reader, ALICE, "Who is blamed for the Karachi water shortage?")
    assert "\n1. " in answer.text
    # The job is over: a new /reindex runs again (and fails again) — not "already running".
    [again] = await bot.ask(admin_chat, ADMIN, "/reindex")
    assert (again.edits or [again.text])[0].startswith("Rebuilding the index")
    await api.wait_for_message(
        admin_chat.id,
        lambda m: m.text.startswith("Rebuild failed"),
        position=-1,
        what="the second failure",
    )


async def test_stats_for_admin(bot: RunningBot, news_index: Index) -> None:
    admin_chat = bot.chat_with(ADMIN)
    reader = bot.chat_with(ALICE)
    await bot.ask(reader, ALICE, "What did NEPRA do to solar tariffs?")
    await bot.ask(reader, ALICE, "Is Gaddafi Stadium ready for the final?")
    [stats] = await bot.ask(admin_chat, ADMIN, "/stats")
    index_stats = news_index.stats()
    lines = stats.text.split("\n")
    assert f"Articles: {index_stats.articles}" in lines
    assert f"Chunks: {index_stats.chunks} (vectors: {index_stats.vectors})" in lines
    assert f"Sources: {index_stats.sources}" in lines
    assert "Questions answered: 2" in lines
    [latency] = [line for line in lines if line.startswith("p50 latency: ")]
    assert latency.endswith(" ms") and int(latency.split()[2]) > 0
    assert any(line.startswith("Index size: ") and "KB" in line for line in lines)

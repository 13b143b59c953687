"""A real ``newsbot run`` process is killed (SIGKILL) with an alert enqueued but not sent;
the restarted process delivers it, exactly once."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from index.alerts.statedb import STATE_NAME, StateDB
from index.alerts.subscriptions import Subscriptions
from tests.conftest import TEST_MODEL
from tests.e2e.alerts.feed_server import FeedServer
from tests.e2e.alerts.stories import seed_entry
from tests.e2e.conftest import ADMIN, ALICE
from tests.e2e.fakeapi import FakeBotApi

REPO = Path(__file__).resolve().parents[3]


def _outbox(data: Path) -> list[tuple[str, int]]:
    with sqlite3.connect(f"file:{data / STATE_NAME}?mode=ro", uri=True) as conn:
        return conn.execute("SELECT status, attempts FROM outbox").fetchall()


@dataclass
class BotProcesses:
    """``start()`` runs ``python -m bot run`` over ``data``; all are killed at the end."""

    data: Path
    start: Callable[[], subprocess.Popen[str]]


@pytest.fixture
def bot_processes(
    fake_api: FakeBotApi, feed_server: FeedServer, tmp_path: Path
) -> Iterator[BotProcesses]:
    data = tmp_path / "data"
    empty = tmp_path / "sources"
    empty.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSBOT_")}
    env["NEWSBOT_EMBEDDING_MODEL"] = TEST_MODEL
    env.update(
        NEWSBOT_TELEGRAM_TOKEN=fake_api.token,
        NEWSBOT_TELEGRAM_API_URL=fake_api.base_url,
        NEWSBOT_ADMIN_IDS=str(ADMIN.id),
        NEWSBOT_DATA_DIR=str(data),
        NEWSBOT_SOURCES=str(empty),
        NEWSBOT_FEEDS=feed_server.url("/rss"),
        NEWSBOT_FETCH_ALLOW="127.0.0.1",  # the feed server's address (SSRF guard)
        NEWSBOT_ALERT_SEND_INTERVAL="1",
        PYTHONPATH=str(REPO),
        HF_HUB_OFFLINE="1",
    )
    processes: list[subprocess.Popen[str]] = []

    def start() -> subprocess.Popen[str]:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "run"], cwd=tmp_path, env=env,
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True)
        processes.append(process)
        return process

    yield BotProcesses(data, start)
    for process in processes:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=10)


@pytest.mark.slow
def test_sigkill_between_enqueue_and_send_then_restart_delivers_once(
    fake_api: FakeBotApi, feed_server: FeedServer, bot_processes: BotProcesses
) -> None:
    data = bot_processes.data
    fake_api.private_chat(ADMIN)
    fake_api.private_chat(ALICE)
    state = StateDB.open(data)
    Subscriptions(state, per_chat_limit=10).add(ALICE.id, "e-commerce")
    state.close()
    feed_server.set_feed("/rss", "The Nation", [seed_entry()])
    fake_api.fail_next("sendMessage", 10_000, code=500)  # Telegram down: nothing goes out

    first = bot_processes.start()
    fake_api.wait_until(lambda: _pending_after_a_try(data), timeout=90)
    first.send_signal(signal.SIGKILL)  # no shutdown code runs
    first.wait(timeout=10)
    fake_api.clear_failures()
    assert fake_api.sent(ALICE.id) == []

    second = bot_processes.start()
    [alert] = fake_api.wait_until(lambda: fake_api.sent(ALICE.id), timeout=90)
    assert "Alibaba delegation calls on Ishaq Dar" in alert.text
    time.sleep(3)  # three more outbox ticks
    assert len(fake_api.sent(ALICE.id)) == 1
    assert _outbox(data) == [("sent", 1)]
    assert len(feed_server.requests("/rss")) == 1  # the poll schedule survived the kill too
    second.send_signal(signal.SIGINT)
    output, _ = second.communicate(timeout=30)
    assert second.returncode == 0, output


def _pending_after_a_try(data: Path) -> bool:
    return any(status == "pending" and attempts >= 1 for status, attempts in _outbox(data))

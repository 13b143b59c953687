"""Two real ``newsbot run`` processes share one PostgreSQL database and one bot: both
long-poll (the fake Bot API hands each update to one of them, as a dispatcher would), every
question is answered once, and every alert is delivered once — also when the process that
claimed the alerts is SIGKILLed in the middle of sending them: the other one sends them
after the lease.

``make test`` asks 120 questions; ``NEWSBOT_LOAD_FULL=1`` (``make bench``) asks the 500
of issue 18's measurement.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from index.alerts.state import open_state
from index.alerts.subscriptions import Subscriptions
from index.settings import IndexSettings
from tests.conftest import TEST_MODEL
from tests.e2e.alerts.feed_server import FeedServer
from tests.e2e.alerts.stories import seed_entry
from tests.e2e.conftest import ADMIN, ARTICLES
from tests.e2e.fakeapi import FakeBotApi
from tests.e2e.fakeapi.records import User

REPO = Path(__file__).resolve().parents[3]
QUESTIONS = 500 if os.environ.get("NEWSBOT_LOAD_FULL") else 120
READERS = 200  # private chats subscribed to the topic: one alert each
LEASE = 10  # seconds (NEWSBOT_ALERT_LEASE's minimum)
ASKED = ("How much did the winning bid for the telecom licence cost?",
         "Why are water tankers so expensive in Karachi?")


@dataclass
class TwoBots:
    start: Callable[[str], subprocess.Popen[str]]
    processes: dict[str, subprocess.Popen[str]]


@pytest.fixture
def two_bots(fake_api: FakeBotApi, feed_server: FeedServer, pg_url: str,
             tmp_path: Path) -> Iterator[TwoBots]:
    sources = tmp_path / "sources"
    sources.mkdir()
    for name in ("telecom_bid.txt", "water_dawn.txt"):
        shutil.copy(ARTICLES / name, sources / name)
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSBOT_")}
    env.update(
        NEWSBOT_EMBEDDING_MODEL=TEST_MODEL,
        NEWSBOT_DATABASE_URL=pg_url,
        NEWSBOT_TELEGRAM_TOKEN=fake_api.token,
        NEWSBOT_TELEGRAM_API_URL=fake_api.base_url,
        NEWSBOT_ADMIN_IDS=str(ADMIN.id),
        NEWSBOT_SOURCES=str(sources),
        NEWSBOT_FEEDS=feed_server.url("/rss"),
        NEWSBOT_FETCH_ALLOW="127.0.0.1",  # the feed server's address (SSRF guard)
        NEWSBOT_ALERT_SEND_INTERVAL="1",
        NEWSBOT_FEED_INTERVAL="30",  # the shortest allowed
        NEWSBOT_ALERT_LEASE=str(LEASE),
        NEWSBOT_USER_RATE_LIMIT="100000",  # 20 users ask them all
        PYTHONPATH=str(REPO),
        HF_HUB_OFFLINE="1",
    )
    processes: dict[str, subprocess.Popen[str]] = {}

    def start(name: str) -> subprocess.Popen[str]:
        data = tmp_path / name  # each process its own directory (chats, logs); one database
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "run"], cwd=tmp_path,
            env={**env, "NEWSBOT_DATA_DIR": str(data)},
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True)
        processes[name] = process
        return process

    fake_api.share_polling()
    feed_server.set_feed("/rss", "The Nation", [])  # the story arrives later in the test
    yield TwoBots(start, processes)
    for name, process in processes.items():
        if process.poll() is None:
            process.kill()
        output, _ = process.communicate(timeout=10)
        print(f"--- process {name} (exit {process.returncode}) ---\n{output}")  # on failure


def _state(pg_url: str):  # type: ignore[no-untyped-def]
    return open_state(IndexSettings(database_url=pg_url, embedding_model=TEST_MODEL))


def _claimers(pg_url: str) -> set[str]:
    state = _state(pg_url)
    try:
        rows = state.query("SELECT DISTINCT claimed_by FROM outbox WHERE status = 'sending'")
        return {row[0] for row in rows if row[0]}
    finally:
        state.close()


def _outbox(pg_url: str) -> Counter[str]:
    state = _state(pg_url)
    try:
        return Counter(row[0] for row in state.query("SELECT status FROM outbox"))
    finally:
        state.close()


@pytest.mark.slow
def test_two_processes_answer_each_question_once_and_deliver_each_alert_once(
    fake_api: FakeBotApi, feed_server: FeedServer, pg_url: str, two_bots: TwoBots
) -> None:
    fake_api.private_chat(ADMIN)
    readers = [User(700_000 + n, f"Reader {n}", None) for n in range(READERS)]
    chats = {reader.id: fake_api.private_chat(reader) for reader in readers}
    first, second = two_bots.start("a"), two_bots.start("b")
    fake_api.wait_until(lambda: fake_api.waiting_polls() >= 2, timeout=300)

    # Questions: each one answered once, by whichever process took it.
    askers = readers[:20]
    asked: dict[tuple[int, int], str] = {}
    for n in range(QUESTIONS):
        user = askers[n % len(askers)]
        message = fake_api.send(chats[user.id], user, ASKED[n % len(ASKED)])
        asked[(user.id, message["message_id"])] = message["text"]

    def replies() -> Counter[tuple[int, int]]:
        return Counter((m.chat_id, m.reply_to) for u in askers for m in fake_api.sent(u.id)
                       if m.reply_to is not None)

    fake_api.wait_until(lambda: len(replies()) >= QUESTIONS, timeout=600)
    time.sleep(2)  # a second answer to any of them would show up now
    counts = replies()
    assert set(counts) == set(asked)
    assert max(counts.values()) == 1
    assert first.poll() is None and second.poll() is None

    # Alerts: 200 readers subscribe; the first send of the process that claims them hangs
    # and fails, that process is SIGKILLed, and the other sends all of them after the lease.
    state = _state(pg_url)
    subscriptions = Subscriptions(state, per_chat_limit=10)
    for reader in readers:
        subscriptions.add(reader.id, "e-commerce")
    state.close()
    fake_api.delay_next("sendMessage", 3 * LEASE)
    fake_api.fail_next("sendMessage", 1, code=500)  # that hung send never reaches a chat
    feed_server.set_feed("/rss", "The Nation", [seed_entry()])
    claimers = fake_api.wait_until(lambda: _claimers(pg_url), timeout=180)
    assert len(claimers) == 1
    claimer = next(iter(claimers))
    victim = next(p for p in (first, second) if f":{p.pid}:" in claimer)
    survivor = second if victim is first else first
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=10)

    def alerted() -> list[int]:
        return [r.id for r in readers
                if any("Alibaba delegation" in m.text for m in fake_api.sent(r.id))]

    fake_api.wait_until(lambda: len(alerted()) == READERS, timeout=240)
    time.sleep(3)  # more outbox ticks: nothing is sent twice
    per_reader = [sum("Alibaba delegation" in m.text for m in fake_api.sent(r.id))
                  for r in readers]
    assert per_reader == [1] * READERS
    assert _outbox(pg_url) == Counter({"sent": READERS})
    assert survivor.poll() is None
    survivor.send_signal(signal.SIGINT)
    output, _ = survivor.communicate(timeout=60)
    assert survivor.returncode == 0, output

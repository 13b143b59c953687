"""No path sends one alert twice (issue 14, item 2): two senders over the same
``state.sqlite`` — as two processes on one data directory would have — deliver one pending
alert once (on SQLite and on PostgreSQL), and a row a crash left claimed is sent after the
restart. Real databases (two connections), real python-telegram-bot against the fake Bot
API."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from telegram import Bot

from bot.alerts.sender import AlertSender, DeliveryPolicy
from index.alerts.outbox import NewAlert, Outbox
from index.alerts.state import StateDatabase
from index.alerts.statedb import StateDB
from index.alerts.subscriptions import Subscriptions
from tests.e2e.conftest import ALICE
from tests.e2e.fakeapi import FakeBotApi


def _sender(db: StateDatabase) -> AlertSender:
    return AlertSender(Outbox(db), Subscriptions(db, per_chat_limit=10), [], DeliveryPolicy(chat_rate=20, digest_after=3, digest_window=600.0))


def _enqueue(db: StateDatabase, chat_id: int, story_id: int) -> None:
    with db.transaction() as cur:
        Outbox(db).enqueue(cur, NewAlert(
            chat_id=chat_id, story_id=story_id, subscription_id=1, topic="wheat",
            headline=f"Wheat story {story_id}", quote="Farmers harvested a record crop.",
            source="Wire", url=None, published="2024-04-01", score=0.8))


async def test_two_senders_on_one_outbox_send_each_alert_once(
    fake_api: FakeBotApi, open_state_db: Callable[[], StateDatabase]
) -> None:
    chat = fake_api.private_chat(ALICE)
    first, second = open_state_db(), open_state_db()  # two connections (SQLite, PostgreSQL)
    _enqueue(first, chat.id, 1)
    async with Bot(fake_api.token, base_url=fake_api.base_url) as bot:
        counts = await asyncio.gather(_sender(first).deliver_due(bot),
                                      _sender(second).deliver_due(bot))
    assert sorted(counts) == [0, 1]
    assert [m.text.splitlines()[1] for m in fake_api.sent(chat.id)] == ["Wheat story 1"]
    assert Outbox(second).counts() == {"sent": 1}


async def test_an_alert_claimed_by_a_crashed_run_is_sent_after_the_restart(
    fake_api: FakeBotApi, tmp_path: Path
) -> None:
    chat = fake_api.private_chat(ALICE)
    db = StateDB.open(tmp_path)
    try:
        _enqueue(db, chat.id, 2)
        [claimed] = Outbox(db).claim_due()  # the crashed run got this far
        assert Outbox(db).claim_due() == []  # nobody else can take it meanwhile
        assert Outbox(db).release_claims() == 1  # what the next run does at start
        async with Bot(fake_api.token, base_url=fake_api.base_url) as bot:
            assert await _sender(db).deliver_due(bot) == 1
        assert [m.text.splitlines()[1] for m in fake_api.sent(chat.id)] == ["Wheat story 2"]
        assert claimed.id == 1
    finally:
        db.close()

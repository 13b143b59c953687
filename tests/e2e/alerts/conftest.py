"""Fixtures for alert tests: a fresh real index per test (sharing the session's loaded
model), a local feed server, the fake Bot API, and the real bot with short job intervals.

Each test gets its own data directory, so the index, ``state.sqlite`` (subscriptions,
outbox, feed state) and whatever the feeds bring are the test's alone.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from bot.alerts.jobs import AlertTimings
from bot.app import BotApplication, build_application
from bot.settings import Settings
from bot.state import get_state
from index.alerts import Alerts
from index.api import Index
from tests.e2e.alerts.feed_server import FeedServer
from tests.e2e.conftest import ADMIN
from tests.e2e.fakeapi import Chat, FakeBotApi, SentMessage, User
from tests.e2e.lifecycle import halt, launch

FAST = AlertTimings(feed_interval=0.5, send_interval=0.3, feed_max_backoff=4.0,
                    retry_base=0.2, first_run=0.1)


@pytest.fixture
def fake_api() -> Iterator[FakeBotApi]:
    api = FakeBotApi().start()
    try:
        yield api
    finally:
        api.stop()


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    server = FeedServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def alert_index(data_dir: Path, news_index: Index) -> Iterator[Index]:
    """An empty real index of its own (the model is the session's, already loaded)."""
    index = Index.open(Settings(_env_file=None, data_dir=data_dir), embedder=news_index.embedder)
    yield index
    index.close()


@dataclass
class AlertBot:
    application: BotApplication
    api: FakeBotApi
    settings: Settings

    @property
    def services(self) -> Alerts:
        services = get_state(self.application).alerts
        assert services is not None
        return services

    async def say(self, chat: Chat, user: User | None, text: str) -> SentMessage:
        """Post ``text`` (as ``user``, or as the channel when None); return the bot's reply."""
        before = len(self.api.sent(chat.id))
        if user is None:
            self.api.channel_post(chat, text)
        else:
            self.api.send(chat, user, text)
        [reply] = await self.api.wait_for_sent(chat.id, after=before)
        return reply


AlertBotStarter = Callable[..., Awaitable[AlertBot]]


@pytest_asyncio.fixture
async def start_alert_bot(
    fake_api: FakeBotApi, alert_index: Index, data_dir: Path
) -> AsyncIterator[AlertBotStarter]:
    """``await start_alert_bot(feeds=[...], **settings)``: the real application over the
    test's data directory; stopped at the end of the test (or earlier by ``halt``)."""
    running: list[BotApplication] = []

    async def start(*, timings: AlertTimings = FAST, **overrides: Any) -> AlertBot:
        fake_api.private_chat(ADMIN)
        values: dict[str, Any] = {
            "telegram_token": fake_api.token,
            "telegram_api_url": fake_api.base_url,
            "admin_ids": [ADMIN.id],
            "data_dir": data_dir,
            "fetch_allow": ["127.0.0.1"],  # the feed server's address (SSRF guard)
        }
        values.update(overrides)
        settings = Settings(_env_file=None, **values)
        application = build_application(settings, alert_index, alert_timings=timings)
        await launch(application)
        running.append(application)
        return AlertBot(application, fake_api, settings)

    yield start
    for application in reversed(running):
        await halt(application)  # a no-op for one the test already halted

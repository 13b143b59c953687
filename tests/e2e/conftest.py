"""Fixtures for end-to-end tests: a fake Bot API server, a real index, the real bot.

The index is real (SQLite + FAISS files in a temporary folder, the packaged MiniLM model)
and built once per session over the small articles in ``tests/e2e/articles``; loading the
model dominates its cost. Each test gets a fresh fake server and a fresh ``Application``
from ``bot.app.build_application``, polling the fake server from the test's event loop,
so python-telegram-bot's real networking stack runs and no handler is called directly.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from telegram.ext import Application

from bot.app import build_application
from bot.settings import Settings
from index.api import Index
from tests.e2e.fakeapi import Chat, FakeBotApi, SentMessage, User
from tests.e2e.lifecycle import halt, launch

ARTICLES = Path(__file__).parent / "articles"

ADMIN = User(1001, "Ada", "ada_admin")
ALICE = User(2002, "Alice", "alice_reader")
BOB = User(3003, "Bob", "bob_reader")
CAROL = User(4004, "Carol", "carol_reader")


@dataclass
class Corpus:
    articles: Path  # the fixture articles, copied
    extra: Path  # empty at first; tests drop new articles here before /reindex


@pytest.fixture(scope="session")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    root = tmp_path_factory.mktemp("corpus")
    articles = root / "articles"
    shutil.copytree(ARTICLES, articles)
    extra = root / "extra"
    extra.mkdir()
    return Corpus(articles, extra)


@pytest.fixture(scope="session")
def news_index(
    tmp_path_factory: pytest.TempPathFactory, corpus: Corpus, embedder: Any
) -> Iterator[Index]:
    """The real index over the fixture articles (built once; the model, which takes ~7 s to
    load, is the session's one, shared with the index tests)."""
    settings = Settings(_env_file=None, data_dir=tmp_path_factory.mktemp("data"))
    index = Index.open(settings, embedder=embedder)
    report = index.ingest([str(corpus.articles)])
    assert report.failed == 0, report.problems
    assert report.articles_new == len(list(ARTICLES.glob("*.txt")))
    yield index
    index.close()


@pytest.fixture
def fake_api() -> Iterator[FakeBotApi]:
    api = FakeBotApi().start()
    try:
        yield api
    finally:
        api.stop()


@dataclass
class RunningBot:
    application: Application
    api: FakeBotApi
    settings: Settings

    def chat_with(self, user: User) -> Chat:
        return self.api.private_chat(user)

    async def ask(self, chat: Chat, user: User, text: str, **kwargs: Any) -> list[SentMessage]:
        """Send ``text`` and wait for the bot's first reply to it; returns what was new."""
        before = len(self.api.sent(chat.id))
        self.api.send(chat, user, text, **kwargs)
        return await self.api.wait_for_sent(chat.id, after=before)


BotStarter = Callable[..., Awaitable[RunningBot]]


@pytest_asyncio.fixture
async def start_bot(
    fake_api: FakeBotApi, news_index: Index, corpus: Corpus, tmp_path: Path
) -> AsyncIterator[BotStarter]:
    """``await start_bot(**setting_overrides)`` runs the real application against the fake
    server until the test ends (then it is stopped the way ``run_polling`` stops it)."""
    running: list[Application] = []

    async def start(*, progress_interval: float = 0.05, **overrides: Any) -> RunningBot:
        fake_api.private_chat(ADMIN)  # admins have talked to the bot: the menu scope exists
        values: dict[str, Any] = {
            "telegram_token": fake_api.token,
            "telegram_api_url": fake_api.base_url,
            "admin_ids": [ADMIN.id],
            "data_dir": tmp_path / "unused",  # the index below is already open
            "user_rate_limit": 20,
            "user_rate_window": 30,
        }
        values.update(overrides)
        settings = Settings(_env_file=None, **values)
        application = build_application(
            settings,
            news_index,
            sources=[str(corpus.articles), str(corpus.extra)],
            progress_interval=progress_interval,
        )
        await launch(application)  # what Application.run_polling does, in this test's loop
        running.append(application)
        return RunningBot(application, fake_api, settings)

    yield start
    for application in reversed(running):
        await halt(application)


@pytest_asyncio.fixture
async def bot(start_bot: BotStarter) -> RunningBot:
    """The bot with default settings (3 citations per message, admin ``ADMIN``)."""
    return await start_bot()

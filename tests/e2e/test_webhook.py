"""Webhook mode: the bot registers its URL with a secret and rejects updates without it."""

from __future__ import annotations

import socket

import httpx

from bot.app import ALLOWED_UPDATES, build_application, webhook_options
from bot.settings import Settings
from index.api import Index
from tests.e2e.conftest import ALICE, Corpus
from tests.e2e.fakeapi import FakeBotApi


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_webhook_options_always_check_a_secret() -> None:
    settings = Settings(
        _env_file=None, telegram_token="1:x", webhook_url="https://bot.example.com/tg/hook"
    )
    first, second = webhook_options(settings), webhook_options(settings)
    assert first["url_path"] == "tg/hook" and first["allowed_updates"] == ALLOWED_UPDATES
    assert len(first["secret_token"]) >= 32 and first["secret_token"] != second["secret_token"]
    fixed = Settings(
        _env_file=None,
        telegram_token="1:x",
        webhook_url="https://b.example/h",
        webhook_secret="s3cret-Token_1",
        webhook_port=9000,
    )
    assert webhook_options(fixed)["secret_token"] == "s3cret-Token_1"
    assert webhook_options(fixed)["port"] == 9000


async def test_webhook_update_with_secret_is_answered_without_is_refused(
    fake_api: FakeBotApi, news_index: Index, corpus: Corpus
) -> None:
    settings = Settings(
        _env_file=None,
        telegram_token=fake_api.token,
        telegram_api_url=fake_api.base_url,
        webhook_url="https://bot.example.com/newsbot/hook",
        webhook_secret="test-secret_123",
        webhook_port=_free_port(),
    )
    application = build_application(settings, news_index, sources=[str(corpus.articles)])
    options = webhook_options(settings)
    await application.initialize()
    assert application.updater is not None
    await application.updater.start_webhook(**options)
    await application.start()
    try:
        assert fake_api.webhook() == {
            "url": "https://bot.example.com/newsbot/hook",
            "secret_token": "test-secret_123",
        }
        chat = fake_api.private_chat(ALICE)
        url = f"http://127.0.0.1:{options['port']}/newsbot/hook"
        async with httpx.AsyncClient(timeout=10) as client:
            forged = fake_api.webhook_update(chat, ALICE, "Who blocks Karachi's hydrants?")
            refused = await client.post(
                url, json=forged, headers={"X-Telegram-Bot-Api-Secret-Token": "wrong"}
            )
            assert refused.status_code == 403
            update = fake_api.webhook_update(chat, ALICE, "Who runs the tanker mafia in Karachi?")
            accepted = await client.post(
                url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "test-secret_123"}
            )
            assert accepted.status_code == 200
        [reply] = await fake_api.wait_for_sent(chat.id)
        assert reply.text.startswith("Who runs the tanker mafia in Karachi?")
        assert reply.reply_to == update["message"]["message_id"]
        assert len(fake_api.sent(chat.id)) == 1  # the forged one was never handled
    finally:
        await application.updater.stop()
        await application.stop()
        await application.shutdown()

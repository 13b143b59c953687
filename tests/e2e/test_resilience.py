"""Flood limits, failures and load: 429 honoured, errors apologised for, chats not stalled."""

from __future__ import annotations

import logging
import threading
from typing import Any

import pytest

from bot.handlers.errors import APOLOGY
from index.api import Index
from tests.e2e.conftest import ADMIN, ALICE, BOB, CAROL, BotStarter, RunningBot

QUESTION = "What did the court order about illegal hydrants in Karachi?"


async def test_retry_after_is_honoured(bot: RunningBot) -> None:
    api = bot.api
    chat = bot.chat_with(ALICE)
    api.fail_next("sendMessage", 1, code=429, retry_after=1)
    [reply] = await bot.ask(chat, ALICE, QUESTION)
    assert "\n1. " in reply.text

    sends = api.calls("sendMessage")
    assert [c.status for c in sends] == [429, 200]
    assert sends[1].params["text"] == sends[0].params["text"]  # the same message, resent
    assert sends[1].at - sends[0].at >= 1.0  # not before retry_after
    assert len(api.sent(chat.id)) == 1


async def test_a_slow_bot_api_still_gets_the_answer(bot: RunningBot) -> None:
    """A reply that takes longer than python-telegram-bot's 5 s default (a busy machine or
    Telegram) is waited for, not dropped for an apology."""
    api = bot.api
    chat = bot.chat_with(ALICE)
    api.delay_next("sendMessage", 6.0)
    api.send(chat, ALICE, QUESTION)
    [reply] = await api.wait_for_sent(chat.id, timeout=60)
    assert "\n1. " in reply.text
    assert [c.status for c in api.calls("sendMessage")] == [200]
    assert len(api.sent(chat.id)) == 1


async def test_error_handler_apologises_and_reports_without_internals(
    bot: RunningBot,
    news_index: Index,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    api = bot.api
    token = api.token

    def explode(question: str, **kwargs: Any) -> None:
        raise RuntimeError(f"index exploded at /srv/data (token {token})\nmore detail")

    monkeypatch.setattr(news_index, "answer", explode)
    admin_chat = bot.chat_with(ADMIN)
    chat = bot.chat_with(BOB)
    caplog.set_level(logging.ERROR, logger="bot.handlers.errors")

    [apology] = await bot.ask(chat, BOB, QUESTION)
    assert apology.text == APOLOGY
    [report] = await api.wait_for_sent(admin_chat.id)
    assert report.text == (
        f"⚠️ newsbot error: RuntimeError: index exploded at /srv/data (token <redacted>) "
        f"(chat {chat.id}, user {BOB.id})"
    )
    everything = [m.text for m in api.all_sent()] + [r.getMessage() for r in caplog.records]
    assert all(token not in text for text in everything)
    assert all("Traceback" not in m.text for m in api.all_sent())
    assert any("Traceback" in r.getMessage() for r in caplog.records)  # the log has it


async def test_per_user_rate_limit(start_bot: BotStarter) -> None:
    bot = await start_bot(user_rate_limit=2, user_rate_window=60)
    api = bot.api
    chat = bot.chat_with(CAROL)
    for _ in range(4):
        api.send(chat, CAROL, QUESTION)
    # The fifth is a command (not rate limited) whose reply proves all four were handled.
    await api.wait_for(
        lambda: len(api.sent(chat.id)) == 3, what="two answers and one rate-limit notice"
    )
    [help_reply] = await bot.ask(chat, CAROL, "/help")
    messages = api.sent(chat.id)
    answers = [m for m in messages if "\n1. " in m.text]
    notices = [m for m in messages if m.text.startswith("You're asking faster")]
    assert len(answers) == 2 and len(notices) == 1
    assert messages[-1].message_id == help_reply.message_id  # /help came after all four
    assert "please wait" in notices[0].text and help_reply.text.startswith("Ask me")
    assert len(messages) == 4
    # Someone else is not affected.
    other = bot.chat_with(ALICE)
    [reply] = await bot.ask(other, ALICE, QUESTION)
    assert "\n1. " in reply.text


async def test_slow_question_does_not_stall_other_chats(
    bot: RunningBot, news_index: Index, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = bot.api
    real_answer = news_index.answer
    entered = threading.Event()
    release = threading.Event()

    def slow_for_alice(question: str, **kwargs: Any) -> Any:
        if "slow" in question:
            entered.set()
            if not release.wait(timeout=30):
                raise TimeoutError("never released")
        return real_answer(question, **kwargs)

    monkeypatch.setattr(news_index, "answer", slow_for_alice)
    slow_chat = bot.chat_with(ALICE)
    fast_chat = bot.chat_with(BOB)
    api.send(slow_chat, ALICE, "slow: " + QUESTION)
    await api.wait_for(entered.is_set, what="the slow question to reach the index")

    [fast] = await bot.ask(fast_chat, BOB, QUESTION)  # answered while the other is stuck
    assert "\n1. " in fast.text
    assert api.sent(slow_chat.id) == []

    release.set()
    [slow] = await api.wait_for_sent(slow_chat.id)
    assert "\n1. " in slow.text


async def test_error_after_a_button_press_still_apologises(
    bot: RunningBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = bot.api
    chat = bot.chat_with(ALICE)
    [reply] = await bot.ask(chat, ALICE, QUESTION)

    def broken(*args: Any, **kwargs: Any) -> list[str]:
        raise ValueError("renderer broke")

    monkeypatch.setattr("bot.handlers.callbacks.render_article", broken)
    query = api.press(chat.id, reply.message_id, "Full article 1", ALICE)
    # The query was answered (no spinner) before the failure, so the apology is a message.
    [apology] = await api.wait_for_sent(chat.id, after=1)
    assert apology.text == APOLOGY
    assert api.callback_answer(query) == {"text": None, "show_alert": False}

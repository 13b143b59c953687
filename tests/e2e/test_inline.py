"""Inline mode (issue 17): ``@bot question`` offers the cited snippets as articles whose
message is the answer's HTML; empty queries get a hint; the per-user limit applies; a
failure shows no internals; the allowlist applies to the asking user."""

from __future__ import annotations

from typing import Any

import pytest

from bot.handlers.inline import FAILED, HINT, MAX_RESULTS
from index.api import Index
from tests.e2e.conftest import ALICE, BOB, BotStarter
from tests.e2e.fakeapi import FakeBotApi
from tests.e2e.telegram_html import parse_html

QUESTION = "Who is blamed for the Karachi water shortage?"


async def _answer(api: FakeBotApi, query_id: str) -> dict[str, Any]:
    return await api.wait_for(lambda: api.inline_answer(query_id), what="answerInlineQuery")


async def test_inline_results_are_the_cited_snippets(start_bot: BotStarter) -> None:
    bot = await start_bot()
    api = bot.api
    answer = await _answer(api, api.inline_query(ALICE, QUESTION))
    results = answer["results"]
    assert 1 <= len(results) <= MAX_RESULTS
    chat = api.private_chat(BOB)
    [normal] = await bot.ask(chat, BOB, QUESTION)  # the same question as a message
    first = results[0]
    content = first["input_message_content"]
    assert content["parse_mode"] == "HTML"
    text, _entities = parse_html(content["message_text"])
    assert text.startswith(QUESTION + "\n\n1. ")
    assert first["title"] in normal.text  # the headline of the best citation
    assert first["description"][:40] in text
    assert normal.text.split("\n\n")[1] == text.split("\n\n")[1]  # the same first citation
    assert [r["id"] for r in results] == [str(n) for n in range(1, len(results) + 1)]


async def test_empty_query_gets_a_hint_and_the_limit_applies(start_bot: BotStarter) -> None:
    bot = await start_bot(user_rate_limit=2, user_rate_window=60)
    api = bot.api
    hint = await _answer(api, api.inline_query(ALICE, "   "))
    assert hint["results"] == [] and hint["button"]["text"] == HINT
    for _ in range(2):
        assert (await _answer(api, api.inline_query(ALICE, QUESTION)))["results"]
    limited = await _answer(api, api.inline_query(ALICE, QUESTION))
    assert limited["results"] == []
    assert limited["button"]["text"].startswith("Too many questions — wait ")
    assert (await _answer(api, api.inline_query(BOB, QUESTION)))["results"]  # others go on


async def test_a_failure_shows_no_internals(
    start_bot: BotStarter, news_index: Index, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot = await start_bot()
    api = bot.api

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk I/O error in /secret/path/index.sqlite")

    monkeypatch.setattr(news_index, "answer", broken)
    failed = await _answer(api, api.inline_query(ALICE, QUESTION))
    assert failed["results"] == [] and failed["button"]["text"] == FAILED
    assert "secret" not in str(failed)


async def test_the_allowlist_applies_to_the_user(start_bot: BotStarter) -> None:
    bot = await start_bot(allowed_chats=[ALICE.id])
    api = bot.api
    assert (await _answer(api, api.inline_query(ALICE, QUESTION)))["results"]
    refused = await _answer(api, api.inline_query(BOB, QUESTION))
    assert refused["results"] == [] and "button" not in refused

"""One budget per user for everything that costs a search or an API call (issue 14, item
8): with a limit of one request a minute, a second ``/latest <topic>``, ``/sources``,
button press or (refused) ``/subscribe`` is turned down like a second question — the
search or ``getChatMember`` call is not made. Real bot, fake Bot API."""

from __future__ import annotations

import asyncio

from tests.e2e.conftest import ALICE, BotStarter
from tests.e2e.fakeapi import SentMessage

TOO_FAST = "You're asking faster than I can read — please wait"
WATER = "What is being done about Karachi's water shortage?"


async def _twice(bot, chat, text: str) -> tuple[list[SentMessage], SentMessage]:
    api = bot.api
    first = await bot.ask(chat, ALICE, text)
    before = len(api.sent(chat.id))
    [second] = await bot.ask(chat, ALICE, text)
    await asyncio.sleep(0.3)  # nothing more arrives after the refusal
    assert len(api.sent(chat.id)) == before + 1
    return first, second


async def test_latest_with_a_topic_is_limited(start_bot: BotStarter) -> None:
    bot = await start_bot(user_rate_limit=1, user_rate_window=60)
    first, second = await _twice(bot, bot.chat_with(ALICE), "/latest water")
    assert TOO_FAST not in first[0].text
    assert second.text.startswith(TOO_FAST)


async def test_sources_is_limited(start_bot: BotStarter) -> None:
    bot = await start_bot(user_rate_limit=1, user_rate_window=60)
    first, second = await _twice(bot, bot.chat_with(ALICE), "/sources")
    assert TOO_FAST not in first[0].text
    assert second.text.startswith(TOO_FAST)


async def test_buttons_are_limited(start_bot: BotStarter) -> None:
    bot = await start_bot(user_rate_limit=1, user_rate_window=60)
    api = bot.api
    chat = bot.chat_with(ALICE)
    [answer] = await bot.ask(chat, ALICE, WATER)  # the one request of the minute
    query = api.press(chat.id, answer.message_id, "More results", ALICE)
    answered = await api.wait_for(lambda: api.callback_answer(query), what="the answer")
    assert str(answered.get("text", "")).startswith(TOO_FAST)
    await asyncio.sleep(0.3)
    assert len(api.sent(chat.id)) == 1  # no page of results was sent


async def test_a_refused_subscribe_is_limited(start_bot: BotStarter) -> None:
    bot = await start_bot(user_rate_limit=1, user_rate_window=60)
    api = bot.api
    group = api.group(-100777, "Readers", supergroup=True)
    api.set_member_status(group.id, ALICE.id, "member")
    first, second = await _twice(bot, group, "/subscribe water")
    assert "admin" in first[0].text and TOO_FAST not in first[0].text
    assert second.text.startswith(TOO_FAST)
    assert len(api.calls("getChatMember")) == 1  # the second one asked Telegram nothing

"""NEWSBOT_ALLOWED_CHATS (issue 17): outside the list one polite line now and then and
nothing else; added to a group or channel not on it, the bot says so once and leaves."""

from __future__ import annotations

import asyncio

from bot.allowlist import NOT_ALLOWED
from bot.handlers.gate import leaving_text
from tests.e2e.conftest import ADMIN, ALICE, BOB, CAROL, BotStarter
from tests.e2e.fakeapi import FakeBotApi

QUESTION = "Who is blamed for the Karachi water shortage?"


async def _settled(api: FakeBotApi) -> None:
    """Every queued update fetched, and time for its handlers to have answered."""
    await api.wait_for(lambda: api.pending_updates() == 0, what="updates fetched")
    await asyncio.sleep(0.5)


async def test_outside_the_list_one_polite_line_and_nothing_else(start_bot: BotStarter) -> None:
    served = -100700
    bot = await start_bot(allowed_chats=[ALICE.id, served])
    api = bot.api
    alice, bob, admin = api.private_chat(ALICE), api.private_chat(BOB), api.private_chat(ADMIN)

    [answer] = await bot.ask(alice, ALICE, QUESTION)
    assert "\n1. " in answer.text

    [refused] = await bot.ask(bob, BOB, QUESTION)
    assert refused.text == NOT_ALLOWED
    for text in (QUESTION, "/help", "/subscribe oil", "/start"):
        api.send(bob, BOB, text)
    await _settled(api)
    assert len(api.sent(bob.id)) == 1  # the polite line once, nothing else

    [whoami] = await bot.ask(admin, ADMIN, "/whoami")  # the admins' own chats are served
    assert whoami.text.startswith(f"Your user id: {ADMIN.id}")

    other = api.group(-100701, "Elsewhere")
    api.send(other, CAROL, "just chatting about water")  # not addressed to the bot
    api.send(other, CAROL, f"@{api.bot.username} {QUESTION}")
    [line] = await api.wait_for_sent(other.id)
    assert line.text == NOT_ALLOWED
    api.send(other, BOB, f"/ask {QUESTION}")
    await _settled(api)
    assert len(api.sent(other.id)) == 1

    group = api.group(served, "Served")
    [help_text] = await bot.ask(group, CAROL, "/help")
    assert "/ask" in help_text.text
    assert api.calls("getChatMember") == []  # nothing else was looked up for the others


async def test_added_to_a_chat_not_on_the_list_says_so_and_leaves(start_bot: BotStarter) -> None:
    bot = await start_bot(allowed_chats=[-100800])
    api = bot.api
    stranger = api.group(-100801, "Strangers", supergroup=True)
    api.add_bot_to(stranger, BOB)
    [goodbye] = await api.wait_for_sent(stranger.id)
    assert goodbye.text == leaving_text(stranger.id)
    await api.wait_for(lambda: api.has_left(stranger.id), what="leaveChat")
    assert [c.params["chat_id"] for c in api.calls("leaveChat")] == [stranger.id]

    channel = api.channel(-1001800, "Other News")
    api.add_bot_to(channel, BOB, status="administrator")
    [goodbye] = await api.wait_for_sent(channel.id)
    assert goodbye.text == leaving_text(channel.id)
    await api.wait_for(lambda: api.has_left(channel.id), what="leaveChat from the channel")

    served = api.group(-100800, "Served")
    api.add_bot_to(served, BOB)
    await _settled(api)
    assert api.sent(served.id) == [] and not api.has_left(served.id)
    assert len(api.calls("leaveChat")) == 2


async def test_without_a_list_every_chat_is_served_and_the_bot_stays(
    start_bot: BotStarter,
) -> None:
    bot = await start_bot()
    api = bot.api
    group = api.group(-100900, "Anyone")
    api.add_bot_to(group, BOB)
    [answer] = await bot.ask(group, BOB, f"/ask {QUESTION}")
    assert "\n1. " in answer.text
    assert api.calls("leaveChat") == [] and len(api.sent(group.id)) == 1

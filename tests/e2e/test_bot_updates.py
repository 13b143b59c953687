"""Odd and hostile updates (issue 7): whatever arrives, the bot does not crash, never gets a
400 from our formatting (the fake validates the HTML and the 4096-unit limit), and replies
helpfully where a reply is due. Cases the other e2e files already cover (a 4096-char
question with ``&``/``<``, tampered and stale buttons, edits, photos, channel posts) are
not repeated here."""

from __future__ import annotations

import copy
import time

from bot.handlers.questions import USAGE
from tests.e2e.conftest import ALICE, BOB, RunningBot
from tests.e2e.telegram_html import utf16_len

WATER = "How bad is the Karachi water shortage?"


def _no_errors(bot: RunningBot) -> None:
    bad = [(c.method, c.status, str(c.params)[:120]) for c in bot.api.calls()
           if c.status >= 400 and c.method.lower() != "getupdates"]
    assert not bad, bad


async def _answered(bot: RunningBot, chat, user, text: str):
    [reply] = await bot.ask(chat, user, text)
    assert reply.parse_mode == "HTML"
    assert utf16_len(reply.source) <= 4096
    return reply


async def test_markup_and_ampersands_in_questions(bot: RunningBot) -> None:
    chat = bot.chat_with(ALICE)
    for question in ("<b>Karachi water</b> shortage?", "water </a> shortage in Karachi",
                     "tankers & water & <i>Karachi</i> &amp; &lt;", "<a href='x'>water"):
        reply = await _answered(bot, chat, ALICE, question)
        assert question in reply.text  # shown verbatim (escaped), not interpreted
    _no_errors(bot)


async def test_emoji_only_and_blank_questions(bot: RunningBot) -> None:
    chat = bot.chat_with(BOB)
    emoji = await _answered(bot, chat, BOB, "🌊🚰💧🤔")
    assert emoji.text  # a plain "nothing found", or an answer: never silence or a crash
    blank = await _answered(bot, chat, BOB, " \u200b ")
    assert blank.text
    long_emoji = await _answered(bot, chat, BOB, "💧" * 2048)  # 4096 UTF-16 units
    assert long_emoji.text
    _no_errors(bot)


async def test_ask_without_text_gets_usage(bot: RunningBot) -> None:
    api = bot.api
    chat = bot.chat_with(ALICE)
    [reply] = await bot.ask(chat, ALICE, "/ask")
    assert reply.text == USAGE or "/ask" in reply.text
    group = api.group(-100701, "Readers")
    [reply] = await bot.ask(group, ALICE, f"/ask@{api.bot.username}   ")
    assert "/ask" in reply.text
    _no_errors(bot)


async def test_commands_for_other_bots_are_ignored(bot: RunningBot) -> None:
    api = bot.api
    group = api.group(-100702, "Shared")
    for text in (f"/ask@some_other_bot {WATER}", "/start@some_other_bot",
                 "/reindex@some_other_bot", "/stats@some_other_bot"):
        api.send(group, ALICE, text)
    # a later command to us that is answered proves the ones before were processed
    [reply] = await bot.ask(group, ALICE, f"/ask@{api.bot.username} {WATER}")
    assert reply.text.startswith(WATER)
    assert len(api.sent(group.id)) == 1
    _no_errors(bot)


async def test_forwarded_messages_and_edits_in_groups(bot: RunningBot) -> None:
    api = bot.api
    chat = bot.chat_with(BOB)
    # a forwarded message: a question like any other in a private chat
    origin = {"type": "hidden_user", "sender_user_name": "Someone",
              "date": int(time.time()) - 3600}
    api.push_message(chat, BOB, WATER, forward_origin=origin)
    [reply] = await api.wait_for_sent(chat.id)
    assert "\n1. " in reply.text
    # an edit of a group command must not produce a second answer or a crash
    group = api.group(-100703, "Editors")
    asked = api.send(group, ALICE, f"/ask@{api.bot.username} {WATER}")
    await api.wait_for_sent(group.id)
    api.edit(group, ALICE, asked["message_id"], f"/ask@{api.bot.username} Gwadar port?")
    [later] = await bot.ask(group, ALICE, f"/ask@{api.bot.username} {WATER}")
    assert len(api.sent(group.id)) == 2
    _no_errors(bot)


async def test_unknown_and_unusual_update_types(bot: RunningBot) -> None:
    api = bot.api
    chat = bot.chat_with(ALICE)
    group = api.group(-100704, "Odd")
    now = int(time.time())
    base = api.make_message(chat, ALICE, "x")
    api.push_updates([
        {"message_reaction": {"chat": group.as_dict(), "message_id": 1, "date": now,
                              "user": ALICE.as_dict(), "old_reaction": [],
                              "new_reaction": [{"type": "emoji", "emoji": "👍"}]}},
        {"my_chat_member": {"chat": group.as_dict(), "from": ALICE.as_dict(), "date": now,
                            "old_chat_member": {"status": "left", "user": api.bot.as_dict()},
                            "new_chat_member": {"status": "member",
                                                "user": api.bot.as_dict()}}},
        {"some_future_update_kind": {"whatever": [1, 2, 3]}},
        {"message": {**copy.deepcopy(base), "text": None, "sticker": None}},
        {"message": {k: v for k, v in base.items() if k != "text"}},  # no text at all
        {"message": {**copy.deepcopy(base), "new_chat_members": [ALICE.as_dict()],
                     "text": None}},
    ])
    reply = await _answered(bot, chat, ALICE, WATER)
    assert "\n1. " in reply.text
    await api.wait_for(lambda: api.pending_updates() == 0, what="all updates confirmed")
    assert bot.application.running
    _no_errors(bot)


async def test_channel_post_commands_do_not_answer_questions_in_channels(bot: RunningBot) -> None:
    api = bot.api
    channel = api.channel(-100705, "News channel")
    api.channel_post(channel, f"/ask {WATER}")
    api.channel_post(channel, "<b>&</a>")
    reply = await _answered(bot, bot.chat_with(BOB), BOB, WATER)
    assert reply.text
    await api.wait_for(lambda: api.pending_updates() == 0, what="all updates confirmed")
    _no_errors(bot)

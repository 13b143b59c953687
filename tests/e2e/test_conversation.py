"""Conversations: follow-up questions read with the earlier one, a new topic on its own, and
answers (buttons and follow-up context) that outlive a restart until they expire."""

from __future__ import annotations

import sqlite3
from functools import partial
from pathlib import Path

from bot.chatdb import CHATS_NAME
from bot.format import FOLLOW_UP_NOTE
from bot.handlers.callbacks import EXPIRED
from tests.e2e.conftest import ALICE, BOB, CAROL, BotStarter, RunningBot
from tests.e2e.fakeapi import SentMessage
from tests.e2e.lifecycle import halt

PORT = "What will the Gwadar port expansion add?"
FOLLOW_UP = "When will it be finished?"
SOLAR = "What tariff did NEPRA set for new solar power plants?"
WATER = "How bad is the Karachi water shortage and what do tankers cost?"


def _first_citation(message: SentMessage) -> str:
    """The text of citation 1 (its quotes and its headline line); empty when none."""
    if "\n1. " not in message.text:
        return ""
    return message.text.split("\n1. ", 1)[1].split("\n2. ", 1)[0]


async def test_a_reply_in_a_group_is_read_with_the_question_it_replies_to(
        bot: RunningBot) -> None:
    api = bot.api
    group = api.group(-100301, "Port desk")
    [answer] = await bot.ask(group, ALICE, f"/ask {PORT}")
    assert "Gwadar" in _first_citation(answer)

    reply = api.send(group, BOB, FOLLOW_UP, reply_to=answer.message_id)
    [follow] = await api.wait_for_sent(group.id, after=1)
    assert follow.reply_to == reply["message_id"]
    assert follow.text.startswith(f"{FOLLOW_UP}\n{FOLLOW_UP_NOTE} “{PORT}”")
    assert "Gwadar" in _first_citation(follow)

    # The same words with nothing to follow up on are not about the port: context mattered.
    [alone] = await bot.ask(group, CAROL, f"/ask {FOLLOW_UP}")
    assert FOLLOW_UP_NOTE not in alone.text
    assert "Gwadar" not in _first_citation(alone)


async def test_private_follow_up_then_a_new_topic_on_its_own(bot: RunningBot) -> None:
    chat = bot.chat_with(ALICE)
    [port] = await bot.ask(chat, ALICE, PORT)
    [follow] = await bot.ask(chat, ALICE, FOLLOW_UP)  # no reply: the next message in a minute
    assert FOLLOW_UP_NOTE in follow.text and "Gwadar" in _first_citation(follow)

    [solar] = await bot.ask(chat, ALICE, SOLAR)  # a question standing on its own
    assert FOLLOW_UP_NOTE not in solar.text
    assert "NEPRA cuts tariff" in _first_citation(solar)
    assert port.message_id < follow.message_id < solar.message_id


async def test_private_follow_ups_can_be_turned_off(start_bot: BotStarter) -> None:
    bot = await start_bot(follow_up_minutes=0)
    chat = bot.chat_with(BOB)
    [port] = await bot.ask(chat, BOB, PORT)
    [plain] = await bot.ask(chat, BOB, FOLLOW_UP)
    assert FOLLOW_UP_NOTE not in plain.text
    [replied] = await bot.ask(chat, BOB, FOLLOW_UP, reply_to=port.message_id)
    assert FOLLOW_UP_NOTE in replied.text  # a reply still follows up


async def test_buttons_and_follow_ups_survive_a_restart(start_bot: BotStarter) -> None:
    first = await start_bot()
    api = first.api
    chat = first.chat_with(ALICE)
    [water] = await first.ask(chat, ALICE, WATER)
    [port] = await first.ask(chat, ALICE, PORT)
    await halt(first.application)

    second = await start_bot()  # a new process: same data directory, nothing in memory
    assert second.settings.data_dir == first.settings.data_dir
    query = api.press(chat.id, water.message_id, "More results", ALICE)
    [more] = await api.wait_for_sent(chat.id, after=2)
    answered = await api.wait_for(partial(api.callback_answer, query), what="an answer")
    assert answered is not None and answered.get("text") != EXPIRED
    assert more.text.startswith("Results 4–6 of ")

    query = api.press(chat.id, port.message_id, "Full article 1", ALICE)
    parts = await api.wait_for_sent(chat.id, count=2, after=3)
    assert parts[0].text.startswith("Gwadar port expansion: a long report")

    [follow] = await second.ask(chat, ALICE, FOLLOW_UP)
    assert FOLLOW_UP_NOTE in follow.text and "Gwadar" in _first_citation(follow)


async def test_an_expired_button_says_so(start_bot: BotStarter) -> None:
    bot = await start_bot(answer_keep_hours=1)
    api = bot.api
    chat = bot.chat_with(CAROL)
    [water] = await bot.ask(chat, CAROL, WATER)
    with sqlite3.connect(Path(bot.settings.data_dir) / CHATS_NAME) as db:  # two hours pass
        assert db.execute("UPDATE answers SET created_at = created_at - 7200").rowcount == 1

    query = api.press(chat.id, water.message_id, "More results", CAROL)
    answered = await api.wait_for(partial(api.callback_answer, query), what="an answer")
    assert answered is not None and answered["text"] == EXPIRED
    [plain] = await bot.ask(chat, CAROL, FOLLOW_UP, reply_to=water.message_id)
    assert FOLLOW_UP_NOTE not in plain.text  # its context expired with it
    assert len(api.sent(chat.id)) == 2

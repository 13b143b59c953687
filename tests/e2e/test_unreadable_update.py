"""An update python-telegram-bot cannot parse (issue 14, item 12). Its ``get_updates``
parses the whole batch at once; one bad update raised, the offset never moved past it, and
the same batch came back forever — every chat stalled behind it. The bot now logs such an
update, skips it, and answers the messages beside and after it. Real bot, fake Bot API."""

from __future__ import annotations

import logging

import pytest

from tests.e2e.conftest import ALICE, BOB, RunningBot

QUESTION = "How bad is the Karachi water shortage and what do tankers cost?"


@pytest.mark.parametrize("broken", [
    {"message_id": 900, "chat": {"id": 55, "type": "private"}, "text": "no date"},
    {"message_id": 901, "date": 1700000000, "chat": {"id": 55}, "text": "no chat type"},
    {"message_id": 902, "date": 1700000000, "chat": {"id": 55, "type": "private"},
     "text": "hi", "entities": [{"type": "bold"}]},
])
async def test_an_unreadable_update_is_skipped_and_logged(
    bot: RunningBot, caplog: pytest.LogCaptureFixture, broken: dict[str, object]
) -> None:
    api = bot.api
    alice, bob = bot.chat_with(ALICE), bot.chat_with(BOB)
    with caplog.at_level(logging.WARNING):
        api.send(alice, ALICE, "/help")  # in the same batch as the bad one, before it
        bad_id = api.push_raw({"message": broken})
        [reply] = await bot.ask(bob, BOB, QUESTION)  # after it
        [help_reply] = await api.wait_for_sent(alice.id)
    assert "\n1. " in reply.text
    assert help_reply.text.startswith("Ask me")
    skipped = [r.getMessage() for r in caplog.records if "skipped update" in r.getMessage()]
    assert skipped and str(bad_id) in skipped[0]
    assert api.pending_updates() == 0  # the offset moved past it

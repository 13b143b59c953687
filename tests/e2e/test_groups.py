"""Groups: answer /ask, /ask@bot, mentions and replies to the bot; ignore the chatter."""

from __future__ import annotations

from bot.handlers.questions import USAGE
from tests.e2e.conftest import ALICE, BOB, RunningBot

QUESTION = "Who is blamed for the Karachi water shortage?"


async def test_ask_with_bot_name_in_group(bot: RunningBot) -> None:
    api = bot.api
    group = api.group(-100201, "Newsroom")
    question = api.send(group, ALICE, f"/ask@{api.bot.username} {QUESTION}")
    command = f"/ask@{api.bot.username}"
    assert question["entities"][0] == {"type": "bot_command", "offset": 0, "length": len(command)}
    [reply] = await api.wait_for_sent(group.id)
    assert reply.reply_to == question["message_id"]  # quoted, so the group sees whose it is
    assert reply.text.startswith(QUESTION)
    assert "\n1. " in reply.text and reply.button_texts()[0] == "More results"


async def test_plain_ask_mention_and_reply_to_bot_are_answered(bot: RunningBot) -> None:
    api = bot.api
    group = api.group(-100202, "Desk")
    [first] = await bot.ask(group, ALICE, f"/ask {QUESTION}")
    assert "\n1. " in first.text

    # Emoji before the mention: its entity offset is in UTF-16 units, not characters.
    mention = api.send(group, BOB, f"🌊🌊 @{str(api.bot.username).lower()} what is K-IV?")
    assert mention["entities"] == [{"type": "mention", "offset": 5, "length": 12}]
    [second] = await api.wait_for_sent(group.id, after=1)
    assert second.reply_to == mention["message_id"]
    assert second.text.startswith("🌊🌊 what is K-IV?\n")  # the mention is not the question
    assert "K-IV" in second.text

    reply = api.send(group, ALICE, "And what does desalination cost?", reply_to=second.message_id)
    [third] = await api.wait_for_sent(group.id, after=2)
    assert third.reply_to == reply["message_id"]
    assert "desalination" in third.text.lower()


async def test_chatter_is_ignored(bot: RunningBot) -> None:
    api = bot.api
    group = api.group(-100203, "Chatter")
    hello = api.send(group, ALICE, "Anyone seen the news about the Karachi water shortage?")
    api.send(group, BOB, "Yes, terrible. Ask @alice_reader", reply_to=hello["message_id"])
    api.send(group, ALICE, "/ask@SomeOtherBot who won the match?")
    api.send(group, BOB, "/help@SomeOtherBot")
    # A message that does get an answer, sent last: by the time it is answered, the bot
    # has fetched and handled everything before it.
    [usage] = await bot.ask(group, ALICE, f"/ask@{api.bot.username}")
    assert usage.text == USAGE
    assert len(api.sent(group.id)) == 1
    assert [a for a in api.calls("sendChatAction") if a.params["chat_id"] == group.id] == []


async def test_forum_topic_reply_stays_in_topic(bot: RunningBot) -> None:
    api = bot.api
    forum = api.group(-100204, "Forum", forum=True)
    topic = api.create_topic(forum, ALICE, "Water")
    question = api.send(forum, ALICE, f"/ask {QUESTION}", thread_id=topic)
    # In a topic, Telegram sets reply_to_message to the topic root: that is not a reply to
    # the bot and must not confuse it.
    assert question["reply_to_message"]["message_id"] == topic
    [reply] = await api.wait_for_sent(forum.id)
    assert reply.thread_id == topic
    assert [a for a in api.chat_actions(forum.id)] == [("typing", topic)]

    plain = api.send(forum, BOB, "thanks, that helps", thread_id=topic)
    [usage] = await bot.ask(forum, BOB, "/ask", thread_id=topic)
    assert usage.thread_id == topic and plain["message_id"] < usage.message_id
    assert len(api.sent(forum.id)) == 2


async def test_channel_posts_are_ignored(bot: RunningBot) -> None:
    api = bot.api
    channel = api.channel(-100205, "Wire", username="wire_channel")
    api.channel_post(channel, f"@{api.bot.username} Karachi water shortage update")
    private = bot.chat_with(ALICE)
    await bot.ask(private, ALICE, "/help")  # processed after the channel post
    assert api.sent(channel.id) == []

"""``/whoami``: the numeric ids an operator needs, in private chats, groups and channels."""

from __future__ import annotations

from tests.e2e.conftest import ALICE, BOB, RunningBot


async def test_private_chat_shows_user_and_chat_id(bot: RunningBot) -> None:
    chat = bot.chat_with(ALICE)
    [reply] = await bot.ask(chat, ALICE, "/whoami")
    assert reply.text.split("\n") == [
        f"Your user id: {ALICE.id}",
        f"This chat: {ALICE.id} (private)",
        f"To make yourself a bot admin: NEWSBOT_ADMIN_IDS={ALICE.id}",
    ]


async def test_group_with_bot_name_shows_sender_and_group(bot: RunningBot) -> None:
    api = bot.api
    group = api.group(-100301, "Ops", supergroup=True)
    command = api.send(group, BOB, f"/whoami@{api.bot.username}")
    [reply] = await api.wait_for_sent(group.id)
    assert reply.reply_to == command["message_id"]
    assert f"Your user id: {BOB.id}" in reply.text.split("\n")
    assert "This chat: -100301 (supergroup)" in reply.text.split("\n")


async def test_anonymous_admin_is_told_to_ask_privately(bot: RunningBot) -> None:
    api = bot.api
    group = api.group(-100302, "Anon")
    api.send_as_group(group, "/whoami")
    [reply] = await api.wait_for_sent(group.id)
    first, second = reply.text.split("\n")
    assert "hides your user id" in first and "private chat" in first
    assert "1087968824" not in reply.text  # the placeholder user is nobody's id
    assert second == "This chat: -100302 (group)"


async def test_channel_post_shows_the_channel_id(bot: RunningBot) -> None:
    api = bot.api
    channel = api.channel(-100303, "Wire", username="wire_channel")
    api.channel_post(channel, "/whoami")
    [reply] = await api.wait_for_sent(channel.id)
    assert reply.text == "This chat: -100303 (channel)"

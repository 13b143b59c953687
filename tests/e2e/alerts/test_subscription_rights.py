"""Who may subscribe and unsubscribe: group admins (getChatMember), anonymous admins, bot
admins; channels through their own posts or a bot admin in private; nobody else."""

from __future__ import annotations

from bot.handlers.subscriptions import ADMINS_ONLY
from tests.e2e.alerts.conftest import AlertBot, AlertBotStarter
from tests.e2e.conftest import ADMIN, ALICE, BOB, CAROL


def _topics(bot: AlertBot, chat_id: int) -> list[str]:
    return [s.topic_text for s in bot.services.subscriptions.for_chat(chat_id)]


async def test_group_admins_change_subscriptions_members_only_list(
    start_alert_bot: AlertBotStarter,
) -> None:
    bot = await start_alert_bot(subscriptions_per_chat=3)
    api = bot.api
    group = api.group(-100300, "Traders", supergroup=True)
    api.set_member_status(group.id, BOB.id, "administrator")
    api.set_member_status(group.id, CAROL.id, "creator")

    refused = await bot.say(group, ALICE, "/subscribe oil prices")
    assert refused.text == ADMINS_ONLY and _topics(bot, group.id) == []
    member_checks = [c for c in api.calls("getChatMember") if c.params["user_id"] == ALICE.id]
    assert member_checks and member_checks[0].params["chat_id"] == group.id

    ok = await bot.say(group, BOB, f"/subscribe@{api.bot.username} oil prices")
    assert ok.text.startswith("Subscribed this chat to “oil prices”")
    await bot.say(group, CAROL, '/subscribe "State Bank" interest rate')
    anonymous = api.send_as_group(group, "/subscribe gold prices")  # an anonymous admin
    [reply] = await api.wait_for_sent(group.id, after=3)
    assert reply.reply_to == anonymous["message_id"] and "gold prices" in reply.text
    assert _topics(bot, group.id) == ["oil prices", '"State Bank" interest rate', "gold prices"]

    full = await bot.say(group, ADMIN, "/subscribe cotton")  # a bot admin, not a group admin
    assert "3 subscriptions, the most allowed" in full.text

    listing = await bot.say(group, ALICE, "/subscriptions")  # anyone may look
    assert listing.text == ("Subscriptions of this chat:\n1. oil prices\n"
                            '2. "State Bank" interest rate\n3. gold prices')
    assert (await bot.say(group, ALICE, "/unsubscribe 1")).text == ADMINS_ONLY
    removed = await bot.say(group, BOB, "/unsubscribe 1")
    assert removed.text == "Unsubscribed this chat from “oil prices”."
    removed = await bot.say(group, ADMIN, "/unsubscribe GOLD prices")
    assert removed.text == "Unsubscribed this chat from “gold prices”."
    assert _topics(bot, group.id) == ['"State Bank" interest rate']
    missing = await bot.say(group, BOB, "/unsubscribe 5")
    assert "no subscription number 5" in missing.text


async def test_channels_are_subscribed_by_their_posts_or_a_bot_admin(
    start_alert_bot: AlertBotStarter,
) -> None:
    bot = await start_alert_bot()
    api = bot.api
    channel = api.channel(-1001300200, "Energy Desk", username="energy_desk")
    posted = await bot.say(channel, None, "/subscribe LNG imports")
    assert posted.text.startswith("Subscribed this chat to “LNG imports”")

    admin_chat = api.private_chat(ADMIN)
    by_name = await bot.say(admin_chat, ADMIN, "/subscribe @energy_desk oil prices")
    assert by_name.text.startswith("Subscribed Energy Desk to “oil prices”")
    assert [c.params["chat_id"] for c in api.calls("getChat")] == ["@energy_desk"]
    by_id = await bot.say(admin_chat, ADMIN, f"/subscribe {channel.id} gold")
    assert by_id.text.startswith("Subscribed Energy Desk to “gold”")
    listing = await bot.say(admin_chat, ADMIN, "/subscriptions @energy_desk")
    assert listing.text == ("Subscriptions of Energy Desk:\n1. LNG imports\n2. oil prices\n"
                            "3. gold")
    removed = await bot.say(admin_chat, ADMIN, "/unsubscribe @energy_desk gold")
    assert removed.text == "Unsubscribed Energy Desk from “gold”."

    alice = api.private_chat(ALICE)
    refused = await bot.say(alice, ALICE, "/subscribe @energy_desk cricket")
    assert refused.text.startswith("Only the bot's admins can manage another chat")
    unknown = await bot.say(admin_chat, ADMIN, "/subscribe @nosuchchannel cricket")
    assert unknown.text.startswith("I can't find the chat @nosuchchannel")
    assert _topics(bot, channel.id) == ["LNG imports", "oil prices"]

    # A private chat subscribes itself; its user needs no rights.
    own = await bot.say(alice, ALICE, "/subscribe cricket")
    assert own.text.startswith("Subscribed this chat to “cricket”")
    usage = await bot.say(alice, ALICE, "/subscribe")
    assert usage.text.startswith("Get news alerts on a topic")
    assert _topics(bot, ALICE.id) == ["cricket"]

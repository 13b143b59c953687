"""``/settings`` (issue 17): who may switch, the switches surviving a restart, and what
they do — digests off, silent alerts, link previews, alerts in the forum topic of
``/subscribe``, "Full article" buttons off — plus excluded words in a topic."""

from __future__ import annotations

import asyncio

from bot.chatprefs import FULL_ARTICLE_OFF
from bot.handlers.chat_settings import ADMINS_ONLY, LABELS
from tests.e2e.alerts.conftest import AlertBot, AlertBotStarter
from tests.e2e.alerts.feed_server import FeedServer
from tests.e2e.alerts.stories import oil_entries
from tests.e2e.conftest import ADMIN, ALICE, BOB, BotStarter
from tests.e2e.fakeapi import SentMessage
from tests.e2e.lifecycle import halt

FEED = "/wire/rss"
QUESTION = "Who is blamed for the Karachi water shortage?"


def _button(name: str, on: bool) -> str:
    return f"{'✅' if on else '❌'} {LABELS[name]}"


async def _press(bot: AlertBot, shown: SentMessage, label: str, user: object) -> dict:
    query = bot.api.press(shown.chat_id, shown.message_id, label, user)  # type: ignore[arg-type]
    return await bot.api.wait_for(lambda: bot.api.callback_answer(query), what="the toast")


async def test_private_settings_switch_and_survive_a_restart(
    start_alert_bot: AlertBotStarter,
) -> None:
    bot = await start_alert_bot()
    chat = bot.api.private_chat(ALICE)
    shown = await bot.say(chat, ALICE, "/settings")
    assert shown.button_texts() == [
        _button("digest", True), _button("silent", False), _button("previews", False),
        _button("full_article", True), _button("forum_topic", True)]
    toast = await _press(bot, shown, _button("silent", False), ALICE)
    assert toast["text"] == f"{LABELS['silent']}: on"
    edited = await bot.api.wait_for_message(
        chat.id, lambda m: _button("silent", True) in m.button_texts(),
        position=-1, what="the keyboard to show the switch")
    assert f"✅ {LABELS['silent']}" in edited.text
    await _press(bot, edited, _button("digest", True), ALICE)

    await halt(bot.application)
    bot = await start_alert_bot()
    again = await bot.say(chat, ALICE, "/settings")
    assert again.button_texts()[:3] == [
        _button("digest", False), _button("silent", True), _button("previews", False)]


async def test_in_groups_only_admins_switch(start_alert_bot: AlertBotStarter) -> None:
    bot = await start_alert_bot()
    api = bot.api
    group = api.group(-100610, "Desk", supergroup=True)
    api.set_member_status(group.id, BOB.id, "administrator")
    refused = await bot.say(group, ALICE, "/settings")
    assert refused.text == ADMINS_ONLY
    assert [c.params["user_id"] for c in api.calls("getChatMember")] == [ALICE.id]
    shown = await bot.say(group, BOB, "/settings")
    toast = await _press(bot, shown, _button("previews", False), ALICE)  # a member presses
    assert toast["text"] == ADMINS_ONLY
    assert not bot.services.chat_settings.get(group.id).previews
    toast = await _press(bot, shown, _button("previews", False), BOB)
    assert toast["text"] == f"{LABELS['previews']}: on"
    assert bot.services.chat_settings.get(group.id).previews
    await bot.api.wait_for_message(group.id, lambda m: _button("previews", True)
                                   in m.button_texts(), position=-1, what="the edit")
    toast = await _press(bot, shown, _button("previews", True), ADMIN)  # a bot admin
    assert toast["text"] == f"{LABELS['previews']}: off"


async def test_full_article_buttons_off_in_a_group(start_bot: BotStarter) -> None:
    bot = await start_bot()
    api = bot.api
    group = api.group(-100620, "Outlet rules", supergroup=True)
    api.set_member_status(group.id, BOB.id, "creator")
    [before] = await bot.ask(group, ALICE, f"/ask {QUESTION}")
    assert "Full article 1" in before.button_texts()
    [shown] = await bot.ask(group, BOB, "/settings")
    query = api.press(group.id, shown.message_id, _button("full_article", True), BOB)
    await api.wait_for(lambda: api.callback_answer(query), what="the toast")
    [after] = await bot.ask(group, ALICE, f"/ask {QUESTION}")
    assert after.button_texts() == ["More results"]
    query = api.press(group.id, before.message_id, "Full article 1", ALICE)  # an old button
    answer = await api.wait_for(lambda: api.callback_answer(query), what="the toast")
    assert answer["text"] == FULL_ARTICLE_OFF
    await asyncio.sleep(0.3)
    assert len(api.sent(group.id)) == 3  # no article was posted


async def test_alerts_follow_the_settings_and_skip_excluded_words(
    start_alert_bot: AlertBotStarter, feed_server: FeedServer
) -> None:
    feed_server.set_feed(FEED, "The Wire", [])
    bot = await start_alert_bot(feeds=[feed_server.url(FEED)], alert_digest_after=2)
    api = bot.api
    forum = api.group(-100630, "Markets", forum=True)
    api.set_member_status(forum.id, BOB.id, "administrator")
    topic = api.create_topic(forum, BOB, "Energy")
    api.send(forum, BOB, "/subscribe oil prices -OPEC", thread_id=topic)
    [subscribed] = await api.wait_for_sent(forum.id)
    assert subscribed.thread_id == topic
    assert "Articles containing “OPEC” never match." in subscribed.text
    listing = await bot.say(forum, ALICE, "/subscriptions")
    assert listing.text.endswith("1. oil prices -OPEC — excluding OPEC")

    shown = await bot.say(forum, BOB, "/settings")
    for name, on in (("digest", True), ("silent", False), ("previews", False)):
        await _press(bot, shown, _button(name, on), BOB)
    settings = bot.services.chat_settings.get(forum.id)
    assert (settings.digest, settings.silent, settings.previews) == (False, True, True)

    before = len(api.sent(forum.id))
    stories = oil_entries()
    assert "OPEC" in stories[0].title + stories[0].body
    feed_server.set_feed(FEED, "The Wire", stories)
    alerts = await api.wait_for_sent(forum.id, count=4, after=before, timeout=20)
    await asyncio.sleep(1.0)  # no fifth (the OPEC story) and no digest
    alerts = api.sent(forum.id)[before:]
    assert len(alerts) == 4
    assert all(a.text.startswith("🔔 oil prices -OPEC\n") for a in alerts)
    assert {a.thread_id for a in alerts} == {topic}
    assert stories[0].title not in " ".join(a.text for a in alerts)
    sends = [c for c in api.calls("sendMessage")
             if c.params["chat_id"] == forum.id and c.params["text"].startswith("🔔")]
    assert len(sends) == 4
    for call in sends:
        assert call.params["disable_notification"] is True
        assert call.params["message_thread_id"] == topic
        assert "link_preview_options" not in call.params  # previews on: Telegram's default


async def test_alerts_go_to_the_chat_itself_with_forum_topics_off(
    start_alert_bot: AlertBotStarter, feed_server: FeedServer
) -> None:
    feed_server.set_feed(FEED, "The Wire", [])
    bot = await start_alert_bot(feeds=[feed_server.url(FEED)])
    api = bot.api
    forum = api.group(-100640, "Markets", forum=True)
    api.set_member_status(forum.id, BOB.id, "administrator")
    topic = api.create_topic(forum, BOB, "Energy")
    api.send(forum, BOB, "/subscribe oil prices", thread_id=topic)
    await api.wait_for_sent(forum.id)
    shown = await bot.say(forum, BOB, "/settings")
    await _press(bot, shown, _button("forum_topic", True), BOB)
    before = len(api.sent(forum.id))
    feed_server.set_feed(FEED, "The Wire", oil_entries()[:1])
    [alert] = await api.wait_for_sent(forum.id, after=before, timeout=20)
    assert alert.thread_id is None and alert.text.startswith("🔔 oil prices")
    [call] = [c for c in api.calls("sendMessage") if c.params["text"].startswith("🔔")]
    assert call.params.get("disable_notification") in (None, False)
    assert call.params["link_preview_options"] == {"is_disabled": True}

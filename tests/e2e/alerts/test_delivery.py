"""Alert delivery through the real bot: what alerts and what does not, bursts as a digest,
429/500 retried, 403 disables the chat, and a restart between enqueue and send delivers
exactly once."""

from __future__ import annotations

import asyncio
import datetime as dt

from tests.e2e.alerts.conftest import AlertBot, AlertBotStarter
from tests.e2e.alerts.feed_server import FeedServer
from tests.e2e.alerts.stories import (
    SEED_RETOLD,
    entry,
    now_utc,
    oil_entries,
    seed_entry,
    wheat_entry,
)
from tests.e2e.conftest import ADMIN, ALICE, BOB
from tests.e2e.lifecycle import halt

FEED = "/wire/rss"
YESTERDAYS_STORY = (
    "KARACHI - The commerce ministry said on Tuesday it would invite PayPal and Alibaba to "
    "start e-commerce payment services in Pakistan, as online shopping grew by 40 percent "
    "last year and banks struggled to handle card payments for small online sellers.")


async def _subscribed_bot(start: AlertBotStarter, feeds: FeedServer, topic: str,
                          **settings: object) -> AlertBot:
    feeds.set_feed(FEED, "The Wire", [])
    bot = await start(feeds=[feeds.url(FEED)], **settings)
    chat = bot.api.private_chat(ALICE)
    reply = await bot.say(chat, ALICE, f"/subscribe {topic}")
    assert reply.text.startswith("Subscribed")
    return bot


async def _matched(bot: AlertBot, count: int) -> None:
    """Wait until ``count`` fresh articles were matched, then two more outbox ticks."""
    await bot.api.wait_for(
        lambda: bot.services.db.query("SELECT count(*) FROM processed")[0][0] >= count,
        what=f"{count} matched articles")
    await asyncio.sleep(0.8)


async def test_only_fresh_matching_news_alerts(
    start_alert_bot: AlertBotStarter, feed_server: FeedServer
) -> None:
    bot = await _subscribed_bot(start_alert_bot, feed_server, "e-commerce")
    yesterday = now_utc() - dt.timedelta(days=1)
    # Both Alibaba stories would match "e-commerce" (scores 0.47 and 0.48), but one is a
    # backfill from 2017 and the other was published the day before the subscription.
    feed_server.set_feed(FEED, "The Wire", [
        wheat_entry(),  # fresh, about something else
        entry("old", "Alibaba eyes e-commerce", SEED_RETOLD,
              published=dt.datetime(2017, 3, 4, 9)),
        entry("paypal", "Pakistan invites PayPal, Alibaba to boost e-commerce",
              YESTERDAYS_STORY, published=yesterday),
    ])
    await bot.api.wait_for(lambda: bot.services.poller.statuses()[0].articles == 3)
    await _matched(bot, 2)  # the 2017 story is not even examined: it is not fresh
    assert len(bot.api.sent(ALICE.id)) == 1  # the confirmation only

    feed_server.set_feed(FEED, "The Wire", [seed_entry()])
    [alert] = await bot.api.wait_for_sent(ALICE.id, after=1)
    assert "Alibaba delegation calls on Ishaq Dar" in alert.text
    await _matched(bot, 3)
    assert len(bot.api.sent(ALICE.id)) == 2
    assert bot.services.outbox.counts() == {"sent": 1}


async def test_a_burst_becomes_one_digest(
    start_alert_bot: AlertBotStarter, feed_server: FeedServer
) -> None:
    bot = await _subscribed_bot(start_alert_bot, feed_server, "oil prices",
                                alert_digest_after=3)
    stories = oil_entries()
    feed_server.set_feed(FEED, "The Wire", stories)
    [digest] = await bot.api.wait_for_sent(ALICE.id, after=1)
    assert digest.text.startswith("🔔 5 new stories on “oil prices”\n\n1. ")
    for story in stories:
        assert story.title in digest.text
    links = [e["url"] for e in digest.entities if e["type"] == "text_link"]
    assert sorted(links) == sorted(feed_server.url(s.path) for s in stories)
    await _matched(bot, 5)
    assert len(bot.api.sent(ALICE.id)) == 2
    assert bot.services.outbox.counts() == {"sent": 5}


async def test_flood_wait_and_server_errors_are_retried_and_delivered_once(
    start_alert_bot: AlertBotStarter, feed_server: FeedServer
) -> None:
    bot = await _subscribed_bot(start_alert_bot, feed_server, "e-commerce")
    api = bot.api
    api.fail_next("sendMessage", 1, code=500)
    api.fail_next("sendMessage", 1, code=429, retry_after=1)
    feed_server.set_feed(FEED, "The Wire", [seed_entry()])
    [alert] = await api.wait_for_sent(ALICE.id, after=1, timeout=15)
    assert "Alibaba" in alert.text
    sends = [c for c in api.calls("sendMessage") if c.params["chat_id"] == ALICE.id][1:]
    assert [c.status for c in sends] == [500, 429, 200]
    assert sends[2].at - sends[1].at >= 1.0  # retry_after honoured
    assert all(c.params["text"] == sends[0].params["text"] for c in sends)
    await asyncio.sleep(0.8)
    assert len(api.sent(ALICE.id)) == 2


async def test_forbidden_pauses_the_chat_and_tells_the_admins(
    start_alert_bot: AlertBotStarter, feed_server: FeedServer
) -> None:
    feed_server.set_feed(FEED, "The Wire", [])
    bot = await start_alert_bot(feeds=[feed_server.url(FEED)])
    api = bot.api
    group = api.group(-100400, "Ex-members")
    api.set_member_status(group.id, BOB.id, "administrator")
    await bot.say(group, BOB, "/subscribe e-commerce")
    admin_chat = api.private_chat(ADMIN)
    api.block(group.id)  # the bot is removed from the group

    feed_server.set_feed(FEED, "The Wire", [seed_entry()])
    [notice] = await api.wait_for_sent(admin_chat.id)
    assert notice.text.startswith(f"⚠️ Alerts to chat {group.id} stopped")
    assert "1 subscription(s) are paused" in notice.text
    [subscription] = bot.services.subscriptions.for_chat(group.id)
    assert not subscription.active
    assert bot.services.outbox.counts() == {"dropped": 1}
    attempts = [c for c in api.calls("sendMessage") if c.params["chat_id"] == group.id]
    await asyncio.sleep(0.8)
    assert [c for c in api.calls("sendMessage") if c.params["chat_id"] == group.id] == attempts


async def test_restart_between_enqueue_and_send_delivers_exactly_once(
    start_alert_bot: AlertBotStarter, feed_server: FeedServer
) -> None:
    first = await _subscribed_bot(start_alert_bot, feed_server, "e-commerce")
    api = first.api
    api.fail_next("sendMessage", 1000, code=500)  # Telegram is down: the alert stays queued
    feed_server.set_feed(FEED, "The Wire", [seed_entry()])
    await api.wait_for(
        lambda: first.services.db.query(
            "SELECT attempts FROM outbox WHERE status = 'pending'") == [(2,)],
        what="two failed attempts")
    await halt(first.application)  # the process goes away with the alert enqueued, unsent
    api.clear_failures()
    assert api.sent(ALICE.id)[1:] == []

    # A new process over the same data directory.
    second = await start_alert_bot(feeds=[feed_server.url(FEED)])
    [alert] = await api.wait_for_sent(ALICE.id, after=1)
    assert "Alibaba delegation calls on Ishaq Dar" in alert.text
    await asyncio.sleep(1.0)  # more ticks of the outbox and of the feed (now a 304)
    assert len(api.sent(ALICE.id)) == 2
    assert second.services.outbox.counts() == {"sent": 1}

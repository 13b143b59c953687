"""The issue's "done when", tried as a new user would: a channel subscribed to "e-commerce"
gets one alert — quoted sentence and link — within one feed interval after an article like
the seed article appears in a configured feed, and none for the same story from a second
outlet."""

from __future__ import annotations

import asyncio
import datetime as dt
import time

from bot.alerts.jobs import AlertTimings
from tests.e2e.alerts.conftest import AlertBotStarter
from tests.e2e.alerts.feed_server import FeedServer
from tests.e2e.alerts.stories import SEED, retold_entry, seed_entry, wheat_entry
from tests.e2e.fakeapi import SentMessage

INTERVAL = 2.0  # seconds between feed polls
PROCESSING = 3.0  # fetch, embed, match, quote and send, on a slow CI machine


def _entities(message: SentMessage, kind: str) -> list[str]:
    encoded = message.text.encode("utf-16-le")
    return [encoded[2 * e["offset"]: 2 * (e["offset"] + e["length"])].decode("utf-16-le")
            for e in message.entities if e["type"] == kind]


async def test_channel_gets_one_alert_for_a_story_and_none_from_a_second_outlet(
    start_alert_bot: AlertBotStarter, feed_server: FeedServer
) -> None:
    nation, daily = "/nation/rss", "/dailytimes/rss"
    feed_server.set_feed(nation, "The Nation", [wheat_entry()])
    feed_server.set_feed(daily, "Daily Times", [])
    timings = AlertTimings(feed_interval=INTERVAL, send_interval=0.5, first_run=0.1)
    bot = await start_alert_bot(feeds=[feed_server.url(nation), feed_server.url(daily)],
                                timings=timings)
    api = bot.api
    channel = api.channel(-1001500100, "Business Wire", username="bizwire")

    # The channel's admins post the command in the channel.
    reply = await bot.say(channel, None, "/subscribe e-commerce")
    assert reply.text.startswith("Subscribed this chat to “e-commerce”")
    poller = bot.services.poller
    assert poller is not None
    await api.wait_for(lambda: all(f.last_ok for f in poller.statuses()), what="first polls")

    # An article like the seed article appears in the first feed.
    seed = seed_entry()
    feed_server.set_feed(nation, "The Nation", [seed, wheat_entry()])
    appeared = time.monotonic()
    [alert] = await api.wait_for_sent(channel.id, after=1, timeout=INTERVAL + PROCESSING + 5)
    assert time.monotonic() - appeared <= INTERVAL + PROCESSING

    assert alert.parse_mode == "HTML"
    assert alert.text.startswith("🔔 e-commerce\nAlibaba delegation calls on Ishaq Dar\n")
    assert _entities(alert, "bold") == ["e-commerce"]
    [quote] = _entities(alert, "blockquote")
    assert quote in " ".join(SEED.split())  # one verbatim sentence of the article
    assert "e-commerce" in quote
    [link] = [e["url"] for e in alert.entities if e["type"] == "text_link"]
    assert link == feed_server.url(seed.path)
    today = dt.datetime.now(dt.UTC).date()
    assert alert.text.endswith(f"The Nation · {today.day} {today:%b} {today.year}")

    # The same story from a second outlet: ingested and matched, but no second alert.
    feed_server.set_feed(daily, "Daily Times", [retold_entry()])
    await api.wait_for(lambda: poller.statuses()[1].articles == 1, what="the retold story")
    await api.wait_for(
        lambda: bot.services.db.query("SELECT count(*) FROM processed")[0][0] == 3,
        what="the retold story to be matched")
    await asyncio.sleep(1.5)  # three outbox ticks
    assert len(api.sent(channel.id)) == 2  # the confirmation and the one alert
    assert bot.services.outbox.counts() == {"sent": 1}

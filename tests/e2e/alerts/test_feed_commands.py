"""``/feeds``, ``/addfeed`` and ``/rmfeed`` through the real bot (issue 17): bot admins
only; a feed is fetched and checked before it is added, polled at once, listed with its
state, kept across a restart, and no longer polled once removed (its articles stay)."""

from __future__ import annotations

import asyncio

from bot.handlers.feeds import ADDFEED_USAGE, NO_FEEDS, RMFEED_USAGE
from tests.e2e.alerts.conftest import AlertBot, AlertBotStarter
from tests.e2e.alerts.feed_server import FeedServer
from tests.e2e.alerts.stories import oil_entries, seed_entry, wheat_entry
from tests.e2e.conftest import ADMIN, ALICE, BOB
from tests.e2e.lifecycle import halt


def _articles(bot: AlertBot) -> int:
    return bot.services.poller.index.stats().articles


async def test_only_bot_admins_manage_feeds(
    start_alert_bot: AlertBotStarter, feed_server: FeedServer
) -> None:
    feed_server.set_feed("/rss", "The Wire", [wheat_entry()])
    bot = await start_alert_bot()
    api = bot.api
    alice = api.private_chat(ALICE)
    group = api.group(-100500, "Readers", supergroup=True)
    api.set_member_status(group.id, BOB.id, "creator")  # a group owner is no bot admin
    for chat, user in ((alice, ALICE), (group, BOB)):
        for command in ("feeds", "addfeed", "rmfeed"):
            reply = await bot.say(chat, user, f"/{command} {feed_server.url('/rss')}")
            assert reply.text == f"Sorry, /{command} is only for this bot's admins."
    assert bot.services.poller.store.listing() == []
    assert feed_server.requests("/rss") == []  # nothing was fetched for them
    admin = api.private_chat(ADMIN)
    assert (await bot.say(admin, ADMIN, "/feeds")).text == NO_FEEDS
    assert (await bot.say(admin, ADMIN, "/addfeed")).text == ADDFEED_USAGE
    assert (await bot.say(admin, ADMIN, "/rmfeed")).text == RMFEED_USAGE


async def test_add_list_restart_and_remove_a_feed(
    start_alert_bot: AlertBotStarter, feed_server: FeedServer
) -> None:
    feed_server.set_feed("/env", "Env Wire", [wheat_entry()])
    feed_server.set_feed("/added", "Added News", [seed_entry()])
    env, added = feed_server.url("/env"), feed_server.url("/added")
    bot = await start_alert_bot(feeds=[env])
    api = bot.api
    admin = api.private_chat(ADMIN)

    reply = await bot.say(admin, ADMIN, f"/addfeed {added}")
    assert reply.text == ("Added feed 2: “Added News” (1 entry now). It is polled from now "
                          "on; /feeds shows its state.")
    poller = bot.services.poller
    await api.wait_for(lambda: [s.articles for s in poller.statuses()] == [1, 1],
                       what="both feeds' first poll")
    assert _articles(bot) == 2

    listing = await bot.say(admin, ADMIN, "/feeds")
    lines = listing.text.splitlines()
    assert lines[0] == "Feeds (2):"
    assert lines[1] == "1. 127.0.0.1 (NEWSBOT_FEEDS)" and lines[2] == f"   {env}"
    assert lines[4] == "2. 127.0.0.1 — Added News" and lines[5] == f"   {added}"
    assert lines[3].startswith("   ✅ last poll ") and lines[3].endswith(" ago · 1 articles")
    assert lines[6].startswith("   ✅ last poll ") and lines[6].endswith(" ago · 1 articles")
    assert lines[-1] == ("(NEWSBOT_FEEDS) feeds are set in the bot's configuration; "
                         "/rmfeed removes only the others.")

    again = await bot.say(admin, ADMIN, f"/addfeed {added}")
    assert again.text == "That is already feed 2; /feeds lists them."
    refused = await bot.say(admin, ADMIN, "/rmfeed 1")
    assert refused.text == "Feed 1 is set in NEWSBOT_FEEDS: remove it there and restart."
    assert (await bot.say(admin, ADMIN, "/rmfeed 7")).text == \
        "There is no feed number 7 (there are 2)."

    await halt(bot.application)  # the added feed is in state.sqlite, not in memory
    bot = await start_alert_bot(feeds=[env])
    poller = bot.services.poller
    assert poller.urls == [env, added]
    listing = await bot.say(admin, ADMIN, "/feeds")
    assert "2. 127.0.0.1 — Added News" in listing.text

    removed = await bot.say(admin, ADMIN, "/rmfeed 2")
    assert removed.text == (f"Removed feed 2 ({added}). It is no longer polled; the articles "
                            "it brought stay.")
    # A poll already running when /rmfeed arrived may still fetch it; the one after may not.
    env_polls = len(feed_server.requests("/env"))
    await api.wait_for(lambda: len(feed_server.requests("/env")) >= env_polls + 2,
                       timeout=15, what="two more polls of the configured feed")
    polls = len(feed_server.requests("/added"))
    feed_server.set_feed("/added", "Added News", [seed_entry(), *oil_entries()[:2]])
    await api.wait_for(lambda: len(feed_server.requests("/env")) >= env_polls + 5,
                       timeout=15, what="three more polls of the configured feed")
    assert len(feed_server.requests("/added")) == polls  # never fetched again
    assert poller.urls == [env]
    assert _articles(bot) == 2  # what it brought stays
    listing = await bot.say(admin, ADMIN, "/feeds")
    assert "Added News" not in listing.text and listing.text.startswith("Feeds (1):")


async def test_addfeed_refuses_what_is_not_a_feed(
    start_alert_bot: AlertBotStarter, feed_server: FeedServer
) -> None:
    feed_server.set_raw("/page", b"<!DOCTYPE html><html><body><p>Hi</p></body></html>",
                        "text/html; charset=utf-8")
    feed_server.fail("/down", 503)
    bot = await start_alert_bot()
    admin = bot.api.private_chat(ADMIN)
    page = await bot.say(admin, ADMIN, f"/addfeed {feed_server.url('/page')}")
    assert page.text == (f"Not added: {feed_server.url('/page')} is not an RSS or Atom feed "
                         "(the server sent text/html)")
    down = await bot.say(admin, ADMIN, f"/addfeed {feed_server.url('/down')}")
    assert down.text == (f"Not added: could not fetch it: HTTP 503 Service Unavailable from "
                         f"{feed_server.url('/down')}")
    junk = await bot.say(admin, ADMIN, "/addfeed ftp://example.org/feed")
    assert junk.text == "Not added: not an http(s) URL: ftp://example.org/feed"
    assert bot.services.poller.store.listing() == []


async def test_addfeed_refused_by_the_ssrf_guard_gives_one_clear_line(
    start_alert_bot: AlertBotStarter, feed_server: FeedServer
) -> None:
    """Without NEWSBOT_FETCH_ALLOW, a feed on a loopback address is never fetched."""
    feed_server.set_feed("/rss", "Internal", [wheat_entry()])
    bot = await start_alert_bot(fetch_allow=[])
    admin = bot.api.private_chat(ADMIN)
    url = feed_server.url("/rss")
    reply = await bot.say(admin, ADMIN, f"/addfeed {url}")
    assert reply.text == (f"Not added: not fetched: {url}: refused: 127.0.0.1 is a loopback "
                          "address; list it in NEWSBOT_FETCH_ALLOW to fetch from it")
    await asyncio.sleep(0.3)
    assert feed_server.requests("/rss") == []
    assert bot.services.poller.store.listing() == []

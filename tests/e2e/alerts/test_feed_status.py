"""A failing feed shows its last error in the admins' /stats and only its host and state in
the public /sources (issue 14, item 7), and recovers."""

from __future__ import annotations

from tests.e2e.alerts.conftest import AlertBotStarter
from tests.e2e.alerts.feed_server import FeedServer
from tests.e2e.alerts.stories import oil_entries, wheat_entry
from tests.e2e.conftest import ADMIN


async def test_failing_feed_in_stats_and_by_host_in_sources_then_recovered(
    start_alert_bot: AlertBotStarter, feed_server: FeedServer
) -> None:
    feed_server.fail("/bad", 500)
    feed_server.set_feed("/good", "Good News", [wheat_entry()])
    bad, good = feed_server.url("/bad"), feed_server.url("/good")
    bot = await start_alert_bot(feeds=[bad, good])
    api = bot.api
    poller = bot.services.poller
    assert poller is not None
    await api.wait_for(lambda: all(f.last_ok or f.failing for f in poller.statuses()))
    admin = api.private_chat(ADMIN)

    stats = await bot.say(admin, ADMIN, "/stats")
    assert "Feeds: 2 (1 failing)" in stats.text
    error = f"HTTP 500 Internal Server Error from {bad}"
    assert f"⚠️ {bad} — failing (" in stats.text and error in stats.text
    assert "Subscriptions: 0 in 0 chats" in stats.text

    api.send(admin, ADMIN, "/sources")
    [outlets, feeds] = await api.wait_for_sent(admin.id, count=2, after=1)
    assert "Good News — 1 article" in outlets.text
    assert feeds.text == ("Feeds (2)\n⚠️ 127.0.0.1 — not reachable at the moment\n"
                          "✅ 127.0.0.1 — ok, 1 articles")

    feed_server.heal("/bad")
    feed_server.set_feed("/bad", "Bad News", oil_entries()[:1])
    await api.wait_for(lambda: not poller.statuses()[0].failing, timeout=15,
                       what="the failing feed to recover")
    before = len(api.sent(admin.id))
    api.send(admin, ADMIN, "/sources")
    [outlets, feeds] = await api.wait_for_sent(admin.id, count=2, after=before)
    assert "⚠️" not in feeds.text and feeds.text.count("✅ 127.0.0.1 — ok") == 2
    assert "Bad News — 1 article" in outlets.text


async def test_sources_never_shows_credentials_keys_paths_or_errors(
    start_alert_bot: AlertBotStarter, feed_server: FeedServer
) -> None:
    """Everyone may ask /sources: a feed URL with ``user:password@``, an ``?apikey=`` and an
    internal host in its error shows as its host only (item 7)."""
    feed_server.fail("/private/feed", 500)
    port = feed_server.url("/").split(":")[2].rstrip("/")
    secret = f"http://reader:hunter2@127.0.0.1:{port}/private/feed?apikey=SECRETKEY"
    bot = await start_alert_bot(feeds=[secret])
    api = bot.api
    poller = bot.services.poller
    assert poller is not None
    await api.wait_for(lambda: poller.statuses()[0].failing, what="the feed to fail")
    from tests.e2e.conftest import ALICE

    alice = api.private_chat(ALICE)
    api.send(alice, ALICE, "/sources")
    [_outlets, feeds] = await api.wait_for_sent(alice.id, count=2)
    assert feeds.text == "Feeds (1)\n⚠️ 127.0.0.1 — not reachable at the moment"
    for leak in ("hunter2", "reader", "SECRETKEY", "apikey", "/private", "HTTP 500", port):
        assert leak not in feeds.text
    admin = api.private_chat(ADMIN)
    stats = await bot.say(admin, ADMIN, "/stats")  # the admins still see the details
    assert "HTTP 500" in stats.text

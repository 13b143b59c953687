"""A failing feed shows its last error in /stats and /sources, and recovers."""

from __future__ import annotations

from tests.e2e.alerts.conftest import AlertBotStarter
from tests.e2e.alerts.feed_server import FeedServer
from tests.e2e.alerts.stories import oil_entries, wheat_entry
from tests.e2e.conftest import ADMIN


async def test_failing_feed_in_stats_and_sources_then_recovered(
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
    assert feeds.text.startswith("Feeds (2)\n⚠️ ") and error in feeds.text
    assert f"✅ {good} — ok" in feeds.text

    feed_server.heal("/bad")
    feed_server.set_feed("/bad", "Bad News", oil_entries()[:1])
    await api.wait_for(lambda: not poller.statuses()[0].failing, timeout=15,
                       what="the failing feed to recover")
    before = len(api.sent(admin.id))
    api.send(admin, ADMIN, "/sources")
    [outlets, feeds] = await api.wait_for_sent(admin.id, count=2, after=before)
    assert "⚠️" not in feeds.text and f"✅ {bad} — ok" in feeds.text
    assert "Bad News — 1 article" in outlets.text

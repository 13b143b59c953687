"""Alert messages: escaped HTML that Telegram's parser accepts, within 4096 UTF-16 units."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.alerts.format import feed_lines, render_alert, render_digest
from bot.format import MESSAGE_LIMIT, utf16_len
from index.alerts.feeds import FeedStatus
from index.alerts.outbox import Alert
from tests.e2e.telegram_html import parse_html


def _alert(n: int = 1, **changes: object) -> Alert:
    values: dict[str, object] = dict(
        id=n, chat_id=-1, story_id=n, topic="e-commerce", headline=f"Story {n}",
        quote="Dar welcomed Alibaba’s interest.", source="The Nation",
        url=f"https://example.com/{n}", published="2017-03-04", score=0.5, created_at=0.0,
        attempts=0)
    values.update(changes)
    return Alert(**values)  # type: ignore[arg-type]


def test_alert_shows_topic_linked_headline_quote_outlet_and_date() -> None:
    html = render_alert(_alert(topic="AT&T <bids>", headline="Q&A: <b>rates</b>",
                               quote='He said "x < y" & more.', url="https://e.com/?a=1&b=2"))
    assert html == (
        "🔔 <b>AT&amp;T &lt;bids&gt;</b>\n"
        '<a href="https://e.com/?a=1&amp;b=2">Q&amp;A: &lt;b&gt;rates&lt;/b&gt;</a>\n'
        '<blockquote>He said "x &lt; y" &amp; more.</blockquote>\n'
        "The Nation · 4 Mar 2017")
    text, _ = parse_html(html)
    assert text.endswith("The Nation · 4 Mar 2017")


def test_alert_without_link_or_date_still_renders() -> None:
    html = render_alert(_alert(url=None, published=None, source=" "))
    assert "<a " not in html and html.endswith("unknown outlet")


@settings(max_examples=40, deadline=None)
@given(st.text(min_size=1, max_size=3000), st.text(max_size=400), st.text(max_size=300))
def test_any_alert_fits_and_parses(quote: str, headline: str, topic: str) -> None:
    html = render_alert(_alert(quote=quote * 3, headline=headline, topic=topic or "x",
                               url="https://e.com/" + "😀" * 300))
    assert utf16_len(html) <= MESSAGE_LIMIT
    parse_html(html)  # raises on malformed HTML


def test_digest_lists_every_alert_and_splits_between_entries() -> None:
    alerts = [_alert(n, quote="word " * 200, headline="😀" * 150) for n in range(1, 9)]
    messages = render_digest(alerts)
    assert len(messages) > 1
    assert [i for _, ids in messages for i in ids] == list(range(1, 9))
    assert messages[0][0].startswith("🔔 <b>8 new stories on “e-commerce”</b>")
    for html, _ in messages:
        assert utf16_len(html) <= MESSAGE_LIMIT
        parse_html(html)
    mixed = render_digest([_alert(1), _alert(2, topic="oil")])
    assert mixed[0][0].startswith("🔔 <b>2 new stories on your topics</b>")
    assert "<i>oil</i>" in mixed[0][0]


def test_feed_lines_show_health_and_last_error() -> None:
    now = 10_000.0
    lines = feed_lines([
        FeedStatus("https://a/rss", last_ok=now - 30, articles=4),
        FeedStatus("https://b/rss", last_error="HTTP 500 from https://b/rss", error_count=3,
                   next_poll_at=now + 1800),
        FeedStatus("https://c/rss"),
    ], now)
    assert lines == [
        "✅ https://a/rss — ok, polled 30 s ago, 4 articles",
        "⚠️ https://b/rss — failing (3× in a row): HTTP 500 from https://b/rss; "
        "next try in 30 min",
        "⏳ https://c/rss — not polled yet",
    ]

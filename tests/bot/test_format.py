"""Rendering answers for Telegram: escaping, bold best quote, links, UTF-16-safe splitting."""

from __future__ import annotations

import datetime as dt

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.format import (
    MESSAGE_LIMIT,
    NOTHING_FOUND,
    format_date,
    render_answer,
    render_article,
    render_citation,
    render_latest,
    render_sources,
    truncate,
    utf16_len,
)
from index.models import AlsoReported, Answer, Citation, Quote, SourceStats, StoredArticle
from tests.e2e.telegram_html import parse_html

HOSTILE = 'AT&T <b>bids</b> & </a> "quotes" <script>x</script>'


def article(
    body: str,
    *,
    title: str = "A headline",
    url: str | None = "https://news.example.com/a",
    source: str = "Dawn",
    published: str | None = "2017-03-04",
    rowid: int = 1,
) -> StoredArticle:
    return StoredArticle(rowid, f"a{rowid}", title, published, source, url, None, body)


def citation(
    body: str, spans: list[tuple[int, int]] | None = None, best: int = 0, **kwargs: object
) -> Citation:
    stored = article(body, **kwargs)  # type: ignore[arg-type]
    spans = spans if spans is not None else [(0, len(body))]
    quotes = tuple(Quote(body[s:e], s, e, best=(i == best)) for i, (s, e) in enumerate(spans))
    return Citation(stored, quotes, 1.0)


def answer(*citations: Citation, question: str = "What happened?") -> Answer:
    return Answer(question, tuple(citations), (), True)


def visible(html_text: str) -> str:
    """What Telegram shows; raises if the HTML would be rejected."""
    return parse_html(html_text)[0]


def test_date_format_is_locale_free() -> None:
    assert format_date(dt.date(2017, 3, 4)) == "4 Mar 2017"
    assert format_date(dt.date(2020, 12, 25)) == "25 Dec 2020"


def test_citation_has_bold_best_quote_link_outlet_and_date() -> None:
    body = "First sentence here. The best sentence is this one. A third follows."
    cite = citation(body, [(0, 20), (21, 51)], best=1)
    html_text = render_citation(1, cite)
    assert html_text == (
        "1. First sentence here. <b>The best sentence is this one.</b>\n"
        '   — <a href="https://news.example.com/a">A headline</a> · Dawn · 4 Mar 2017'
    )
    _, entities = parse_html(html_text)
    assert [e.type for e in entities] == ["bold", "text_link"]


def test_non_adjacent_quotes_are_joined_with_an_ellipsis() -> None:
    body = "One. Two. Three."
    html_text = render_citation(2, citation(body, [(0, 4), (10, 16)], best=0))
    assert html_text.startswith("2. <b>One.</b> … Three.\n")


def test_everything_from_articles_and_users_is_escaped() -> None:
    body = f"{HOSTILE} said the filing."
    cite = citation(body, title=HOSTILE, source="Wire & <Cable>", url='https://x.test/?q="a"&b=<c>')
    page = render_answer(answer(cite, question=f"Did {HOSTILE}?"))
    [message] = page.messages
    text, entities = parse_html(message)  # well-formed, only our tags
    assert text.startswith(f"Did {HOSTILE}?")
    assert text.count(HOSTILE) == 3  # question, quote, headline
    assert "Wire & <Cable>" in text
    [link] = [e for e in entities if e.type == "text_link"]
    assert link.url == 'https://x.test/?q="a"&b=<c>'
    assert 'href="https://x.test/?q=&quot;a&quot;&amp;b=&lt;c&gt;"' in message
    assert "<script>" not in message and "</a> &quot;" not in message


def test_no_link_tag_when_url_is_none_and_no_date_when_unknown() -> None:
    cite = citation("Body text.", url=None, published=None, title="Plain headline")
    html_text = render_citation(1, cite)
    assert "<a " not in html_text
    assert html_text.endswith("   — Plain headline · Dawn")


def test_also_lists_and_links_other_outlets() -> None:
    cite = citation("Body text.")
    also = (AlsoReported("The News", "https://thenews.test/a?x=1&y=2", "n1"),
            AlsoReported("Geo & Co", None, "g1"))
    cite = Citation(cite.article, cite.quotes, cite.score, also=also)
    assert render_citation(1, cite).endswith(
        ' · 4 Mar 2017 · also: <a href="https://thenews.test/a?x=1&amp;y=2">The News</a>, '
        "Geo &amp; Co")


def test_also_lists_at_most_three_outlets() -> None:
    cite = citation("Body text.")
    also = tuple(AlsoReported(f"Outlet {i}", f"https://o{i}.test/", f"o{i}") for i in range(5))
    footer = render_citation(1, Citation(cite.article, cite.quotes, cite.score, also=also))
    assert "Outlet 2</a>" in footer and "Outlet 3" not in footer


def test_nothing_found_renders_notes_plainly() -> None:
    notes = ("I found nothing about “<zeppelins> & co” in the news I have.", "Closest: A; B")
    page = render_answer(Answer("<zeppelins> & co", (), notes, found=False))
    assert page.messages == (
        "I found nothing about “&lt;zeppelins&gt; &amp; co” in the news I have.\nClosest: A; B",
    )
    assert not page.has_more and page.total == 0
    assert render_answer(Answer("q", (), (), found=False)).messages == (NOTHING_FOUND,)


def test_pages_number_citations_and_report_more() -> None:
    citations = [citation(f"Story number {i}.", rowid=i) for i in range(1, 8)]
    first = render_answer(answer(*citations), count=3)
    assert (first.start, first.end, first.total, first.has_more) == (0, 3, 7, True)
    second = render_answer(answer(*citations), start=3, count=3)
    [message] = second.messages
    assert message.startswith("Results 4–6 of 7 for: What happened?\n\n4. ")
    assert "\n\n6. " in message and "7. " not in message
    last = render_answer(answer(*citations), start=6, count=3)
    assert (last.end, last.has_more) == (7, False)


def test_split_counts_utf16_units_not_characters() -> None:
    # Each emoji is 1 character but 2 UTF-16 units: 10 citations of ~700 characters are
    # ~7,000 characters but ~14,000 units, so a character count would under-split.
    emoji_quote = "🌊" * 600 + " water."
    citations = [citation(emoji_quote, rowid=i) for i in range(10)]
    page = render_answer(answer(*citations), count=10)
    assert len(page.messages) >= 4
    for message in page.messages:
        assert utf16_len(message) <= MESSAGE_LIMIT
        visible(message)
    # Parts break between citations, and every citation is there exactly once.
    assert page.messages[0].split("\n\n")[1].startswith("1. ")
    assert all(m.split(". ")[0].isdigit() for m in page.messages[1:])
    joined = "\n\n".join(page.messages)
    assert [joined.count(f"\n\n{n}. ") for n in range(1, 11)] == [1] * 10


def test_single_huge_citation_is_truncated_at_a_word_boundary_without_breaking_tags() -> None:
    body = " ".join(["Karachi water & <shortage>"] * 700) + "."
    page = render_answer(answer(citation(body)))
    [message] = page.messages
    assert utf16_len(message) <= MESSAGE_LIMIT
    text, entities = parse_html(message)
    bold = [e for e in entities if e.type == "bold"]
    assert len(bold) == 1
    quote = text.split("\n\n1. ")[1].split("\n   — ")[0]
    assert quote.endswith("…") and quote.startswith("Karachi water & <shortage>")
    assert quote[:-1].rstrip().endswith(("<shortage>", "&", "water", "Karachi"))
    assert "— <a" in message  # the citation line survives


def test_truncate_prefers_sentence_then_word_boundaries() -> None:
    text = "First sentence ends here. Second sentence is much longer than the room we have."
    assert truncate(text, 40) == "First sentence ends here.…"
    assert truncate("alpha beta gamma delta", 14) == "alpha beta…"
    assert truncate("short", 10) == "short"
    assert utf16_len(truncate("&" * 50, 20).replace("&", "&amp;")) <= 20


def test_article_parts_split_at_paragraphs_and_fit() -> None:
    paragraphs = [f"Paragraph {i}: " + "word " * 150 for i in range(12)]
    stored = article("\n\n".join(paragraphs), title="Long <story> & more")
    parts = render_article(stored)
    assert len(parts) >= 2
    assert parts[0].startswith("Long <story> & more\nDawn · 4 Mar 2017\nhttps://news.example.com/a")
    assert all(utf16_len(p) <= MESSAGE_LIMIT for p in parts)
    for part in parts[1:]:
        assert part.startswith("Paragraph ")  # a part never starts mid-paragraph
    assert sum(p.count("Paragraph ") for p in parts) == 12


def test_article_with_one_giant_paragraph_is_split_between_words() -> None:
    stored = article("😀 " * 5000)
    parts = render_article(stored)
    assert len(parts) >= 3
    assert all(0 < utf16_len(p) <= MESSAGE_LIMIT for p in parts)
    assert sum(p.count("😀") for p in parts) == 5000


def test_latest_and_sources_escape_and_fit() -> None:
    items = [article("b", title=HOSTILE, source="A & B", rowid=i) for i in range(3)]
    [latest] = render_latest(items, "<b>topic</b> & more")
    text = visible(latest)
    assert text.startswith("Latest about “<b>topic</b> & more”\n1. " + HOSTILE)
    many = [
        SourceStats(f"Outlet <{i}> & Co", i + 1, "2017-03-01", "2017-03-09") for i in range(400)
    ]
    messages = render_sources(many)
    assert len(messages) >= 2
    for message in messages:
        assert utf16_len(message) <= MESSAGE_LIMIT
        visible(message)
    assert "• Outlet <0> & Co — 1 article, 1 Mar 2017 – 9 Mar 2017" in visible(messages[0])


# -- property: whatever the articles and the question, every message is valid and fits --

_fragment = st.one_of(
    st.sampled_from(
        [
            "<",
            ">",
            "&",
            '"',
            "'",
            " ",
            "\n",
            ". ",
            "! ",
            "…",
            "</a>",
            "<b>",
            "&amp;",
            "😀",
            "🌊",
            "\u200d",
            "word ",
        ]
    ),
    st.text(max_size=40),
    st.text(alphabet="😀a&< .", min_size=50, max_size=300),
    # Long runs, cheap to generate, so that pages split and citations get truncated.
    st.builds(
        lambda piece, times: piece * times,
        st.sampled_from(["😀", "&", "a ", "<b> ", "Word. ", "&lt;"]),
        st.integers(100, 2500),
    ),
)
_text = st.lists(_fragment, max_size=25).map("".join)


@st.composite
def _citations(draw: st.DrawFn) -> Citation:
    body = draw(_text)
    cuts = sorted(draw(st.lists(st.integers(0, len(body)), min_size=2, max_size=6)))
    spans = [(cuts[i], cuts[i + 1]) for i in range(0, len(cuts) - 1, 2) if cuts[i] < cuts[i + 1]]
    url = draw(st.one_of(st.none(), _text.map(lambda t: "https://x.test/" + t)))
    title = draw(_text)
    source = draw(_text)
    published = draw(st.one_of(st.none(), st.dates().map(dt.date.isoformat)))
    stored = StoredArticle(1, "x", title, published, source, url, None, body)
    quotes = tuple(Quote(body[s:e], s, e, best=(i == 0)) for i, (s, e) in enumerate(spans))
    also = tuple(AlsoReported(name, link, "y") for name, link in draw(st.lists(
        st.tuples(_text, st.one_of(st.none(), _text.map(lambda t: "https://y.test/" + t))),
        max_size=2)))
    return Citation(stored, quotes, 0.5, also)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    question=_text,
    notes=st.lists(_text, max_size=4),
    found=st.booleans(),
    citations=st.lists(_citations(), max_size=6),
    count=st.integers(1, 10),
    start=st.integers(0, 6),
)
def test_every_message_is_valid_telegram_html_within_limit(
    question: str,
    notes: list[str],
    found: bool,
    citations: list[Citation],
    count: int,
    start: int,
) -> None:
    page = render_answer(
        Answer(question, tuple(citations), tuple(notes), found), start=start, count=count
    )
    assert page.messages
    for message in page.messages:
        assert utf16_len(message) <= MESSAGE_LIMIT
        text, _ = parse_html(message)  # raises on anything Telegram would reject
        assert text.strip()
    if found and citations and start < len(citations):
        shown = min(len(citations), start + count) - start
        joined = "\n\n".join(page.messages)
        assert all(f"{n}. " in joined for n in range(start + 1, start + shown + 1))


@settings(max_examples=100, deadline=None)
@given(body=_text, title=_text, url=st.one_of(st.none(), _text))
def test_article_parts_are_never_empty_or_too_long(body: str, title: str, url: str | None) -> None:
    parts = render_article(StoredArticle(1, "x", title, "2017-03-04", "Dawn", url, None, body))
    assert parts
    assert all(part.strip() and utf16_len(part) <= MESSAGE_LIMIT for part in parts)

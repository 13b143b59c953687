"""Text that used to abort an ingest or mislead a reader (issue 14, items 3 and 4): an
unpaired UTF-16 surrogate (half an emoji in scraped JSON, or ``&#55357;`` in a feed) and
the bidi controls that make a headline read backwards."""

from __future__ import annotations

import json
from pathlib import Path

from index.loaders.feed import load_feed
from index.models import Article
from index.normalize import body_hash, normalize_body, normalize_text

BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"


def test_unpaired_surrogates_become_replacement_characters() -> None:
    assert normalize_body("Half an emoji \ud83d here.") == "Half an emoji \ufffd here."
    assert normalize_text("Title \udc00 end") == "Title \ufffd end"
    # A normalized body can be hashed (UTF-8), and a paired emoji is left alone.
    assert len(body_hash("broken \ud83d")) == 64
    assert normalize_body("Fine \U0001F600 emoji.") == "Fine \U0001F600 emoji."


def test_bidi_controls_are_stripped() -> None:
    assert normalize_text(f"Markets {BIDI}rally") == "Markets rally"
    assert normalize_body("Prices\u202e rose\u202c today.") == "Prices rose today."
    assert not set(BIDI) & set(normalize_body("a" + BIDI + " b\n\nc" + BIDI))


def test_a_surrogate_in_jsonl_costs_no_article(index, tmp_path: Path) -> None:
    rows = [
        {"id": "a", "title": "Wheat crop", "published_at": "2021-04-01", "source": "Wire",
         "url": None, "body": "Farmers in Punjab harvested a record wheat crop this April."},
        {"id": "b", "title": "Broken \ud83d emoji", "published_at": "2021-04-02",
         "source": "Wire", "url": None,
         "body": "The scraped text \ud83d lost half of its emoji on the way to the archive."},
        {"id": "c", "title": "Port traffic", "published_at": "2021-04-03", "source": "Wire",
         "url": None, "body": "Karachi port handled more containers than ever in March."},
    ]
    path = tmp_path / "batch.jsonl"
    # json.dumps writes the lone surrogate as the escape "\ud83d", as scrapers do.
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    report = index.ingest([str(path)])
    assert (report.articles_new, report.failed) == (3, 0), report.problems
    titles = {a.title for a in index.latest(limit=10)}
    assert titles == {"Wheat crop", "Broken \ufffd emoji", "Port traffic"}


FEED = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>Wire</title>
<item><title>Broken &#55357; headline</title><link>http://example.com/1</link>
<description>An entry whose title holds half an emoji as a character reference.</description></item>
<item><title>Whole &#55357;&#56832; emoji</title><link>http://example.com/2</link>
<description>An entry whose emoji is written as two UTF-16 references.</description></item>
</channel></rss>"""


def test_a_surrogate_reference_in_a_feed_costs_no_entry() -> None:
    titles = [i.title for i in load_feed(FEED, "feed.xml", fallback_source="wire")
              if isinstance(i, Article)]
    assert titles == ["Broken \ufffd headline", "Whole \U0001F600 emoji"]


def test_feed_cleaning_changes_only_surrogate_references() -> None:
    from index.loaders.feed import clean_feed_bytes

    data = b"&#65;&amp;&#xD83D;x&#56832;&#55357;&#56832;"
    assert clean_feed_bytes(data) == b"&#65;&amp;&#xFFFD;x&#xFFFD;&#x1F600;"
    assert clean_feed_bytes(b"no references") == b"no references"


def test_an_article_that_cannot_be_prepared_costs_only_itself(index) -> None:
    """A caller (the feed poller hands over articles it loaded itself) passes one article
    whose body is not text: it is a failed line of the report; the others are stored."""
    good = [Article(f"g{n}", f"Good story {n}", None, "Wire", None, None,
                    f"Story {n}: the port handled {n} ships on Monday, officials said.",
                    origin=f"good {n}") for n in range(2)]
    bad = Article("b", "Bad story", None, "Wire", None, None,
                  b"bytes, not text",  # type: ignore[arg-type]
                  origin="bad record")
    report = index.ingest_articles([good[0], bad, good[1]])
    assert (report.articles_new, report.failed) == (2, 1)
    [problem] = report.problems
    assert problem.where == "bad record" and problem.reason.startswith("not indexed: ")
    assert {a.title for a in index.latest(limit=5)} == {"Good story 0", "Good story 1"}

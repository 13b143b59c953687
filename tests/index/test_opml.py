"""OPML 2.0 in and out (``index.alerts.opml``)."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET

import pytest

from index.alerts.opml import OpmlError, OpmlFeed, read_opml, write_opml

NESTED = b"""<?xml version="1.0" encoding="UTF-8"?>
<opml version="2.0">
  <head><title>My feeds</title></head>
  <body>
    <outline text="Pakistan">
      <outline type="rss" text="Dawn" title="Dawn - Business"
               xmlUrl="https://www.dawn.com/feeds/business" htmlUrl="https://www.dawn.com"/>
      <outline text="Deeper">
        <outline type="rss" text="Tribune" xmlUrl="https://tribune.com.pk/feed/business"/>
      </outline>
    </outline>
    <outline text="A folder without feeds"/>
    <outline type="rss" text="Dawn again" xmlUrl="https://www.dawn.com/feeds/business"/>
    <outline type="atom" xmlUrl="https://example.org/atom.xml"/>
  </body>
</opml>"""


def test_nested_outlines_in_document_order_each_url_once() -> None:
    assert read_opml(NESTED) == [
        OpmlFeed("https://www.dawn.com/feeds/business", "Dawn - Business"),
        OpmlFeed("https://tribune.com.pk/feed/business", "Tribune"),
        OpmlFeed("https://example.org/atom.xml", None),
    ]


def test_written_opml_reads_back_and_is_opml_2() -> None:
    feeds = [OpmlFeed("https://a.example/rss?x=1&y=2", "A & B <news>"),
             OpmlFeed("https://b.example/feed", None)]
    document = write_opml(feeds, created=dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.UTC))
    assert document.startswith(b"<?xml version='1.0' encoding='utf-8'?>")
    root = ET.fromstring(document)
    assert root.tag == "opml" and root.attrib["version"] == "2.0"
    assert root.findtext("head/dateCreated") == "Wed, 01 May 2024 12:00:00 GMT"
    outlines = root.findall("body/outline")
    assert [o.attrib["type"] for o in outlines] == ["rss", "rss"]
    assert outlines[1].attrib["text"] == "https://b.example/feed"  # text is required
    assert read_opml(document) == [feeds[0], OpmlFeed("https://b.example/feed",
                                                      "https://b.example/feed")]


@pytest.mark.parametrize(("data", "message"), [
    (b"", "not well-formed XML"),
    (b"<opml><body><outline xmlUrl='https://a.example/rss'></body></opml>",
     "not well-formed XML: mismatched tag"),
    (b"<rss version='2.0'><channel/></rss>", "the root element is <rss>, not <opml>"),
    (b"<opml version='2.0'><head/></opml>", "there is no <body>"),
    (b"<opml><body><outline text='Local' xmlUrl='file:///etc/passwd'/></body></opml>",
     "the outline “Local”: not an http(s) URL: file:///etc/passwd"),
    (b"<opml><body><outline xmlUrl=''/></body></opml>", "no feed URL given"),
])
def test_malformed_opml_is_rejected_with_the_reason(data: bytes, message: str) -> None:
    with pytest.raises(OpmlError, match=message.replace("(", "\\(").replace(")", "\\)")):
        read_opml(data)


def test_entity_expansion_bomb_is_refused() -> None:
    bomb = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY a "aaaaaaaaaa">'
            + b"".join(b'<!ENTITY %s "%s">' % (chr(98 + i).encode(),
                                               (b"&" + chr(97 + i).encode() + b";") * 10)
                       for i in range(8))
            + b']><opml><body><outline text="&i;" xmlUrl="https://a.example/"/></body></opml>')
    with pytest.raises(OpmlError, match="not well-formed XML"):
        read_opml(bomb)

"""OPML 2.0 feed lists in and out (what feed readers import and export).

Reading takes every ``<outline>`` with an ``xmlUrl``, however deeply nested in category
outlines, in document order, each URL once. The standard library's parser is used:
ElementTree never fetches external entities, and the bundled expat (2.4 and later) stops
entity-expansion bombs. A file that is not well-formed XML, whose root is not ``<opml>``,
that has no ``<body>``, or that names a feed by something other than an http(s) URL is
rejected as a whole with ``OpmlError`` naming the problem — nothing is half imported.
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from email.utils import format_datetime

from index.alerts.feedstore import FeedStoreError, check_feed_url


class OpmlError(ValueError):
    """The OPML cannot be read; the message says where and why, in one line."""


@dataclass(frozen=True, slots=True)
class OpmlFeed:
    url: str
    title: str | None = None


def read_opml(data: bytes) -> list[OpmlFeed]:
    """The feeds an OPML document lists (``OpmlError`` if it is malformed)."""
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise OpmlError(f"not well-formed XML: {exc}") from None
    if _local(root.tag) != "opml":
        raise OpmlError(f"not OPML: the root element is <{_local(root.tag)}>, not <opml>")
    body = next((child for child in root if _local(child.tag) == "body"), None)
    if body is None:
        raise OpmlError("not OPML: there is no <body>")
    feeds: dict[str, OpmlFeed] = {}
    for outline in body.iter():
        if _local(outline.tag) != "outline" or "xmlUrl" not in outline.attrib:
            continue
        raw = outline.attrib["xmlUrl"]
        try:
            url = check_feed_url(raw)
        except FeedStoreError as exc:
            raise OpmlError(f"the outline “{_name(outline)}”: {exc}") from None
        title = (outline.attrib.get("title") or outline.attrib.get("text") or "").strip()
        feeds.setdefault(url, OpmlFeed(url, title or None))
    return list(feeds.values())


def write_opml(feeds: Sequence[OpmlFeed], *, title: str = "newsbot feeds",
               created: dt.datetime | None = None) -> bytes:
    """An OPML 2.0 document listing ``feeds`` as RSS outlines (UTF-8, with a declaration)."""
    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = title
    when = created or dt.datetime.now(dt.UTC)
    ET.SubElement(head, "dateCreated").text = format_datetime(when, usegmt=True)
    body = ET.SubElement(root, "body")
    for feed in feeds:
        name = feed.title or feed.url
        ET.SubElement(body, "outline", type="rss", text=name, title=name, xmlUrl=feed.url)
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


def _local(tag: object) -> str:
    """A tag without its ``{namespace}`` (comments and processing instructions: "")."""
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _name(outline: ET.Element) -> str:
    return (outline.attrib.get("text") or outline.attrib.get("title") or "untitled")[:80]

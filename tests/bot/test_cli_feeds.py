"""``newsbot feeds list|add|remove|import|export`` in a real process over a real data
directory (issue 17): the same numbered list as the bot's ``/feeds``."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.bot.cli_process import newsbot
from tests.e2e.alerts.feed_server import FeedServer
from tests.e2e.alerts.stories import wheat_entry

ENV_FEED = "https://env.example/rss"
OPML = """<?xml version="1.0" encoding="UTF-8"?>
<opml version="2.0"><head><title>Reader export</title></head><body>
  <outline text="Business">
    <outline type="rss" text="Dawn" xmlUrl="https://www.dawn.com/feeds/business"/>
    <outline type="rss" text="Env" xmlUrl="https://env.example/rss"/>
  </outline>
  <outline type="rss" text="Tribune" xmlUrl="https://tribune.com.pk/feed/business"/>
</body></opml>
"""


@pytest.fixture
def server() -> Iterator[FeedServer]:
    feeds = FeedServer().start()
    yield feeds
    feeds.stop()


def test_import_list_export_remove(tmp_path: Path) -> None:
    data = tmp_path / "data"
    (tmp_path / "feeds.opml").write_text(OPML, encoding="utf-8")
    env = {"NEWSBOT_FEEDS": ENV_FEED}

    empty = newsbot(data, "feeds", "list")
    assert empty.returncode == 0 and empty.stdout.startswith("No feeds.")

    first = newsbot(data, "feeds", "import", str(tmp_path / "feeds.opml"), **env)
    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines()[0] == (
        f"Imported 2 new feed(s) from {tmp_path / 'feeds.opml'}; 1 already polled.")
    second = newsbot(data, "feeds", "import", str(tmp_path / "feeds.opml"), **env)
    assert second.stdout.splitlines() == [
        f"Imported 0 new feed(s) from {tmp_path / 'feeds.opml'}; 3 already polled."]

    listing = newsbot(data, "feeds", "list", **env).stdout.splitlines()
    assert listing[0] == "1. env.example [NEWSBOT_FEEDS]"
    assert listing[3] == "2. www.dawn.com — Dawn"
    assert listing[6] == "3. tribune.com.pk — Tribune"
    assert listing[8] == "   not polled yet, ok, 0 articles"

    exported = newsbot(data, "feeds", "export", **env)
    assert exported.returncode == 0
    root = ET.fromstring(exported.stdout.encode("utf-8"))
    assert [o.attrib["xmlUrl"] for o in root.iter("outline")] == [
        ENV_FEED, "https://www.dawn.com/feeds/business", "https://tribune.com.pk/feed/business"]

    refused = newsbot(data, "feeds", "remove", "1", **env)
    assert refused.returncode == 1
    assert refused.stderr.strip() == (
        "newsbot feeds: feed 1 is set in NEWSBOT_FEEDS: remove it there and restart")
    removed = newsbot(data, "feeds", "remove", "https://www.dawn.com/feeds/business", **env)
    assert removed.returncode == 0 and removed.stdout.startswith("Removed feed 2 (")
    out = tmp_path / "out.opml"
    newsbot(data, "feeds", "export", "-o", str(out), **env)
    assert [o.attrib["xmlUrl"] for o in ET.parse(out).getroot().iter("outline")] == [
        ENV_FEED, "https://tribune.com.pk/feed/business"]


def test_malformed_opml_imports_nothing(tmp_path: Path) -> None:
    data = tmp_path / "data"
    bad = tmp_path / "bad.opml"
    bad.write_text('<opml><body><outline xmlUrl="https://a.example/rss"/>'
                   '<outline text="Secrets" xmlUrl="file:///etc/passwd"/></body></opml>')
    result = newsbot(data, "feeds", "import", str(bad))
    assert result.returncode == 1
    assert result.stderr.strip() == (f"newsbot feeds: {bad}: the outline “Secrets”: not an "
                                     "http(s) URL: file:///etc/passwd; nothing imported")
    assert newsbot(data, "feeds", "list").stdout.startswith("No feeds.")
    missing = newsbot(data, "feeds", "import", str(tmp_path / "nope.opml"))
    assert missing.returncode == 1 and "cannot read" in missing.stderr


def test_add_checks_the_feed_through_the_guarded_fetch(tmp_path: Path,
                                                       server: FeedServer) -> None:
    data = tmp_path / "data"
    server.set_feed("/rss", "Local Wire", [wheat_entry()])
    url = server.url("/rss")
    refused = newsbot(data, "feeds", "add", url)  # loopback, not in NEWSBOT_FETCH_ALLOW
    assert refused.returncode == 1
    assert refused.stderr.strip() == (
        f"newsbot feeds: not added: not fetched: {url}: refused: 127.0.0.1 is a loopback "
        "address; list it in NEWSBOT_FETCH_ALLOW to fetch from it")
    added = newsbot(data, "feeds", "add", url, NEWSBOT_FETCH_ALLOW="127.0.0.1")
    assert added.returncode == 0, added.stderr
    assert added.stdout.startswith("Added feed 1: Local Wire (1 entry now)")
    twice = newsbot(data, "feeds", "add", url, NEWSBOT_FETCH_ALLOW="127.0.0.1")
    assert twice.returncode == 1 and twice.stderr.strip() == (
        f"newsbot feeds: {url} is already feed 1")

"""The SSRF guard (issue 14, item 5): feeds and article pages are fetched only from public
internet addresses — checked where the socket is opened, for every address a name resolves
to and at every redirect hop, IPv4-mapped IPv6 included — unless ``NEWSBOT_FETCH_ALLOW``
names the host, IP or network. Real HTTP on 127.0.0.1; the refused addresses are never
connected to, so no packet leaves the machine."""

from __future__ import annotations

import ipaddress
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from index import Index, IndexSettings
from index.alerts.feeds import FeedPoller
from index.alerts.statedb import StateDB
from index.fetch import FetchError, fetch
from tests.e2e.alerts.feed_server import FeedServer


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - the http.server API
        if self.path.startswith("/to/"):
            self.send_response(302)
            self.send_header("Location", "http://" + self.path[len("/to/"):])
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = b"internal secret"
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def port() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()


def _get(url: str, allow: list[str] | None = None) -> bytes:
    if allow is None:  # the default: public addresses only
        return fetch(url, timeout=3, max_bytes=1000).content
    return fetch(url, timeout=3, max_bytes=1000, allow=allow).content


@pytest.mark.parametrize(("host", "kind"), [
    ("127.0.0.1", "loopback"),
    ("localhost", "loopback"),  # a name: resolved, then checked
    ("[::ffff:127.0.0.1]", "loopback"),  # IPv4-mapped IPv6
    ("10.1.2.3", "private"),
    ("192.168.1.1", "private"),
    ("169.254.169.254", "link-local"),  # cloud metadata
    ("[::ffff:169.254.169.254]", "link-local"),
    ("[fe80::1]", "link-local"),
    ("224.0.0.1", "multicast"),
    ("240.0.0.1", "reserved"),
    ("0.0.0.0", "unspecified"),
    ("100.64.0.1", "non-public"),  # carrier-grade NAT
    ("[fd00::1]", "private"),
])
def test_non_public_addresses_are_refused(port: int, host: str, kind: str) -> None:
    with pytest.raises(FetchError, match=f"refused: .* is an? {kind} address; list it in "
                                         "NEWSBOT_FETCH_ALLOW"):
        _get(f"http://{host}:{port}/secret")


def test_a_redirect_hop_to_an_internal_address_is_refused(port: int) -> None:
    # The first hop is allowed (by name); the redirect to the metadata address is not.
    assert _get(f"http://localhost:{port}/ok", ["localhost"]) == b"internal secret"
    with pytest.raises(FetchError, match=r"redirected to http://169\.254\.169\.254/.*"
                                         "link-local address"):
        _get(f"http://localhost:{port}/to/169.254.169.254/latest/meta-data/", ["localhost"])
    with pytest.raises(FetchError, match="loopback address"):
        _get(f"http://localhost:{port}/to/127.0.0.1:{port}/secret", ["localhost"])


@pytest.mark.parametrize("allow", [["127.0.0.1"], ["127.0.0.0/8"], ["LOCALHOST"],
                                   ["::1", "127.0.0.1/32"]])
def test_fetch_allow_admits_named_hosts_ips_and_networks(port: int, allow: list[str]) -> None:
    host = "localhost" if allow == ["LOCALHOST"] else "127.0.0.1"
    assert _get(f"http://{host}:{port}/secret", allow) == b"internal secret"


def test_public_addresses_are_public() -> None:
    from index.netguard import non_public_reason

    for text in ("8.8.8.8", "151.101.1.69", "2606:4700:4700::1111"):
        assert non_public_reason(ipaddress.ip_address(text)) is None


def test_the_setting_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSBOT_FETCH_ALLOW", "feeds.intranet, 10.0.0.0/8")
    assert IndexSettings.load().fetch_allow == ["feeds.intranet", "10.0.0.0/8"]


def test_a_refused_feed_is_a_clear_line_in_the_ingest_report(index: Index, port: int) -> None:
    report = index.ingest([f"http://127.0.0.1:{port}/feed.xml"])
    [problem] = report.problems
    assert problem.kind == "failed" and report.failed == 1
    assert "refused: 127.0.0.1 is a loopback address" in problem.reason


INTERNAL_TEASER = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>Wire</title>
<item><title>Harmless looking teaser</title>
<link>http://169.254.169.254/latest/meta-data/iam/</link>
<description>A short teaser that links to the cloud metadata service.</description>
</item></channel></rss>"""


def test_a_teaser_linking_inside_is_not_fetched_and_the_refusal_is_reported(
    index: Index, tmp_path: Path
) -> None:
    server = FeedServer().start()
    db = StateDB.open(tmp_path / "state")
    try:
        server.set_raw("/feed.xml", INTERNAL_TEASER, "application/rss+xml")
        server.set_raw("/blocked.xml", INTERNAL_TEASER, "application/rss+xml")
        feed = server.url("/feed.xml")  # http://127.0.0.1:…: the operator's own feed
        blocked = feed.replace("127.0.0.1", "127.0.0.2").replace("/feed.xml", "/blocked.xml")
        settings = IndexSettings(_env_file=None, data_dir=index.settings.data_dir,
                                 feeds=[feed, blocked], fetch_allow=["127.0.0.1"])
        poller = FeedPoller(index, db, settings)
        results = {r.url: r for r in poller.poll_due()}
        # The allowed feed is stored with its teaser; the page was never fetched.
        assert results[feed].outcome == "new"
        [stored] = index.latest(limit=5)
        assert stored.note == "summary only: page fetch refused (not a public address)"
        assert "teaser" in stored.body and "meta-data" not in stored.body
        # A feed on a host the setting does not name fails with the refusal, which /stats
        # shows (``feed_lines`` of the failing feeds).
        assert results[blocked].outcome == "failed"
        status = {s.url: s for s in poller.statuses()}[blocked]
        assert status.failing and "refused: 127.0.0.2 is a loopback address" in (
            status.last_error or "")
    finally:
        db.close()
        server.stop()


def test_the_page_refusal_is_a_line_of_the_report(index: Index, tmp_path: Path) -> None:
    server = FeedServer().start()
    db = StateDB.open(tmp_path / "state")
    try:
        server.set_raw("/feed.xml", INTERNAL_TEASER, "application/rss+xml")
        settings = IndexSettings(_env_file=None, data_dir=index.settings.data_dir,
                                 feeds=[server.url("/feed.xml")], fetch_allow=["127.0.0.1"])
        poller = FeedPoller(index, db, settings)
        items = poller._fetch(poller.statuses()[0]).items  # noqa: SLF001 - the poll's items
        report = index.ingest_articles(items)
        assert report.articles_new == 1
        [problem] = report.problems
        assert problem.kind == "skipped" and "169.254.169.254 is a link-local address" in (
            problem.reason)
    finally:
        db.close()
        server.stop()

"""Bad input through ``Index.ingest`` end to end: broken files and hostile feed servers.

Every case: no exception, a clear message in the ``IngestReport`` (or, for input that is
merely unusual, a correctly stored article), and the article indexed before it is still
found afterwards. Loader-level details are covered in tests/index/test_loaders.py; this
checks the whole pipeline. The embedder is the hashed stand-in (the subject here is input
handling, and a 1 MB article would take the real model a minute)."""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from index import Index
from index.settings import IndexSettings
from tests.conftest import write_article
from tests.robustness.hashed_embedder import HashedEmbedder

GOOD_TITLE = "Hunza apricot growers open a drying cooperative"
TRIED: list[str] = []  # names of the bad inputs, for the figures in docs/reliability.md


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args) -> None:  # quiet
        pass

    def do_GET(self) -> None:  # noqa: N802
        path = self.path
        if path == "/garbage.xml":
            self._send(b"\x00\x01 <<<>>> &&& \xff\xfe", "application/rss+xml")
        elif path == "/malformed.xml":
            self._send(b"<?xml version='1.0'?><rss><channel><item><title>x</titl", "application/rss+xml")
        elif path == "/missing.xml":
            self.send_response(404)
            self.end_headers()
        elif path.startswith("/loop"):
            self.send_response(302)
            self.send_header("Location", "/loop-b" if path == "/loop-a" else "/loop-a")
            self.end_headers()
        elif path == "/huge.xml":  # 50 MB, chunked (no Content-Length to refuse early)
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            block = b"<!-- " + b"x" * (1 << 20) + b" -->"
            try:
                for _ in range(50):
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(block), block))
                self.wfile.write(b"0\r\n\r\n")
            except OSError:
                pass  # the client gave up, as it should
        elif path == "/huge-declared.xml":
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")
            self.send_header("Content-Length", str(50 * (1 << 20)))
            self.end_headers()
        elif path == "/slow.xml":  # slow-loris: one byte every 0.3 s, forever
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")
            self.end_headers()
            try:
                for _ in range(200):
                    self.wfile.write(b" ")
                    self.wfile.flush()
                    time.sleep(0.3)
            except OSError:
                pass
        else:
            self.send_response(500)
            self.end_headers()

    def _send(self, body: bytes, ctype: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()
    srv.server_close()


@pytest.fixture(scope="module")
def idx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Index]:
    root = tmp_path_factory.mktemp("bad")
    settings = IndexSettings(data_dir=root / "data", max_file_bytes=2_000_000,
                             fetch_timeout=1.5, fetch_max_bytes=1_000_000,
                             fetch_allow=["127.0.0.1"])  # the hostile server's address
    embedder = HashedEmbedder()
    embedder.encode_seconds = 0.0
    index = Index.open(settings, embedder=embedder)
    write_article(root / "good", "good.txt", title=GOOD_TITLE, date="2023-07-01", body=(
        "HUNZA - Apricot growers in Hunza opened a drying cooperative on Saturday that will "
        "process 300 tonnes of fruit a season, the valley's farmers' association said."))
    assert index.ingest([str(root / "good")]).articles_new == 1
    yield index
    index.close()


def _good_still_found(index: Index) -> None:
    assert index.check() == []
    hits = index.search(GOOD_TITLE, k=3)
    assert hits and hits[0].article.title == GOOD_TITLE


def _reasons(report) -> str:
    return " | ".join(f"{p.kind}: {p.where}: {p.reason}" for p in report.problems)


def _ingest(index: Index, path: Path | str):
    TRIED.append(Path(str(path)).name)
    report = index.ingest([str(path)])
    _good_still_found(index)
    return report


# -- files that must fail (or be skipped) with a clear message ------------------------------
REJECTED: dict[str, tuple[str, bytes, str]] = {
    # name: (file name, bytes, expected words in the reason)
    "empty": ("empty.txt", b"", "empty"),
    "whitespace": ("blank.txt", b" \n\t\n  \n", "empty"),
    "binary": ("blob.txt", bytes(range(256)) * 40, "binary"),
    "over size limit": ("big.txt", b"word " * 500_000, "larger than 2000000 bytes"),
    "jsonl all malformed": ("bad.jsonl", b'{"id": 1, "body": \n[1,2]\nnot json\n', "invalid JSON"),
    "csv missing body column": ("nobody.csv", b"title,date\nA headline,2020-01-01\n", "column"),
    "csv header only": ("header.csv", b"", "empty"),
    "unsupported type via file": ("notes.pdf", b"%PDF-1.4 ...", "unsupported file type"),
    "feed file malformed": ("feed.xml", b"<rss><channel><item><title>x</ti", "feed"),
}


@pytest.mark.parametrize("case", sorted(REJECTED))
def test_rejected_files_are_reported(idx, tmp_path: Path, case: str) -> None:
    name, data, words = REJECTED[case]
    path = tmp_path / name
    path.write_bytes(data)
    report = _ingest(idx, path)
    assert report.articles_new == 0
    assert report.problems, f"{case}: no problem reported"
    assert words.lower() in _reasons(report).lower(), _reasons(report)
    assert str(path) in _reasons(report)  # says which file


def test_malformed_jsonl_lines_are_skipped_with_line_numbers(idx, tmp_path: Path) -> None:
    path = tmp_path / "mixed.jsonl"
    path.write_text(
        '{"id": "ok1", "title": "Skardu glacier survey finds faster melt", "body": "SKARDU - '
        'A glacier survey found that the ice retreated 30 metres this year."}\n'
        '{"id": "broken", "body": "no closing brace"\n'
        '\n'
        '["a list", "not an object"]\n'
        '{"id": "ok2", "title": "Chitral tunnel reopens", "body": "CHITRAL - The Lowari tunnel '
        'reopened to traffic after repairs on Sunday."}\n'
        '{"id": "nobody", "title": "x"}\n'
        'garbage line\n', encoding="utf-8")
    report = _ingest(idx, path)
    assert report.articles_new == 2
    reasons = _reasons(report)
    assert f"{path}:2" in reasons and "invalid JSON" in reasons, reasons
    assert f"{path}:4" in reasons and "not a JSON object" in reasons, reasons
    assert f"{path}:7" in reasons, reasons
    assert f"{path}:6" in reasons and "empty body" in reasons, reasons


def test_duplicate_ids_are_reported_not_silently_replaced(idx, tmp_path: Path) -> None:
    """Before: the second story with the same id replaced the first without a word."""
    path = tmp_path / "dups.jsonl"
    path.write_text(
        '{"id": "same", "title": "Turbat date harvest record", "body": "TURBAT - Date '
        'growers in Turbat harvested a record crop of 120,000 tonnes."}\n'
        '{"id": "same", "title": "Badin lake birds counted", "body": "BADIN - Wildlife staff '
        'counted 80,000 migratory birds at the lakes of Badin."}\n'
        '{"id": "same", "title": "Turbat date harvest record", "body": "TURBAT - Date '
        'growers in Turbat harvested a record crop of 120,000 tonnes."}\n', encoding="utf-8")
    report = _ingest(idx, path)
    assert report.articles_new == 1 and report.duplicates == 1, report
    reasons = _reasons(report)
    assert f"{path}:2" in reasons and "duplicate id 'same'" in reasons and "line 1" in reasons
    assert _stored(idx, "Turbat date harvest record")


# -- unusual but valid input: stored correctly ----------------------------------------------
def _stored(idx: Index, title: str):
    hits = idx.search(title, k=3)
    assert hits and hits[0].article.title == title, (title, hits[:1])
    return hits[0].article


def test_invalid_utf8_is_decoded_not_fatal(idx, tmp_path: Path) -> None:
    path = tmp_path / "badutf8.txt"
    path.write_bytes(b"title: Kohat cement plant expands\n\nKOHAT - The cement plant \xff\xfe "
                     b"added a second kiln \xc3\x28 this week, raising output by a third.\n")
    report = _ingest(idx, path)
    assert report.articles_new == 1, _reasons(report)
    assert "second kiln" in _stored(idx, "Kohat cement plant expands").body


def test_cp1252_file(idx, tmp_path: Path) -> None:
    path = tmp_path / "cp1252.txt"
    path.write_bytes("title: Café owners in Murree welcome tourists\n\nMURREE – Café owners said "
                     "the “record” season brought 2 million visitors.\n".encode("cp1252"))
    assert _ingest(idx, path).articles_new == 1
    body = _stored(idx, "Café owners in Murree welcome tourists").body
    assert "Café owners" in body and "“record”" in body


def test_utf16_with_bom(idx, tmp_path: Path) -> None:
    path = tmp_path / "utf16.txt"
    path.write_bytes("title: Jhelum bridge toll cut\n\nJHELUM - The toll on the old bridge was "
                     "cut by half on Monday, the highway authority said.\n".encode("utf-16"))
    assert _ingest(idx, path).articles_new == 1
    assert "cut by half" in _stored(idx, "Jhelum bridge toll cut").body


@pytest.mark.parametrize("date,stored", [
    (None, None), ("someday soon", None), ("2999-01-01", None), ("31/02/2020", None),
    ("2020-02-29", "2020-02-29")])
def test_missing_garbage_and_future_dates(idx, tmp_path: Path, date, stored) -> None:
    title = f"Okara milk collection centre {date or 'undated'}"
    (tmp_path / "d").mkdir()
    header = f"title: {title}\n" + (f"date: {date}\n" if date else "")
    (tmp_path / "d" / "dated.txt").write_text(header + (
        f"\nOKARA - A milk collection centre opened in Okara ({date}) with chilling tanks for "
        "20,000 litres a day.\n"), encoding="utf-8")
    report = _ingest(idx, tmp_path / "d" / "dated.txt")
    assert report.articles_new == 1, _reasons(report)
    article = _stored(idx, title)
    if stored is None:
        assert article.published_at is None or article.published_at < "2999", article
    else:
        assert article.published_at.startswith(stored)


def test_html_and_scripts_in_the_body_are_stripped(idx, tmp_path: Path) -> None:
    path = tmp_path / "html.txt"
    path.write_text(
        "title: Swat valley schools reopen\n\n<p>SWAT - Schools in the <b>Swat</b> valley "
        "reopened on Monday after the floods.</p><script>alert('pwned'); document.cookie"
        "</script><style>p{color:red}</style><p>Teachers said 40 schools need repairs &amp; "
        "new books.</p><img src=x onerror=alert(1)>\n", encoding="utf-8")
    assert _ingest(idx, path).articles_new == 1
    body = _stored(idx, "Swat valley schools reopen").body
    assert "alert" not in body and "<" not in body and "color:red" not in body, body
    assert "40 schools need repairs & new books" in body


def test_one_megabyte_single_line_article(idx, tmp_path: Path) -> None:
    words = ("the provincial assembly debated the water accord clause by clause and the "
             "members from the upper districts asked for a larger share ").split()
    line = " ".join(words[i % len(words)] for i in range(180_000))[:1_000_000]
    path = tmp_path / "oneline.txt"
    path.write_text("title: Sukkur barrage water accord debate\n\n" + line, encoding="utf-8")
    started = time.monotonic()
    report = _ingest(idx, path)
    assert report.articles_new == 1, _reasons(report)
    assert report.chunks_embedded > 100
    assert time.monotonic() - started < 120
    assert _stored(idx, "Sukkur barrage water accord debate")


def test_urdu_rtl_emoji_and_zero_width(idx, tmp_path: Path) -> None:
    urdu = tmp_path / "urdu.txt"
    urdu.write_text("title: لاہور میں بارش\n\nلاہور میں شدید بارش کے بعد کئی سڑکیں زیر آب آ "
                    "گئیں۔ محکمہ موسمیات کے مطابق مزید بارش متوقع ہے۔\n", encoding="utf-8")
    assert _ingest(idx, urdu).articles_new == 1
    assert "سڑکیں" in _stored(idx, "لاہور میں بارش").body
    emoji = tmp_path / "emoji.txt"
    emoji.write_text("title: Mardan fans cheer 🏏 win\n\nMARDAN - Fans 🎉🎉 cheered the local "
                     "team's 🏏 win by 20 runs 👍🏽 on Sunday.\n", encoding="utf-8")
    assert _ingest(idx, emoji).articles_new == 1
    assert "🏏" in _stored(idx, "Mardan fans cheer 🏏 win").body
    zw = tmp_path / "zw.txt"
    zw.write_text("title: Thatta\u200b mangrove\u200d planting\n\nTHATTA - Volunteers plan\u200bted "
                  "one\u00ad million mangrove\ufeff saplings along the creeks.\n", encoding="utf-8")
    assert _ingest(idx, zw).articles_new == 1
    article = _stored(idx, "Thatta mangrove planting")
    assert "planted one million mangrove saplings" in article.body
    assert not any(ch in article.body + article.title for ch in "\u200b\u200d\u00ad\ufeff")


def test_cp1252_csv_with_missing_cells(idx, tmp_path: Path) -> None:
    path = tmp_path / "rows.csv"
    path.write_bytes(("id,title,date,body\n1,Larkana rice prices,2020-01-05,LARKANA – Rice "
                      "prices rose 5 percent.\n2,Empty row,,\n3,Short row\n").encode("cp1252"))
    report = _ingest(idx, path)
    assert report.articles_new == 1
    assert report.problems, "rows without a body are reported"
    assert "LARKANA – Rice" in _stored(idx, "Larkana rice prices").body


# -- feeds served locally ---------------------------------------------------------------------
FEEDS = {
    # feedparser is lenient: a truncated feed still yields its (empty) entry
    "malformed XML": ("/malformed.xml", "empty body"),
    "not XML at all": ("/garbage.xml", "not a valid feed"),
    "404": ("/missing.xml", "HTTP 404"),
    "redirect loop": ("/loop-a", "redirect loop"),
    "50 MB response": ("/huge.xml", "larger than 1000000 bytes"),
    "50 MB declared": ("/huge-declared.xml", "larger than 1000000 bytes"),
    "slow-loris": ("/slow.xml", "timed out"),
    "connection refused": ("http://127.0.0.1:9/feed.xml", "could not connect"),
}


@pytest.mark.parametrize("case", sorted(FEEDS))
def test_hostile_feeds_are_reported(idx, server: str, case: str) -> None:
    path, words = FEEDS[case]
    url = path if path.startswith("http") else server + path
    started = time.monotonic()
    report = _ingest(idx, url)
    assert time.monotonic() - started < 10  # fetch_timeout is 1.5 s
    assert report.failed + report.skipped >= 1 and report.articles_new == 0
    assert words in _reasons(report), _reasons(report)
    assert url in _reasons(report)


def test_summary() -> None:
    print(f"\nbad inputs tried end to end: {len(TRIED)}")

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

import index.loaders.csvfile
from index.loaders import load_source, looks_like_feed
from index.models import Article, LoadItem, LoadProblem
from index.settings import IndexSettings

pytestmark = pytest.mark.usefixtures("local_fetches")  # servers on 127.0.0.1

FIXTURES = Path(__file__).parent / "fixtures"
SEED = Path(__file__).resolve().parents[2] / "index" / "samples" / "seed_article.txt"
LONG_PARAGRAPH = (
    "The provincial cabinet approved the budget after a long debate on Tuesday. "
    "Members of the opposition walked out before the vote and said the allocation for "
    "schools was too small. The finance minister said spending on health would rise by "
    "twelve percent, and that new roads would be built in three districts next year. "
    "Traders welcomed the cut in the sales tax on cooking oil, which had doubled in price "
    "since the spring."
)


def _settings(**overrides: object) -> IndexSettings:
    return IndexSettings(_env_file=None, **overrides)  # type: ignore[call-arg]


def _load(source: str | Path, **overrides: object) -> list[LoadItem]:
    return list(load_source(str(source), _settings(**overrides)))


def _split(items: list[LoadItem]) -> tuple[list[Article], list[LoadProblem]]:
    articles = [i for i in items if isinstance(i, Article)]
    problems = [i for i in items if isinstance(i, LoadProblem)]
    assert len(articles) + len(problems) == len(items)
    return articles, problems


# --- text files ---------------------------------------------------------------------------


def test_seed_article_format() -> None:
    articles, problems = _split(_load(SEED))
    assert problems == []
    [article] = articles
    assert article.published_at == dt.date(2017, 3, 4)
    assert article.body.startswith("ISLAMABAD - Alibaba Group delegation, led by Max Bittner")
    assert "date 2017" not in article.body
    assert article.body.count("\n\n") >= 5 and "\n\n\n" not in article.body
    assert article.title == ""
    assert article.id == "seed_article"
    assert article.source == "samples"  # the folder's name
    assert article.key == f"file:{SEED}"
    assert article.origin == str(SEED)


def test_text_headers_with_colons(tmp_path: Path) -> None:
    folder = tmp_path / "desk"
    folder.mkdir()
    path = folder / "story.txt"
    path.write_text(
        "Title: Budget  passed\nDATE: 2020-07-01\n  source: The Herald\n"
        "url: HTTPS://Herald.example/budget/?utm_source=x\ncategory: politics\n\n"
        + LONG_PARAGRAPH,
        encoding="utf-8",
    )
    [article] = _load(path)
    assert isinstance(article, Article)
    assert article.title == "Budget passed"
    assert article.published_at == dt.date(2020, 7, 1)
    assert article.source == "The Herald"
    assert article.category == "politics"
    assert article.url == "HTTPS://Herald.example/budget/?utm_source=x"
    assert article.key == "https://herald.example/budget"
    assert article.body == LONG_PARAGRAPH


def test_text_first_word_like_a_header_key_stays_in_body(tmp_path: Path) -> None:
    path = tmp_path / "plain.txt"
    path.write_text("Source said the deal was signed.\nDate palms were exported.\n", "utf-8")
    [article] = _load(path)
    assert isinstance(article, Article)
    assert article.body == "Source said the deal was signed. Date palms were exported."
    assert article.source == tmp_path.name
    assert article.key == f"file:{path}"
    assert article.published_at is None


def test_markdown_heading_becomes_title(tmp_path: Path) -> None:
    path = tmp_path / "note.md"
    path.write_text("date: 2019-02-03\n\n# Floods hit the valley\n\n" + LONG_PARAGRAPH, "utf-8")
    [article] = _load(path)
    assert isinstance(article, Article)
    assert article.title == "Floods hit the valley"
    assert article.body == LONG_PARAGRAPH
    assert article.published_at == dt.date(2019, 2, 3)


def test_utf16_file_with_bom(tmp_path: Path) -> None:
    path = tmp_path / "wide.txt"
    path.write_bytes("date 2018-05-06\nKarachi caf\u00e9 prices \u201crose\u201d.".encode("utf-16"))
    [article] = _load(path)
    assert isinstance(article, Article)
    assert article.published_at == dt.date(2018, 5, 6)
    assert article.body == "Karachi caf\u00e9 prices \u201crose\u201d."


def test_cp1252_text_file(tmp_path: Path) -> None:
    path = tmp_path / "legacy.txt"
    text = "The minister\u2019s \u201cplan\u201d for Pe\u00f1a \u2013 approved."
    path.write_bytes(text.encode("cp1252"))
    [article] = _load(path)
    assert isinstance(article, Article)
    assert article.body == text


def test_invalid_utf8_does_not_crash(tmp_path: Path) -> None:
    path = tmp_path / "broken.txt"
    good = "Caf\u00e9 na\u00efve r\u00e9sum\u00e9 d\u00e9j\u00e0 vu"
    path.write_bytes(good.encode() + b" \xff end.")
    [article] = _load(path)
    assert isinstance(article, Article)
    assert article.body.startswith(good)
    assert article.body.endswith("end.")


def test_binary_file_is_a_failed_problem(tmp_path: Path) -> None:
    path = tmp_path / "image.txt"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4)
    assert _load(path) == [LoadProblem("failed", str(path), "binary file")]


def test_empty_file_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / "blank.txt"
    path.write_text("\u200b\n  \n", "utf-8")
    assert _load(path) == [LoadProblem("skipped", str(path), "empty body")]


# --- CSV ----------------------------------------------------------------------------------


def _write_cp1252_csv(path: Path) -> None:
    rows = [
        "Article,Date,Heading,NewsType",
        (
            '"KARACHI: Fares were cut, Geo News reported.Sources said the \u201cnew\u201d fares '
            'apply to rickshaws.",01-05-2015,fares cut,business'
        ),
        ",,,",
        '"LAHORE: Pe\u00f1a\u2019s firm opened a plant.",2/16/2015,plant opens,business',
        ",,,",
        '"Multi-line body\r\nsecond line.",16/02/2015,,',
        ",,,",
        '"Body with a bad date.",sometime soon,bad date,',
        ',2015-01-01,title but no body,business',
    ]
    path.write_bytes("\r\n".join(rows).encode("cp1252"))


def test_cp1252_csv_with_mixed_dates_and_empty_rows(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    _write_cp1252_csv(path)
    articles, problems = _split(_load(path))
    assert [a.published_at for a in articles] == [
        dt.date(2015, 1, 5), dt.date(2015, 2, 16), dt.date(2015, 2, 16), None,
    ]
    first = articles[0]
    assert first.body == (
        "KARACHI: Fares were cut, Geo News reported. Sources said the \u201cnew\u201d fares "
        "apply to rickshaws."
    )
    assert first.title == "fares cut"
    assert first.category == "business"
    assert first.source == "export"
    assert first.id == "export:1"
    assert first.key is None
    assert first.origin == f"{path}:1"
    assert articles[1].body == "LAHORE: Pe\u00f1a\u2019s firm opened a plant."
    assert articles[2].body == "Multi-line body second line."
    assert articles[2].title == "" and articles[2].category is None
    assert articles[3].note == "unparseable date 'sometime soon'"
    assert sorted(problems, key=lambda p: p.reason) == [
        LoadProblem("skipped", f"{path}:8", "empty body"),
        LoadProblem("skipped", str(path), "empty rows", count=3),
    ]


def test_csv_without_body_column(tmp_path: Path) -> None:
    path = tmp_path / "nobody.csv"
    path.write_text("Headline,Date\nSomething,2015-01-01\n", "utf-8")
    [problem] = _load(path)
    assert isinstance(problem, LoadProblem)
    assert problem.kind == "failed"
    assert problem.where == str(path)
    assert "no body column" in problem.reason
    assert "Headline, Date" in problem.reason


def test_csv_column_aliases_and_url_key(tmp_path: Path) -> None:
    path = tmp_path / "wire.csv"
    path.write_text(
        "ID;Story;Published_At;Title;Section;Link;Outlet\n"
        "a-7;The port reopened.;2021-03-04T10:00:00Z;Port reopens;trade;"
        "http://Wire.example/port/#top;Wire Service\n",
        "utf-8",
    )
    [article] = _load(path)
    assert isinstance(article, Article)
    assert article.id == "a-7"
    assert article.published_at == dt.datetime(2021, 3, 4, 10, 0)
    assert (article.title, article.category, article.source) == ("Port reopens", "trade",
                                                                  "Wire Service")
    assert article.key == "http://wire.example/port"


# --- JSONL --------------------------------------------------------------------------------


def test_jsonl_with_malformed_lines(tmp_path: Path) -> None:
    path = tmp_path / "corpus.jsonl"
    lines = [
        (
            '{"id": "a1", "title": "", "published_at": "2020-05-01", "source": "CNN", '
            '"url": null, "category": null, "body": "Stocks rose.Traders cheered."}'
        ),
        '{"id": "a2", "title": "Broken", ',
        "",
        (
            '{"title": "No id", "published_at": "2020-05-02T08:00:00+02:00", "source": "Week", '
            '"url": "https://week.example/x/?utm_medium=rss", "body": "Second story."}'
        ),
        "[1, 2, 3]",
        '{"id": "a5", "source": "CNN", "body": ""}',
        '{"id": "a6", "source": "CNN"}',
        "not json at all",
    ]
    path.write_text("\n".join(lines) + "\n", "utf-8")
    articles, problems = _split(_load(path))
    assert [a.id for a in articles] == ["a1", "corpus:4"]
    first, second = articles
    assert first.title == "" and first.body == "Stocks rose. Traders cheered."
    assert first.key == "id:CNN:a1" and first.published_at == dt.date(2020, 5, 1)
    assert second.key == "https://week.example/x"
    assert second.published_at == dt.datetime(2020, 5, 2, 6, 0)
    assert second.origin == f"{path}:4"
    assert problems == [
        LoadProblem("failed", f"{path}:2", "invalid JSON (Expecting property name enclosed "
                    "in double quotes)"),
        LoadProblem("failed", f"{path}:5", "not a JSON object"),
        LoadProblem("skipped", str(path), "empty body (lines 6, 7)", count=2),
        LoadProblem("failed", f"{path}:8", "invalid JSON (Expecting value)"),
    ]


def test_jsonl_many_bad_lines_fold_into_one_problem(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join(["{oops"] * 14 + ['{"body": "Fine."}']) + "\n", "utf-8")
    articles, problems = _split(_load(path))
    assert [a.body for a in articles] == ["Fine."]
    [problem] = problems
    assert problem.kind == "failed" and problem.count == 14
    assert problem.where == str(path)
    assert problem.reason.endswith("(lines 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, …)")


# --- feeds --------------------------------------------------------------------------------

RSS = f"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">
<channel>
  <title>Test Wire</title>
  <link>https://wire.example/</link>
  <item>
    <title>Budget &amp; taxes</title>
    <link>https://wire.example/budget/?utm_source=rss</link>
    <guid>wire-1</guid>
    <pubDate>Sat, 04 Mar 2017 10:00:00 +0500</pubDate>
    <category>Politics</category>
    <description>Short teaser.</description>
    <content:encoded><![CDATA[<p>{LONG_PARAGRAPH}</p><p>Share this</p><p>Second.</p>]]>
    </content:encoded>
  </item>
  <item>
    <title>Teaser only</title>
    <link>https://wire.example/teaser</link>
    <description>&lt;p&gt;Just a &lt;b&gt;short&lt;/b&gt; summary.&lt;/p&gt;</description>
  </item>
  <item>
    <title>Nothing here</title>
    <link>https://wire.example/empty</link>
    <description></description>
  </item>
</channel>
</rss>
"""

ATOM = f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>Atom Desk</title>
  <id>urn:atom-desk</id>
  <updated>2021-01-02T03:04:05Z</updated>
  <entry>
    <title type="html">Port &lt;em&gt;reopens&lt;/em&gt;</title>
    <id>urn:entry:1</id>
    <updated>2021-01-02T03:04:05Z</updated>
    <category term="trade"/>
    <summary>Short.</summary>
    <content type="html">&lt;p&gt;{LONG_PARAGRAPH}&lt;/p&gt;</content>
  </entry>
</feed>
"""


def test_rss_file(tmp_path: Path) -> None:
    path = tmp_path / "wire.rss"
    path.write_text(RSS, "utf-8")
    articles, problems = _split(_load(path))
    assert [a.title for a in articles] == ["Budget & taxes", "Teaser only"]
    full, teaser = articles
    assert full.body == LONG_PARAGRAPH + "\n\nSecond."
    assert full.source == "Test Wire"
    assert full.published_at == dt.datetime(2017, 3, 4, 5, 0)
    assert full.category == "Politics"
    assert full.id == "wire-1"
    assert full.key == "https://wire.example/budget"
    assert full.url == "https://wire.example/budget/?utm_source=rss"
    assert full.note is None
    assert teaser.body == "Just a short summary."
    assert teaser.note == "summary only"
    assert teaser.id == "https://wire.example/teaser"
    assert problems == [LoadProblem("skipped", "https://wire.example/empty", "empty body")]


def test_atom_file(tmp_path: Path) -> None:
    path = tmp_path / "desk.atom"
    path.write_text(ATOM, "utf-8")
    [article] = _load(path)
    assert isinstance(article, Article)
    assert article.title == "Port reopens"
    assert article.body == LONG_PARAGRAPH
    assert article.source == "Atom Desk"
    assert article.published_at == dt.datetime(2021, 1, 2, 3, 4, 5)
    assert article.category == "trade"
    assert article.id == "urn:entry:1"
    assert article.key == "feed:urn:entry:1"
    assert article.url is None and article.note is None


def test_malformed_feed(tmp_path: Path) -> None:
    path = tmp_path / "broken.xml"
    path.write_text("this is <<< not a feed", "utf-8")
    [problem] = _load(path)
    assert isinstance(problem, LoadProblem)
    assert problem.kind == "failed" and problem.where == str(path)
    assert problem.reason.startswith("not a valid feed:")
    assert "\n" not in problem.reason


def test_looks_like_feed_sniffing() -> None:
    assert looks_like_feed(b'\xef\xbb\xbf<?xml version="1.0"?>\n<rss version="2.0">', "text/html")
    assert looks_like_feed(b"<feed xmlns='http://www.w3.org/2005/Atom'>", "")
    assert not looks_like_feed(b"<!DOCTYPE html><html><body>rss</body></html>", "text/html")
    assert looks_like_feed(b"{}", "application/rss+xml")


# --- sources: directories, missing paths, limits, errors ----------------------------------


def test_directory_walk_is_sorted_and_skips_hidden(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / ".git").mkdir()
    (tmp_path / "b" / "two.txt").write_text("Second file.", "utf-8")
    (tmp_path / "a.md").write_text("# First\n\nFirst file.", "utf-8")
    (tmp_path / ".hidden.txt").write_text("Hidden file.", "utf-8")
    (tmp_path / ".git" / "config.txt").write_text("Hidden dir.", "utf-8")
    (tmp_path / "notes.pdf").write_bytes(b"%PDF-1.4")
    (tmp_path / "c.jsonl").write_text('{"body": "Third file."}\n', "utf-8")
    articles, problems = _split(_load(tmp_path))
    assert [a.body for a in articles] == ["First file.", "Third file.", "Second file."]
    assert problems == []


def test_empty_directory_reports_no_files(tmp_path: Path) -> None:
    [problem] = _load(tmp_path)
    assert isinstance(problem, LoadProblem)
    assert problem.kind == "skipped" and problem.reason.startswith("no supported files")


def test_missing_path() -> None:
    missing = "/nonexistent/newsbot/articles"
    assert _load(missing) == [LoadProblem("failed", missing, "no such file or directory")]


def test_unsupported_extension_and_scheme(tmp_path: Path) -> None:
    path = tmp_path / "report.pdf"
    path.write_bytes(b"%PDF-1.4")
    [problem] = _load(path)
    assert isinstance(problem, LoadProblem)
    assert problem.kind == "failed" and "unsupported file type '.pdf'" in problem.reason
    [problem] = _load("ftp://example.com/feed.xml")
    assert isinstance(problem, LoadProblem)
    assert problem.reason == "unsupported URL scheme 'ftp'"


def test_file_larger_than_limit(tmp_path: Path) -> None:
    path = tmp_path / "big.txt"
    path.write_text("x" * 100, "utf-8")
    [problem] = _load(path, max_file_bytes=50)
    assert isinstance(problem, LoadProblem)
    assert problem.kind == "failed" and problem.where == str(path)
    assert "larger than 50 bytes" in problem.reason


def test_unexpected_error_becomes_problem(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def explode(path: Path) -> Iterator[LoadItem]:
        yield Article("x", "", None, "s", None, None, "Kept before the error.", str(path))
        raise RuntimeError("boom\nTraceback (most recent call last): ...")

    monkeypatch.setattr(index.loaders.csvfile, "load_csv", explode)
    path = tmp_path / "data.csv"
    path.write_text("body\nx\n", "utf-8")
    good = tmp_path / "ok.txt"
    good.write_text("Still loaded.", "utf-8")
    articles, problems = _split(_load(tmp_path))
    assert [a.body for a in articles] == ["Kept before the error.", "Still loaded."]
    assert problems == [LoadProblem("failed", str(path), "RuntimeError: boom")]


# --- URLs ---------------------------------------------------------------------------------


class _SiteHandler(BaseHTTPRequestHandler):
    pages: ClassVar[dict[str, tuple[str, bytes]]] = {}

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        if self.path not in self.pages:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        content_type, body = self.pages[self.path]
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    _SiteHandler.pages = {
        "/feed": ("application/rss+xml", RSS.encode()),
        "/feed-labelled-html": ("text/html", ATOM.encode()),
        "/news/port-terminal": ("text/html; charset=utf-8",
                                (FIXTURES / "article.html").read_bytes()),
        "/menu": ("text/html", b"<html><body><nav>Home | About</nav></body></html>"),
    }
    server = ThreadingHTTPServer(("127.0.0.1", 0), _SiteHandler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_feed_over_http(site: str) -> None:
    articles, problems = _split(_load(f"{site}/feed"))
    assert [a.title for a in articles] == ["Budget & taxes", "Teaser only"]
    assert articles[0].source == "Test Wire"
    assert len(problems) == 1 and problems[0].reason == "empty body"


def test_feed_sniffed_despite_html_content_type(site: str) -> None:
    [article] = _load(f"{site}/feed-labelled-html")
    assert isinstance(article, Article)
    assert article.source == "Atom Desk"


def test_article_page_over_http(site: str) -> None:
    url = f"{site}/news/port-terminal"
    [article] = _load(url)
    assert isinstance(article, Article)
    assert article.title == "Harbour authority approves new container terminal"
    assert article.source == "Coastline Herald"
    assert article.published_at == dt.date(2021, 6, 14)
    assert article.body.startswith("PORT WILLIAM - The harbour authority on Monday approved")
    assert article.body.endswith("the old fish market would be moved, not closed.")
    assert article.body.count("\n\n") == 3  # four paragraphs, the ad line dropped
    assert "Advertisement" not in article.body and "window.tracker" not in article.body
    assert "Copyright" not in article.body and "Home" not in article.body
    assert article.url == url and article.key == url and article.origin == url


def test_page_without_article_text(site: str) -> None:
    url = f"{site}/menu"
    assert _load(url) == [LoadProblem("failed", url, "no article text found")]


def test_dead_url_is_a_problem(site: str) -> None:
    url = f"{site}/gone"
    [problem] = _load(url)
    assert isinstance(problem, LoadProblem)
    assert problem.kind == "failed" and problem.where == url
    assert "HTTP 404" in problem.reason

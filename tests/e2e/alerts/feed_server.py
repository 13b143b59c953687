"""A local HTTP server for feed tests: RSS feeds and article pages that tests change
between polls, with real ETag/Last-Modified handling (304s), injected failures and delays.

Everything runs on 127.0.0.1; a request log lets tests see what the poller asked for
(conditional headers included).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import threading
import time
from dataclasses import dataclass, field
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Entry:
    """One feed item: ``body`` is the full text, or a teaser when ``summary_only``."""

    title: str
    path: str  # the article's link, on this server
    body: str
    published: dt.datetime
    guid: str = ""

    def paragraphs_html(self) -> str:
        return "".join(f"<p>{html.escape(p)}</p>" for p in self.body.split("\n\n") if p.strip())


@dataclass
class _Resource:
    body: bytes
    content_type: str
    etag: str
    last_modified: str
    status: int = 200  # anything else is an injected failure
    delay: float = 0.0


@dataclass(frozen=True)
class Request:
    path: str
    headers: dict[str, str]
    status: int
    at: float = field(default_factory=time.monotonic)


class FeedServer:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._resources: dict[str, _Resource] = {}
        self._requests: list[Request] = []
        self._server: ThreadingHTTPServer | None = None

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> FeedServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 - the http.server API
                server._serve(self)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                         daemon=True, name="feed-server").start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def url(self, path: str) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}{path}"

    # -- content -----------------------------------------------------------------------------
    def set_feed(self, path: str, title: str, entries: list[Entry], *,
                 summary_chars: int | None = None) -> None:
        """Serve an RSS feed at ``path``; ``summary_chars`` cuts each item to a teaser."""
        items = []
        for entry in entries:
            text = entry.body if summary_chars is None else entry.body[:summary_chars]
            description = (entry.paragraphs_html() if summary_chars is None
                           else html.escape(text))
            items.append(
                "<item>"
                f"<title>{html.escape(entry.title)}</title>"
                f"<link>{html.escape(self.url(entry.path))}</link>"
                f"<guid>{html.escape(entry.guid or self.url(entry.path))}</guid>"
                f"<pubDate>{format_datetime(entry.published.replace(tzinfo=dt.UTC))}</pubDate>"
                f"<description>{html.escape(description)}</description>"
                "</item>")
        rss = ('<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
               f"<title>{html.escape(title)}</title><link>{self.url('/')}</link>"
               f"<description>{html.escape(title)} news</description>{''.join(items)}"
               "</channel></rss>")
        self._put(path, rss.encode("utf-8"), "application/rss+xml; charset=utf-8")

    def set_raw(self, path: str, body: bytes, content_type: str) -> None:
        """Serve ``body`` as is at ``path`` (a hand-written feed or page)."""
        self._put(path, body, content_type)

    def set_page(self, entry: Entry, outlet: str) -> None:
        """Serve ``entry`` as an article web page at its own path."""
        page = ("<!DOCTYPE html><html><head><meta charset='utf-8'>"
                f"<title>{html.escape(entry.title)} | {html.escape(outlet)}</title>"
                f"<meta property='og:site_name' content='{html.escape(outlet)}'></head><body>"
                "<nav><a href='/'>Home</a> <a href='/business'>Business</a></nav>"
                f"<article><h1>{html.escape(entry.title)}</h1>{entry.paragraphs_html()}"
                "</article><footer>Copyright the outlet</footer></body></html>")
        self._put(entry.path, page.encode("utf-8"), "text/html; charset=utf-8")

    def fail(self, path: str, status: int = 500) -> None:
        with self._lock:
            self._resources.setdefault(path, _Resource(b"", "text/plain", "", "")).status = status

    def heal(self, path: str) -> None:
        with self._lock:
            self._resources[path].status = 200

    def delay(self, path: str, seconds: float) -> None:
        with self._lock:
            self._resources[path].delay = seconds

    def requests(self, path: str | None = None) -> list[Request]:
        with self._lock:
            return [r for r in self._requests if path is None or r.path == path]

    # -- internals ---------------------------------------------------------------------------
    def _put(self, path: str, body: bytes, content_type: str) -> None:
        etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
        modified = format_datetime(dt.datetime.now(dt.UTC), usegmt=True)
        with self._lock:
            old = self._resources.get(path)
            status, delay = (old.status, old.delay) if old else (200, 0.0)
            self._resources[path] = _Resource(body, content_type, etag, modified, status, delay)

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        path = handler.path.split("?", 1)[0]
        headers = {k.lower(): v for k, v in handler.headers.items()}
        with self._lock:
            resource = self._resources.get(path)
        if resource is not None and resource.delay:
            time.sleep(resource.delay)
        if resource is None or not resource.body and resource.status == 200:
            status, body, extra = 404, b"not found", {}
        elif resource.status != 200:
            status, body, extra = resource.status, b"injected failure", {}
        elif headers.get("if-none-match") == resource.etag:
            status, body, extra = 304, b"", {"ETag": resource.etag}
        else:
            status, body = 200, resource.body
            extra = {"ETag": resource.etag, "Last-Modified": resource.last_modified,
                     "Content-Type": resource.content_type}
        with self._lock:
            self._requests.append(Request(path, headers, status))
        handler.send_response(status)
        for key, value in extra.items():
            handler.send_header(key, value)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        if body:
            handler.wfile.write(body)

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from index.fetch import USER_AGENT, FetchError, FetchResult, fetch

LOCAL = ["127.0.0.1"]  # the test server's address (NEWSBOT_FETCH_ALLOW; see test_netguard.py)
# Tests that are not about time use a deadline a loaded CI machine cannot hit by accident.
AMPLE = 15.0
BODY = b"<rss><channel><title>ok</title></channel></rss>"


class _Handler(BaseHTTPRequestHandler):
    """Routes for every fetch behaviour under test; HTTP/1.0 so bodies end at close."""

    def log_message(self, format: str, *args: object) -> None:  # keep test output clean
        pass

    def do_GET(self) -> None:
        path = self.path
        if path == "/ok":
            self._send(200, BODY, {"Content-Type": "application/rss+xml", "ETag": '"v1"',
                                   "Last-Modified": "Sat, 04 Mar 2017 10:00:00 GMT",
                                   "X-Seen-UA": self.headers.get("User-Agent", "")})
        elif path == "/ua":
            self._send(200, self.headers.get("User-Agent", "").encode(), {})
        elif path == "/conditional":
            if self.headers.get("If-None-Match") == '"v1"':
                self._send(304, b"", {"ETag": '"v1"'})
            else:
                self._send(200, BODY, {"ETag": '"v1"'})
        elif path == "/big":  # no Content-Length: only counting can stop it
            self.send_response(200)
            self.end_headers()
            for _ in range(100):
                if not self._write(b"x" * 1024):
                    return
        elif path == "/big-declared":
            self.send_response(200)
            self.send_header("Content-Length", str(50_000_000))
            self.end_headers()
        elif path == "/slow":  # one byte every 50 ms: per-read timeouts never fire
            self.send_response(200)
            self.send_header("Content-Length", "1000")
            self.end_headers()
            for _ in range(200):  # 10 s in all, far past the deadlines under test
                if not self._write(b"x"):
                    return
                time.sleep(0.05)
        elif path == "/stall":  # headers, then silence
            self.send_response(200)
            self.send_header("Content-Length", "10")
            self.end_headers()
            self.wfile.flush()
            time.sleep(10.0)
        elif path == "/loop":
            self._redirect("/loop")
        elif path == "/ping":
            self._redirect("/pong")
        elif path == "/pong":
            self._redirect("/ping")
        elif path.startswith("/chain/"):
            n = int(path.rsplit("/", 1)[1])
            if n == 0:
                self._send(200, b"end of chain", {})
            else:
                self._redirect(f"/chain/{n - 1}")
        elif path == "/relative":
            self._redirect("ok")
        elif path == "/elsewhere":
            self._redirect("ftp://example.com/file")
        elif path == "/missing":
            self._send(404, b"nope", {})
        else:
            self._send(500, b"boom", {})

    def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        if status != 304:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self._write(body)

    def _redirect(self, location: str) -> None:
        self.send_response(302)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _write(self, data: bytes) -> bool:
        try:
            self.wfile.write(data)
            self.wfile.flush()
            return True
        except OSError:  # the client gave up, as it should
            return False


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_ok_returns_content_and_validators(base_url: str) -> None:
    result = fetch(f"{base_url}/ok", allow=LOCAL, timeout=AMPLE, max_bytes=10_000)
    assert result == FetchResult(
        url=f"{base_url}/ok",
        status=200,
        content=BODY,
        content_type="application/rss+xml",
        etag='"v1"',
        last_modified="Sat, 04 Mar 2017 10:00:00 GMT",
        not_modified=False,
    )
    assert result.mime_type == "application/rss+xml"


def test_user_agent_is_sent(base_url: str) -> None:
    result = fetch(f"{base_url}/ua", allow=LOCAL, timeout=AMPLE, max_bytes=1000)
    assert result.content.decode() == USER_AGENT


def test_conditional_get_returns_not_modified(base_url: str) -> None:
    fresh = fetch(f"{base_url}/conditional", allow=LOCAL, timeout=AMPLE, max_bytes=10_000)
    assert fresh.not_modified is False and fresh.content == BODY
    again = fetch(f"{base_url}/conditional", allow=LOCAL, timeout=AMPLE, max_bytes=10_000,
                  etag=fresh.etag)
    assert again.not_modified is True
    assert again.status == 304 and again.content == b""


def test_size_limit_while_streaming(base_url: str) -> None:
    with pytest.raises(FetchError, match="larger than 5000 bytes"):
        fetch(f"{base_url}/big", allow=LOCAL, timeout=AMPLE, max_bytes=5000)
    # The same resource under a generous limit comes through whole.
    big = fetch(f"{base_url}/big", allow=LOCAL, timeout=AMPLE, max_bytes=200_000)
    assert len(big.content) == 100 * 1024


def test_size_limit_from_declared_length(base_url: str) -> None:
    with pytest.raises(FetchError, match="larger than 1000 bytes"):
        fetch(f"{base_url}/big-declared", allow=LOCAL, timeout=AMPLE, max_bytes=1000)


def test_slow_drip_hits_wall_clock_deadline(base_url: str) -> None:
    started = time.monotonic()
    with pytest.raises(FetchError, match=r"timed out after 0\.4 s") as info:
        fetch(f"{base_url}/slow", allow=LOCAL, timeout=0.4, max_bytes=10_000)
    elapsed = time.monotonic() - started
    assert 0.35 < elapsed < 3.0  # stopped at the deadline, long before the drip ends
    assert "Traceback" not in str(info.value)


def test_stalled_body_times_out(base_url: str) -> None:
    started = time.monotonic()
    with pytest.raises(FetchError, match="timed out"):
        fetch(f"{base_url}/stall", allow=LOCAL, timeout=0.3, max_bytes=10_000)
    assert time.monotonic() - started < 3.0  # the server stays silent for 10 s


def test_redirect_loop_is_named(base_url: str) -> None:
    with pytest.raises(FetchError, match="redirect loop"):
        fetch(f"{base_url}/loop", allow=LOCAL, timeout=AMPLE, max_bytes=1000)
    with pytest.raises(FetchError, match="redirect loop"):
        fetch(f"{base_url}/ping", allow=LOCAL, timeout=AMPLE, max_bytes=1000)


def test_at_most_five_redirects(base_url: str) -> None:
    result = fetch(f"{base_url}/chain/5", allow=LOCAL, timeout=AMPLE, max_bytes=1000)
    assert result.content == b"end of chain"
    assert result.url == f"{base_url}/chain/0"
    with pytest.raises(FetchError, match="too many redirects"):
        fetch(f"{base_url}/chain/6", allow=LOCAL, timeout=AMPLE, max_bytes=1000)


def test_relative_redirect_is_followed(base_url: str) -> None:
    result = fetch(f"{base_url}/relative", allow=LOCAL, timeout=AMPLE, max_bytes=10_000)
    assert result.url == f"{base_url}/ok" and result.content == BODY


def test_redirect_to_other_scheme_is_refused(base_url: str) -> None:
    with pytest.raises(FetchError, match="only http and https"):
        fetch(f"{base_url}/elsewhere", allow=LOCAL, timeout=AMPLE, max_bytes=1000)


def test_http_errors_name_the_status(base_url: str) -> None:
    with pytest.raises(FetchError, match=r"HTTP 404 Not Found"):
        fetch(f"{base_url}/missing", allow=LOCAL, timeout=AMPLE, max_bytes=1000)
    with pytest.raises(FetchError, match=r"HTTP 500"):
        fetch(f"{base_url}/whatever", allow=LOCAL, timeout=AMPLE, max_bytes=1000)


def test_fetch_error_is_a_value_error() -> None:
    assert issubclass(FetchError, ValueError)


@pytest.mark.parametrize("url", ["ftp://example.com/feed", "file:///etc/passwd", "example.com"])
def test_only_http_schemes(url: str) -> None:
    with pytest.raises(FetchError, match="only http and https"):
        fetch(url, timeout=1, max_bytes=1000)


def test_connection_refused_is_a_fetch_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(FetchError, match=f"could not connect to 127.0.0.1:{port}"):
        fetch(f"http://127.0.0.1:{port}/", allow=LOCAL, timeout=AMPLE, max_bytes=1000)

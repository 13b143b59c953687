"""The HTTP side of the fake Bot API: a ``ThreadingHTTPServer`` on 127.0.0.1 in a thread of
its own (one thread per connection, so a long poll never blocks other calls). It decodes the
query string and a form-encoded or JSON body into parameters, hands them with the path to a
route function, and writes back its (status, JSON body)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, cast
from urllib.parse import parse_qsl, urlsplit

from tests.e2e.fakeapi.records import JSON, ApiError, bad_request

Route = Callable[[str, JSON], tuple[int, JSON]]

# Form fields that are plain strings even when they look like JSON ("123", "true").
STRING_FIELDS = {
    "text",
    "parse_mode",
    "callback_query_id",
    "action",
    "url",
    "secret_token",
    "caption",
    "language_code",
    "business_connection_id",
    "inline_message_id",
    "ip_address",
}


def decode_form(pairs: Iterable[tuple[str, str]]) -> Iterable[tuple[str, Any]]:
    """Form values arrive as strings; PTB JSON-encodes the non-string ones."""
    for key, value in pairs:
        if key in STRING_FIELDS:
            yield key, value
            continue
        try:
            yield key, json.loads(value)
        except ValueError:
            yield key, value


class FakeApiServer:
    """Serves ``route`` over HTTP on a free port of 127.0.0.1 between ``start`` and ``stop``."""

    def __init__(self, route: Route) -> None:
        self.route = route
        self._server: _RoutingServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._server = _RoutingServer(self.route)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="fake-bot-api",
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    @property
    def port(self) -> int:
        assert self._server is not None, "server not started"
        return int(self._server.server_address[1])


class _RoutingServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, route: Route) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.route = route


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # The status line and headers go out in one write and the body in a second: with Nagle's
    # algorithm on, the body waits for the client's (delayed, ~40 ms) ACK of the headers on
    # a kept-alive connection, adding ~40 ms to a call: a stall of the fake, not of the bot.
    disable_nagle_algorithm = True

    def do_POST(self) -> None:
        self._serve()

    def do_GET(self) -> None:
        self._serve()

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep test output clean

    def _serve(self) -> None:
        url = urlsplit(self.path)
        try:
            params = dict(decode_form(parse_qsl(url.query, keep_blank_values=True)))
            params.update(self._body())
            status, body = cast(_RoutingServer, self.server).route(url.path, params)
        except ApiError as exc:
            status, body = exc.code, exc.body()
        payload = json.dumps(body).encode("utf-8")
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up (e.g. a cancelled long poll)

    def _body(self) -> JSON:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if not raw:
            return {}
        kind = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if kind == "application/json":
            try:
                data = json.loads(raw)
            except ValueError:
                raise bad_request("can't parse JSON body") from None
            if not isinstance(data, dict):
                raise bad_request("JSON body must be an object")
            return data
        if kind == "application/x-www-form-urlencoded":
            return dict(decode_form(parse_qsl(raw.decode("utf-8"), keep_blank_values=True)))
        raise bad_request(f"unsupported content type {kind!r} in the fake server")

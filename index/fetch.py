"""Download one feed or page, defensively: bounded in size, in time and in redirects.

Feeds are polled unattended, so a hostile or broken server must not be able to hang the
poller (slow-drip responses), fill memory (endless bodies) or bounce it around forever
(redirect loops). Every failure becomes a ``FetchError`` whose message can be shown to an
operator as is.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import httpx

from index.netguard import AddressRefused, FetchAllow, guarded_transport

USER_AGENT = "newsbot/0.1 (+https://github.com/newsbot)"
MAX_REDIRECTS = 5
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})


class FetchError(ValueError):
    """A fetch failed; ``str(error)`` is a one-line, human-readable reason."""


class FetchRefused(FetchError):
    """The URL (or a redirect hop) leads to an address that is not public internet."""


@dataclass(slots=True, frozen=True)
class FetchResult:
    """What a fetch returned. ``not_modified`` is True for a 304 (``content`` is empty)."""

    url: str = ""  # after redirects
    status: int = 0
    content: bytes = b""
    content_type: str | None = None  # the raw header, e.g. "text/html; charset=utf-8"
    etag: str | None = None
    last_modified: str | None = None
    not_modified: bool = False

    @property
    def mime_type(self) -> str:
        """The content type without parameters, lowercased ("" when unknown)."""
        return (self.content_type or "").split(";", 1)[0].strip().lower()


def fetch(
    url: str,
    *,
    timeout: float,
    max_bytes: int,
    etag: str | None = None,
    last_modified: str | None = None,
    allow: Iterable[str] = (),
) -> FetchResult:
    """GET ``url`` following at most 5 redirects, within ``timeout`` seconds in total.

    Only public internet addresses are connected to (``index.netguard``), at every
    redirect hop; ``allow`` (``NEWSBOT_FETCH_ALLOW``) names private hosts, IPs or networks
    an operator's own feeds live on.

    ``etag``/``last_modified`` make the request conditional; an unchanged resource comes
    back as ``FetchResult(not_modified=True)``. Raises ``FetchError`` for anything else
    that is not a 2xx with at most ``max_bytes`` of (decoded) content.
    """
    _check_scheme(url)
    deadline = time.monotonic() + timeout
    headers = {"User-Agent": USER_AGENT}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    seen: list[str] = []
    current = url
    try:
        transport = guarded_transport(FetchAllow.parse(allow))
        with httpx.Client(follow_redirects=False, headers=headers, transport=transport,
                          trust_env=False) as client:
            while True:
                seen.append(current)
                result, location = _get_once(client, current, deadline, timeout, max_bytes)
                if location is None:
                    assert result is not None
                    return result
                target = urljoin(current, location)
                _check_scheme(target)
                if target in seen:
                    raise FetchError(f"redirect loop fetching {url} (back to {target})")
                if len(seen) > MAX_REDIRECTS:
                    raise FetchError(
                        f"too many redirects fetching {url} (more than {MAX_REDIRECTS})"
                    )
                current = target
    except AddressRefused as exc:
        where = url if current == url else f"{url} (redirected to {current})"
        raise FetchRefused(f"{where}: {exc}") from None
    except httpx.TimeoutException:
        raise FetchError(f"timed out after {timeout:g} s fetching {url}") from None
    except httpx.InvalidURL:
        raise FetchError(f"invalid URL {url!r}") from None
    except httpx.ConnectError as exc:
        raise FetchError(f"could not connect to {_host(current)}: {_short(exc)}") from None
    except httpx.HTTPError as exc:
        raise FetchError(f"network error fetching {url}: {_short(exc)}") from None


def _get_once(
    client: httpx.Client, url: str, deadline: float, timeout: float, max_bytes: int
) -> tuple[FetchResult | None, str | None]:
    """One request; returns (result, None) or (None, redirect location)."""
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise FetchError(f"timed out after {timeout:g} s fetching {url}")
    with client.stream("GET", url, timeout=httpx.Timeout(remaining)) as response:
        status = response.status_code
        if status in _REDIRECT_STATUSES:
            location = response.headers.get("location")
            if not location:
                raise FetchError(f"HTTP {status} redirect without a Location from {url}")
            return None, location
        etag = response.headers.get("etag")
        last_modified = response.headers.get("last-modified")
        content_type = response.headers.get("content-type")
        if status == 304:
            return FetchResult(
                url=str(response.url), status=304, etag=etag,
                last_modified=last_modified, content_type=content_type, not_modified=True,
            ), None
        if not 200 <= status < 300:
            reason = response.reason_phrase or "error"
            raise FetchError(f"HTTP {status} {reason} from {url}")
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > max_bytes:
            raise FetchError(f"{url} is larger than {max_bytes} bytes ({declared} declared)")
        content = _read_bounded(response, url, deadline, timeout, max_bytes)
        return FetchResult(
            url=str(response.url), status=status, content=content,
            content_type=content_type, etag=etag, last_modified=last_modified,
        ), None


def _read_bounded(
    response: httpx.Response, url: str, deadline: float, timeout: float, max_bytes: int
) -> bytes:
    """Read the body, stopping past ``max_bytes`` or the wall-clock ``deadline``.

    Per-read timeouts alone let a server that sends one byte a second run forever; the
    deadline is checked after every chunk. A single stalled read is bounded by the
    request's read timeout, which was set to the time remaining when it started.
    """
    parts: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > max_bytes:
            raise FetchError(f"{url} is larger than {max_bytes} bytes")
        if time.monotonic() > deadline:
            raise FetchError(f"timed out after {timeout:g} s fetching {url}")
        parts.append(chunk)
    return b"".join(parts)


def _check_scheme(url: str) -> None:
    try:
        parts = urlsplit(url)
    except ValueError:
        raise FetchError(f"invalid URL {url!r}") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise FetchError(f"only http and https URLs can be fetched, not {url!r}")


def _host(url: str) -> str:
    try:
        return urlsplit(url).netloc or url
    except ValueError:
        return url


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:200]

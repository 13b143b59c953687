"""Turn a source (URL, directory or file) into normalized articles and load problems.

``load_source`` is the one entry point. It never raises: whatever goes wrong inside one
file or URL becomes a ``LoadProblem`` naming it, so one bad file cannot stop an ingest of
thousands. The format loaders yield raw text; this module normalizes every article in one
place (so no loader can forget) and folds many alike problems from one file into one.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

from index.models import Article, LoadItem, LoadProblem
from index.normalize import link_topics, normalize_body, normalize_text
from index.settings import IndexSettings

SUPPORTED_EXTENSIONS = (".txt", ".md", ".jsonl", ".csv", ".xml", ".rss", ".atom")
_FEED_EXTENSIONS = (".xml", ".rss", ".atom")
_FEED_MIME_TYPES = frozenset({
    "application/rss+xml", "application/atom+xml", "application/rdf+xml",
    "application/feed+json",
})
_FEED_ROOTS = (b"<rss", b"<feed", b"<rdf:rdf")
_URL = re.compile(r"^https?://", re.IGNORECASE)
_OTHER_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)
_MAX_LISTED = 10


def load_source(source: str, settings: IndexSettings) -> Iterator[LoadItem]:
    """Yield articles and problems from an http(s) URL, a directory or a file."""
    source = source.strip()
    if _URL.match(source):
        yield from load_guarded(source, "", lambda: _load_url(source, settings))
        return
    if source.lower().startswith("file://"):
        source = source[len("file://") :]
    elif _OTHER_SCHEME.match(source):
        scheme = source.split(":", 1)[0]
        yield LoadProblem("failed", source, f"unsupported URL scheme '{scheme}'")
        return
    path = Path(source).expanduser()
    try:
        if path.is_dir():
            yield from _load_directory(path, settings)
        elif path.exists():
            yield from _load_file(path, settings)
        else:
            yield LoadProblem("failed", source, "no such file or directory")
    except OSError as exc:  # e.g. an unreadable directory
        yield LoadProblem("failed", source, problem_reason(exc))


def _load_directory(top: Path, settings: IndexSettings) -> Iterator[LoadItem]:
    found = False
    for dirpath, dirnames, filenames in os.walk(top):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if name.startswith(".") or not name.lower().endswith(SUPPORTED_EXTENSIONS):
                continue
            found = True
            yield from _load_file(Path(dirpath) / name, settings)
    if not found:
        kinds = " ".join(SUPPORTED_EXTENSIONS)
        yield LoadProblem("skipped", str(top), f"no supported files ({kinds})")


def _load_file(path: Path, settings: IndexSettings) -> Iterator[LoadItem]:
    where = str(path)
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_EXTENSIONS:
        kinds = " ".join(SUPPORTED_EXTENSIONS)
        yield LoadProblem("failed", where, f"unsupported file type '{suffix}' ({kinds})")
        return
    try:
        size = path.stat().st_size
    except OSError as exc:
        yield LoadProblem("failed", where, problem_reason(exc))
        return
    if size > settings.max_file_bytes:
        yield LoadProblem(
            "failed", where,
            f"file is larger than {settings.max_file_bytes} bytes ({size} bytes; "
            "raise NEWSBOT_MAX_FILE_BYTES to load it)",
        )
        return
    label = "rows" if suffix == ".csv" else "lines"
    yield from load_guarded(where, label, lambda: _file_items(path, suffix))


def _file_items(path: Path, suffix: str) -> Iterator[LoadItem]:
    if suffix in (".txt", ".md"):
        from index.loaders.textfile import load_text_file

        return load_text_file(path)
    if suffix == ".jsonl":
        from index.loaders.jsonl import load_jsonl

        return load_jsonl(path)
    if suffix == ".csv":
        from index.loaders.csvfile import load_csv

        return load_csv(path)
    from index.loaders.feed import load_feed

    return load_feed(path.read_bytes(), str(path), fallback_source=path.stem)


def _load_url(url: str, settings: IndexSettings) -> Iterator[LoadItem]:
    from index.fetch import FetchError, fetch

    try:
        result = fetch(url, timeout=settings.fetch_timeout, max_bytes=settings.fetch_max_bytes,
                       allow=settings.fetch_allow)
    except FetchError as exc:
        yield LoadProblem("failed", url, str(exc))
        return
    host = (urlsplit(result.url).hostname or url).removeprefix("www.")
    if looks_like_feed(result.content, result.mime_type):
        from index.loaders.feed import load_feed

        yield from load_feed(result.content, result.url, fallback_source=host)
    else:
        from index.loaders.webpage import load_webpage

        yield from load_webpage(result.content, result.url)


def looks_like_feed(content: bytes, mime_type: str = "") -> bool:
    """True for RSS/Atom: a feed root element near the start, or a feed content type.

    The bytes are sniffed first because servers often label feeds ``text/html`` or
    ``text/xml`` and pages ``application/xml``.
    """
    head = content[:4096].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    html_at = head.find(b"<html")
    for root in _FEED_ROOTS:
        at = head.find(root)
        if at != -1 and (html_at == -1 or at < html_at):
            return True
    return mime_type in _FEED_MIME_TYPES


def load_guarded(
    where: str, label: str, produce: Callable[[], Iterable[LoadItem]]
) -> Iterator[LoadItem]:
    """Normalize what one file/URL yields, fold alike problems, and turn any exception
    into a final ``LoadProblem`` instead of letting it end the whole ingest."""
    problems: list[LoadProblem] = []
    try:
        for item in produce():
            if isinstance(item, LoadProblem):
                problems.append(item)
                continue
            finished = _finish(item)
            if isinstance(finished, LoadProblem):
                problems.append(finished)
            else:
                yield finished
    except Exception as exc:  # noqa: BLE001 - the point is that nothing escapes
        problems.append(LoadProblem("failed", where, problem_reason(exc)))
    yield from _fold(problems, where, label)


def _finish(article: Article) -> Article | LoadProblem:
    """The single place where every article gets its canonical text."""
    if not article.link_topics:
        article.link_topics = link_topics(article.body)
    article.body = normalize_body(article.body)
    if not article.body:
        return LoadProblem("skipped", article.origin or article.id, "empty body")
    article.title = normalize_text(article.title)
    article.source = normalize_text(article.source) or "unknown"
    article.category = normalize_text(article.category) or None
    return article


def _fold(problems: list[LoadProblem], where: str, label: str) -> list[LoadProblem]:
    """One problem per (kind, reason) in a file; line/row numbers listed in the reason.

    Each folded problem keeps the total in ``count`` and names up to ten of the lines, so
    a file with thousands of empty records reports once but stays easy to fix.
    """
    groups: dict[tuple[str, str], list[LoadProblem]] = {}
    for problem in problems:
        groups.setdefault((problem.kind, problem.reason), []).append(problem)
    folded: list[LoadProblem] = []
    for (kind, reason), group in groups.items():
        if len(group) == 1:
            folded.append(group[0])
            continue
        prefix = f"{where}:"
        numbers = [
            p.where[len(prefix) :] for p in group
            if p.where.startswith(prefix) and p.where[len(prefix) :].isdigit()
        ]
        listed = ", ".join(numbers[:_MAX_LISTED]) + (", …" if len(numbers) > _MAX_LISTED else "")
        detail = f" ({label} {listed})" if listed and label else ""
        folded.append(
            LoadProblem(kind, where or group[0].where, reason + detail,  # type: ignore[arg-type]
                        count=sum(p.count for p in group))
        )
    return folded


def problem_reason(exc: BaseException) -> str:
    """A short, traceback-free reason for an unexpected error."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror[:1].lower() + exc.strerror[1:]
    if isinstance(exc, UnicodeError):
        return "could not decode the text"
    lines = str(exc).strip().splitlines()
    message = lines[0] if lines else ""
    name = type(exc).__name__
    return (f"{name}: {message}" if message else name)[:200]

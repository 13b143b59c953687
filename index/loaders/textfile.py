"""Plain ``.txt``/``.md`` articles and the seed format, plus the byte decoder all loaders share.

The seed format is a few ``key value`` header lines (``date 2017-03-04``) and then the
body. Headers are recognised conservatively: a file that merely starts with the word
"Source" or "Title" must not lose its first sentence to a header.
"""

from __future__ import annotations

import codecs
import os
import re
import unicodedata
from collections.abc import Iterator
from pathlib import Path

from index.models import Article, LoadItem, LoadProblem
from index.normalize import canonical_url
from index.pubdates import parse_published

HEADER_KEYS = ("date", "title", "source", "url", "category")
_HEADER = re.compile(
    r"^\s*(date|title|source|url|category)(?:\s*:\s*|\s+)(.*?)\s*$", re.IGNORECASE
)
_NUMERIC_DATE_PREFIX = re.compile(
    r"(?:\d{4}-\d{2}-\d{2}(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?"
    r"|\d{4}/\d{1,2}/\d{1,2}|\d{1,2}[/.-]\d{1,2}[/.-]\d{4})(?=\s|$)"
)
_MD_HEADING = re.compile(r"^\s{0,3}#\s+(.+?)\s*#*\s*$")
_SNIFF_BYTES = 8192
# Legacy single-byte code pages for Latin script. charset-normalizer cannot tell these
# apart reliably (it calls a cp1252 export "cp1250" and turns "ñ" into "ń"); cp1252 is by
# far the most common of them in the wild, so it wins whenever it decodes the bytes.
_LATIN_CODEPAGES = frozenset({
    "cp1250", "cp1252", "cp1254", "cp1257", "latin_1", "iso8859_1", "iso8859_2",
    "iso8859_3", "iso8859_4", "iso8859_9", "iso8859_10", "iso8859_13", "iso8859_14",
    "iso8859_15", "iso8859_16", "mac_roman", "mac_latin2", "mac_iceland", "cp850", "cp437",
    "cp858", "cp852",
})


def load_text_file(path: Path) -> Iterator[LoadItem]:
    """Yield the one article in a ``.txt``/``.md`` file (raw body; the caller normalizes)."""
    data = path.read_bytes()
    if is_binary(data):
        yield LoadProblem("failed", str(path), "binary file")
        return
    text = decode_bytes(data)
    headers, body, note = split_headers(text)
    title = headers.get("title", "")
    if path.suffix.lower() == ".md":
        title, body = _take_md_heading(title, body)
    url = headers.get("url") or None
    published = parse_published(headers["date"]) if headers.get("date") else None
    # abspath, not resolve(): a symlinked folder keeps the name the operator gave it.
    absolute = Path(os.path.abspath(path))
    yield Article(
        id=path.stem,
        title=title,
        published_at=published,
        source=headers.get("source") or absolute.parent.name,
        url=url,
        category=headers.get("category") or None,
        body=body,
        origin=str(path),
        key=canonical_url(url) or f"file:{absolute}",
        note=note,
    )


def split_headers(text: str) -> tuple[dict[str, str], str, str | None]:
    """Split leading header lines from the body: ``(headers, body, note)``.

    A header ends at the first line that is not one. ``key: value`` is always a header;
    the bare ``key value`` form counts when its value is a real date or URL, or when some
    other line in the block does. ``date`` and ``url`` take one value and whatever else
    is on the line starts the body (the seed file reads "date 2017-03-04 ISLAMABAD - …").
    """
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    candidates: list[tuple[str, str, bool, str]] = []  # key, value, strong, rest of line
    for line in lines:
        parsed = _parse_header_line(line)
        if parsed is None:
            break
        candidates.append(parsed)
        if parsed[3]:
            break  # the body started on this line
    if not any(strong for _, _, strong, _ in candidates):
        return {}, text, None
    headers: dict[str, str] = {}
    note = None
    for key, value, _, _ in candidates:
        headers.setdefault(key, value)
    if headers.get("date") and parse_published(headers["date"]) is None:
        note = f"unparseable date '{headers['date'][:40]}'"
    rest = candidates[-1][3]
    body_lines = ([rest] if rest else []) + lines[len(candidates) :]
    return headers, "\n".join(body_lines), note


def _parse_header_line(line: str) -> tuple[str, str, bool, str] | None:
    match = _HEADER.match(line)
    if not match:
        return None
    key, value = match.group(1).lower(), match.group(2)
    has_colon = ":" in line[match.end(1) : match.start(2)]
    if key == "date":
        if has_colon:
            return key, value, True, ""
        split = _split_date_prefix(value)
        return None if split is None else (key, split[0], True, split[1])
    if key == "url":
        first, _, rest = value.partition(" ")
        if canonical_url(first) is None:
            return None
        return key, first, True, rest.strip()
    if not value and not has_colon:
        return None
    return key, value, has_colon, ""


def _split_date_prefix(value: str) -> tuple[str, str] | None:
    """The date at the start of ``value`` and the rest: a numeric date (the usual case,
    found without trying prose parsing), else the longest run of up to six words that
    parses as a date ("March 4, 2017 ISLAMABAD - …")."""
    numeric = _NUMERIC_DATE_PREFIX.match(value)
    if numeric and parse_published(numeric.group(0)) is not None:
        return numeric.group(0), value[numeric.end() :].strip()
    words = value.split()
    for n in range(min(6, len(words)), 0, -1):
        candidate = " ".join(words[:n])
        if parse_published(candidate) is not None:
            return candidate, " ".join(words[n:])
    return None


def _take_md_heading(title: str, body: str) -> tuple[str, str]:
    lines = body.split("\n")
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        match = _MD_HEADING.match(line)
        if match and (not title or match.group(1) == title):
            return title or match.group(1), "\n".join(lines[:i] + lines[i + 1 :])
        break
    return title, body


def is_binary(data: bytes) -> bool:
    """True for bytes that are not text: a NUL byte, or many control characters, in the
    first 8 KB. UTF-16/32 text (which is full of NULs) is recognised by its BOM first."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF32_LE,
                        codecs.BOM_UTF32_BE)):
        return False
    head = data[:_SNIFF_BYTES]
    if b"\x00" in head:
        return True
    if not head:
        return False
    controls = sum(1 for b in head if (b < 32 and b not in (9, 10, 12, 13)) or b == 127)
    return controls / len(head) > 0.1


def decode_bytes(data: bytes) -> str:
    """Decode text of unknown encoding without ever raising.

    Order: BOMs (UTF-8, UTF-32, UTF-16); strict UTF-8; UTF-8 with a few broken bytes;
    charset-normalizer's guess (cp1252 preferred among Latin code pages); cp1252; latin-1.
    """
    for bom, encoding in (
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF32_LE, "utf-32"),
        (codecs.BOM_UTF32_BE, "utf-32"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if data.startswith(bom):
            return data.decode(encoding, errors="replace").lstrip("\ufeff")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    mostly_utf8 = _mostly_utf8(data)
    if mostly_utf8 is not None:
        return mostly_utf8
    guessed = _charset_guess(data)
    if guessed is not None:
        return guessed
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _mostly_utf8(data: bytes) -> str | None:
    """UTF-8 text with a stray bad byte or two (a truncated copy, one pasted cp1252 quote)
    decodes better as UTF-8 with replacement characters than as any single-byte guess."""
    text = data.decode("utf-8", errors="replace")
    bad = text.count("\ufffd")
    good = sum(1 for ch in text if ord(ch) > 127 and ch != "\ufffd")
    return text if good >= 2 and bad * 2 <= good else None


def _charset_guess(data: bytes) -> str | None:
    try:
        from charset_normalizer import from_bytes

        best = from_bytes(data).best()
    except Exception:  # noqa: BLE001 - a detector bug must not stop the load
        return None
    if best is None:
        return None
    encoding = codecs.lookup(best.encoding).name.replace("-", "_")
    if encoding in _LATIN_CODEPAGES:
        try:
            return data.decode("cp1252")
        except UnicodeDecodeError:
            pass
    text = str(best)
    # A guess full of control characters is a wrong guess.
    controls = sum(
        1 for ch in text[:4000] if unicodedata.category(ch) == "Cc" and ch not in "\n\r\t"
    )
    return None if controls > 10 else text

"""CSV exports with a header row, as news sites and Kaggle publish them.

Real exports are messy: legacy encodings, column names that vary by outlet, US-style and
ISO dates mixed in one column, and thousands of empty rows. Columns are found by role
(body, date, title, …) from a list of common names; empty rows become one counted problem
rather than thousands of identical ones.
"""

from __future__ import annotations

import csv
import io
import sys
from collections.abc import Iterator
from pathlib import Path

from index.loaders.textfile import decode_bytes, is_binary
from index.models import Article, LoadItem, LoadProblem
from index.normalize import canonical_url
from index.pubdates import parse_published

COLUMN_NAMES: dict[str, tuple[str, ...]] = {
    "body": ("article", "body", "text", "content", "story"),
    "date": ("date", "published", "published_at", "pubdate", "datetime"),
    "title": ("heading", "title", "headline"),
    "category": ("newstype", "category", "section", "type"),
    "url": ("url", "link"),
    "source": ("source", "outlet", "publisher", "site"),
    "id": ("id", "article_id", "guid"),
}
_DELIMITERS = (",", ";", "\t", "|")


def load_csv(path: Path) -> Iterator[LoadItem]:
    """Yield one article (raw body; the caller normalizes) per row that has a body."""
    data = path.read_bytes()
    if is_binary(data):
        yield LoadProblem("failed", str(path), "binary file")
        return
    text = decode_bytes(data)
    _raise_field_limit()
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    header = next(reader, None)
    if header is None or not any(cell.strip() for cell in header):
        yield LoadProblem("skipped", str(path), "empty file")
        return
    columns = _match_columns(header)
    if "body" not in columns:
        found = ", ".join(cell.strip() for cell in header if cell.strip())
        expected = ", ".join(COLUMN_NAMES["body"])
        yield LoadProblem(
            "failed", str(path), f"no body column (found: {found}; expected one of: {expected})"
        )
        return
    empty_rows = 0
    for row_number, row in enumerate(reader, start=1):
        if not any(cell.strip() for cell in row):
            empty_rows += 1
            continue
        yield _row_article(row, columns, path, row_number)
    if empty_rows:
        yield LoadProblem("skipped", str(path), "empty rows", count=empty_rows)


def _row_article(
    row: list[str], columns: dict[str, int], path: Path, row_number: int
) -> LoadItem:
    def cell(role: str) -> str:
        index = columns.get(role)
        return row[index].strip() if index is not None and index < len(row) else ""

    where = f"{path}:{row_number}"
    body = cell("body")
    if not body:
        return LoadProblem("skipped", where, "empty body")
    raw_date = cell("date")
    published = parse_published(raw_date) if raw_date else None
    note = f"unparseable date '{raw_date[:40]}'" if raw_date and published is None else None
    url = cell("url") or None
    return Article(
        id=cell("id") or f"{path.stem}:{row_number}",
        title=cell("title"),
        published_at=published,
        source=cell("source") or path.stem,
        url=url,
        category=cell("category") or None,
        body=body,
        origin=where,
        key=canonical_url(url),
        note=note,
    )


def _match_columns(header: list[str]) -> dict[str, int]:
    """Map each role to the first column whose (normalized) name is one of its names."""
    normalized = [
        cell.strip().lstrip("\ufeff").lower().replace(" ", "_").replace("-", "_")
        for cell in header
    ]
    columns: dict[str, int] = {}
    for role, names in COLUMN_NAMES.items():
        for name in names:
            if name in normalized:
                columns[role] = normalized.index(name)
                break
    return columns


def _delimiter(text: str) -> str:
    """The header line's most frequent delimiter; commas unless another clearly wins."""
    first_line = text.split("\n", 1)[0]
    counts = {d: first_line.count(d) for d in _DELIMITERS}
    best = max(_DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] > counts[","] else ","


def _raise_field_limit() -> None:
    """Article bodies exceed the csv module's 128 KB default field limit."""
    limit = sys.maxsize
    while True:
        try:
            csv.field_size_limit(limit)
            return
        except OverflowError:
            limit //= 10

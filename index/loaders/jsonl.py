"""The corpus JSONL format: one article object per line (README, "Input formats").

Keys: ``body`` (required, text), ``id``, ``title`` (may be empty), ``published_at`` (ISO
date or datetime), ``source``, ``url`` and ``category`` (each may be null or absent).
A missing ``source`` is the file's name; a missing ``id`` its name and line number.

Read line by line so a large corpus streams; one bad line costs that line only, and its
problem names the line number so an operator can open the file at it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from index.loaders.textfile import decode_bytes
from index.models import Article, LoadItem, LoadProblem
from index.normalize import canonical_url
from index.pubdates import parse_published


def load_jsonl(path: Path) -> Iterator[LoadItem]:
    """Yield an article (raw body; the caller normalizes) or a problem per non-blank line."""
    seen: dict[str | None, tuple[int, int]] = {}  # key -> (first line, body hash)
    with path.open("rb") as handle:
        for lineno, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            where = f"{path}:{lineno}"
            try:
                text = raw.decode("utf-8-sig" if lineno == 1 else "utf-8")
            except UnicodeDecodeError:
                text = decode_bytes(raw)
            try:
                record = json.loads(text)
            except json.JSONDecodeError as exc:
                yield LoadProblem("failed", where, f"invalid JSON ({exc.msg})")
                continue
            item = _article(record, path, lineno, where)
            if isinstance(item, Article):
                # The same id twice in one file with different bodies is a data error: the
                # later line would silently replace the earlier story (same key).
                first = seen.setdefault(item.key, (lineno, hash(item.body)))
                if first[0] != lineno and first[1] != hash(item.body):
                    item = LoadProblem(
                        "failed", where,
                        f"duplicate id '{item.id[:60]}' with a different body (first on line "
                        f"{first[0]}): line skipped; give each article its own id")
            yield item


def _article(record: Any, path: Path, lineno: int, where: str) -> LoadItem:
    if not isinstance(record, dict):
        return LoadProblem("failed", where, "not a JSON object")
    body = record.get("body")
    if body is None or body == "":
        return LoadProblem("skipped", where, "empty body")
    if not isinstance(body, str):
        return LoadProblem("failed", where, "'body' is not a string")
    source = _text(record.get("source")) or path.stem
    ext_id = _text(record.get("id")) or f"{path.stem}:{lineno}"
    url = _text(record.get("url")) or None
    raw_date = _text(record.get("published_at"))
    published = parse_published(raw_date) if raw_date else None
    note = f"unparseable date '{raw_date[:40]}'" if raw_date and published is None else None
    return Article(
        id=ext_id,
        title=_text(record.get("title")),
        published_at=published,
        source=source,
        url=url,
        category=_text(record.get("category")) or None,
        body=body,
        origin=where,
        key=canonical_url(url) or f"id:{source}:{ext_id}",
        note=note,
    )


def _text(value: Any) -> str:
    """A field as text: None is "", numbers are tolerated (ids are often integers)."""
    if value is None or isinstance(value, (dict, list)):
        return ""
    return str(value).strip()

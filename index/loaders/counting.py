"""How many records a set of sources holds, counted cheaply before an ingest, so its
progress bar can show a total and an ETA.

An estimate from bytes, not a parse: a JSONL file counts its non-blank lines, a CSV file
its lines after the header (a quoted field with a line break counts twice), a feed file
its ``<item``/``<entry`` tags, a text or Markdown file one. URLs cannot be counted without
fetching them, so any URL makes the total unknown (``None``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path

from index.loaders import SUPPORTED_EXTENSIONS

_READ_BYTES = 1 << 20
_FEED_ENTRY = re.compile(rb"<(item|entry)[\s>]", re.IGNORECASE)
_URL = re.compile(r"^https?://", re.IGNORECASE)


def count_records(sources: Iterable[str]) -> int | None:
    """Records in ``sources`` (files and folders as ``load_source`` reads them), or None
    when one of them cannot be counted up front."""
    total = 0
    for source in sources:
        source = source.strip()
        if _URL.match(source):
            return None
        path = Path(source.removeprefix("file://")).expanduser()
        try:
            total += _count_path(path)
        except OSError:
            total += 1  # the ingest reports it as one failed record
    return total


def _count_path(path: Path) -> int:
    if not path.is_dir():
        return _count_file(path)
    count = 0
    for dirpath, dirnames, filenames in os.walk(path):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        for name in filenames:
            if not name.startswith(".") and name.lower().endswith(SUPPORTED_EXTENSIONS):
                count += _count_file(Path(dirpath) / name)
    return count


def _count_file(path: Path) -> int:
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        return _lines(path, skip_blank=True)
    if suffix == ".csv":
        return max(0, _lines(path, skip_blank=True) - 1)
    if suffix in (".xml", ".rss", ".atom"):
        return max(1, len(_FEED_ENTRY.findall(path.read_bytes())))
    return 1


def _lines(path: Path, *, skip_blank: bool) -> int:
    """Lines in a file read in blocks (a large JSONL file is never held whole)."""
    count, last, blank = 0, b"\n", 0
    with path.open("rb") as fh:
        while block := fh.read(_READ_BYTES):
            count += block.count(b"\n")
            if skip_blank:
                blank += len(re.findall(rb"\n[ \t\r]*(?=\n)", last[-1:] + block))
            last = block
    if not last.endswith(b"\n"):
        count += 1  # a last line without a newline
    return count - blank

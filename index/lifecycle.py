"""Generations on disk: which one is live, the fallback when the pointer is damaged,
cleanup of abandoned ones, and the one sequence that builds a new generation and swaps it in.

``data_dir/CURRENT`` names the live generation. A rebuild (or a re-embed) fills a new
generation beside it and then replaces ``CURRENT`` by an atomic rename, so a crash at any
instant leaves either the old or the new generation live — never a mix.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import sqlite3
import time
import uuid
from pathlib import Path
from types import TracebackType

from index.generation import SQLITE_NAME, Generation
from index.store import Store
from index.vectors import fsync_dir

log = logging.getLogger(__name__)

CURRENT = "CURRENT"
STALE_GENERATION_SECONDS = 3600
COMPLETE_META = "complete"  # set in a generation once it is (or was) live
SOURCES_META = "sources"  # JSON list of the sources a rebuild reads again
_GEN_NAME = re.compile(r"^gen-[A-Za-z0-9_.-]+$")


def current_dir(data_dir: Path) -> Path | None:
    pointer = data_dir / CURRENT
    if not pointer.exists():
        return None
    name = pointer.read_text().strip()
    return data_dir / name if name else None


def new_dir(data_dir: Path) -> Path:
    # Microseconds keep names in creation order (the pointer fallback picks the newest by
    # name); the random suffix only guards against two processes in the same microsecond.
    now = time.time()
    name = (time.strftime("gen-%Y%m%dT%H%M%S", time.localtime(now))
            + f"{int(now * 1_000_000) % 1_000_000:06d}-" + uuid.uuid4().hex[:6])
    path = data_dir / name
    path.mkdir(parents=True)
    return path


def point_current(data_dir: Path, directory: Path) -> None:
    """Atomically make ``directory`` the live generation."""
    tmp = data_dir / (CURRENT + ".tmp")
    with open(tmp, "w") as fh:
        fh.write(directory.name + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, data_dir / CURRENT)
    fsync_dir(data_dir)


class NewGeneration:
    """A generation built beside the live one. Used as a context manager: if the block
    fails (or is cancelled) before ``publish``, the half-built generation is closed and
    deleted and the live one is untouched."""

    def __init__(self, data_dir: Path, dim: int, model: str) -> None:
        self.data_dir = data_dir
        self.gen = Generation.open(new_dir(data_dir), dim, model)
        self.published = False

    def __enter__(self) -> NewGeneration:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        if kind is not None and not self.published:
            self.gen.close()
            shutil.rmtree(self.gen.dir, ignore_errors=True)

    def swapping(self) -> contextlib.AbstractContextManager[None]:
        """The rebuild's last catch-up and ``publish`` run inside this: nothing to hold
        here, as one process writes a data directory (``index.datalock``)."""
        return contextlib.nullcontext()

    def publish(self, sources_json: str | None) -> Generation:
        """Save, mark complete (a fallback if ``CURRENT`` is lost), remember the sources
        and point ``CURRENT`` at it: from here on it is the live generation."""
        if self.gen.vectors_deferred:
            raise RuntimeError("a generation is published only after index_written")
        self.gen.save_vectors()
        if sources_json:
            self.gen.store.set_meta(SOURCES_META, sources_json)
        self.gen.store.set_meta(COMPLETE_META, "1")
        point_current(self.data_dir, self.gen.dir)
        self.published = True
        return self.gen


def live_or_new(data_dir: Path) -> Path:
    """The live generation's directory; a fresh, empty, live one for a new data directory.
    Generations abandoned by crashed rebuilds are removed."""
    data_dir.mkdir(parents=True, exist_ok=True)
    directory = _live_dir(data_dir)
    if directory is None:
        directory = new_dir(data_dir)
        _mark_complete(directory)
        point_current(data_dir, directory)
    _remove_abandoned(data_dir, keep=directory)
    return directory


def pointed_dir(data_dir: Path) -> Path | None:
    """The generation ``CURRENT`` names, if it is usable (quietly: checked before every
    question to notice another process's swap)."""
    return _pointed(data_dir, quiet=True)


def _remove_abandoned(data_dir: Path, keep: Path) -> None:
    """Delete generations left by crashed rebuilds (old enough not to be in progress)."""
    now = time.time()
    for path in data_dir.glob("gen-*"):
        if path.is_dir() and path != keep and now - path.stat().st_mtime > STALE_GENERATION_SECONDS:
            shutil.rmtree(path, ignore_errors=True)


def _pointed(data_dir: Path, *, quiet: bool = False) -> Path | None:
    """The generation ``CURRENT`` names, or None when the pointer is absent, unreadable,
    garbage (not a generation name) or names a generation that does not exist."""
    pointer = data_dir / CURRENT
    if not pointer.exists():
        return None
    try:
        directory = current_dir(data_dir)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        if not quiet:
            log.warning("index pointer %s is unreadable (%s)", pointer, exc)
        return None
    name = directory.name if directory is not None else ""
    if directory is None or directory.parent != data_dir or not _GEN_NAME.match(name):
        if not quiet:
            shown = pointer.read_bytes()[:60]
            log.warning("index pointer %s is truncated or garbage (%r)", pointer, shown)
        return None
    if not (directory / SQLITE_NAME).is_file():
        if not quiet:
            log.warning("index pointer %s names %s, which holds no index", pointer, name)
        return None
    return directory


def _live_dir(data_dir: Path) -> Path | None:
    """The live generation; when ``CURRENT`` is missing or damaged, the newest complete
    generation on disk (re-pointed, with a warning) — never silently an empty index while
    a good one sits beside it. None for a data directory with no index yet."""
    directory = _pointed(data_dir)
    if directory is not None:
        return directory
    candidates = []
    for path in data_dir.glob("gen-*"):
        db = path / SQLITE_NAME
        if not path.is_dir() or not _GEN_NAME.match(path.name) or not db.is_file():
            continue
        try:
            complete, articles = Store.peek(db, COMPLETE_META)
        except sqlite3.Error as exc:
            log.warning("generation %s is unreadable (%s); not using it", path.name, exc)
            continue
        # Complete generations first (a crashed rebuild's is not), then the newest by
        # name (names start with the creation time); unmarked ones by article count.
        candidates.append(((complete, 0 if complete else articles, path.name), path))
    if (data_dir / CURRENT).exists() or candidates:
        if not candidates:
            log.warning("no usable index generation in %s; starting an empty index", data_dir)
            return None
        best = max(candidates)[1]
        log.warning("index pointer %s is missing or damaged: falling back to generation %s "
                    "(the newest complete one) and re-pointing to it", data_dir / CURRENT,
                    best.name)
        point_current(data_dir, best)
        return best
    return None


def _mark_complete(directory: Path) -> None:
    """A generation created empty by ``open`` is live from birth (so complete)."""
    store = Store(directory / SQLITE_NAME)
    try:
        store.set_meta(COMPLETE_META, "1")
    finally:
        store.close()

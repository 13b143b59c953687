"""What the ``newsbot`` command modules share (``bot.cli``, ``bot.cli_eval``,
``bot.cli_bench``): settings from the options, the data directory's writer lock, opening
the index without re-embedding unless the command may, exit codes and progress display.

Imports stay lazy: commands that never embed must not pay for torch.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.settings import Settings
    from index import Index, RebuildProgress
    from index.datalock import DataDirLock

# Exit codes (docs/cli.md lists them; keep the two in step).
EXIT_OK = 0
EXIT_FAILED = 1  # an error, or the command found problems (failed sources, check, empty)
EXIT_USAGE = 2  # bad option or setting, no way to serve (no token and no terminal)
EXIT_LOCKED = 3  # another newsbot process is writing to the data directory
EXIT_MODEL_CHANGED = 4  # the index was embedded by another model: `newsbot reindex`
EXIT_INTERRUPTED = 130  # Ctrl-C or SIGTERM

EMPTY_INDEX = ("the index is empty: add articles with `newsbot ingest PATH|URL` (files, "
               "folders, feeds or article pages), or list them in NEWSBOT_SOURCES or "
               "NEWSBOT_FEEDS and start `newsbot run`")


class IndexEmpty(RuntimeError):
    """A command that reads articles found none; the message says how to add some."""

    def __init__(self) -> None:
        super().__init__(EMPTY_INDEX)


def samples_dir() -> Path:
    """The sample articles bundled in the ``index`` package (a terminal demo only)."""
    return Path(str(resources.files("index") / "samples"))


def load_settings(args: argparse.Namespace) -> Settings:
    """The settings, with ``--data-dir`` (given before or after the command) applied."""
    from bot.settings import Settings

    overrides: dict[str, Any] = {}
    if getattr(args, "data_dir", None):
        overrides["data_dir"] = Path(args.data_dir)
    return Settings.load(**overrides)


SHARED_WRITERS = frozenset({"run"})  # with NEWSBOT_DATABASE_URL: several at once


def writer_lock(settings: Settings, command: str) -> DataDirLock:
    """The data directory's writer lock (``index.datalock``) for ``newsbot COMMAND``:
    exclusive, except for the ``SHARED_WRITERS`` when the shared state is in a database
    (``database_url``), which several processes run against at once."""
    from index.datalock import DataDirLock

    shared = bool(settings.database_url) and command in SHARED_WRITERS
    return DataDirLock(Path(settings.data_dir), f"newsbot {command}", shared=shared)


def checked_text(settings: Settings) -> str:
    """What ``newsbot check`` (``Index.check``) verifies on this backend."""
    if settings.database_url:
        return ("PostgreSQL chunk rows, their kept count and full-text rows agree, and the "
                "HNSW vector index is valid")
    return "FAISS ids, SQLite chunks and FTS rows agree"


def show_progress() -> bool:
    """Progress bars only for a person watching: stderr is a terminal."""
    return sys.stderr.isatty()


def open_index(settings: Settings, *, may_reembed: bool = False) -> Index:
    """Open the index. One embedded by another model than ``NEWSBOT_EMBEDDING_MODEL``
    raises ``ModelChanged`` (the caller exits with ``EXIT_MODEL_CHANGED``), unless the
    command ``may_reembed`` (``run``): then it says so on stderr and re-embeds first."""
    from index import Index, ModelChanged

    try:
        return Index.open(settings)
    except ModelChanged as exc:
        if not may_reembed:
            raise
        print(f"newsbot: {exc}: re-embedding every stored article with "
              f"{exc.model!r} before going on (one-off; long on a large archive)",
              file=sys.stderr, flush=True)
    return Index.open(settings, reembed=True, progress=show_progress())


def model_changed_message(exc: Exception) -> str:
    """One line: the mismatch and the fix."""
    return (f"{exc}; run `newsbot reindex` to re-embed it with the configured model "
            "(or set NEWSBOT_EMBEDDING_MODEL back)")


def rebuild_progress_bar() -> tuple[Callable[[RebuildProgress], None] | None,
                                    Callable[[], None]]:
    """A ``progress`` callback for ``Index.rebuild`` drawing a percent bar with an ETA on
    stderr, and the function that closes it; (None, no-op) when stderr is no terminal."""
    if not show_progress():
        return None, lambda: None
    from tqdm import tqdm

    bar = tqdm(total=100, desc="reindex", unit="%", leave=False,
               bar_format="{desc}: {percentage:3.0f}%|{bar}| [{elapsed}<{remaining}] {postfix}")

    def update(p: RebuildProgress) -> None:
        bar.set_description_str(p.phase, refresh=False)
        bar.set_postfix_str(f"{p.articles} articles, {p.chunks} chunks", refresh=False)
        bar.update(round(p.fraction * 100) - bar.n)

    return update, bar.close

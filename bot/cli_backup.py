"""``newsbot backup DEST`` and ``newsbot restore SRC``: the command-line side of
``index.backup`` (a consistent copy while the bot runs; a restore into a fresh directory)."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any


def register(add: Any) -> None:
    p = add("backup", cmd_backup, "copy the live index and alert state (safe while the bot runs)",
            data_dir_help="data directory to back up (default: NEWSBOT_DATA_DIR or ./data)")
    p.add_argument("dest", metavar="DEST", help="new (or empty) directory for the backup")
    p = add("restore", cmd_restore, "restore a backup into a new or empty data directory",
            data_dir_help="directory to restore into (default: NEWSBOT_DATA_DIR or ./data)")
    p.add_argument("src", metavar="SRC", help="a directory written by `newsbot backup`")


def _settings(args: argparse.Namespace) -> Any:
    from bot.settings import Settings

    return Settings.load(**({"data_dir": Path(args.data_dir)} if args.data_dir else {}))


# With NEWSBOT_DATABASE_URL the data directory holds only the chats file: a backup of it
# (or of an SQLite index left there before `newsbot copy --to`) would not be the bot's data.
IN_DATABASE = {
    "backup": "the index and alert state are in PostgreSQL (NEWSBOT_DATABASE_URL), not in "
              "the data directory: back up the database with pg_dump, or copy it into an "
              "empty data directory with `newsbot copy --from` (docs/postgres.md)",
    "restore": "NEWSBOT_DATABASE_URL is set, so the bot would not read a restored data "
               "directory: restore with it unset, then `newsbot copy --to` moves the "
               "restored directory into an empty database (docs/postgres.md)",
}


def _in_database(command: str, settings: Any) -> bool:
    """Say why ``command`` does not apply when the data lives in PostgreSQL."""
    if settings.database_url is None:
        return False
    print(f"newsbot {command}: {IN_DATABASE[command]}", file=sys.stderr)
    return True


def cmd_backup(args: argparse.Namespace) -> int:
    from index.backup import BackupError, backup

    settings = _settings(args)
    if _in_database("backup", settings):
        return 1
    started = time.monotonic()
    try:
        m = backup(Path(settings.data_dir), Path(args.dest))
    except BackupError as exc:
        print(f"newsbot backup: {exc}", file=sys.stderr)
        return 1
    print(f"Backed up {m.generation} ({m.articles} articles, {m.chunks} chunks, model "
          f"{m.model}; vectors {'copied' if m.vectors else 'to rebuild on restore'}; alert "
          f"state {'copied' if m.state else 'none yet'}) to {args.dest} in "
          f"{time.monotonic() - started:.1f} s")
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    from index.backup import BackupError, restore
    from index.datalock import DataDirLock

    settings = _settings(args)
    if _in_database("restore", settings):
        return 1
    data_dir = Path(settings.data_dir)
    try:
        with DataDirLock(data_dir, "newsbot restore"):  # no bot may start on it meanwhile
            report = restore(Path(args.src), data_dir)
    except BackupError as exc:
        print(f"newsbot restore: {exc}", file=sys.stderr)
        return 1
    m = report.manifest
    rebuilt = "; vector file rebuilt from SQLite" if report.vectors_rebuilt else ""
    print(f"Restored {m.generation} ({m.articles} articles, {m.chunks} chunks, backed up "
          f"{m.created_at}) into {data_dir}{rebuilt}; `newsbot check` agrees")
    if m.model != settings.embedding_model:
        print(f"note: the backup was embedded with {m.model!r} but NEWSBOT_EMBEDDING_MODEL "
              f"is {settings.embedding_model!r}: set it to {m.model!r}, or run "
              "`newsbot reindex` to re-embed", file=sys.stderr)
    return 0

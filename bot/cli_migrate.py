"""``newsbot migrate``: apply the numbered schema migrations of every database newsbot
keeps (the live index, the alert state, the chats file) and say what was applied.

Opening a database migrates it anyway (``newsbot run`` does so at start); this command does
it on its own, so an operator can upgrade before starting the new version and see the
versions. It takes the data directory's writer lock, so it never runs under a live bot on
the same directory.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.cli_common import EXIT_OK, load_settings, open_index, writer_lock


@dataclass(frozen=True, slots=True)
class Migrated:
    """One database's schema version before and after ``newsbot migrate``."""

    name: str
    where: str
    was: int
    now: int

    def line(self) -> str:
        if self.was == self.now:
            return f"{self.name} ({self.where}): schema {self.now}, up to date"
        start = "new" if self.was == 0 else f"schema {self.was}"
        return f"{self.name} ({self.where}): {start} → schema {self.now}"


def register(add: Any) -> None:
    add("migrate", cmd_migrate,
        "apply pending schema migrations to the index, alert state and chats databases")


def cmd_migrate(args: argparse.Namespace) -> int:
    from bot.chatdb import ChatDB
    from index.alerts.state import open_state
    from index.lifecycle import pointed_dir

    settings = load_settings(args)
    data_dir = Path(settings.data_dir)
    backend = "PostgreSQL" if settings.database_url else "SQLite"
    done: list[Migrated] = []
    with writer_lock(settings, "migrate"):
        # A new SQLite data directory's generation is created (and migrated) before the
        # store the index keeps open, which then finds it current: it is new all the same.
        new = not settings.database_url and pointed_dir(data_dir) is None
        with open_index(settings) as index:
            store = index.generation.store
            done.append(Migrated("index", backend, 0 if new else store.schema_was,
                                 store.schema_version))
        state = open_state(settings)
        try:
            done.append(Migrated("alert state", backend, state.schema_was,
                                 state.schema_version))
        finally:
            state.close()
        chats = ChatDB.open(data_dir)
        try:
            done.append(Migrated("chats", "SQLite", chats.schema_was, chats.schema_version))
        finally:
            chats.close()
    for m in done:
        print(m.line())
    return EXIT_OK

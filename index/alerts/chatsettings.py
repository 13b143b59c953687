"""Per-chat settings, kept in the state database (so they survive a restart).

Chats are plain integers here. Each setting is a switch with a default that is what a
chat gets before anyone changed it (the behaviour before settings existed, except that
alerts follow the forum topic ``/subscribe`` was sent in). Who may flip them is the front
end's business.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, fields, replace

from index.alerts.state import StateDatabase


@dataclass(frozen=True, slots=True)
class ChatSettings:
    digest: bool = True  # a burst of alerts arrives as one digest message
    silent: bool = False  # alerts arrive without a notification sound
    previews: bool = False  # alerts show a link preview of the article
    full_article: bool = True  # answers carry "Full article" buttons
    forum_topic: bool = True  # alerts go to the forum topic /subscribe was sent in


SETTING_NAMES: tuple[str, ...] = tuple(f.name for f in fields(ChatSettings))
_COLUMNS = ", ".join(SETTING_NAMES)


class ChatSettingsStore:
    def __init__(self, db: StateDatabase, clock: Callable[[], float] = time.time) -> None:
        self._db = db
        self._clock = clock

    def get(self, chat_id: int) -> ChatSettings:
        rows = self._db.query(f"SELECT {_COLUMNS} FROM chat_settings WHERE chat_id = ?",
                              (chat_id,))
        if not rows:
            return ChatSettings()
        return ChatSettings(*(bool(v) for v in rows[0]))

    def toggle(self, chat_id: int, name: str, *, by: int | None = None) -> ChatSettings:
        """Flip one setting of a chat; ``KeyError`` for a name that is no setting."""
        if name not in SETTING_NAMES:
            raise KeyError(name)
        with self._db.transaction() as cur:
            row = cur.execute(f"SELECT {_COLUMNS} FROM chat_settings WHERE chat_id = ?",
                              (chat_id,)).fetchone()
            current = ChatSettings(*(bool(v) for v in row)) if row else ChatSettings()
            changed = replace(current, **{name: not getattr(current, name)})
            values = [int(getattr(changed, n)) for n in SETTING_NAMES]
            cur.execute(
                f"INSERT INTO chat_settings (chat_id, {_COLUMNS}, updated_at, updated_by) "
                f"VALUES (?, {', '.join('?' for _ in SETTING_NAMES)}, ?, ?) "
                "ON CONFLICT (chat_id) DO UPDATE SET "
                + ", ".join(f"{n} = excluded.{n}" for n in SETTING_NAMES)
                + ", updated_at = excluded.updated_at, updated_by = excluded.updated_by",
                (chat_id, *values, self._clock(), by))
        return changed

    def move_chat(self, old_id: int, new_id: int) -> None:
        """A group became a supergroup (new chat id): its settings follow it."""
        self._db.execute(
            "UPDATE chat_settings SET chat_id = ? WHERE chat_id = ? AND NOT EXISTS "
            "(SELECT 1 FROM chat_settings AS c WHERE c.chat_id = ?)", (new_id, old_id, new_id))

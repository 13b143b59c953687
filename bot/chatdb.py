"""``data_dir/chats.sqlite``: what the bot remembers of its conversations — recent answers
(for the "More results" and "Full article" buttons) and which messages carried them (a
reply to one is read as a follow-up of its question).

Why a file of its own rather than tables in ``state.sqlite``: everything here expires and
may be deleted at any time (buttons then say the result has expired; nothing a user set up
is lost), it is written on every answer (the alert sender and feed poller share the state
database's lock), and a backup need not carry it. Same connection setup and numbered
migrations as every other newsbot database (``index.migrations``).
"""

from __future__ import annotations

from index.migrations import MigratedDB

CHATS_NAME = "chats.sqlite"

CHAT_MIGRATIONS: list[str] = [
    # 1: answers and the messages that showed them.
    """
    CREATE TABLE answers (
        token TEXT PRIMARY KEY,            -- what a button's callback data carries
        chat_id INTEGER,
        thread_id INTEGER NOT NULL DEFAULT 0,  -- forum topic, 0 outside topics
        created_at REAL NOT NULL,          -- unix seconds
        answer BLOB NOT NULL,              -- zlib-compressed JSON of index.models.Answer
        turn TEXT                          -- JSON of index.models.Turn, the follow-up context
    );
    CREATE INDEX answers_created ON answers (created_at);
    CREATE INDEX answers_chat ON answers (chat_id, thread_id, created_at);
    CREATE TABLE answer_messages (
        chat_id INTEGER NOT NULL,
        message_id INTEGER NOT NULL,
        token TEXT NOT NULL REFERENCES answers (token) ON DELETE CASCADE,
        PRIMARY KEY (chat_id, message_id)
    );
    CREATE INDEX answer_messages_token ON answer_messages (token);
    """,
]


class ChatDB(MigratedDB):
    """Used from the event loop and from threads: the base class's lock guards it."""

    FILE = CHATS_NAME
    MIGRATIONS = CHAT_MIGRATIONS
    NAME = "chats"

"""Recent answers on disk, so inline buttons page through them — also after a restart.

Callback data is limited to 64 bytes, so a button carries a short random token instead of
the answer itself. Answers live in ``chats.sqlite`` (``bot.chatdb``) for ``keep`` seconds
(``NEWSBOT_ANSWER_KEEP_HOURS``); a button whose token is older, gone or never issued is
"expired", which the callback handler tells the user. Each answer keeps its cited articles
whole (the "Full article" button sends their text), so a rebuild of the index that renumbers
or prunes articles does not break a button either.

The store also records which messages showed an answer, and the conversation turn it
leaves (``index.models.Turn``): a reply to one of those messages, or the next message of a
private chat, is read as a follow-up of it (``bot.handlers.questions``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import secrets
import time
import zlib
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from bot.chatdb import ChatDB
from index.models import AlsoReported, Answer, Citation, Quote, StoredArticle, Turn


@dataclasses.dataclass(frozen=True, slots=True)
class Place:
    """Where a conversation happens: a chat, and the forum topic within it (0: none)."""

    chat_id: int
    thread_id: int = 0


class AnswerStore:
    """Token → ``Answer`` with an expiry, and message → the answer it showed."""

    def __init__(self, db: ChatDB, keep: float, *, clock: Callable[[], float] = time.time
                 ) -> None:
        if keep <= 0:
            raise ValueError("answers must be kept for some time")
        self._db = db
        self._keep = keep
        self._clock = clock

    @classmethod
    def open(cls, data_dir: Path, keep: float) -> AnswerStore:
        """The store in ``data_dir/chats.sqlite`` (created on first use)."""
        return cls(ChatDB.open(data_dir), keep)

    def close(self) -> None:
        self._db.close()

    def put(self, answer: Answer, place: Place | None = None, turn: Turn | None = None) -> str:
        """Store ``answer`` (and the ``turn`` it leaves in ``place``); returns its token.
        Expired answers are deleted on the way."""
        now = self._clock()
        blob = zlib.compress(json.dumps(answer_to_dict(answer)).encode("utf-8"))
        turn_json = json.dumps(turn_to_dict(turn)) if turn is not None else None
        with self._db.transaction() as cur:
            cur.execute("DELETE FROM answers WHERE created_at < ?", (now - self._keep,))
            while True:
                token = secrets.token_urlsafe(6)  # 8 characters, 48 random bits
                if not cur.execute("SELECT 1 FROM answers WHERE token = ?", (token,)).fetchone():
                    break
            cur.execute(
                "INSERT INTO answers (token, chat_id, thread_id, created_at, answer, turn) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (token, place.chat_id if place else None, place.thread_id if place else 0,
                 now, blob, turn_json))
        return token

    def shown_in(self, token: str, chat_id: int, message_ids: Iterable[int]) -> None:
        """The messages of ``chat_id`` that show the answer ``token``."""
        rows = [(chat_id, message_id, token) for message_id in message_ids]
        with self._db.transaction() as cur:
            cur.executemany(
                "INSERT OR REPLACE INTO answer_messages (chat_id, message_id, token) "
                "VALUES (?, ?, ?)", rows)

    def get(self, token: str) -> Answer | None:
        """The answer, or None when it expired or was never issued."""
        rows = self._db.query("SELECT answer FROM answers WHERE token = ? AND created_at >= ?",
                              (token, self._clock() - self._keep))
        return answer_from_dict(json.loads(zlib.decompress(rows[0][0]))) if rows else None

    def turn_shown_in(self, chat_id: int, message_id: int) -> Turn | None:
        """The turn of the answer that message ``message_id`` showed, while it is kept."""
        rows = self._db.query(
            "SELECT a.turn FROM answer_messages m JOIN answers a ON a.token = m.token "
            "WHERE m.chat_id = ? AND m.message_id = ? AND a.created_at >= ?",
            (chat_id, message_id, self._clock() - self._keep))
        return turn_from_dict(json.loads(rows[0][0])) if rows and rows[0][0] else None

    def latest_turn(self, place: Place, within: float) -> Turn | None:
        """The turn of the last answer in ``place`` if it is at most ``within`` seconds old."""
        since = max(self._clock() - within, self._clock() - self._keep)
        rows = self._db.query(
            "SELECT turn FROM answers WHERE chat_id = ? AND thread_id = ? AND created_at >= ? "
            "ORDER BY created_at DESC, rowid DESC LIMIT 1",
            (place.chat_id, place.thread_id, since))
        return turn_from_dict(json.loads(rows[0][0])) if rows and rows[0][0] else None

    def __len__(self) -> int:
        return int(self._db.query("SELECT count(*) FROM answers WHERE created_at >= ?",
                                  (self._clock() - self._keep,))[0][0])


def turn_to_dict(turn: Turn) -> dict[str, Any]:
    return {"opener": turn.opener, "question": turn.question,
            "story_ids": list(turn.story_ids),
            "asked_at": turn.asked_at.isoformat() if turn.asked_at else None}


def turn_from_dict(data: dict[str, Any]) -> Turn:
    asked = data.get("asked_at")
    return Turn(str(data["opener"]), str(data["question"]),
                tuple(str(s) for s in data.get("story_ids") or ()),
                dt.date.fromisoformat(asked) if asked else None)


def answer_to_dict(answer: Answer) -> dict[str, Any]:
    """A JSON-ready form of ``answer`` (``answer_from_dict`` reads it back)."""
    return {
        "question": answer.question,
        "citations": [
            {"article": dataclasses.asdict(c.article),
             "quotes": [dataclasses.asdict(q) for q in c.quotes],
             "score": c.score, "also": [dataclasses.asdict(a) for a in c.also]}
            for c in answer.citations],
        "notes": list(answer.notes),
        "found": answer.found,
        "seconds": answer.seconds,
        "context": turn_to_dict(answer.context) if answer.context else None,
    }


def answer_from_dict(data: dict[str, Any]) -> Answer:
    citations = tuple(
        Citation(StoredArticle(**c["article"]), tuple(Quote(**q) for q in c["quotes"]),
                 float(c["score"]), tuple(_also(a) for a in c["also"]))
        for c in data["citations"])
    context = data.get("context")
    return Answer(data["question"], citations, tuple(data["notes"]), bool(data["found"]),
                  float(data["seconds"]), turn_from_dict(context) if context else None)


def _also(data: dict[str, Any] | str) -> AlsoReported:
    """One "also" entry; answers kept before links were added hold the outlet name only."""
    return AlsoReported(data) if isinstance(data, str) else AlsoReported(**data)

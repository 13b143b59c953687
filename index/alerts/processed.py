"""The ``processed`` table: which articles the matcher has examined, by body hash.

Keyed by the body hash rather than the article id, so a marker survives a rebuild (new
generation, new ids) and an article is never matched twice.
"""

from __future__ import annotations

from index.alerts.state import StateCursor, StateDatabase


class ProcessedArticles:
    def __init__(self, db: StateDatabase) -> None:
        self._db = db

    def seen(self, digest: str) -> bool:
        return bool(self._db.query("SELECT 1 FROM processed WHERE article_hash = ?", (digest,)))

    @staticmethod
    def marked(cur: StateCursor, digest: str) -> bool:
        """``seen`` inside the caller's transaction."""
        return cur.execute("SELECT 1 FROM processed WHERE article_hash = ?",
                           (digest,)).fetchone() is not None

    @staticmethod
    def mark(cur: StateCursor, digest: str, at: float) -> None:
        """Mark inside the caller's transaction (with the article's alerts and cursor)."""
        cur.execute("INSERT INTO processed (article_hash, at) VALUES (?, ?) ON CONFLICT DO NOTHING",
                    (digest, at))

    @staticmethod
    def forget_before(cur: StateCursor, horizon: float) -> None:
        cur.execute("DELETE FROM processed WHERE at < ?", (horizon,))

"""Deleting articles: what a removal took away, and the cut-off date a retention implies.

``Index.remove_source`` and ``Index.prune`` delete whole articles (rows, FTS entries,
vectors) in one SQLite transaction; the vector file follows and is repaired from SQLite if
a crash falls in between. ``NEWSBOT_RETENTION_DAYS`` keeps an archive bounded: the running
bot prunes daily, and ``newsbot prune`` without a date uses it too.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Removed:
    """What one removal deleted."""

    articles: int
    chunks: int


def retention_cutoff(days: int, today: dt.date) -> dt.date:
    """Articles published before this date are older than ``days`` days on ``today``."""
    if days < 1:
        raise ValueError(f"a retention is at least one day, not {days}")
    return today - dt.timedelta(days=days)

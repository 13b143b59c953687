"""Publication day of every chunk, in memory, for the date-window search of each question.

A question that names a period searches only the chunks published in it. Asking the store
for them joins articles to chunks and brings every id through Python on each question;
here the ids sit sorted by day in two numpy arrays, so a window is two binary searches and
a slice (docs/performance.md has the figures).

The arrays are filled on a background thread from a separate read-only connection, so
opening the index and answering never wait for them; until
they are ready ``window`` returns None and the caller asks the store as before. Writes made
meanwhile are queued and applied once the snapshot is in.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable

import numpy as np

log = logging.getLogger(__name__)

UNDATED = np.iinfo(np.int32).min  # articles without a date are in no window
_EPOCH = dt.date(1970, 1, 1)


def day_number(value: dt.date | dt.datetime | str | None) -> int:
    """Days since 1970-01-01 of a date, datetime or ISO string; ``UNDATED`` for None."""
    if value is None:
        return int(UNDATED)
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value[:10])
        except ValueError:
            return int(UNDATED)
    if isinstance(value, dt.datetime):
        value = value.date()
    return (value - _EPOCH).days


class ChunkDays:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._days: np.ndarray | None = None  # sorted
        self._ids: np.ndarray | None = None  # aligned with _days
        self._queued: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self._loading = 0  # generation counter: a newer load supersedes an older one

    @property
    def ready(self) -> bool:
        return self._days is not None

    def load_in_background(self, read: Callable[[int], str]) -> None:
        """(Re)read every chunk's day with ``read(undated)`` (a store's
        ``chunk_days_text``: "id day id day ..."); until done, ``window`` is None."""
        with self._lock:
            self._loading += 1
            ticket = self._loading
            self._days = self._ids = None
            self._queued = []
        threading.Thread(target=self._load, args=(read, ticket), name="chunk-days",
                         daemon=True).start()

    def _load(self, read: Callable[[int], str], ticket: int) -> None:
        # One string built inside the database and parsed by numpy: the GIL is held ~0.1 s
        # at 1M chunks, where fetching 1M row tuples would hold it ~2.5 s and stall questions.
        try:
            text = read(int(UNDATED))
        except Exception as exc:  # e.g. the generation was deleted meanwhile
            log.warning("chunk publication days not loaded (%s); dates use the store", exc)
            return
        table = np.fromstring(text or "", dtype=np.int64, sep=" ").reshape(-1, 2)
        order = np.argsort(table[:, 1], kind="stable")
        with self._lock:
            if ticket != self._loading:
                return
            self._ids = table[order, 0]
            self._days = table[order, 1].astype(np.int32)
            for added, days, removed in self._queued:
                self._apply(added, days, removed)
            self._queued = []

    def update(self, added: np.ndarray, days: np.ndarray, removed: np.ndarray) -> None:
        """Chunks written (with their days) and chunks deleted by one committed batch."""
        added = np.asarray(added, dtype=np.int64)
        days = np.asarray(days, dtype=np.int32)
        removed = np.asarray(removed, dtype=np.int64)
        with self._lock:
            if self._days is None:
                if self._loading:  # the snapshot being read may or may not hold these
                    self._queued.append((added, days, removed))
                return
            self._apply(added, days, removed)

    def _apply(self, added: np.ndarray, days: np.ndarray, removed: np.ndarray) -> None:
        assert self._days is not None and self._ids is not None
        gone = np.isin(self._ids, np.concatenate([removed, added]))  # added: no doubles
        if gone.any():
            self._ids, self._days = self._ids[~gone], self._days[~gone]
        if len(added):
            order = np.argsort(days, kind="stable")  # equal insert points keep this order
            added, days = added[order], days[order]
            at = np.searchsorted(self._days, days, side="right")
            self._ids = np.insert(self._ids, at, added)
            self._days = np.insert(self._days, at, days)

    def window(self, start: dt.date | None, end: dt.date | None) -> np.ndarray | None:
        """Ids of chunks published within [start, end] (either may be open), or None when
        not loaded yet."""
        with self._lock:
            days, ids = self._days, self._ids
        if days is None or ids is None:
            return None
        lo = np.searchsorted(days, UNDATED, side="right")  # undated chunks are never inside
        if start is not None:
            lo = max(lo, int(np.searchsorted(days, day_number(start), side="left")))
        hi = len(days) if end is None else int(
            np.searchsorted(days, day_number(end), side="right"))
        return ids[lo:hi].copy() if hi > lo else np.zeros(0, dtype=np.int64)

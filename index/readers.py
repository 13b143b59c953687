"""Which generations questions are reading, so a generation a rebuild retired is closed as
soon as the last question that started on it is done.

A rebuild swaps its new generation in while questions may still be reading the old one, so
the old one cannot be closed at the swap. It used to stay open until the next rebuild: the
bot then held two indexes' memory (~0.8 GB each at 1M chunks) long after the swap. Here
each reader is counted while it reads, and ``when_idle`` closes a retired generation the
moment its count falls to zero (at once if nobody reads it).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Generic, TypeVar

G = TypeVar("G")


class Readers(Generic[G]):
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[int, int] = {}  # id(generation) → readers now
        self._waiting: dict[int, Callable[[], None]] = {}  # id(generation) → its close

    @contextmanager
    def reading(self, current: Callable[[], G]) -> Iterator[G]:
        """The generation ``current()`` names, counted as read until the block ends."""
        with self._lock:  # the same lock ``when_idle`` checks under: a reader either
            gen = current()  # counted itself before a retirement, or sees the new one
            self._counts[id(gen)] = self._counts.get(id(gen), 0) + 1
        try:
            yield gen
        finally:
            with self._lock:
                left = self._counts.pop(id(gen)) - 1
                if left:
                    self._counts[id(gen)] = left
                close = None if left else self._waiting.pop(id(gen), None)
            if close is not None:
                close()

    def reading_now(self, gen: G) -> int:
        with self._lock:
            return self._counts.get(id(gen), 0)

    def when_idle(self, gen: G, close: Callable[[], None]) -> None:
        """Run ``close`` now if nobody reads ``gen``, else when its last reader is done.
        Call it after ``gen`` stopped being what ``reading``'s ``current`` returns."""
        with self._lock:
            if self._counts.get(id(gen)):
                self._waiting[id(gen)] = close
                return
        close()

"""Per-user question limit: at most ``limit`` questions in any ``window`` seconds.

A sliding window of timestamps per user. The first refusal in a streak is reported so the
user gets one friendly reply rather than one per message they keep sending.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Verdict:
    allowed: bool
    retry_after: float = 0.0  # seconds until the oldest question leaves the window
    notify: bool = False  # True for the first refusal since the last allowed question


class UserRateLimiter:
    """Used from the event loop only; memory is bounded by dropping idle users."""

    def __init__(
        self, limit: int, window: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._limit = limit
        self._window = window
        self._clock = clock
        self._seen: dict[int, deque[float]] = {}
        self._notified: set[int] = set()

    def check(self, user_id: int) -> Verdict:
        now = self._clock()
        stamps = self._seen.setdefault(user_id, deque())
        while stamps and now - stamps[0] >= self._window:
            stamps.popleft()
        if len(stamps) < self._limit:
            stamps.append(now)
            self._notified.discard(user_id)
            self._forget_idle(now)
            return Verdict(True)
        notify = user_id not in self._notified
        self._notified.add(user_id)
        return Verdict(False, self._window - (now - stamps[0]), notify)

    def _forget_idle(self, now: float) -> None:
        if len(self._seen) < 10_000:
            return
        for user_id in [u for u, s in self._seen.items() if not s or now - s[-1] >= self._window]:
            del self._seen[user_id]
            self._notified.discard(user_id)

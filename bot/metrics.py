"""Questions answered and answer latency, kept in memory for ``/stats``.

Only the most recent latencies are kept (a bounded deque), so the median reflects how the
bot is doing now and memory does not grow with uptime.
"""

from __future__ import annotations

import statistics
from collections import deque


class Metrics:
    def __init__(self, keep: int = 1000) -> None:
        self.questions_answered = 0
        self._latencies: deque[float] = deque(maxlen=keep)

    def record_answer(self, seconds: float) -> None:
        self.questions_answered += 1
        self._latencies.append(seconds)

    @property
    def p50_seconds(self) -> float | None:
        return statistics.median(self._latencies) if self._latencies else None

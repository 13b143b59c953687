"""A bounded, in-memory LRU of recent answers, so inline buttons can page through them.

Callback data is limited to 64 bytes, so a button carries a short random token instead of
the answer itself. The store forgets the oldest answers first; a button whose token is gone
(or was never issued) is "expired", which the callback handler tells the user.
"""

from __future__ import annotations

import secrets
from collections import OrderedDict

from index.models import Answer

DEFAULT_CAPACITY = 512


class AnswerStore:
    """Token → ``Answer``; used from the event loop only, so it needs no lock."""

    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self._capacity = capacity
        self._answers: OrderedDict[str, Answer] = OrderedDict()

    def put(self, answer: Answer) -> str:
        token = secrets.token_urlsafe(6)  # 8 characters, 48 random bits
        while token in self._answers:
            token = secrets.token_urlsafe(6)
        self._answers[token] = answer
        while len(self._answers) > self._capacity:
            self._answers.popitem(last=False)
        return token

    def get(self, token: str) -> Answer | None:
        answer = self._answers.get(token)
        if answer is not None:
            self._answers.move_to_end(token)
        return answer

    def __len__(self) -> int:
        return len(self._answers)

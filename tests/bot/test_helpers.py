"""The small stateful helpers behind the handlers: rate limit, buttons, redaction."""

from __future__ import annotations

import logging

import pytest

from bot.format import Page
from bot.keyboards import FullArticle, MoreResults, answer_keyboard, parse_callback
from bot.metrics import Metrics
from bot.ratelimit import UserRateLimiter
from bot.redact import RedactingFilter, describe, redact

TOKEN = "123456789:AAE-secret-token"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_rate_limit_is_a_sliding_window_per_user() -> None:
    clock = Clock()
    limiter = UserRateLimiter(limit=2, window=30, clock=clock)
    assert limiter.check(1).allowed  # t=1000
    clock.now = 1010
    assert limiter.check(1).allowed
    clock.now = 1015
    refused = limiter.check(1)
    assert not refused.allowed and refused.notify
    assert refused.retry_after == pytest.approx(15)  # until the t=1000 question leaves
    clock.now = 1016
    second = limiter.check(1)
    assert (second.allowed, second.notify) == (False, False)  # one notice per streak
    assert second.retry_after == pytest.approx(14)
    assert limiter.check(2).allowed  # other users are not affected
    clock.now = 1030.5
    assert limiter.check(1).allowed  # the t=1000 question left the window
    clock.now = 1031
    again = limiter.check(1)
    assert not again.allowed and again.notify  # a new streak is told again


def test_callback_data_round_trips_and_rejects_anything_else() -> None:
    page = Page(("x",), start=3, end=6, total=10)
    markup = answer_keyboard("AbC-_123", page)
    assert markup is not None
    rows = [[(b.text, b.callback_data) for b in row] for row in markup.inline_keyboard]
    assert rows == [
        [("More results", "more:AbC-_123:6")],
        [
            ("Full article 4", "art:AbC-_123:4"),
            ("Full article 5", "art:AbC-_123:5"),
            ("Full article 6", "art:AbC-_123:6"),
        ],
    ]
    for row in markup.inline_keyboard:
        for button in row:
            assert len(str(button.callback_data).encode()) <= 64
    assert parse_callback("more:AbC-_123:6") == MoreResults("AbC-_123", 6)
    assert parse_callback("art:AbC-_123:4") == FullArticle("AbC-_123", 4)
    for junk in (None, "", "more:x", "art:abc:-1", "more:a b:1", "art:abc:1:2", "<b>&", "x" * 64):
        assert parse_callback(junk) is None
    last_page = Page(("x",), start=9, end=10, total=10)
    last = answer_keyboard("t", last_page)
    assert last is not None and [b.text for r in last.inline_keyboard for b in r] == [
        "Full article 10"
    ]


def test_metrics_median() -> None:
    metrics = Metrics(keep=3)
    assert metrics.p50_seconds is None
    for seconds in (5.0, 0.1, 0.3, 0.2):
        metrics.record_answer(seconds)
    assert metrics.questions_answered == 4
    assert metrics.p50_seconds == pytest.approx(0.2)  # only the last three are kept


def test_redaction_of_messages_and_log_records() -> None:
    error = RuntimeError(f"POST https://api.telegram.org/bot{TOKEN}/sendMessage failed\nmore")
    assert describe(error, [TOKEN]) == (
        "RuntimeError: POST https://api.telegram.org/bot<redacted>/sendMessage failed"
    )
    assert redact(f"a {TOKEN} b", [TOKEN, ""]) == "a <redacted> b"
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "url %s", (TOKEN,), None)
    try:
        raise error
    except RuntimeError:
        import sys

        record.exc_info = sys.exc_info()
    assert RedactingFilter([TOKEN]).filter(record)
    formatted = logging.Formatter().format(record)
    assert TOKEN not in formatted and "url <redacted>" in formatted and "Traceback" in formatted

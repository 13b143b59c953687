"""Everything the handlers share, kept in one typed object in ``application.bot_data``.

Handlers are plain functions registered with python-telegram-bot; they reach the index,
settings and in-memory bookkeeping through ``get_state(context)`` rather than globals, so
several applications (e.g. in tests) can run side by side in one process.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from telegram.ext import ContextTypes

from bot.alerts.jobs import AlertJobs
from bot.allowlist import ChatAllowlist
from bot.answers import AnswerStore
from bot.metrics import Metrics
from bot.ratelimit import UserRateLimiter
from bot.retention import RETENTION_FIRST_RUN
from bot.settings import Settings
from index.alerts import Alerts
from index.api import Index
from index.models import RebuildProgress

STATE_KEY = "newsbot"


@dataclass
class RebuildJob:
    """A running ``/reindex``. ``progress`` is written by the worker thread (a single
    attribute assignment) and read by the event loop."""

    started: float = field(default_factory=time.monotonic)
    progress: RebuildProgress | None = None

    def record(self, progress: RebuildProgress) -> None:
        self.progress = progress

    @property
    def percent(self) -> int:
        return round(100 * self.progress.fraction) if self.progress else 0


@dataclass
class BotState:
    settings: Settings
    index: Index
    sources: tuple[str, ...]
    answers: AnswerStore
    limiter: UserRateLimiter
    metrics: Metrics
    progress_interval: float
    rebuild: RebuildJob | None = None
    alerts: Alerts | None = None  # subscriptions, feeds and the alert outbox
    alert_jobs: AlertJobs | None = None  # their delivery to Telegram, on the JobQueue
    retention_first_run: float = RETENTION_FIRST_RUN  # seconds after start (tests: less)
    allowlist: ChatAllowlist = field(default_factory=lambda: ChatAllowlist((), ()))

    @property
    def admin_ids(self) -> frozenset[int]:
        return frozenset(self.settings.admin_ids)


def get_state(context: ContextTypes.DEFAULT_TYPE | Any) -> BotState:
    state = context.bot_data[STATE_KEY]
    assert isinstance(state, BotState)
    return state

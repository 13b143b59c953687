"""Alerts wiring: the state database, matcher, feed poller and sender, and their jobs.

Two repeating JobQueue jobs:

* ``poll feeds`` (every ``feed_interval``): polls due feeds in a worker thread (fetching and
  embedding must not block the event loop); after each feed that brought articles, the
  matcher runs, and when the poll is done the outbox is delivered at once — so an alert
  goes out within one feed interval of its article appearing.
* ``send alerts`` (every ``send_interval``): runs the matcher (it also catches articles
  stored by ``newsbot ingest``, a ``/reindex``, or a run that crashed before matching) and
  delivers whatever is due (retries, paced chats, alerts left over by a crash).

Both also run once at start-up, so a restart delivers what a crash left pending.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, replace
from typing import Any

from telegram.ext import Application, ContextTypes

from bot.alerts.sender import AlertSender, DeliveryPolicy
from bot.allowlist import ChatAllowlist
from bot.settings import Settings
from index.alerts import Alerts

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class AlertTimings:
    """Intervals in seconds; ``None`` = from settings (or the delivery policy's default).
    Tests pass small values."""

    feed_interval: float | None = None
    send_interval: float | None = None
    feed_max_backoff: float | None = None
    retry_base: float | None = None
    first_run: float = 0.5  # delay of the first run of each job after start


@dataclass
class AlertJobs:
    """The alerts room plus the Telegram sender, and the two repeating jobs over them."""

    alerts: Alerts
    sender: AlertSender
    send_interval: float
    first_run: float

    @classmethod
    def open(cls, settings: Settings, alerts: Alerts, timings: AlertTimings) -> AlertJobs:
        policy = DeliveryPolicy(
            chat_rate=settings.alert_chat_rate,
            digest_after=settings.alert_digest_after,
            digest_window=settings.alert_digest_window,
        )
        if timings.retry_base is not None:
            policy = replace(policy, retry_base=timings.retry_base)
        sender = AlertSender(alerts.outbox, alerts.subscriptions, settings.admin_ids, policy,
                             chat_settings=alerts.chat_settings,
                             serves=ChatAllowlist(settings.allowed_chats,
                                                  settings.admin_ids).allows_chat)
        send_interval = (timings.send_interval if timings.send_interval is not None
                         else settings.alert_send_interval)
        return cls(alerts, sender, send_interval, timings.first_run)

    def schedule(self, application: Application[Any, Any, Any, Any, Any, Any]) -> None:
        """Add the repeating jobs to the application's JobQueue. Called when the bot is
        about to start (not when it is built): a first run computed before the model load
        would already be missed, and the feed job would wait a whole interval."""
        queue = application.job_queue
        if queue is None:  # PTB installed without the job-queue extra
            logger.error("no JobQueue: feeds are not polled and alerts are not sent")
            return
        if queue.get_jobs_by_name("send alerts"):
            return  # already scheduled (post_init ran twice)
        first = self.first_run
        queue.run_repeating(send_alerts, interval=self.send_interval, first=first,
                            name="send alerts", data=self)
        queue.run_repeating(poll_feeds, interval=self.alerts.poller.interval, first=first,
                            name="poll feeds", data=self)

    def poll_now(self, application: Application[Any, Any, Any, Any, Any, Any]) -> None:
        """Poll the due feeds once, now (a feed was just added), besides the timer."""
        if application.job_queue is not None:
            application.job_queue.run_once(poll_feeds, when=0, name="poll feeds now",
                                           data=self)


def _jobs(context: ContextTypes.DEFAULT_TYPE) -> AlertJobs:
    job = context.job
    assert job is not None and isinstance(job.data, AlertJobs)
    return job.data


async def send_alerts(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Match what was stored since the last run, then deliver what is due."""
    jobs = _jobs(context)
    await asyncio.to_thread(jobs.alerts.match)
    await jobs.sender.deliver_due(context.bot)


async def poll_feeds(context: ContextTypes.DEFAULT_TYPE) -> None:
    jobs = _jobs(context)
    started = time.monotonic()
    results = await asyncio.to_thread(jobs.alerts.poll_due)
    if any(r.outcome == "new" for r in results):
        await jobs.sender.deliver_due(context.bot)
    if results:
        summary = ", ".join(f"{r.url}: {r.outcome}" + (f" ({r.articles})" if r.articles else "")
                            for r in results)
        logger.info("polled %d feed(s) in %.1f s: %s", len(results),
                    time.monotonic() - started, summary)

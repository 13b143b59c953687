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
from dataclasses import dataclass
from typing import Any

from telegram.ext import Application, ContextTypes

from bot.alerts import AlertSender, DeliveryPolicy
from bot.settings import Settings
from index.alerts import AlertMatcher, AlertRules
from index.api import Index
from index.feeds import FeedPoller
from index.outbox import Outbox
from index.statedb import StateDB
from index.stories import StoryRule
from index.subscriptions import Subscriptions

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class AlertTimings:
    """Intervals in seconds; ``None`` = from settings. Tests pass small values."""

    feed_interval: float | None = None
    send_interval: float | None = None
    feed_max_backoff: float | None = None
    retry_base: float = 2.0
    first_run: float = 0.5  # delay of the first run of each job after start


@dataclass
class AlertServices:
    db: StateDB
    subscriptions: Subscriptions
    outbox: Outbox
    matcher: AlertMatcher
    sender: AlertSender
    poller: FeedPoller | None  # None when no feeds are configured
    send_interval: float
    first_run: float

    @classmethod
    def open(cls, settings: Settings, index: Index, timings: AlertTimings) -> AlertServices:
        db = StateDB.open(settings.data_dir)
        subscriptions = Subscriptions(db, per_chat_limit=settings.subscriptions_per_chat)
        outbox = Outbox(db)
        released = outbox.release_claims()  # the writer lock says their claimer is gone
        if released:
            logger.info("%d alert(s) claimed by a stopped run are pending again", released)
        rules = AlertRules(
            threshold=settings.alert_threshold,
            max_age_seconds=settings.alert_max_age,
            story=StoryRule(settings.alert_story_similarity, settings.alert_story_overlap),
        )
        matcher = AlertMatcher(index, db, subscriptions, outbox, rules)
        policy = DeliveryPolicy(
            chat_rate=settings.alert_chat_rate,
            digest_after=settings.alert_digest_after,
            digest_window=settings.alert_digest_window,
            retry_base=timings.retry_base,
        )
        sender = AlertSender(outbox, subscriptions, settings.admin_ids, policy)
        poller = None
        if settings.feeds:
            poller = FeedPoller(index, db, settings, interval=timings.feed_interval,
                                max_backoff=timings.feed_max_backoff)
        send_interval = (timings.send_interval if timings.send_interval is not None
                         else settings.alert_send_interval)
        return cls(db, subscriptions, outbox, matcher, sender, poller, send_interval,
                    timings.first_run)

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
        if self.poller is not None:
            queue.run_repeating(poll_feeds, interval=self.poller.interval, first=first,
                                name="poll feeds", data=self)

    def close(self) -> None:
        self.db.close()


def _services(context: ContextTypes.DEFAULT_TYPE) -> AlertServices:
    job = context.job
    assert job is not None and isinstance(job.data, AlertServices)
    return job.data


async def send_alerts(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Match what was stored since the last run, then deliver what is due."""
    services = _services(context)
    await asyncio.to_thread(services.matcher.run)
    await services.sender.deliver_due(context.bot)


async def poll_feeds(context: ContextTypes.DEFAULT_TYPE) -> None:
    services = _services(context)
    poller = services.poller
    if poller is None:
        return
    started = time.monotonic()
    results = await asyncio.to_thread(poller.poll_due, services.matcher.run)
    if any(r.outcome == "new" for r in results):
        await services.sender.deliver_due(context.bot)
    if results:
        summary = ", ".join(f"{r.url}: {r.outcome}" + (f" ({r.articles})" if r.articles else "")
                            for r in results)
        logger.info("polled %d feed(s) in %.1f s: %s", len(results),
                    time.monotonic() - started, summary)

"""The retention job: with ``NEWSBOT_RETENTION_DAYS`` set, the running bot deletes the
articles older than that once a day (and once shortly after start, so a restart applies
a changed setting), keeping an archive bounded without a cron job."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import Any

from telegram.ext import Application, ContextTypes

from index import Index, RebuildRunning, retention_cutoff

logger = logging.getLogger(__name__)

RETENTION_INTERVAL = 24 * 3600.0  # seconds between two prunes
RETENTION_FIRST_RUN = 60.0  # seconds after start: after the warm-up, off the busy start


def schedule_retention(application: Application[Any, Any, Any, Any, Any, Any], index: Index,
                       days: int | None, *, first: float = RETENTION_FIRST_RUN) -> bool:
    """Add the daily prune job; False (nothing scheduled) when ``days`` is None."""
    if days is None:
        return False
    assert application.job_queue is not None  # installed with the job-queue extra
    application.job_queue.run_repeating(_prune, interval=RETENTION_INTERVAL, first=first,
                                        name="retention", data=(index, days))
    return True


async def _prune(context: ContextTypes.DEFAULT_TYPE) -> None:
    index, days = context.job.data  # type: ignore[union-attr,misc]
    cutoff = retention_cutoff(days, dt.date.today())
    try:
        removed = await asyncio.to_thread(index.prune, cutoff)
    except RebuildRunning:
        logger.info("retention: a rebuild is running; pruning again in a day")
        return
    except Exception:  # the job must not die with one failure: tomorrow may work
        logger.exception("retention: pruning articles before %s failed", cutoff)
        return
    if removed.articles:
        logger.info("retention: deleted %d articles published before %s (%d chunks)",
                    removed.articles, cutoff, removed.chunks)

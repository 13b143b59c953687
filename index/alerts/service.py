"""``Alerts``: the one entry to the alerts room — state database, subscriptions, outbox,
matcher, feed poller and per-chat settings, opened together over an ``Index``'s public
API."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from index.alerts.chatsettings import ChatSettingsStore
from index.alerts.feeds import FeedPoller, FeedPollResult
from index.alerts.matcher import AlertMatcher, AlertRules, MatchReport
from index.alerts.outbox import Outbox
from index.alerts.state import StateDatabase, open_state
from index.alerts.stories import StoryRule
from index.alerts.subscriptions import Subscriptions
from index.api import Index
from index.settings import IndexSettings

log = logging.getLogger(__name__)


@dataclass
class Alerts:
    db: StateDatabase
    subscriptions: Subscriptions
    outbox: Outbox
    matcher: AlertMatcher
    poller: FeedPoller  # NEWSBOT_FEEDS and the feeds added at run time (maybe none)
    chat_settings: ChatSettingsStore

    @classmethod
    def open(cls, settings: IndexSettings, index: Index, *,
             feed_interval: float | None = None,
             feed_max_backoff: float | None = None) -> Alerts:
        """Open the alert state (``index.alerts.state.open_state``) and everything that
        uses it. On SQLite, outbox rows claimed by a stopped run are released at once: the
        caller holds the data directory's writer lock, so their claimer is gone. A shared
        database cannot know that; there a claim comes back when its lease ends."""
        db = open_state(settings)
        subscriptions = Subscriptions(db, per_chat_limit=settings.subscriptions_per_chat)
        outbox = Outbox(db, lease=settings.alert_lease)
        if not db.shared:
            released = outbox.release_claims()
            if released:
                log.info("%d alert(s) claimed by a stopped run are pending again", released)
        rules = AlertRules(
            threshold=settings.alert_threshold,  # type: ignore[arg-type]  # filled per model
            max_age_seconds=settings.alert_max_age,
            story=StoryRule(settings.alert_story_similarity,  # type: ignore[arg-type]
                            settings.alert_story_overlap),
        )
        matcher = AlertMatcher(index, db, subscriptions, outbox, rules)
        poller = FeedPoller(index, db, settings, interval=feed_interval,
                            max_backoff=feed_max_backoff)
        return cls(db, subscriptions, outbox, matcher, poller, ChatSettingsStore(db))

    def match(self) -> MatchReport:
        """Match every article stored since the last run (safe to call any time)."""
        return self.matcher.run()

    def poll_due(self) -> list[FeedPollResult]:
        """Poll the feeds that are due, matching after each one that brought articles."""
        return self.poller.poll_due(self.matcher.run)

    def close(self) -> None:
        self.db.close()


"""The alerts room: topic subscriptions, feed polling, matching new articles and the
outbox of alerts to deliver. Built only on the index core's public API (``index.api``);
``Alerts.open`` is its one entry. Delivery to a chat is the front end's job."""

from index.alerts.feeds import FeedPollResult, FeedStatus
from index.alerts.outbox import Alert
from index.alerts.service import Alerts
from index.alerts.subscriptions import Subscription, SubscriptionError
from index.alerts.topics import TopicError

__all__ = ["Alert", "Alerts", "FeedPollResult", "FeedStatus", "Subscription",
           "SubscriptionError", "TopicError"]

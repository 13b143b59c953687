"""Delivering the alert outbox to Telegram: paced, retried, exactly once per chat and story.

The matcher (``index.alerts``) decides *what* a chat should get; this module decides *how*
it gets there:

* An alert is marked sent only after Telegram accepted the message, so a crash before
  that delivers it after a restart. (A crash in the instant between Telegram's answer and
  the database commit would repeat one message; no API offers better.)
* Several processes may send from one outbox (PostgreSQL): each message goes out only
  while this sender holds the claim on its alerts (``Outbox.hold`` renews the lease just
  before the send); a claim lost to another sender after its lease ran out is not sent here.
* Per-chat pace: at most ``chat_rate`` messages a minute, counted from the outbox itself
  (so a restart does not reset it). A chat over its budget waits; others are not held up.
* Bursts: more than ``digest_after`` alerts for a chat within ``digest_window`` seconds
  arrive as one digest message instead of many (unless the chat turned digests off).
* Per-chat settings (``/settings``): silent alerts, link previews, and delivery into the
  forum topic each subscription was made in (a digest per topic).
* ``RetryAfter`` (after the rate limiter's own retries) postpones the chat's alerts by what
  Telegram asked; network errors and 5xx are retried with exponential backoff; a 400 fails
  the alert; a 403 means the bot was removed: the chat's subscriptions are paused, its
  pending alerts dropped, and the bot admins are told.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import groupby

from telegram import Bot
from telegram.constants import ParseMode
from telegram.error import BadRequest, ChatMigrated, Forbidden, RetryAfter, TelegramError

from bot.alerts.format import render_alert, render_digest
from bot.replies import NO_PREVIEW
from index.alerts.chatsettings import ChatSettings, ChatSettingsStore
from index.alerts.outbox import Alert, Outbox
from index.alerts.subscriptions import Subscriptions

logger = logging.getLogger(__name__)



@dataclass(frozen=True, slots=True)
class DeliveryPolicy:
    """How alerts reach a chat; the first three come from settings (``alert_chat_rate``…)."""

    chat_rate: int  # messages per chat per minute
    digest_after: int  # more alerts than this within the window → one digest
    digest_window: float
    retry_base: float = 2.0  # seconds before the first retry after a network error / 5xx
    retry_cap: float = 900.0
    max_attempts: int = 12  # then the alert is given up (failed)


class AlertSender:
    def __init__(
        self,
        outbox: Outbox,
        subscriptions: Subscriptions,
        admin_ids: Iterable[int],
        policy: DeliveryPolicy,
        *,
        chat_settings: ChatSettingsStore | None = None,
        serves: Callable[[int], bool] = lambda chat_id: True,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._outbox = outbox
        self._subscriptions = subscriptions
        self._chat_settings = chat_settings
        self._serves = serves
        self._admin_ids = sorted(admin_ids)
        self.policy = policy
        self._clock = clock
        self._lock = asyncio.Lock()

    async def deliver_due(self, bot: Bot) -> int:
        """Send what is due, chat by chat; returns how many messages went out. A call
        while another is running returns 0 at once (the running one picks everything up)."""
        if self._lock.locked():
            return 0
        async with self._lock:
            sent = 0
            due = self._outbox.claim_due()  # no other sender can get these rows now
            try:
                for chat_id, rows in groupby(sorted(due, key=lambda a: (a.chat_id, a.id)),
                                             key=lambda a: a.chat_id):
                    sent += await self._deliver_chat(bot, chat_id, list(rows))
            finally:  # what was neither sent nor settled waits for the next run
                self._outbox.release([a.id for a in due])
            return sent

    async def _deliver_chat(self, bot: Bot, chat_id: int, alerts: list[Alert]) -> int:
        if not self._serves(chat_id):  # NEWSBOT_ALLOWED_CHATS no longer lists it
            dropped = self._outbox.drop_chat(chat_id, "chat not in NEWSBOT_ALLOWED_CHATS")
            logger.warning("dropped %d alert(s) for chat %s: not in NEWSBOT_ALLOWED_CHATS",
                           dropped, chat_id)
            return 0
        now = self._clock()
        policy = self.policy
        budget = policy.chat_rate - self._outbox.messages_since(chat_id, now - 60)
        if budget <= 0:
            return 0
        options = (self._chat_settings.get(chat_id) if self._chat_settings is not None
                   else ChatSettings())
        recent = self._outbox.alerts_since(chat_id, now - policy.digest_window)
        threads = self._subscriptions.threads(chat_id) if options.forum_topic else {}
        batches: list[tuple[str, list[Alert], int | None]] = []
        for thread, group in groupby(
                sorted(alerts, key=lambda a: (_thread_key(threads, a), a.id)),
                key=lambda a: _thread_key(threads, a)):
            part = list(group)
            by_id = {a.id: a for a in part}
            thread_id = thread or None
            if options.digest and len(part) > 1 and len(alerts) + recent > policy.digest_after:
                batches += [(text, [by_id[i] for i in ids], thread_id)
                            for text, ids in render_digest(part)]
            else:
                batches += [(render_alert(a), [a], thread_id) for a in part]
        sent = 0
        for text, batch, thread_id in batches[:budget]:
            if not await self._send(bot, chat_id, text, batch, thread_id, options):
                break  # the chat is unreachable or must wait: leave the rest for later
            sent += 1
        return sent

    async def _send(self, bot: Bot, chat_id: int, text: str, batch: Sequence[Alert],
                    thread_id: int | None, options: ChatSettings) -> bool:
        """One message; True when Telegram accepted it (and its alerts are marked sent)."""
        ids = [a.id for a in batch]
        if not self._outbox.hold(ids):  # its lease ran out and another sender took it
            logger.warning("alert(s) %s no longer claimed here; not sent", ids)
            return False
        try:
            message = await bot.send_message(
                chat_id, text, parse_mode=ParseMode.HTML, message_thread_id=thread_id,
                disable_notification=options.silent,
                link_preview_options=None if options.previews else NO_PREVIEW)
        except Forbidden as exc:
            await self._chat_gone(bot, chat_id, str(exc))
            return False
        except RetryAfter as exc:
            wait = exc.retry_after
            seconds = wait if isinstance(wait, int | float) else wait.total_seconds()
            self._outbox.retry_later(ids, float(seconds), f"flood wait {seconds} s",
                                     count_attempt=False)
            return False
        except ChatMigrated as exc:  # a group became a supergroup: follow it, send next time
            self._subscriptions.move_chat(chat_id, exc.new_chat_id)
            self._outbox.move_chat(chat_id, exc.new_chat_id)
            if self._chat_settings is not None:
                self._chat_settings.move_chat(chat_id, exc.new_chat_id)
            return False
        except BadRequest as exc:  # the message or chat is wrong: retrying cannot help
            logger.warning("alert(s) %s to chat %s rejected: %s", list(ids), chat_id, exc)
            self._outbox.fail(ids, f"rejected: {exc}")
            return False
        except TelegramError as exc:  # network errors, timeouts, 5xx
            self._retry(batch, str(exc) or type(exc).__name__)
            return False
        self._outbox.mark_sent(ids, message.message_id)
        return True

    def _retry(self, batch: Sequence[Alert], error: str) -> None:
        ids = [a.id for a in batch]
        attempts = 1 + max(a.attempts for a in batch)
        if attempts >= self.policy.max_attempts:
            logger.error("giving up on alert(s) %s after %d attempts: %s", list(ids),
                         attempts, error)
            self._outbox.fail(ids, f"gave up after {attempts} attempts: {error}")
            return
        delay = min(self.policy.retry_base * 2 ** (attempts - 1), self.policy.retry_cap)
        logger.info("alert(s) %s failed (%s); retrying in %.1f s", list(ids), error, delay)
        self._outbox.retry_later(ids, delay, error)

    async def _chat_gone(self, bot: Bot, chat_id: int, error: str) -> None:
        paused = self._subscriptions.disable_chat(chat_id)
        dropped = self._outbox.drop_chat(chat_id, f"forbidden: {error}")
        logger.warning("chat %s is gone (%s): %d subscriptions paused, %d alerts dropped",
                       chat_id, error, paused, dropped)
        text = (f"⚠️ Alerts to chat {chat_id} stopped: Telegram said “{error}” (the bot was "
                f"removed or blocked). Its {paused} subscription(s) are paused and "
                f"{dropped} pending alert(s) dropped; a new /subscribe there resumes them.")
        for admin_id in self._admin_ids:
            try:
                await bot.send_message(admin_id, text)
            except TelegramError as exc:
                logger.info("could not tell admin %s: %s", admin_id, exc)


def _thread_key(threads: dict[int, int | None], alert: Alert) -> int:
    """The forum topic an alert goes to (0: the chat itself), for sorting and grouping."""
    if alert.subscription_id is None:
        return 0
    return threads.get(alert.subscription_id) or 0

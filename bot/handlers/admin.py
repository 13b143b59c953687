"""Admin commands: ``/reindex`` (background rebuild with a live status message) and ``/stats``.

Admins are numeric user ids from settings; usernames change and command-menu scopes only
hide commands, so the check happens here, on every call. A refusal changes nothing and is
logged with the user id so an operator can see who tried.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from telegram import Message, Update
from telegram.error import BadRequest, TelegramError
from telegram.ext import ContextTypes

from bot.alerts.format import feed_lines
from bot.redact import describe, redact
from bot.state import BotState, RebuildJob, get_state
from index.api import RebuildCancelled, RebuildRunning
from index.models import IndexStats, IngestReport, RebuildProgress

logger = logging.getLogger(__name__)

SHUTDOWN_CHECK_SECONDS = 0.2  # how soon a running rebuild notices the bot stopping
STOPPED = ("Rebuild stopped: the bot is shutting down. The previous index is still "
           "serving; run /reindex again after the restart.")


def is_bot_admin(update: Update, state: BotState) -> bool:
    """A bot admin, by numeric id; never a message posted on behalf of a chat (channel
    posts, "send as channel", anonymous admins): there ``from`` is a placeholder Telegram
    fills in, and a forged one must not pass."""
    if update.channel_post is not None or update.edited_channel_post is not None:
        return False
    message = update.effective_message
    if message is not None and message.sender_chat is not None:
        return False
    user = update.effective_user
    return user is not None and not user.is_bot and user.id in state.admin_ids


async def _refuse(update: Update, command: str) -> None:
    user = update.effective_user
    chat = update.effective_chat
    logger.warning(
        "refused /%s from user id %s in chat %s",
        command,
        user.id if user else "?",
        chat.id if chat else "?",
    )
    if update.effective_message:
        await update.effective_message.reply_text(
            f"Sorry, /{command} is only for this bot's admins."
        )


async def admin_message(update: Update, state: BotState, command: str) -> Message | None:
    """The command's message when an admin sent it; None after refusing anyone else."""
    message = update.effective_message
    if message is None:
        return None
    if not is_bot_admin(update, state):
        await _refuse(update, command)
        return None
    return message


async def reindex(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Start a rebuild in a worker thread; the status message is edited as it runs."""
    state = get_state(context)
    message = await admin_message(update, state, "reindex")
    if message is None:
        return
    if state.rebuild is not None:
        await message.reply_text(f"A rebuild is already running, {state.rebuild.percent} %.")
        return
    job = RebuildJob()
    state.rebuild = job  # claimed before any await, so a second /reindex sees it
    # No await before create_task: the task then exists even if shutdown starts meanwhile,
    # and Application.stop() waits for it.
    application = context.application
    application.create_task(_run_rebuild(state, job, message, lambda: application.running),
                            update=update)


async def _run_rebuild(state: BotState, job: RebuildJob, request: Message,
                       running: Callable[[], bool]) -> None:
    """Send the status message, run the rebuild in a worker thread, edit progress in.

    When the bot starts shutting down (Ctrl-C, SIGTERM: ``running()`` turns False, and
    ``Application.stop`` waits for this task), the rebuild is asked to stop at its next
    batch; the live index stays as it was and the admin is told."""
    try:
        status = await request.reply_text("Rebuilding the index from all sources…")
        shown: str | None = status.text
        worker = asyncio.ensure_future(
            asyncio.to_thread(state.index.rebuild, list(state.sources), progress=job.record)
        )
        last_edit = time.monotonic()
        while True:
            done, _ = await asyncio.wait({worker}, timeout=SHUTDOWN_CHECK_SECONDS)
            if done:
                break
            if not running():
                state.index.cancel_rebuild()
                continue
            if time.monotonic() - last_edit >= state.progress_interval:
                last_edit = time.monotonic()
                text = progress_text(job)
                if text != shown:
                    shown = await _edit(status, text, shown)
        try:
            report = worker.result()
        except RebuildRunning as exc:  # started elsewhere (e.g. the CLI in this process)
            percent = round(exc.fraction * 100)
            await _edit(status, f"A rebuild is already running, {percent} %.", shown)
            return
        except RebuildCancelled:
            logger.warning("rebuild stopped: the bot is shutting down")
            await _edit(status, STOPPED, shown)
            return
        except Exception as exc:  # the index keeps its old generation on failure
            logger.error("rebuild failed: %s", describe(exc, _secrets(state)))
            await _edit(status, failure_text(exc, state), shown)
            return
        stats = await asyncio.to_thread(state.index.stats)
        await _edit(status, summary_text(report, stats, time.monotonic() - job.started), shown)
    finally:
        state.rebuild = None


async def _edit(status: Message, text: str, shown: str | None) -> str | None:
    """Edit the status message; a failed edit is logged, never fatal to the rebuild."""
    try:
        await status.edit_text(text)
        return text
    except BadRequest as exc:
        if "not modified" in str(exc).lower():
            return text
        logger.warning("could not edit the rebuild status: %s", exc)
    except TelegramError as exc:
        logger.warning("could not edit the rebuild status: %s", exc)
    return shown


def _secrets(state: BotState) -> list[str]:
    token = state.settings.telegram_token
    return [token.get_secret_value()] if token else []


def progress_text(job: RebuildJob) -> str:
    progress: RebuildProgress | None = job.progress
    if progress is None:
        return "Rebuilding the index… starting"
    eta = progress.eta_seconds  # estimated by the rebuild itself (index.api)
    line = f"Rebuilding the index… {job.percent} % ({progress.phase})"
    detail = f"{progress.articles} articles · {progress.chunks} chunks"
    if eta is not None:
        detail += f" · ETA {_duration(eta)}"
    return f"{line}\n{detail}"


def summary_text(report: IngestReport, stats: IndexStats, seconds: float) -> str:
    errors = report.failed
    lines = [
        f"Rebuild finished in {_duration(seconds)}: {stats.articles} articles, "
        f"{stats.chunks} chunks, {errors} error{'s' if errors != 1 else ''}."
    ]
    failed = [p for p in report.problems if p.kind == "failed"]
    for problem in failed[:3]:
        lines.append(f"• {problem.where}: {problem.reason}"[:300])
    if len(failed) > 3:
        lines.append(f"… and {len(failed) - 3} more")
    return "\n".join(lines)


def failure_text(exc: BaseException, state: BotState) -> str:
    lines = str(exc).strip().splitlines()
    reason = redact(lines[0] if lines else type(exc).__name__, _secrets(state))
    if len(reason) > 200:
        reason = reason[:199] + "…"
    return f"Rebuild failed: {reason}; the previous index is still serving."


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"


async def stats(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    state = get_state(context)
    message = await admin_message(update, state, "stats")
    if message is None:
        return
    index_stats = await asyncio.to_thread(state.index.stats)
    await message.reply_text(stats_text(index_stats, state))


def stats_text(index_stats: IndexStats, state: BotState) -> str:
    p50 = state.metrics.p50_seconds
    latency = f"{p50 * 1000:.0f} ms" if p50 is not None else "n/a"
    lines = [
        f"Articles: {index_stats.articles}",
        f"Chunks: {index_stats.chunks} (vectors: {index_stats.vectors})",
        f"Sources: {index_stats.sources}",
        f"Last ingest: {index_stats.last_ingest or 'never'}",
        f"Index size: {_size(index_stats.disk_bytes)}",
        f"Model: {index_stats.model}",
        f"Questions answered: {state.metrics.questions_answered}",
        f"p50 latency: {latency}",
    ]
    if state.rebuild is not None:
        lines.append(f"Rebuild running: {state.rebuild.percent} %")
    lines += alert_stats_lines(state)
    return "\n".join(lines)


def alert_stats_lines(state: BotState) -> list[str]:
    """Subscriptions, the outbox, and every failing feed with its last error."""
    alerts = state.alerts
    if alerts is None:
        return []
    active, chats = alerts.subscriptions.counts()
    outbox = alerts.outbox.counts()
    lines = [
        f"Subscriptions: {active} in {chats} chat{'s' if chats != 1 else ''}",
        f"Alerts: {outbox.get('pending', 0)} pending, {outbox.get('sent', 0)} sent, "
        f"{outbox.get('failed', 0) + outbox.get('dropped', 0)} failed or dropped",
    ]
    statuses = alerts.poller.statuses()
    if statuses:
        failing = [f for f in statuses if f.failing]
        lines.append(f"Feeds: {len(statuses)} ({len(failing)} failing)")
        lines += feed_lines(failing, time.time())
    return lines


def _size(count: int) -> str:
    value = float(count)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{count} B"

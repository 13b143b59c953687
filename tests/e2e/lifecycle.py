"""Start and stop a real bot application the way ``Application.run_polling`` does, but in
the caller's event loop, so tests and benchmarks can drive the fake Bot API meanwhile."""

from __future__ import annotations

from collections.abc import Sequence

from telegram import Update

from bot.app import BotApplication


async def launch(application: BotApplication, *, poll_timeout: int = 1,
                 allowed_updates: Sequence[str] = Update.ALL_TYPES) -> None:
    """What ``run_polling`` does before it idles (it long-polls 10 s; tests use 1 s so a
    stop is quick)."""
    await application.initialize()
    if application.post_init is not None:
        await application.post_init(application)
    assert application.updater is not None
    await application.updater.start_polling(poll_interval=0, timeout=poll_timeout,
                                            allowed_updates=list(allowed_updates))
    await application.start()


async def halt(application: BotApplication) -> None:
    """Stop it the way ``run_polling`` does (jobs, polling, then shutdown hooks); safe to
    call on an application already halted."""
    assert application.updater is not None
    if application.updater.running:
        await application.updater.stop()
    if application.running:
        await application.stop()
    await application.shutdown()
    if application.post_shutdown is not None:
        await application.post_shutdown(application)

"""What the answer handlers need of a chat's ``/settings`` (``index.alerts.chatsettings``),
one call each, so the question and button handlers stay as they are but for a flag."""

from __future__ import annotations

from bot.state import BotState

FULL_ARTICLE_OFF = "Full articles are turned off in this chat (/settings)."


def shows_full_article(state: BotState, chat_id: int) -> bool:
    """May answers in this chat carry "Full article" buttons (and may they be used)?"""
    if state.alerts is None:
        return True
    return state.alerts.chat_settings.get(chat_id).full_article

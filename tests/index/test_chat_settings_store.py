"""Per-chat settings in the state database and topics with excluded words (issue 17)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from index.alerts.chatsettings import ChatSettings, ChatSettingsStore
from index.alerts.topics import TopicError, parse_topic


def test_defaults_toggle_and_reopen(open_state_db: Callable) -> None:
    db = open_state_db()
    store = ChatSettingsStore(db)
    assert store.get(-100) == ChatSettings()
    assert store.toggle(-100, "silent", by=5).silent is True
    assert store.toggle(-100, "digest").digest is False
    assert store.toggle(-100, "silent").silent is False
    assert store.get(-200) == ChatSettings()  # other chats untouched
    with pytest.raises(KeyError):
        store.toggle(-100, "nonsense")
    store.move_chat(-100, -1000100)
    db.close()
    reopened = ChatSettingsStore(open_state_db())
    assert reopened.get(-1000100) == ChatSettings(digest=False)
    assert reopened.get(-100) == ChatSettings()


def test_excluded_words_and_phrases() -> None:
    topic = parse_topic('"State Bank" interest rate -cricket -"Premier League",')
    assert topic.phrases == ("State Bank",)
    assert topic.excluded == ("cricket", "Premier League")
    assert topic.meaning == "State Bank interest rate"
    assert topic.accepts_text("The State Bank raised its interest rate.")
    assert not topic.accepts_text("The State Bank sponsors CRICKET.")
    assert not topic.accepts_text("State Bank and the premier  league")
    assert topic.accepts_text("State Bank on crickets")  # whole words only
    hyphens = parse_topic("e-commerce Pakistan-India trade")
    assert hyphens.excluded == () and hyphens.meaning == "e-commerce Pakistan-India trade"
    with pytest.raises(TopicError, match="no words besides the excluded ones"):
        parse_topic("-cricket -football")

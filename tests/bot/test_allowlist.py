"""``bot.allowlist``: who is served, and how seldom the refusal is repeated."""

from __future__ import annotations

import pytest

from bot.allowlist import MAX_REMEMBERED, NOTICE_INTERVAL, ChatAllowlist
from bot.settings import Settings
from index.settings import SettingsError


class Clock:
    now = 100.0

    def __call__(self) -> float:
        return self.now


def test_empty_list_serves_everyone() -> None:
    allowlist = ChatAllowlist([], [1])
    assert not allowlist.active and allowlist.allows_chat(-100123) and allowlist.allows_user(9)


def test_listed_chats_and_the_admins_private_chats_are_served() -> None:
    allowlist = ChatAllowlist([-1001, 42], [7])
    assert allowlist.active
    assert allowlist.allows_chat(-1001) and allowlist.allows_chat(42) and allowlist.allows_chat(7)
    assert not allowlist.allows_chat(-1002) and not allowlist.allows_user(43)


def test_the_refusal_is_repeated_once_an_interval_per_chat() -> None:
    clock = Clock()
    allowlist = ChatAllowlist([1], [], clock=clock)
    assert allowlist.should_notify(5) and allowlist.should_notify(6)
    clock.now += NOTICE_INTERVAL - 1
    assert not allowlist.should_notify(5)
    clock.now += 1
    assert allowlist.should_notify(5) and not allowlist.should_notify(5)


def test_memory_is_bounded() -> None:
    clock = Clock()
    allowlist = ChatAllowlist([1], [], clock=clock)
    for chat in range(MAX_REMEMBERED + 1):
        allowlist.should_notify(chat)
    assert allowlist.should_notify(0)  # the oldest was forgotten
    assert not allowlist.should_notify(MAX_REMEMBERED)


def test_the_setting_reads_ids_and_refuses_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSBOT_ALLOWED_CHATS", "-1001234567890, 42")
    assert Settings.load(_env_file=None).allowed_chats == [-1001234567890, 42]
    monkeypatch.setenv("NEWSBOT_ALLOWED_CHATS", "@mychannel")
    with pytest.raises(SettingsError, match="allowed chats are numeric chat ids"):
        Settings.load(_env_file=None)

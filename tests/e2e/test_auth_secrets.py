"""Authorization and secrets (issue 7), the parts not already covered by test_admin.py,
test_resilience.py, test_run_bot.py and alerts/test_subscription_rights.py: forged ``from``
fields on messages posted as a chat, a failing Bot API request whose error text carries the
token, admin ids that are not numbers, and what git ignores."""

from __future__ import annotations

import io
import logging
from pathlib import Path

import pytest

from bot.redact import install_log_redaction
from bot.settings import Settings
from index.settings import SettingsError
from tests.e2e.conftest import ADMIN, ALICE, RunningBot

REPO = Path(__file__).resolve().parents[2]


def _post_as_chat(bot: RunningBot, chat, sender_chat, text: str, *, forged_from=ADMIN):
    """A message posted on behalf of ``sender_chat`` whose ``from`` claims to be a bot
    admin (Telegram would put a placeholder bot there; a forged update may not)."""
    return bot.api.push_message(chat, forged_from, text, sender_chat=sender_chat.as_dict())


async def test_forged_from_on_messages_posted_as_a_chat_is_not_an_admin(bot: RunningBot,
                                                                         news_index) -> None:
    api = bot.api
    calls: list[object] = []
    real = news_index.rebuild
    news_index.rebuild = lambda *a, **k: calls.append(a) or real(*a, **k)  # type: ignore
    try:
        group = api.group(-100801, "Public group", supergroup=True)
        other = api.channel(-1001800, "Somebody's channel")
        for text in ("/reindex", "/stats"):
            _post_as_chat(bot, group, other, f"{text}@{api.bot.username}")
            [reply] = await api.wait_for_sent(group.id, after=len(api.sent(group.id)))
            assert "only for this bot's admins" in reply.text, reply.text
        # the anonymous-admin form (sender_chat is the group) is not a *bot* admin either
        _post_as_chat(bot, group, group, f"/reindex@{api.bot.username}")
        [reply] = await api.wait_for_sent(group.id, after=2)
        assert "only for this bot's admins" in reply.text
        # a channel post with a forged from: commands there never reach admin handlers
        channel = api.channel(-1001801, "Our channel")
        post = api.channel_post(channel, "/reindex")
        assert post
        [answer] = await bot.ask(api.private_chat(ALICE), ALICE, "/start")
        assert answer.text
        assert calls == []  # no rebuild was started by any of them
        assert not [m for m in api.all_sent() if m.text.startswith("Rebuilding")]
    finally:
        news_index.rebuild = real  # type: ignore[method-assign]


async def test_token_never_in_logs_replies_or_reports_when_a_request_fails(
        bot: RunningBot, news_index, monkeypatch: pytest.MonkeyPatch) -> None:
    api = bot.api
    token = api.token
    secret = token.split(":", 1)[1]
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    log_filter = install_log_redaction([token])
    root.setLevel(logging.DEBUG)
    for name in ("httpx", "httpcore", "telegram", "bot"):  # the noisiest, URL-logging ones
        monkeypatch.setattr(logging.getLogger(name), "level", logging.DEBUG)
    try:
        chat = bot.chat_with(ALICE)
        # Telegram's error text echoes the request URL (with the token) for this failure.
        api.fail_next("sendMessage", times=1, code=400,
                      description=f"Bad Request: can't parse /bot{token}/sendMessage")
        api.send(chat, ALICE, "How bad is the Karachi water shortage?")
        report = await api.wait_for(
            lambda: [m for m in api.sent(bot.chat_with(ADMIN).id) if "error" in m.text.lower()],
            timeout=15, what="the admin error report")
        await bot.ask(chat, ALICE, "/start")
        logged = stream.getvalue()
        assert "sendMessage" in logged  # the failure was logged (URLs included, at DEBUG)
        everything = [logged] + [m.text for m in api.all_sent()] + [m.source for m in
                                                                    api.all_sent()]
        for text in everything:  # in any case: PTB lowercases error descriptions
            assert token.lower() not in text.lower() and secret.lower() not in text.lower()
        assert "<redacted>" in report[0].text or token not in report[0].text
    finally:
        root.removeHandler(handler)
        handler.removeFilter(log_filter)
        for h in root.handlers:
            h.removeFilter(log_filter)
        root.setLevel(old_level)


@pytest.mark.parametrize("value", ["@ada_admin", "ada", "1001,@bob", "1001;x"])
def test_admin_ids_must_be_numeric(value: str) -> None:
    with pytest.raises((SettingsError, ValueError)):
        Settings.load(admin_ids=value)


def test_admin_ids_numeric_are_accepted() -> None:
    assert Settings.load(admin_ids="1001, 2002").admin_ids == [1001, 2002]


def test_env_and_data_are_git_ignored() -> None:
    lines = {line.strip() for line in (REPO / ".gitignore").read_text().splitlines()}
    assert ".env" in lines
    assert "data/" in lines or "/data/" in lines or "data" in lines

"""``config.example.env`` cannot drift from the code: every name in it is a real setting,
every setting is in it, only the operator's few are active, and each commented-out tuning
knob shows the code's default."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.settings import Settings
from index.modelzoo import MODEL_CACHE_ENV, mpnet_cache_dir
from index.settings import ENV_PREFIX

EXAMPLE = Path(__file__).resolve().parents[2] / "config.example.env"
LINE = re.compile(rf"^(?P<comment># )?(?P<name>{ENV_PREFIX}[A-Z0-9_]+)=(?P<value>.*)$")
OPERATOR_SETTINGS = {
    "NEWSBOT_TELEGRAM_TOKEN", "NEWSBOT_ADMIN_IDS", "NEWSBOT_FEEDS", "NEWSBOT_DATA_DIR",
    "NEWSBOT_WEBHOOK_URL", "NEWSBOT_WEBHOOK_SECRET", "NEWSBOT_WEBHOOK_LISTEN",
    "NEWSBOT_WEBHOOK_PORT",
}


def _entries() -> list[tuple[str, str, bool]]:
    """(name, value, active) for every ``NEWSBOT_X=…`` and ``# NEWSBOT_X=…`` line."""
    found = []
    for line in EXAMPLE.read_text(encoding="utf-8").splitlines():
        match = LINE.match(line)
        if match:
            found.append((match["name"], match["value"], match["comment"] is None))
    return found


def _field(name: str) -> str:
    return name.removeprefix(ENV_PREFIX).lower()


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    monkeypatch.delenv("NEWSBOT_EMBEDDING_MODEL")  # the suite's choices (conftest), not defaults
    monkeypatch.delenv("NEWSBOT_EMBED_DTYPE")
    return monkeypatch


def test_every_name_is_a_setting_and_every_setting_is_listed_once() -> None:
    names = [name for name, _, _ in _entries()]
    known = {ENV_PREFIX + f.upper() for f in Settings.model_fields} | {MODEL_CACHE_ENV}
    assert sorted(set(names) - known) == []
    assert sorted(known - set(names)) == []
    assert len(names) == len(set(names)), "a setting is listed twice"


def test_only_the_operators_settings_are_active() -> None:
    active = {name for name, _, is_active in _entries() if is_active}
    assert active == OPERATOR_SETTINGS


def test_the_file_as_shipped_changes_nothing(clean_env: pytest.MonkeyPatch) -> None:
    copied = Settings.load(_env_file=str(EXAMPLE))
    assert copied.model_dump() == Settings.load(_env_file=None).model_dump()


def test_commented_defaults_are_the_codes(clean_env: pytest.MonkeyPatch) -> None:
    defaults = Settings.load(_env_file=None)
    commented = [(n, v) for n, v, active in _entries() if not active and n != MODEL_CACHE_ENV]
    assert len(commented) > 40
    wrong = []
    for name, value in commented:
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv(name, value)
            shown = getattr(Settings.load(_env_file=None), _field(name))
        if shown != getattr(defaults, _field(name)):
            wrong.append(f"{name}={value} but the default is {getattr(defaults, _field(name))!r}")
    assert wrong == []


def test_model_cache_left_empty_is_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    [value] = [v for n, v, _ in _entries() if n == MODEL_CACHE_ENV]
    monkeypatch.delenv(MODEL_CACHE_ENV, raising=False)
    default = mpnet_cache_dir()
    monkeypatch.setenv(MODEL_CACHE_ENV, value)
    assert mpnet_cache_dir() == default

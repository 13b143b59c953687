from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import Settings
from index.settings import IndexSettings, SettingsError


def test_defaults_are_documented_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NEWSBOT_EMBEDDING_MODEL")  # the suite's own choice (conftest)
    s = Settings.load()
    assert s.data_dir == Path("data")
    assert s.embedding_model == "mpnet"
    assert s.telegram_token is None
    assert s.admin_ids == []
    assert s.telegram_api_url == "https://api.telegram.org/bot"


def test_lists_accept_commas_and_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSBOT_ADMIN_IDS", "123, 456")
    monkeypatch.setenv("NEWSBOT_FEEDS", '["http://a/rss", "http://b/atom"]')
    s = Settings.load()
    assert s.admin_ids == [123, 456]
    assert s.feeds == ["http://a/rss", "http://b/atom"]


def test_token_is_secret_and_never_in_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSBOT_TELEGRAM_TOKEN", "123:SECRET-TOKEN")
    s = Settings.load()
    assert s.telegram_token is not None
    assert s.telegram_token.get_secret_value() == "123:SECRET-TOKEN"
    assert "SECRET-TOKEN" not in repr(s)


@pytest.mark.parametrize(
    ("var", "value"),
    [
        ("NEWSBOT_ADMIN_IDS", "@someadmin"),
        ("NEWSBOT_CHUNK_WORDS", "lots"),
        ("NEWSBOT_CHUNK_WORDS", "5000"),
        ("NEWSBOT_FEED_INTERVAL", "1"),
    ],
)
def test_malformed_value_names_the_variable(monkeypatch, var: str, value: str) -> None:
    monkeypatch.setenv(var, value)
    with pytest.raises(SettingsError) as err:
        Settings.load()
    assert var in str(err.value)


def test_unknown_variable_is_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSBOT_TELEGRAM_TOKNE", "x")
    with pytest.raises(SettingsError, match="NEWSBOT_TELEGRAM_TOKNE"):
        Settings.load()


def test_unknown_key_in_dotenv_is_rejected(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("NEWSBOT_DATA_DIRR=/tmp/x\n")
    with pytest.raises(SettingsError, match="NEWSBOT_DATA_DIRR"):
        Settings.load()


def test_dotenv_values_are_read(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("NEWSBOT_DATA_DIR=/tmp/elsewhere\nNEWSBOT_ADMIN_IDS=7\n")
    s = Settings.load()
    assert s.data_dir == Path("/tmp/elsewhere")
    assert s.admin_ids == [7]


def test_every_field_is_in_config_example() -> None:
    example = (Path(__file__).resolve().parents[2] / "config.example.env").read_text()
    for name in Settings.model_fields:
        assert f"NEWSBOT_{name.upper()}=" in example, name
    for name in IndexSettings.model_fields:
        assert f"NEWSBOT_{name.upper()}=" in example, name


def test_dotenv_of_another_program_is_ignored(tmp_path: Path) -> None:
    """A shared .env holds other programs' variables: only NEWSBOT_* keys are ours."""
    (tmp_path / ".env").write_text(
        "OTHER_APP_SETTING=1\nDATABASE_URL=postgres://x\nNEWSBOT_ADMIN_IDS=7\n")
    s = Settings.load()
    assert s.admin_ids == [7]


def test_typo_in_dotenv_names_it_once_and_suggests_the_closest(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("NEWSBOT_DATA_DIRR=/tmp/x\n")
    with pytest.raises(SettingsError) as err:
        Settings.load()
    message = str(err.value)
    assert "NEWSBOT_NEWSBOT_" not in message
    assert message == ("unknown setting NEWSBOT_DATA_DIRR (in .env); "
                       "did you mean NEWSBOT_DATA_DIR?")


def test_unknown_names_are_checked_in_any_letter_case(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("newsbot_feed_intervall", "60")
    with pytest.raises(SettingsError) as err:
        Settings.load()
    assert str(err.value) == ("unknown setting newsbot_feed_intervall; "
                              "did you mean NEWSBOT_FEED_INTERVAL?")
    monkeypatch.delenv("newsbot_feed_intervall")
    monkeypatch.setenv("newsbot_feed_interval", "60")  # a known name in lower case is fine
    assert Settings.load().feed_interval == 60


def test_database_url_is_optional_secret_and_must_be_postgresql(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Empty selects the embedded index; a URL (it may hold a password) is never shown,
    not in a repr nor in the error for a URL of another database."""
    monkeypatch.setenv("NEWSBOT_DATABASE_URL", "")
    assert IndexSettings.load().database_url is None
    monkeypatch.setenv("NEWSBOT_DATABASE_URL", "postgresql://bot:hunter2@db/news")
    s = IndexSettings.load()
    assert s.database_url is not None
    assert s.database_url.get_secret_value() == "postgresql://bot:hunter2@db/news"
    assert "hunter2" not in repr(s)
    monkeypatch.setenv("NEWSBOT_DATABASE_URL", "mysql://bot:hunter2@db/news")
    with pytest.raises(SettingsError) as refused:
        IndexSettings.load()
    assert "NEWSBOT_DATABASE_URL" in str(refused.value)
    assert "hunter2" not in str(refused.value)

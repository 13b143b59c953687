"""``newsbot doctor`` against the fake Bot API, a local feed server and a real index: every
check passes on a healthy setup, and each broken one is named with its fix."""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot import cli
from bot.app import TOKEN_REJECTED
from index import Index
from index.settings import IndexSettings
from tests.e2e.alerts.feed_server import Entry, FeedServer
from tests.e2e.conftest import ADMIN, ALICE
from tests.e2e.fakeapi import FakeBotApi

WEBHOOK = "https://news.example.org/telegram/hook"


@pytest.fixture
def feeds() -> Iterator[FeedServer]:
    server = FeedServer().start()
    server.set_feed("/rss", "Wire", [
        Entry(f"Story {n}", f"/story{n}", f"Body of story {n}. It has two sentences.",
              dt.datetime(2017, 3, n + 1, 9, 0)) for n in range(3)])
    server.fail("/gone", 404)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def data_dir(tmp_path: Path, corpus_dir: Path, embedder) -> Path:
    """A real index (MiniLM, as the suite's settings say) over the five test articles."""
    data = tmp_path / "data"
    index = Index.open(IndexSettings(data_dir=data), embedder=embedder)
    index.ingest([str(corpus_dir)])
    index.close()
    return data


@pytest.fixture
def configured(monkeypatch: pytest.MonkeyPatch, fake_api: FakeBotApi, feeds: FeedServer,
               local_fetches: None) -> FakeBotApi:
    monkeypatch.setenv("NEWSBOT_TELEGRAM_TOKEN", fake_api.token)
    monkeypatch.setenv("NEWSBOT_TELEGRAM_API_URL", fake_api.base_url)
    monkeypatch.setenv("NEWSBOT_ADMIN_IDS", str(ADMIN.id))
    monkeypatch.setenv("NEWSBOT_FEEDS", feeds.url("/rss"))
    fake_api.private_chat(ADMIN)  # the admin has pressed Start
    return fake_api


def _doctor(data_dir: Path, capsys: pytest.CaptureFixture[str], *flags: str
            ) -> tuple[int, dict[str, str]]:
    """Exit code and each check's line(s), keyed by the check's name."""
    code = cli.main(["doctor", "--data-dir", str(data_dir), *flags])
    out = capsys.readouterr().out
    rows: dict[str, str] = {}
    last = ""
    for line in out.splitlines()[:-1]:
        if line.startswith(" "):
            rows[last] += "\n" + line.strip()
            continue
        status, rest = line[:4].strip(), line[6:]
        last = rest.split("  ", 1)[0].strip()
        rows[last] = f"{status}: {rest[len(last):].strip()}"
    return code, rows


def test_healthy_setup_passes_every_check(configured: FakeBotApi, data_dir: Path,
                                          feeds: FeedServer, capsys) -> None:
    code, rows = _doctor(data_dir, capsys)
    assert code == 0, rows
    assert rows["token"] == f"ok: accepted: @{configured.bot.username} (id {configured.bot.id})"
    assert rows["privacy mode"].startswith("ok: on")
    assert rows["updates"] == "ok: long polling; 0 updates waiting"
    assert rows[f"admin {ADMIN.id}"].startswith("ok:")
    assert rows[f"feed {feeds.url('/rss')}"] == "ok: reachable, 3 entries"
    assert rows["data directory"].startswith("ok:") and rows["free disk"].startswith("ok:")
    assert rows["model"].startswith("ok: minilm at ")
    assert rows["index model"] == "ok: the index was embedded with 'minilm'"
    assert re.fullmatch(r"ok: 5 articles, \d+ chunks; FAISS, SQLite and FTS agree", rows["index"])
    assert [c.method for c in configured.calls()] == ["getMe", "getWebhookInfo", "getChat"]


def test_each_problem_is_named_with_its_fix(configured: FakeBotApi, data_dir: Path,
                                            feeds: FeedServer, monkeypatch, capsys) -> None:
    api = configured
    api.set_privacy(False)
    monkeypatch.setenv("NEWSBOT_WEBHOOK_URL", WEBHOOK)
    api.handle(f"/bot{api.token}/setWebhook", {"url": WEBHOOK})
    api.webhook_failed("Connection refused", at=time.time() - 600)
    api.send(api.private_chat(ALICE), ALICE, "hello?")  # waits: Telegram cannot deliver it
    monkeypatch.setenv("NEWSBOT_ADMIN_IDS", f"{ADMIN.id},{ALICE.id + 1},-100123")
    monkeypatch.setenv("NEWSBOT_FEEDS", f"{feeds.url('/rss')},{feeds.url('/gone')}")
    monkeypatch.setenv("NEWSBOT_EMBEDDING_MODEL", "mpnet")  # the index holds MiniLM vectors

    code, rows = _doctor(data_dir, capsys)
    assert code == 1
    assert rows["privacy mode"].startswith("warn: off")
    assert "/setprivacy" in rows["privacy mode"] and "re-add" in rows["privacy mode"]
    assert rows["updates"].startswith(f"FAIL: {WEBHOOK}: last delivery failed 10 min ago: "
                                      "Connection refused; 1 updates waiting")
    assert "docs/deploy.md" in rows["updates"] and "443" in rows["updates"]
    assert rows[f"admin {ALICE.id + 1}"].startswith("warn: has not started a chat")
    assert f"t.me/{api.bot.username}" in rows[f"admin {ALICE.id + 1}"]
    assert rows["admin -100123"].startswith("FAIL: a group or channel id")
    assert rows[f"feed {feeds.url('/gone')}"].startswith("FAIL: ") and "404" in \
        rows[f"feed {feeds.url('/gone')}"]
    assert rows[f"feed {feeds.url('/rss')}"].startswith("ok:")
    assert rows["index model"].startswith("FAIL: the index was embedded with 'minilm'")
    assert "newsbot reindex" in rows["index model"]
    assert "index" not in rows  # not opened: that would re-embed it


def test_rejected_token_is_one_line_without_the_token(configured: FakeBotApi, data_dir: Path,
                                                      monkeypatch, capsys) -> None:
    wrong = configured.token.replace("fake", "gone")
    monkeypatch.setenv("NEWSBOT_TELEGRAM_TOKEN", wrong)
    code = cli.main(["doctor", "--data-dir", str(data_dir)])
    out = capsys.readouterr().out
    assert code == 1
    assert "FAIL  token" in out and TOKEN_REJECTED in out
    assert wrong not in out and wrong.split(":")[1] not in out


def test_offline_skips_the_network(data_dir: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("NEWSBOT_TELEGRAM_API_URL", "http://127.0.0.1:9/bot")  # nothing there
    assert cli.main(["doctor", "--offline", "--data-dir", str(data_dir)]) == 0
    out = capsys.readouterr().out
    assert "token" not in out and "feed" not in out and "ok    index " in out


def test_offline_on_postgres_checks_the_database_and_its_index(
        tmp_path: Path, corpus_dir: Path, embedder, pg_url: str, monkeypatch, capsys) -> None:
    """With NEWSBOT_DATABASE_URL the index checks read the database, not the (empty) data
    directory: it answers, has pgvector, and its index agrees with itself."""
    data = tmp_path / "data"
    index = Index.open(IndexSettings(data_dir=data, database_url=pg_url), embedder=embedder)
    index.ingest([str(corpus_dir)])
    index.close()
    monkeypatch.setenv("NEWSBOT_DATABASE_URL", pg_url)
    code, rows = _doctor(data, capsys, "--offline")
    assert code == 0, rows
    assert re.fullmatch(r"ok: postgresql://\S+ answers; pgvector \d+\.\d+\.\d+", rows["database"])
    assert rows["free disk"].startswith("ok:") and "the index is in PostgreSQL" in rows["free disk"]
    assert rows["index model"] == "ok: the index was embedded with 'minilm'"
    assert re.fullmatch(r"ok: 5 articles, \d+ chunks; PostgreSQL rows, HNSW index and full "
                        r"text agree", rows["index"])


def test_an_unreachable_database_is_named_with_its_fix_and_no_password(
        tmp_path: Path, monkeypatch, capsys) -> None:
    secret = "s3cret-Pa55"
    url = f"postgresql://newsbot:{secret}@/newsbot?host={tmp_path / 'no-server'}"
    monkeypatch.setenv("NEWSBOT_DATABASE_URL", url)
    code, rows = _doctor(tmp_path / "data", capsys, "--offline")
    assert code == 1
    assert rows["database"].startswith("FAIL: postgresql://newsbot@/newsbot?host=")
    assert "NEWSBOT_DATABASE_URL" in rows["database"]  # the fix line
    assert secret not in "\n".join(rows.values())
    assert "index" not in rows and "index model" not in rows

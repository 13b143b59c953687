"""The bundled samples are a terminal demo: ``newsbot run`` with a token takes out the
sample articles an earlier terminal chat indexed and serves only real sources; and with
``NEWSBOT_RETENTION_DAYS`` the running bot prunes old articles by itself. Real processes
and the real python-telegram-bot stack against the fake Bot API."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from bot.app import build_application
from bot.cli import samples_dir
from bot.settings import Settings
from index import Index
from tests.bot.cli_process import WRAPPER, cli_env, newsbot
from tests.conftest import write_article
from tests.e2e.fakeapi import FakeBotApi
from tests.e2e.lifecycle import halt, launch


def _outlets(data: Path) -> dict[str, int]:
    done = newsbot(data, "stats", "--json")
    assert done.returncode == 0, done.stderr
    return {o["source"]: o["articles"] for o in json.loads(done.stdout)["outlets"]}


def _run_until_polling(fake_api: FakeBotApi, cwd: Path, env: dict[str, str]) -> str:
    """``newsbot run`` until it polls the fake Bot API, then Ctrl-C; its stderr, after
    checking that it stopped cleanly."""
    proc = subprocess.Popen([sys.executable, "-c", WRAPPER, "run"], cwd=cwd, env=env,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        fake_api.wait_until(lambda: fake_api.calls("getUpdates"), timeout=90)
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    return err


def test_run_with_a_token_serves_without_the_demo_samples(fake_api: FakeBotApi,
                                                          tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert newsbot(data, "ingest", str(samples_dir())).returncode == 0  # the demo ran first
    assert sum(_outlets(data).values()) == 5
    sources = tmp_path / "sources"
    write_article(sources, "port.txt", title="Karachi port traffic", date="2024-03-01",
                  source="Port Trust", body="Karachi port handled record container "
                  "traffic in February, the port trust said on Friday.")
    env = cli_env(data, NEWSBOT_TELEGRAM_TOKEN=fake_api.token,
                  NEWSBOT_TELEGRAM_API_URL=fake_api.base_url, NEWSBOT_SOURCES=str(sources))
    err = _run_until_polling(fake_api, tmp_path, env)
    assert "Removed the 5 bundled sample articles (a terminal demo) before serving Telegram." \
        in err
    assert _outlets(data) == {"Port Trust": 1}


def test_run_with_a_token_never_indexes_the_samples(fake_api: FakeBotApi,
                                                    tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = cli_env(data, NEWSBOT_TELEGRAM_TOKEN=fake_api.token,
                  NEWSBOT_TELEGRAM_API_URL=fake_api.base_url)
    err = _run_until_polling(fake_api, tmp_path, env)
    assert "Warning: the index is empty: add articles with `newsbot ingest" in err
    assert _outlets(data) == {}


@pytest.mark.asyncio
async def test_the_running_bot_applies_the_retention(fake_api: FakeBotApi, tmp_path: Path,
                                                     embedder) -> None:
    today = dt.date.today()
    news = tmp_path / "news"
    write_article(news, "fresh.txt", title="Fresh story", date=str(today - dt.timedelta(days=2)),
                  body="The city council in Multan approved a new bus depot on Monday.")
    write_article(news, "old.txt", title="Old story", date=str(today - dt.timedelta(days=90)),
                  body="Fishermen in Thatta asked for a repaired fish harbour in spring.")
    settings = Settings(_env_file=None, telegram_token=fake_api.token,
                        telegram_api_url=fake_api.base_url, data_dir=tmp_path / "data",
                        retention_days=30)
    with Index.open(settings, embedder=embedder) as index:
        assert index.ingest([str(news)]).articles_new == 2
        application = build_application(settings, index, retention_first_run=0.1)
        await launch(application)
        try:
            [job] = application.job_queue.get_jobs_by_name("retention")
            assert job.trigger.interval == dt.timedelta(days=1)
            for _ in range(200):  # the first prune runs just after start
                if index.stats().articles == 1:
                    break
                await asyncio.sleep(0.05)
        finally:
            await halt(application)
        assert [a.title for a in index.latest(limit=5)] == ["Fresh story"]
        assert index.check() == []


@pytest.mark.asyncio
async def test_no_retention_job_without_the_setting(fake_api: FakeBotApi, tmp_path: Path,
                                                    embedder) -> None:
    settings = Settings(_env_file=None, telegram_token=fake_api.token,
                        telegram_api_url=fake_api.base_url, data_dir=tmp_path / "data")
    with Index.open(settings, embedder=embedder) as index:
        application = build_application(settings, index, retention_first_run=0.1)
        await launch(application)
        try:
            assert application.job_queue.get_jobs_by_name("retention") == ()
        finally:
            await halt(application)

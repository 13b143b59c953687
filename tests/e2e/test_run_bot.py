"""``python -m bot run`` as an operator starts it: settings from the environment, the index
built from the configured sources, long polling against the (fake) Bot API, a clean stop."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import TEST_MODEL
from tests.e2e.conftest import ADMIN, ALICE, ARTICLES
from tests.e2e.fakeapi import FakeBotApi

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def bot_process(fake_api: FakeBotApi, tmp_path: Path) -> Iterator[subprocess.Popen[str]]:
    sources = tmp_path / "sources"
    sources.mkdir()
    for name in ("telecom_bid.txt", "water_dawn.txt"):
        shutil.copy(ARTICLES / name, sources / name)
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSBOT_")}
    env["NEWSBOT_EMBEDDING_MODEL"] = TEST_MODEL
    env.update(
        NEWSBOT_TELEGRAM_TOKEN=fake_api.token,
        NEWSBOT_TELEGRAM_API_URL=fake_api.base_url,
        NEWSBOT_ADMIN_IDS=str(ADMIN.id),
        NEWSBOT_DATA_DIR=str(tmp_path / "data"),
        NEWSBOT_SOURCES=str(sources),
        PYTHONPATH=str(REPO),
        HF_HUB_OFFLINE="1",
    )
    fake_api.private_chat(ADMIN)
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "run"],
        cwd=tmp_path,  # no .env from the work tree
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


@pytest.mark.slow
def test_python_m_bot_run_serves_polling_and_stops_cleanly(
    fake_api: FakeBotApi, bot_process: subprocess.Popen[str]
) -> None:
    # Started: the model was loaded (warm-up) before polling began, menus were registered.
    fake_api.wait_until(lambda: fake_api.calls("getUpdates"), timeout=90)
    assert fake_api.commands({"type": "chat", "chat_id": ADMIN.id}) is not None
    chat = fake_api.private_chat(ALICE)
    fake_api.send(chat, ALICE, "How much was the AT&T bid for Karachi Telecom?")
    [reply] = fake_api.wait_until(lambda: fake_api.sent(chat.id), timeout=30)
    assert "AT&T <b>bids</b>" in reply.text and "\n1. " in reply.text

    bot_process.send_signal(signal.SIGINT)
    output, _ = bot_process.communicate(timeout=30)
    assert bot_process.returncode == 0, output
    assert fake_api.token not in output
    assert fake_api.token.split(":")[1] not in output

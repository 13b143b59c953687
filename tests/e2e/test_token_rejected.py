"""``newsbot run`` with a token Telegram rejects (401), or a valid token sent to a wrong
``NEWSBOT_TELEGRAM_API_URL`` (404): python-telegram-bot's error quotes the token, and it
must not reach the terminal. One redacted line with the fix, no traceback (issue 14,
item 6)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.fakeapi import FakeBotApi

FIX = "Telegram rejected the token: copy it again from @BotFather"
REPO = Path(__file__).resolve().parents[2]
# The real CLI, with the torch-free stand-in embedder (with a token nothing is indexed at start;
# what is tested happens after that, when the bot first calls the Bot API).
WRAPPER = ("import sys\nfrom tests.robustness.hashed_embedder import install\ninstall()\n"
           "from bot.cli import main\nsys.exit(main(sys.argv[1:]))\n")


def _run(token: str, api_url: str, data: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSBOT_")}
    env.update(NEWSBOT_TELEGRAM_TOKEN=token, NEWSBOT_TELEGRAM_API_URL=api_url,
               NEWSBOT_DATA_DIR=str(data), NEWSBOT_EMBEDDING_MODEL="minilm",
               PYTHONPATH=str(REPO), HF_HUB_OFFLINE="1")
    return subprocess.run([sys.executable, "-c", WRAPPER, *extra, "run"], cwd=data.parent,
                          env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=120)


@pytest.mark.parametrize("case", ["401 wrong token", "404 wrong API URL"])
def test_a_rejected_token_is_one_redacted_line(fake_api: FakeBotApi, tmp_path: Path,
                                               case: str) -> None:
    if case.startswith("401"):
        token, api_url = "123456789:AAE-revoked-secret_token", fake_api.base_url
    else:
        token, api_url = fake_api.token, fake_api.base_url.replace("/bot", "/wrong/bot")
    done = _run(token, api_url, tmp_path / "data")
    output = done.stdout + done.stderr
    secret = token.split(":")[1]
    assert done.returncode == 2, output
    assert secret.lower() not in output.lower()
    assert "Traceback" not in output
    [line] = [ln for ln in done.stderr.splitlines() if ln.startswith("newsbot:")]
    assert line.startswith(f"newsbot: {FIX}")
    assert "ERROR" not in done.stderr  # python-telegram-bot's own logged traceback is gone


def test_debug_shows_a_traceback_without_the_token(fake_api: FakeBotApi,
                                                   tmp_path: Path) -> None:
    token = "123456789:AAE-revoked-secret_token"
    done = _run(token, fake_api.base_url, tmp_path / "data", "--debug")
    output = done.stdout + done.stderr
    assert done.returncode != 0
    assert "Traceback" in output and FIX in output
    assert token.split(":")[1].lower() not in output.lower()

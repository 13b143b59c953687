"""The CLI on a real (pseudo-)terminal: the chat has readline line editing and a history
file in the data directory; progress bars appear on ingest, reindex and re-embed only
when stderr is a terminal. Real processes with the stand-in embedder."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.terminal import HISTORY_NAME
from tests.bot.cli_process import Terminal, newsbot
from tests.conftest import write_article

QUESTION = "Who led the Alibaba delegation that met Ishaq Dar?"
UP = "\x1b[A"  # the arrow key: readline recalls the previous line


def test_run_without_token_chats_with_history_across_sessions(tmp_path: Path) -> None:
    data = tmp_path / "data"
    first = Terminal(data, "run")
    try:
        first.read_until("\n> ")  # the samples are indexed, the prompt is up
        first.type(QUESTION)
        first.read_until("led by Max Bittner")
        first.type("quit")
        code, shown = first.finish()
    finally:
        first.kill()
    assert code == 0, shown
    assert "No NEWSBOT_TELEGRAM_TOKEN set: serving the terminal chat" in shown
    assert (data / HISTORY_NAME).read_text().splitlines()[-2:] == [QUESTION, "quit"]

    second = Terminal(data, "chat")
    try:
        second.read_until("\n> ")
        second.type(UP + UP)  # the question from the first session, recalled and asked
        shown = second.read_until("led by Max Bittner")
        second.type("quit")
        code, _ = second.finish()
    finally:
        second.kill()
    assert code == 0
    assert f"> {QUESTION}" in shown


@pytest.fixture
def news(tmp_path: Path) -> Path:
    for n in range(12):
        write_article(tmp_path / "news", f"s{n:02}.txt", title=f"Story number {n}",
                      date="2023-05-01", body=f"Story {n} happened in Sukkur on Monday.")
    return tmp_path / "news"


def test_ingest_shows_a_bar_with_a_total_only_on_a_terminal(tmp_path: Path, news: Path) -> None:
    terminal = Terminal(tmp_path / "data", "ingest", str(news), stderr_only=True)
    try:
        code, shown = terminal.finish()
    finally:
        terminal.kill()
    assert code == 0 and terminal.stdout.startswith("12 new,")
    assert "ingesting:" in shown and "/12 [" in shown  # the total, with elapsed<remaining

    piped = newsbot(tmp_path / "other", "ingest", str(news))
    assert piped.returncode == 0 and piped.stdout.startswith("12 new,")
    assert "ingesting" not in piped.stderr and "/12" not in piped.stderr


def test_reindex_and_re_embed_show_bars_on_a_terminal(tmp_path: Path, news: Path) -> None:
    data = tmp_path / "data"
    assert newsbot(data, "ingest", str(news)).returncode == 0
    terminal = Terminal(data, "reindex", stderr_only=True)
    try:
        code, shown = terminal.finish()
    finally:
        terminal.kill()
    assert code == 0 and terminal.stdout.startswith("Rebuilt: 12 articles")
    assert "embedding:" in shown and "%|" in shown

    terminal = Terminal(data, "reindex", stderr_only=True, NEWSBOT_EMBEDDING_MODEL="mpnet")
    try:
        code, shown = terminal.finish()
    finally:
        terminal.kill()
    assert code == 0 and terminal.stdout.startswith("Re-embedded: 12 articles")
    assert "re-embedding every stored article with 'mpnet'" in shown
    assert "re-embedding:" in shown and "/12 [" in shown

"""One writer per data directory (issue 14, item 2): while ``newsbot run`` holds a data
directory, a second ``run``, ``ingest`` or ``reindex`` on it stops at once with a message
naming the holder's pid, and the read-only commands keep working beside it. Real processes
(the CLI with the torch-free stand-in embedder), a real lock."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.bot.cli_process import Terminal, newsbot
from tests.conftest import write_article

# A token lets a second ``run`` get as far as the lock without a terminal (it stops there).
TOKEN = {"NEWSBOT_TELEGRAM_TOKEN": "123456:never-sent"}


@pytest.fixture
def running(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], Path]]:
    """``newsbot run`` without a token on a terminal: it indexes the samples, then serves
    the terminal chat (waiting for a question) — a writer that stays up."""
    data = tmp_path / "data"
    terminal = Terminal(data, "run")
    try:
        terminal.read_until("Ask a question about the news")
        assert terminal.proc.poll() is None
        yield terminal.proc, data
    finally:
        terminal.kill()


def test_a_second_writer_stops_naming_the_holder(running, tmp_path: Path) -> None:
    proc, data = running
    extra = write_article(tmp_path / "extra", "wheat.txt", title="Wheat harvest", body=(
        "Farmers in Punjab harvested a record wheat crop this April, officials said."))
    for command in (["ingest", str(extra)], ["reindex"], ["run"]):
        done = newsbot(data, *command, **(TOKEN if command == ["run"] else {}))
        assert done.returncode == 3, (command, done.stdout, done.stderr)
        assert f"is in use by another newsbot process (pid {proc.pid} (newsbot run))" in \
            done.stderr, done.stderr
        assert "Traceback" not in done.stderr
    # Nothing was written by the refused ingest.
    stats = newsbot(data, "stats", "--json")
    assert stats.returncode == 0, stats.stderr
    assert '"articles": 5' in stats.stdout  # the bundled samples only


def test_readers_work_beside_the_running_writer(running) -> None:
    _proc, data = running
    for command in (["stats"], ["check"], ["search", "wheat harvest"],
                    ["ask", "What about the wheat harvest?"]):
        done = newsbot(data, *command)
        assert done.returncode == 0, (command, done.stderr)
        assert done.stdout.strip(), command


def test_the_lock_goes_with_its_holder(running, tmp_path: Path) -> None:
    proc, data = running
    proc.kill()  # however it ends: the kernel drops the lock
    proc.wait(timeout=30)
    extra = write_article(tmp_path / "extra", "port.txt", title="Port traffic", body=(
        "Karachi port handled more containers than ever in March, the port trust said."))
    done = newsbot(data, "ingest", str(extra))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("1 new,")

"""One writer per data directory (issue 14, item 2): while ``newsbot run`` holds a data
directory, a second ``run``, ``ingest`` or ``reindex`` on it stops at once with a message
naming the holder's pid, and the read-only commands keep working beside it. Real processes
(the CLI with the torch-free stand-in embedder), a real lock."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import write_article

REPO = Path(__file__).resolve().parents[2]
WRAPPER = ("import sys\nfrom tests.robustness.hashed_embedder import install\ninstall()\n"
           "from bot.cli import main\nsys.exit(main(sys.argv[1:]))\n")


def _env(data: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSBOT_")}
    env.update(NEWSBOT_DATA_DIR=str(data), NEWSBOT_EMBEDDING_MODEL="minilm",
               PYTHONPATH=str(REPO), HF_HUB_OFFLINE="1")
    return env


def _newsbot(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", WRAPPER, *args], cwd=data.parent,
                          env=_env(data), stdin=subprocess.DEVNULL, capture_output=True,
                          text=True, timeout=120)


@pytest.fixture
def running(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], Path]]:
    """``newsbot run`` without a token: it indexes the samples, then serves the terminal
    chat (reading stdin, which stays open) — a writer that stays up."""
    data = tmp_path / "data"
    proc = subprocess.Popen([sys.executable, "-c", WRAPPER, "run"], cwd=tmp_path,
                            env=_env(data), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + 60
        for line in proc.stdout:  # up when the chat greets
            if line.startswith("Ask a question about the news") or time.monotonic() > deadline:
                break
        assert proc.poll() is None
        yield proc, data
    finally:
        proc.kill()
        proc.wait(timeout=30)


def test_a_second_writer_stops_naming_the_holder(running, tmp_path: Path) -> None:
    proc, data = running
    extra = write_article(tmp_path / "extra", "wheat.txt", title="Wheat harvest", body=(
        "Farmers in Punjab harvested a record wheat crop this April, officials said."))
    for command in (["ingest", str(extra)], ["reindex"], ["run"]):
        done = _newsbot(data, *command)
        assert done.returncode == 3, (command, done.stdout, done.stderr)
        assert f"is in use by another newsbot process (pid {proc.pid} (newsbot run))" in \
            done.stderr, done.stderr
        assert "Traceback" not in done.stderr
    # Nothing was written by the refused ingest.
    stats = _newsbot(data, "stats", "--json")
    assert stats.returncode == 0, stats.stderr
    assert '"articles": 5' in stats.stdout  # the bundled samples only


def test_readers_work_beside_the_running_writer(running) -> None:
    _proc, data = running
    for command in (["stats"], ["check"], ["search", "wheat harvest"],
                    ["ask", "What about the wheat harvest?"]):
        done = _newsbot(data, *command)
        assert done.returncode == 0, (command, done.stderr)
        assert done.stdout.strip(), command


def test_the_lock_goes_with_its_holder(running, tmp_path: Path) -> None:
    proc, data = running
    proc.kill()  # however it ends: the kernel drops the lock
    proc.wait(timeout=30)
    extra = write_article(tmp_path / "extra", "port.txt", title="Port traffic", body=(
        "Karachi port handled more containers than ever in March, the port trust said."))
    done = _newsbot(data, "ingest", str(extra))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("1 new,")

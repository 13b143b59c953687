"""SIGTERM to ``newsbot reindex`` (issue 14, item 11, on the command line): the rebuild
unwinds as on Ctrl-C — its half-built generation is removed, ``CURRENT`` and the live
generation stay as they were, one line says so. The real CLI in a real process, with the
stand-in embedder (0.12 s a model batch) and batches of 3 chunks, so it takes seconds."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from index import Index, IndexSettings
from tests.conftest import write_article
from tests.robustness.hashed_embedder import HashedEmbedder

REPO = Path(__file__).resolve().parents[2]
WRAPPER = ("import sys\nimport index.ingest as ingest\ningest.BATCH_CHUNKS = 3\n"
           "from tests.robustness.hashed_embedder import install\ninstall()\n"
           "from bot.cli import main\nsys.exit(main(sys.argv[1:]))\n")


def test_sigterm_during_reindex_removes_the_half_built_generation(tmp_path: Path) -> None:
    data = tmp_path / "data"
    embedder = HashedEmbedder("minilm")  # the model name the subprocess uses
    embedder.encode_seconds = 0.0
    index = Index.open(IndexSettings(_env_file=None, data_dir=data), embedder=embedder)
    for n in range(60):
        write_article(tmp_path / "news", f"s{n:02}.txt", title=f"Story number {n}",
                      date="2023-05-01", body=f"Story {n} happened on Monday, people said.")
    assert index.ingest([str(tmp_path / "news")]).articles_new == 60
    index.close()
    live = (data / "CURRENT").read_text().strip()

    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSBOT_")}
    env.update(NEWSBOT_DATA_DIR=str(data), NEWSBOT_EMBEDDING_MODEL="minilm",
               PYTHONPATH=str(REPO), HF_HUB_OFFLINE="1")
    proc = subprocess.Popen([sys.executable, "-c", WRAPPER, "reindex"], cwd=tmp_path,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            if any(p.name != live for p in data.glob("gen-*")):  # the rebuild has begun
                break
            time.sleep(0.05)
        time.sleep(0.5)  # a few of its 20 batches in
        assert proc.poll() is None, "the rebuild ended before it could be stopped"
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, err
    assert "reindex stopped: its half-built generation was removed" in err
    assert (data / "CURRENT").read_text().strip() == live
    assert sorted(p.name for p in data.glob("gen-*")) == [live]
    index = Index.open(IndexSettings(_env_file=None, data_dir=data), embedder=embedder)
    try:
        assert index.stats().articles == 60 and index.check() == []
    finally:
        index.close()

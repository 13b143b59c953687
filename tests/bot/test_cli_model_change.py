"""Read-only commands never re-embed (issue 16): an index embedded by another model than
``NEWSBOT_EMBEDDING_MODEL`` makes them refuse with one line naming both models and
``newsbot reindex``, leaving the index as it was; ``reindex`` (and ``run``) re-embed, after
saying so."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

from bot import cli
from bot.cli_common import EXIT_MODEL_CHANGED, open_index
from index.lifecycle import current_dir

REFUSAL = ("newsbot: this index was built with embedding model 'minilm'; the setting "
           "NEWSBOT_EMBEDDING_MODEL is 'mpnet'; run `newsbot reindex` to re-embed it with the "
           "configured model (or set NEWSBOT_EMBEDDING_MODEL back)")


@pytest.fixture(autouse=True)
def _shared_model(monkeypatch, embedder):
    """The MiniLM model stands in for every model name: what differs is the name the index
    records, which is all the mismatch check reads (and all a re-embed changes here)."""
    from index import api

    monkeypatch.setattr(api, "Embedder", lambda *a, **k: embedder)


@pytest.fixture
def switched(corpus_dir: Path, monkeypatch, capsys) -> Path:
    """An index built with 'minilm'; the setting now says 'mpnet'."""
    assert cli.main(["ingest", str(corpus_dir)]) == 0
    capsys.readouterr()
    monkeypatch.setenv("NEWSBOT_EMBEDDING_MODEL", "mpnet")
    return Path("data").resolve()


def _model_of(data: Path) -> str:
    from index.store import Store

    live = current_dir(data)
    assert live is not None
    store = Store(live / "newsbot.sqlite")
    try:
        return str(store.get_meta("model"))
    finally:
        store.close()


@pytest.mark.parametrize("argv", [
    ["stats"], ["check"], ["search", "Gwadar port"], ["ask", "What did the State Bank do?"],
    ["chat"], ["ingest", "nothing.txt"], ["remove", "--source", "Test Wire"],
    ["prune", "--before", "2017-01-01"],
])
def test_read_and_write_commands_other_than_reindex_refuse(switched: Path, argv, monkeypatch,
                                                           capsys) -> None:
    live = current_dir(switched)
    monkeypatch.setattr(sys, "stdin", io.StringIO("quit\n"))
    assert cli.main(argv) == EXIT_MODEL_CHANGED
    captured = capsys.readouterr()
    assert captured.err.splitlines() == [REFUSAL]
    assert captured.out == ""
    assert current_dir(switched) == live and _model_of(switched) == "minilm"
    assert sorted(p.name for p in switched.glob("gen-*")) == [live.name]


def test_reindex_says_so_and_re_embeds(switched: Path, capsys) -> None:
    old = current_dir(switched)
    assert cli.main(["reindex"]) == 0
    captured = capsys.readouterr()
    assert captured.err.startswith(
        "newsbot: this index was built with embedding model 'minilm'; the setting "
        "NEWSBOT_EMBEDDING_MODEL is 'mpnet': re-embedding every stored article with 'mpnet'")
    assert captured.out.startswith("Re-embedded: 5 articles, ")
    assert _model_of(switched) == "mpnet" and current_dir(switched) != old
    assert cli.main(["check"]) == 0  # the read-only commands work again


def test_run_may_re_embed_after_saying_so(switched: Path, capsys) -> None:
    """``run`` opens the index through ``open_index(..., may_reembed=True)``."""
    from bot.settings import Settings

    with open_index(Settings.load(), may_reembed=True) as index:
        assert index.stats().articles == 5
    assert "re-embedding every stored article with 'mpnet'" in capsys.readouterr().err
    assert _model_of(switched) == "mpnet"

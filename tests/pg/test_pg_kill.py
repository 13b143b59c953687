"""SIGKILL ``newsbot ingest`` and ``newsbot reindex`` on PostgreSQL at random points (seeded),
as ``tests/robustness/test_kill.py`` does on SQLite, and check after every kill that nothing
committed was lost:

* the database is whole before anything opens the index again: every article has its
  chunks, the kept chunk count (``store_state``, the keyword ranking's N) equals the rows,
  and the live pointer names a complete generation;
* ``newsbot check`` exits 0, and every article seen committed just before the kill is still
  there and is found by its title, scored with its own stored vectors;
* a killed reindex leaves the old generation live, and its advisory lock dies with the
  process: the next reindex runs to the end.

The subprocesses are the real CLI with the hashed stand-in embedder (no torch), as in the
SQLite chain; one database is reused across kills so damage could accumulate.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest

from bot.cli import main as cli_main
from index.lifecycle import COMPLETE_META
from index.pgstore import LIVE_TABLE
from index.settings import IndexSettings
from tests.conftest import TEST_MODEL
from tests.robustness.hashed_embedder import HashedEmbedder
from tests.robustness.test_kill import (
    REPO,
    WRAPPER,
    Corpus,
    _check_index,
    _run_and_kill,
)

SEED = 20261207
INGEST_KILLS = 6
REINDEX_KILLS = 2
MAX_ROUNDS = 14


def _live(url: str) -> str | None:
    with psycopg.connect(url) as conn:
        if conn.execute(f"SELECT to_regclass('public.{LIVE_TABLE}')").fetchone()[0] is None:
            return None
        row = conn.execute(f"SELECT name FROM public.{LIVE_TABLE}").fetchone()
    return row[0] if row else None


def _titles(url: str, schema: str | None) -> set[str]:
    """Titles committed in ``schema`` (none when there is no index yet). A database that
    cannot be read raises: "nothing lost" must not pass unchecked."""
    if schema is None:
        return set()
    with psycopg.connect(url) as conn:
        return {t for (t,) in conn.execute(f"SELECT title FROM {schema}.articles")}


def _titles_so_far(url: str, schema: str | None) -> set[str]:
    """``_titles`` for pacing a kill only: a schema being created may lack its tables."""
    try:
        return _titles(url, schema)
    except psycopg.errors.UndefinedTable:
        return set()


def _building(url: str) -> Callable[[], str | None]:
    """The newest generation schema that is not live (a rebuild's)."""
    def find() -> str | None:
        live = _live(url)
        with psycopg.connect(url) as conn:
            names = sorted(n for (n,) in conn.execute(
                "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'gen\\_%'") if n != live)
        return names[-1] if names else None
    return find


def _raw_consistency(url: str) -> None:
    """Before anything opens the index: the live generation's rows are whole."""
    schema = _live(url)
    assert schema is not None
    with psycopg.connect(url) as conn:
        orphans = conn.execute(
            f"SELECT count(*) FROM {schema}.articles a WHERE NOT EXISTS "
            f"(SELECT 1 FROM {schema}.chunks c WHERE c.article_id = a.id)").fetchone()[0]
        assert orphans == 0
        rows = conn.execute(f"SELECT count(*) FROM {schema}.chunks").fetchone()[0]
        kept = conn.execute(f"SELECT chunks FROM {schema}.store_state").fetchone()[0]
        assert rows == kept, (rows, kept)
        complete = conn.execute(f"SELECT value FROM {schema}.meta WHERE key = %s",
                                (COMPLETE_META,)).fetchone()
        assert complete is not None, f"the live generation {schema} is not complete"


def _verify(url: str, data: Path, embedder: HashedEmbedder, expected: set[str],
            sample: list[str]) -> int:
    _raw_consistency(url)
    assert cli_main(["check", "--data-dir", str(data)]) == 0
    return _check_index(IndexSettings(data_dir=data), embedder,
                        lambda: _titles(url, _live(url)), expected, sample)


@pytest.mark.slow
def test_sigkill_during_ingest_and_reindex_on_postgres_loses_nothing(
        tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSBOT_DATABASE_URL", pg_url)  # for the in-process checks
    rng = random.Random(SEED)
    data = tmp_path / "data"
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSBOT_")}
    env.update(NEWSBOT_EMBEDDING_MODEL=TEST_MODEL, NEWSBOT_DATA_DIR=str(data),
               NEWSBOT_DATABASE_URL=pg_url, PYTHONPATH=str(REPO), HF_HUB_OFFLINE="1",
               TOKENIZERS_PARALLELISM="false", KILLTEST_HASHED="1")
    embedder = HashedEmbedder(TEST_MODEL)
    corpus = Corpus(rng, tmp_path / "round00")

    def live_titles() -> set[str]:
        return _titles(pg_url, _live(pg_url))

    kills = rounds = 0
    expected: set[str] = set()
    checked: set[str] = set()
    while kills < INGEST_KILLS and rounds < MAX_ROUNDS:
        rounds += 1
        folder = corpus.round(rounds)
        early = rounds > 1 and rng.random() < 0.2
        outcome = _run_and_kill(["ingest", str(folder)], env, rng, committed=live_titles,
                                so_far=lambda: _titles_so_far(pg_url, _live(pg_url)),
                                early=early)
        kills += outcome.killed
        expected |= outcome.committed_before_kill
        stored = live_titles()
        sample = sorted(stored - checked) + rng.sample(sorted(checked), min(4, len(checked)))
        _verify(pg_url, data, embedder, expected, sample)
        checked |= stored
    assert kills >= INGEST_KILLS, f"only {kills} of {rounds} ingest runs were still running"

    before = live_titles()
    building = _building(pg_url)
    killed = 0
    for _ in range(REINDEX_KILLS + 3):
        if killed >= REINDEX_KILLS:
            break
        outcome = _run_and_kill(["reindex"], env, rng, committed=live_titles,
                                so_far=lambda: _titles_so_far(pg_url, building()),
                                early=rng.random() < 0.25)
        killed += outcome.killed
        # killed before the swap, the old generation stays live; after it, only a complete
        # one can be (``_raw_consistency``); either way every article is there
        assert _verify(pg_url, data, embedder, before, rng.sample(sorted(before), 6)) \
            == len(before)
    assert killed >= REINDEX_KILLS

    # the lock of every killed rebuild died with it: a reindex now runs to the end and swaps
    live = _live(pg_url)
    done = subprocess.run([sys.executable, "-c", WRAPPER, "reindex"], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert _live(pg_url) != live
    final = subprocess.run([sys.executable, "-c", WRAPPER, "ingest", str(corpus.folder)],
                           env=env, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert final.returncode == 0, final.stderr
    everything = live_titles()
    assert _verify(pg_url, data, embedder, expected | before, sorted(everything)) \
        == len(everything)
    print(f"\nPostgreSQL kill test: {kills} ingest kills in {rounds} runs, {killed} reindex "
          f"kills, {len(expected)} articles seen committed before a kill, "
          f"{len(everything)} at the end")

"""SIGKILL ``newsbot ingest`` and ``newsbot reindex`` at random points (seeded) and check,
after every kill, that nothing committed was lost:

* SQLite itself is consistent before anything repairs it (integrity_check, FTS rows =
  chunks, every article has its chunks: they are written in one transaction);
* ``newsbot check`` exits 0 and ``Index.open`` works (FAISS ids, SQLite chunks and FTS rows
  agree after the open-time repair);
* every article seen committed in SQLite just before the kill is still there, and searching
  its unique title finds it among the top ten, scored with its own stored vectors.

One data directory is reused across kills so damage could accumulate. Each subprocess is
the real CLI (``bot.cli.main``) with test-only tweaks applied from outside the package:
ingest batches are tiny (so a run commits many times and kills land between commits), and a
line is printed once the model is loaded (so kills land in the ingest phase). Kill points
are a target number of committed articles plus a random delay, or a random instant during
start-up (``Index.open`` repairing the previous kill).

Importing torch takes 6–15 s per process on the 2-core machine, so the long chain (20+
kills) runs with a hashed stand-in embedder (``hashed_embedder.py``: no torch, real
tokenizer, real storage/FAISS/FTS/search code); a short chain repeats the exercise with the
real model.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from bot.cli import main as cli_main
from index import Index
from index.generation import SQLITE_NAME
from index.lifecycle import CURRENT
from index.settings import IndexSettings
from tests.conftest import TEST_MODEL, write_article
from tests.robustness.hashed_embedder import HashedEmbedder

REPO = Path(__file__).resolve().parents[2]
SEED = 20240607
INGEST_KILLS = 20
REINDEX_KILLS = 3
MAX_ROUNDS = 40

# Runs the real CLI; the two tweaks are test hooks applied from outside the package.
WRAPPER = r"""
import os, sys
import index.ingest as ingest
import index.embed as embed
if hasattr(ingest, "BATCH_CHUNKS"):
    ingest.BATCH_CHUNKS = 3
if os.environ.get("KILLTEST_HASHED"):
    from tests.robustness.hashed_embedder import install
    install()
else:
    _load = embed.Embedder.load
    def load(self):
        first = not self.loaded
        _load(self)
        if first:
            print("MODEL-LOADED", file=sys.stderr, flush=True)
    embed.Embedder.load = load
from bot.cli import main
sys.exit(main(sys.argv[1:]))
"""

_PLACES = ("Sialkot Gwadar Quetta Multan Hunza Skardu Thatta Larkana Mardan Chitral Sukkur "
           "Bannu Kasur Okara Jhelum Turbat Badin Swat Murree Kohat").split()
_WHO = ("farmers teachers fishermen nurses miners weavers drivers traders students doctors "
        "bakers potters tailors pilots welders").split()
_WHAT = ("protest against", "celebrate", "demand", "win", "reject", "debate", "launch",
         "block", "fund", "repair")
_THING = ("toll plaza", "cricket ground", "solar park", "flour mill", "bus depot",
          "river bridge", "cotton market", "girls college", "water canal", "fish harbour",
          "wind farm", "rail crossing", "dairy cooperative", "textile cluster", "tea estate")
_FILLER = ("council approved budget road water power school hospital market trade exports "
           "prices railway officials minister district province court ruling police report "
           "growth bank rate inflation wheat rain flood survey workers contract tender project "
           "river dam grid fuel tax").split()


@dataclass
class Corpus:
    rng: random.Random
    folder: Path
    made: int = 0
    titles: dict[str, str] = field(default_factory=dict)  # url -> title

    def _title(self) -> str:
        while True:
            r = self.rng
            title = (f"{r.choice(_PLACES)} {r.choice(_WHO)} {r.choice(_WHAT)} "
                     f"{r.choice(_THING)} plan number {self.made}")
            if title not in self.titles.values():
                return title

    def article(self, name: str, *, url: str | None = None, title: str | None = None) -> None:
        self.made += 1
        title = title or self._title()
        url = url or f"https://news.example/{self.made}"
        sentences = [title + ", officials said on Monday."]
        for _ in range(self.rng.randint(2, 12)):  # 1–2 chunks
            words = self.rng.sample(_FILLER, 12)
            sentences.append(" ".join(words).capitalize() + f" {self.rng.randint(2, 999)}.")
        write_article(self.folder, name, title=title, date=f"2022-0{self.rng.randint(1, 9)}-1"
                      f"{self.rng.randint(0, 9)}", url=url, body=" ".join(sentences))
        self.titles[url] = title

    def round(self, n: int, new: tuple[int, int] = (6, 10)) -> Path:
        """A new source folder: fresh articles plus new versions of earlier ones."""
        self.folder = self.folder.parent / f"round{n:02d}"
        for i in range(self.rng.randint(*new)):
            self.article(f"new{i}.txt")
        for i, url in enumerate(self.rng.sample(sorted(self.titles), min(2, len(self.titles)))):
            self.article(f"upd{i}.txt", url=url, title=self.titles[url])
        return self.folder


def _sqlite(data: Path) -> Path | None:
    try:
        name = (data / CURRENT).read_text().strip()
    except OSError:
        return None
    db = data / name / SQLITE_NAME
    return db if db.exists() else None


def _titles(db: Path | None) -> set[str]:
    """Titles committed in ``db`` (none when there is no index yet). A database that cannot
    be read is an error, never an empty set: "nothing lost" must not pass unchecked."""
    if db is None:
        return set()
    with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)) as conn:
        return {t for (t,) in conn.execute("SELECT title FROM articles")}


def _titles_so_far(db: Path | None) -> set[str]:
    """``_titles`` for pacing a kill only: a generation that is being created may not have
    its tables yet, which just means nothing is committed there so far."""
    try:
        return _titles(db)
    except sqlite3.OperationalError:
        return set()


def _raw_consistency(db: Path) -> None:
    """Before anything opens the index: SQLite's own view is whole."""
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        chunks = conn.execute("SELECT count(*) FROM chunks").fetchone()[0]
        fts = conn.execute("SELECT count(*) FROM chunks_fts").fetchone()[0]
        assert chunks == fts, (chunks, fts)
        orphans = conn.execute(
            "SELECT count(*) FROM articles a WHERE NOT EXISTS "
            "(SELECT 1 FROM chunks c WHERE c.article_id = a.id)").fetchone()[0]
        assert orphans == 0


@dataclass
class Outcome:
    killed: bool
    committed_before_kill: set[str]
    seconds: float


def _run_and_kill(args: list[str], env: dict[str, str], rng: random.Random, *,
                  committed: Callable[[], set[str]], so_far: Callable[[], set[str]],
                  early: bool = False) -> Outcome:
    """Start the CLI; kill it at a random point. ``so_far`` reads the titles whose count
    paces the kill (the generation being written); ``committed`` reads the live
    generation's titles just before the kill (what must survive it). Shared with the
    PostgreSQL kill test, which reads them from the database."""
    started = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-c", WRAPPER, *args], env=env, cwd=REPO,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        if early:  # somewhere in start-up: imports, Index.open repairing the last kill
            time.sleep(rng.uniform(0.3, 2.5))
        else:
            assert proc.stderr is not None
            for line in proc.stderr:  # wait until the model is loaded (or the process ends)
                if "MODEL-LOADED" in line:
                    break
            target = len(so_far()) + rng.randint(0, 8)
            deadline = time.monotonic() + 30
            while proc.poll() is None and time.monotonic() < deadline:
                if len(so_far()) >= target:
                    break
                time.sleep(0.02)
            time.sleep(rng.uniform(0.0, 0.4))  # between commits, or mid-batch
        before = committed()
        killed = proc.poll() is None
        if killed:
            proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stderr is not None:
            proc.stderr.close()
    return Outcome(killed, before if killed else set(), time.monotonic() - started)


def _sqlite_kill(args: list[str], env: dict[str, str], data: Path, rng: random.Random, *,
                 watch: Callable[[], Path | None] | None = None,
                 early: bool = False) -> Outcome:
    """``_run_and_kill`` on a data directory: ``watch`` names the SQLite file whose article
    count paces the kill (default: the live generation's)."""
    watched = watch or (lambda: _sqlite(data))
    return _run_and_kill(args, env, rng, committed=lambda: _titles(_sqlite(data)),
                         so_far=lambda: _titles_so_far(watched()), early=early)


def _verify(data: Path, embedder, expected: set[str], sample: list[str], *, cli: bool) -> int:
    db = _sqlite(data)
    assert db is not None
    _raw_consistency(db)
    # `newsbot check` (the real subprocess now and then; the same function in-process)
    if cli:
        out = subprocess.run([sys.executable, "-m", "bot.cli", "check", "--data-dir", str(data)],
                             cwd=REPO, capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stdout + out.stderr
    else:
        assert cli_main(["check", "--data-dir", str(data)]) == 0
    return _check_index(IndexSettings(data_dir=data), embedder,
                        lambda: _titles(_sqlite(data)), expected, sample)


def _check_index(settings: IndexSettings, embedder, stored_titles: Callable[[], set[str]],
                 expected: set[str], sample: list[str]) -> int:
    """Open the index after a kill: its check is clean, every title in ``expected`` is still
    stored, and each stored one of ``sample`` is found with its own vectors; the number of
    stored articles. Shared with the PostgreSQL kill test."""
    index = Index.open(settings, embedder=embedder)
    try:
        assert index.check() == []
        stored = stored_titles()
        missing = expected - stored
        assert not missing, f"committed before the kill, lost after it: {sorted(missing)[:5]}"
        for title in sample:
            if title in stored:
                _assert_found_with_its_own_vectors(index, title)
        return len(stored)
    finally:
        index.close()


def _assert_found_with_its_own_vectors(index: Index, title: str) -> None:
    """Searching a title finds its article, scored with the vectors SQLite holds for it: FAISS
    serves the right vectors under the right ids after the kill. (Not "ranked first": these
    templated articles share title words and random filler, so a title's own article can
    trail another; what is ranked first belongs to the search tests.)"""
    hits = index.search(title, k=10)
    mine = [h for h in hits if h.article.title == title]
    assert mine, (title, [h.article.title for h in hits])
    store = index.generation.store
    ids = store.chunk_ids_of([mine[0].article.rowid])[mine[0].article.rowid]
    _, vectors = next(store.iter_vectors(ids))
    best = float(np.max(vectors @ index.embedder.encode_query(title)))
    assert mine[0].dense_score == pytest.approx(best, abs=1e-3), title


def _newest_building(data: Path) -> Callable[[], Path | None]:
    def find() -> Path | None:
        live = _sqlite(data)
        gens = sorted(p for p in data.glob("gen-*/" + SQLITE_NAME) if p != live)
        return gens[-1] if gens else None
    return find


def _kill_chain(tmp_path: Path, embedder, *, hashed: bool, ingest_kills: int,
                reindex_kills: int, max_rounds: int, new: tuple[int, int]) -> dict[str, object]:
    rng = random.Random(SEED + hashed)
    data = tmp_path / "data"
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSBOT_")}
    env["NEWSBOT_EMBEDDING_MODEL"] = TEST_MODEL
    env.update(NEWSBOT_DATA_DIR=str(data), PYTHONPATH=str(REPO), HF_HUB_OFFLINE="1",
               TOKENIZERS_PARALLELISM="false")
    if hashed:
        env["KILLTEST_HASHED"] = "1"
    corpus = Corpus(rng, tmp_path / "round00")
    started = time.monotonic()
    kills = completed = early_kills = 0
    expected: set[str] = set()
    checked: set[str] = set()
    rounds = 0
    while kills < ingest_kills and rounds < max_rounds:
        rounds += 1
        folder = corpus.round(rounds, new)
        early = rounds > 1 and rng.random() < 0.2
        outcome = _sqlite_kill(["ingest", str(folder)], env, data, rng, early=early)
        kills += outcome.killed
        early_kills += outcome.killed and early
        completed += not outcome.killed
        expected |= outcome.committed_before_kill
        stored = _titles(_sqlite(data))
        fresh = sorted(stored - checked)
        sample = fresh + rng.sample(sorted(checked), min(4, len(checked)))
        _verify(data, embedder, expected, sample, cli=rounds % 6 == 1)
        checked |= stored
    assert kills >= ingest_kills, f"only {kills} of {rounds} ingest runs were still running"

    # reindex: killed at random points while it fills the new generation
    killed_reindex = 0
    before = _titles(_sqlite(data))
    for _ in range(reindex_kills + 3):
        if killed_reindex >= reindex_kills:
            break
        live = _sqlite(data)
        outcome = _sqlite_kill(["reindex"], env, data, rng, early=rng.random() < 0.25,
                               watch=_newest_building(data))
        killed_reindex += outcome.killed
        now = _sqlite(data)
        if outcome.killed and now != live:  # killed after the swap: only a whole one goes live
            assert now is not None
            with sqlite3.connect(f"file:{now}?mode=ro", uri=True) as conn:
                assert conn.execute("SELECT value FROM meta WHERE key = 'complete'").fetchone()
        assert _verify(data, embedder, before, rng.sample(sorted(before), 6),
                       cli=True) == len(before)
    assert killed_reindex >= reindex_kills

    # the end state: a clean ingest finishes, and every article is found by its title
    final = subprocess.run([sys.executable, "-c", WRAPPER, "ingest", str(corpus.folder)],
                           env=env, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert final.returncode == 0, final.stderr
    everything = _titles(_sqlite(data))
    total = _verify(data, embedder, expected, sorted(everything), cli=True)
    return dict(ingest_kills=kills, early_kills=early_kills, reindex_kills=killed_reindex,
                completed_runs=completed, articles=total,
                seconds=round(time.monotonic() - started, 1))


@pytest.mark.slow
def test_sigkill_during_ingest_and_reindex_loses_nothing(tmp_path: Path) -> None:
    """The long chain: 20+ ingest kills and 3 reindex kills (hashed stand-in embedder)."""
    embedder = HashedEmbedder(TEST_MODEL)  # the model (and dimension) the CLI runs use
    result = _kill_chain(tmp_path, embedder, hashed=True, ingest_kills=INGEST_KILLS,
                         reindex_kills=REINDEX_KILLS, max_rounds=MAX_ROUNDS, new=(6, 10))
    print(f"\nkill test (stand-in embedder): {result}")


@pytest.mark.slow
def test_sigkill_with_the_real_model(tmp_path: Path, embedder) -> None:
    """The same with the real MiniLM model in every subprocess (fewer kills: each process
    spends 6–15 s importing torch before the ingest phase starts)."""
    result = _kill_chain(tmp_path, embedder, hashed=False, ingest_kills=2, reindex_kills=1,
                         max_rounds=5, new=(10, 14))
    print(f"\nkill test (real model): {result}")

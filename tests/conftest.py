"""Fixtures that isolate all state: each test gets its own data dir, no NEWSBOT_* leaks
from the developer's environment or .env, and one real embedding model per session.

The suite runs on the packaged MiniLM model (``NEWSBOT_EMBEDDING_MODEL=minilm``) in float32:
it tests the mechanics, and MiniLM embeds ~7x faster than the default all-mpnet-base-v2,
which keeps CI within its budget. tests/index/test_modelzoo.py loads the default model itself.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

# The PostgreSQL server fixtures (pg_server, pg_url), for tests/pg and for every test that
# runs on both backends.
pytest_plugins = ["tests.pg.fixtures"]

TEST_MODEL = "minilm"
SEED = Path(__file__).resolve().parents[1] / "index" / "samples" / "seed_article.txt"


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for key in list(os.environ):
        if key.startswith("NEWSBOT_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("NEWSBOT_EMBEDDING_MODEL", TEST_MODEL)
    # float32 everywhere, so results do not depend on the CPU the suite runs on ('auto' is
    # bfloat16 on a CPU with native bf16); tests/index/test_embed_dtype.py runs bfloat16.
    monkeypatch.setenv("NEWSBOT_EMBED_DTYPE", "float32")
    monkeypatch.chdir(tmp_path)  # no stray .env is read, ./data lands in tmp


@pytest.fixture
def local_fetches(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let fetches reach the tests' HTTP servers on 127.0.0.1, as an operator with an
    internal feed would (``NEWSBOT_FETCH_ALLOW``); without it loopback is refused."""
    monkeypatch.setenv("NEWSBOT_FETCH_ALLOW", "127.0.0.1")


@pytest.fixture(scope="session")
def embedder():
    """The real packaged MiniLM model, loaded once (about 7 s)."""
    from index.embed import Embedder

    e = Embedder(TEST_MODEL)
    e.load()
    return e


@pytest.fixture(params=["sqlite", "postgres"])
def open_state_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable]:
    """Opens the alert state (``index.alerts.state.StateDatabase``) on each backend in turn:
    ``state.sqlite`` in a temp dir, or a fresh PostgreSQL database (skipped with the reason
    where pgserver cannot run). Every call is a new connection to the same state; all are
    closed afterwards."""
    opened: list = []
    if request.param == "sqlite":
        from index.alerts.statedb import StateDB

        def opener():
            return StateDB.open(tmp_path / "state")
    else:
        from index.alerts.pgstate import PgStateDB

        url = request.getfixturevalue("pg_url")

        def opener():
            return PgStateDB(url)

    def tracked():
        opened.append(opener())
        return opened[-1]

    yield tracked
    for db in opened:
        db.close()


@pytest.fixture
def state_db(open_state_db: Callable):
    """The alert state, on each backend (``open_state_db``)."""
    return open_state_db()


@pytest.fixture
def settings(tmp_path: Path):
    from index.settings import IndexSettings

    return IndexSettings(data_dir=tmp_path / "data")


def write_article(folder: Path, name: str, *, title: str = "", date: str | None = None,
                  source: str = "Test Wire", url: str | None = None, body: str) -> Path:
    """Write a small article in the text format with header lines."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = []
    if date:
        lines.append(f"date {date}")
    if title:
        lines.append(f"title {title}")
    lines.append(f"source {source}")
    if url:
        lines.append(f"url {url}")
    path = folder / name
    path.write_text("\n".join(lines) + "\n\n" + body + "\n", encoding="utf-8")
    return path


@pytest.fixture
def corpus_dir(tmp_path: Path) -> Path:
    """Four short articles written for these tests, plus the seed article."""
    folder = tmp_path / "corpus"
    write_article(folder, "port.txt", title="Gwadar port handles first container ship",
                  date="2017-03-01", body=(
                      "GWADAR - The port of Gwadar handled its first container ship on "
                      "Tuesday, officials said. The vessel carried 250 containers of "
                      "construction material. Port authorities expect monthly calls by May."))
    write_article(folder, "rates.txt", title="State Bank keeps policy rate at 5.75 percent",
                  date="2017-01-28", body=(
                      "KARACHI - The State Bank of Pakistan kept its policy rate unchanged at "
                      "5.75 percent on Saturday. The governor said inflation remained within "
                      "the target range. Analysts had expected no change."))
    write_article(folder, "floods.txt", title="Monsoon floods damage cotton crop in Sindh",
                  date="2016-08-15", body=(
                      "HYDERABAD - Monsoon floods damaged about 90,000 acres of cotton in "
                      "Sindh, the provincial agriculture minister said. Farmers asked for "
                      "relief payments and seed subsidies for the next sowing season."))
    write_article(folder, "telecom.txt", title="Mobile broadband users pass 40 million",
                  date="2017-02-20", body=(
                      "ISLAMABAD - Mobile broadband subscriptions in Pakistan passed 40 "
                      "million in January, the telecom regulator said. 4G users grew fastest."))
    (folder / "seed_article.txt").write_bytes(SEED.read_bytes())
    return folder


@pytest.fixture
def index(settings, embedder):
    from index import Index

    idx = Index.open(settings, embedder=embedder)
    yield idx
    idx.close()

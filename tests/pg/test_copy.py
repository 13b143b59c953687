"""``newsbot copy``'s library side (``index.copy``, ``index.alerts.datacopy``) on a real
PostgreSQL (tests/pg/fixtures.py) and real SQLite + FAISS files, with the real model on a
few small articles: a data directory into PostgreSQL and back keeps every row, vector,
neighbour list and alert-state row; the copy answers as the source; a non-empty destination,
another model and a failure halfway leave the destination unused and the source intact."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Callable
from pathlib import Path

import numpy as np
import psycopg
import pytest

from index import Index
from index.alerts.chatsettings import ChatSettingsStore
from index.alerts.datacopy import copy_data
from index.alerts.feedstore import FeedStore
from index.alerts.matcher import CURSOR_KEY
from index.alerts.outbox import NewAlert, Outbox
from index.alerts.processed import ProcessedArticles
from index.alerts.state import open_state, set_meta
from index.alerts.statecopy import STATE_TABLES, StateRows, read_state
from index.alerts.stories import StoryBook, StoryRule
from index.alerts.subscriptions import Subscriptions
from index.backends import backend_for
from index.copy import CopyRefused
from index.rows import RowPage
from index.settings import IndexSettings
from tests.conftest import TEST_MODEL
from tests.pg.test_index_backends import METRO, PLANT_2019, write_news

QUESTIONS = {
    "How much seawater does the Karachi plant turn into drinking water?": PLANT_2019,
    "What is the fare on the Orange Line metro?": METRO,
    "Who took three wickets in the league final?": "Zalmi win the league final",
}


def fill(settings: IndexSettings, embedder, news: Path) -> None:
    """An index of the five test articles and an alert state with a row in every table:
    a subscription, a story, a processed marker, a pending and a sent alert, a feed's poll
    state, an added feed, a chat setting and the matcher's cursor."""
    with Index.open(settings, embedder=embedder) as index:
        index.ingest([str(news)])
        gen_id, top = index.generation_id, index.max_article_id()
    db = open_state(settings)
    try:
        sub, _ = Subscriptions(db, per_chat_limit=20).add(-100123, "desalination", chat_title="Water desk",
                                       created_by=7, thread_id=5)
        outbox = Outbox(db, clock=lambda: 1_700_000_000.5)
        lead = np.linspace(-1, 1, embedder.dim, dtype=np.float32)
        with db.transaction() as cur:
            story = StoryBook(StoryRule(0.9, 0.5)).assign(
                cur, dt.date(2021, 7, 2), lead, frozenset({"80 million"}), 1_700_000_000.25)
            for chat in (-100123, 42):
                outbox.enqueue(cur, NewAlert(chat, story, sub.id, "desalination",
                                             "Hawkes Bay plant doubles output", "80 million",
                                             "Test Wire", None, "2021-07-02", 0.61))
            ProcessedArticles.mark(cur, "hash-of-a-body", 1_700_000_001.0)
            cur.execute("INSERT INTO feeds (url, etag, last_ok, error_count, next_poll_at, "
                        "articles) VALUES (?, ?, ?, ?, ?, ?)",
                        ("https://example.org/feed.xml", 'W/"abc"', 1_700_000_002.0, 1,
                         1_700_000_900.0, 12))
            set_meta(cur, CURSOR_KEY, f"{gen_id}:{top}")
        sent = [a.id for a in outbox.due() if a.chat_id == 42]
        outbox.claim_due()
        outbox.mark_sent(sent, message_id=99)
        outbox.release([a.id for a in outbox.due()])
        FeedStore(db, []).add("https://example.org/other.xml", title="Other", added_by=7)
        ChatSettingsStore(db).toggle(-100123, "silent", by=7)
    finally:
        db.close()


@pytest.fixture
def source(tmp_path: Path, embedder) -> IndexSettings:
    settings = IndexSettings(data_dir=tmp_path / "data")
    fill(settings, embedder, write_news(tmp_path / "news"))
    return settings


def on_pg(tmp_path: Path, url: str, name: str = "pg-side") -> IndexSettings:
    return IndexSettings(data_dir=tmp_path / name, database_url=url)


def all_rows(settings: IndexSettings) -> RowPage:
    gen = backend_for(settings).open_as_built()
    assert gen is not None
    try:
        return gen.store.dump_rows(0, 10_000)
    finally:
        gen.close()


def state_of(settings: IndexSettings) -> StateRows:
    db = open_state(settings)
    try:
        return read_state(db)
    finally:
        db.close()


def live_name(settings: IndexSettings) -> str | None:
    backend = backend_for(settings)
    try:
        return backend.live_name()
    finally:
        backend.close()


def test_a_data_dir_into_postgres_and_back_keeps_every_row(source: IndexSettings,
                                                           tmp_path: Path, pg_url: str) -> None:
    pg = on_pg(tmp_path, pg_url)
    back = IndexSettings(data_dir=tmp_path / "back")
    there = copy_data(source, pg, model=TEST_MODEL)
    again = copy_data(pg, back, model=TEST_MODEL)
    assert there.ok and again.ok, (there.problems, again.problems)
    assert there.source == there.copy == again.copy
    assert there.source["articles"] == 5 and there.source["outbox"] == 2
    assert there.source["outbox pending"] == 1 and there.source["neighbour_lists"] > 0

    original, middle, final = all_rows(source), all_rows(pg), all_rows(back)
    for page in (middle, final):
        assert page.articles == original.articles  # every column, ids included
        assert page.chunks == original.chunks
        # SQLite stores float16, PostgreSQL float32 of those: the same bits come back
        assert np.array_equal(page.vectors, original.vectors)
        assert len(page.neighbours) == len(original.neighbours)
        for (c1, i1, s1), (c2, i2, s2) in zip(page.neighbours, original.neighbours, strict=True):
            assert c1 == c2 and np.array_equal(i1, i2) and np.array_equal(s1, s2)

    first, last = state_of(source).tables, state_of(back).tables
    for table in STATE_TABLES:
        if table != "meta":
            assert last[table] == first[table], table
    cursor = dict(last["meta"])[CURSOR_KEY]
    assert cursor == f"{again.generation}:{dict(first['meta'])[CURSOR_KEY].split(':')[1]}"
    assert dict(state_of(pg).tables["meta"])[CURSOR_KEY].startswith(f"{there.generation}:")


def test_the_copy_answers_with_the_sources_first_citation(source: IndexSettings,
                                                          tmp_path: Path, pg_url: str,
                                                          embedder) -> None:
    pg = on_pg(tmp_path, pg_url)
    assert copy_data(source, pg, model=TEST_MODEL).ok
    firsts = {}
    for settings in (source, pg):
        with Index.open(settings, embedder=embedder) as index:
            firsts[settings.database_url is None] = [
                index.answer(q, asked_at=dt.date(2022, 1, 1)).citations[0].article.title
                for q in QUESTIONS]
    assert firsts[True] == firsts[False] == list(QUESTIONS.values())


def test_ids_continue_after_the_copied_ones(source: IndexSettings, tmp_path: Path,
                                            pg_url: str, embedder) -> None:
    pg = on_pg(tmp_path, pg_url)
    assert copy_data(source, pg, model=TEST_MODEL).ok
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "new.txt").write_text("date 2022-02-02\n\nLAHORE - A new bridge over the Ravi "
                                   "opened to traffic on Wednesday.\n")
    with Index.open(pg, embedder=embedder) as index:
        assert index.ingest([str(extra)]).articles_new == 1
        assert index.max_article_id() == 6
        assert index.check() == []
    db = open_state(pg)
    try:
        sub, _ = Subscriptions(db, per_chat_limit=20).add(555, "bridges")
        assert sub.id == 2  # the subscription copied has id 1
    finally:
        db.close()


def test_a_destination_holding_anything_is_refused(source: IndexSettings, tmp_path: Path,
                                                   pg_url: str) -> None:
    pg = on_pg(tmp_path, pg_url)
    assert copy_data(source, pg, model=TEST_MODEL).ok
    live = live_name(pg)
    with pytest.raises(CopyRefused, match="already holds an index of 5 articles"):
        copy_data(source, pg, model=TEST_MODEL)
    assert live_name(pg) == live
    # an empty index but a subscription in the alert state: refused too
    only_state = IndexSettings(data_dir=tmp_path / "only-state")
    db = open_state(only_state)
    Subscriptions(db, per_chat_limit=20).add(1, "wheat")
    db.close()
    with pytest.raises(CopyRefused, match="alert state is in use .1 subscriptions"):
        copy_data(pg, only_state, model=TEST_MODEL)
    assert not (tmp_path / "only-state" / "CURRENT").exists()


def test_a_source_built_with_another_model_is_refused(source: IndexSettings, tmp_path: Path,
                                                      pg_url: str) -> None:
    pg = on_pg(tmp_path, pg_url)
    with pytest.raises(CopyRefused, match="embedded with 'minilm' but NEWSBOT_EMBEDDING_MODEL"):
        copy_data(source, pg, model="mpnet")
    assert live_name(pg) is None


class Stop(Exception):
    """The failure injected halfway through a copy."""


def stop_at(phase: str) -> Callable[[str, int, int], None]:
    def progress(at: str, done: int, total: int) -> None:
        if at == phase:
            raise Stop(f"stopped at {phase} {done}/{total}")
    return progress


def generation_schemas(url: str) -> list[str]:
    with psycopg.connect(url) as conn:
        return [r[0] for r in conn.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'gen\\_%'").fetchall()]


@pytest.mark.parametrize("phase", ["rows", "alert state"])
def test_a_failure_halfway_into_postgres_leaves_it_unused(source: IndexSettings,
                                                          tmp_path: Path, pg_url: str,
                                                          phase: str) -> None:
    pg = on_pg(tmp_path, pg_url)
    before = all_rows(source)
    with pytest.raises(Stop):
        copy_data(source, pg, model=TEST_MODEL, progress=stop_at(phase), page=2)
    assert live_name(pg) is None
    assert generation_schemas(pg_url) == []  # the half-built generation was dropped
    assert all(not rows for rows in state_of(pg).tables.values())
    after = all_rows(source)  # the source is intact and still checks clean
    assert after.articles == before.articles and np.array_equal(after.vectors, before.vectors)
    assert copy_data(source, pg, model=TEST_MODEL).ok  # and the copy can simply run again


@pytest.mark.parametrize("phase", ["rows", "alert state"])
def test_a_failure_halfway_into_a_data_dir_leaves_it_unused(source: IndexSettings,
                                                            tmp_path: Path, pg_url: str,
                                                            phase: str) -> None:
    pg = on_pg(tmp_path, pg_url)
    assert copy_data(source, pg, model=TEST_MODEL).ok
    back = IndexSettings(data_dir=tmp_path / "back")
    with pytest.raises(Stop):
        copy_data(pg, back, model=TEST_MODEL, progress=stop_at(phase), page=2)
    assert not (tmp_path / "back" / "CURRENT").exists()
    assert sorted(p.name for p in (tmp_path / "back").glob("gen-*")) == []
    assert all(not rows for rows in state_of(back).tables.values())
    assert copy_data(pg, back, model=TEST_MODEL).ok


def test_every_state_column_is_copied(tmp_path: Path, pg_url: str) -> None:
    """The copy's column lists name every column of both schemas (a new migration's
    column fails here until the copy carries it)."""
    sqlite_side = IndexSettings(data_dir=tmp_path / "s")
    open_state(sqlite_side).close()
    with sqlite3.connect(tmp_path / "s" / "state.sqlite") as conn:
        tables = {r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert tables == set(STATE_TABLES)
        for table, columns in STATE_TABLES.items():
            have = [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]
            assert sorted(have) == sorted(columns), table
    open_state(on_pg(tmp_path, pg_url)).close()
    with psycopg.connect(pg_url) as conn:
        rows = conn.execute("SELECT table_name, column_name FROM information_schema.columns "
                            "WHERE table_schema = 'alerts' AND table_name <> 'schema_version'"
                            ).fetchall()
    found: dict[str, set[str]] = {}
    for table, column in rows:
        found.setdefault(table, set()).add(column)
    assert found == {t: set(c) for t, c in STATE_TABLES.items()}

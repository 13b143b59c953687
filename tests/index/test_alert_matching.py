"""Matching stored articles to subscriptions: phrases, stories told twice, crashes between
storing and matching, rebuilds, two matchers at once. Real index and model, the alert state
on SQLite and on PostgreSQL; no Telegram."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from index import Article, Index
from index.alerts.matcher import AlertMatcher, AlertRules
from index.alerts.outbox import Outbox
from index.alerts.state import StateDatabase, open_state
from index.alerts.statedb import STATE_NAME, StateDB
from index.alerts.stories import StoryRule
from index.alerts.subscriptions import Subscriptions
from tests.e2e.alerts.stories import CRICKET, SEED, SEED_RETOLD

RULES = AlertRules(threshold=0.45, max_age_seconds=2 * 86400, story=StoryRule(0.75, 0.7))


def _article(key: str, title: str, body: str, source: str,
             published: dt.date | None = None) -> Article:
    return Article(key, title, published or dt.datetime.now(dt.UTC).date(), source,
                   f"https://{key}.example/story", None, body, key=key)


STADIUM_ARTICLE = _article("pcb", "Renovated Gaddafi Stadium to reopen", CRICKET, "Sports")
SEED_ARTICLE = _article("nation", "Alibaba delegation calls on Ishaq Dar", SEED, "The Nation")
RETOLD_ARTICLE = _article("dailytimes", "Alibaba eyes Pakistan's e-commerce market",
                          SEED_RETOLD, "Daily Times")


@pytest.fixture
def db(state_db: StateDatabase) -> StateDatabase:
    """The alert state on each backend (tests/conftest.py ``open_state_db``)."""
    return state_db


@pytest.fixture
def subscriptions(db: StateDatabase) -> Subscriptions:
    return Subscriptions(db, per_chat_limit=5)


def _matcher(index: Index, db: StateDatabase, subscriptions: Subscriptions) -> AlertMatcher:
    return AlertMatcher(index, db, subscriptions, Outbox(db), RULES)


def _outbox(db: StateDatabase) -> list[tuple]:
    return db.query("SELECT chat_id, story_id, topic, source, quote FROM outbox ORDER BY id")


def test_one_alert_per_chat_and_story_with_a_verbatim_quote(
    index: Index, db: StateDatabase, subscriptions: Subscriptions
) -> None:
    subscriptions.add(-100, "e-commerce")
    subscriptions.add(-100, "Alibaba")  # a second topic of the same chat: still one alert
    subscriptions.add(-200, '"Ishaq Dar" e-commerce')
    subscriptions.add(-300, '"State Bank" e-commerce')  # the phrase is not in the story
    subscriptions.add(-400, "Gaddafi Stadium")
    matcher = _matcher(index, db, subscriptions)
    matcher.run()  # nothing stored yet
    index.ingest_articles([SEED_ARTICLE, STADIUM_ARTICLE])
    report = matcher.run()
    assert (report.articles, report.alerts) == (2, 3)
    rows = _outbox(db)
    by_chat = {r[0]: r for r in rows}
    assert sorted(by_chat) == [-400, -200, -100]
    assert by_chat[-100][3] == "The Nation" and by_chat[-100][1] == by_chat[-200][1]
    assert "Ishaq Dar" in by_chat[-200][4]  # the quote holds the required phrase
    for row in rows:
        assert row[4] in SEED or row[4] in " ".join(CRICKET.split())

    # The same story from a second outlet: matched, same story, no new alert.
    index.ingest_articles([RETOLD_ARTICLE])
    assert matcher.run().alerts == 0
    assert _outbox(db) == rows
    assert db.query("SELECT count(*) FROM stories")[0][0] == 2


def test_a_crash_between_storing_and_matching_is_caught_up_once(
    index: Index, db: StateDatabase, subscriptions: Subscriptions
) -> None:
    subscriptions.add(7, "e-commerce")
    _matcher(index, db, subscriptions).run()
    index.ingest_articles([SEED_ARTICLE])  # stored; the process dies before matching
    restarted = _matcher(index, db, subscriptions)
    assert restarted.run().alerts == 1
    assert restarted.run().alerts == 0
    assert _matcher(index, db, subscriptions).run().alerts == 0
    assert len(_outbox(db)) == 1


def test_without_a_database_url_the_state_lives_beside_the_generations(index: Index) -> None:
    state = open_state(index.settings)
    try:
        assert isinstance(state, StateDB)
        assert state.path == Path(index.settings.data_dir) / STATE_NAME
    finally:
        state.close()


def test_state_survives_a_rebuild(
    index: Index, db: StateDatabase, subscriptions: Subscriptions
) -> None:
    subscriptions.add(7, "e-commerce")
    matcher = _matcher(index, db, subscriptions)
    matcher.run()
    index.ingest_articles([SEED_ARTICLE])
    assert matcher.run().alerts == 1
    old_generation = index.generation.dir
    index.rebuild([])
    assert index.generation.dir != old_generation and index.stats().articles == 1
    report = matcher.run()  # new ids, same article: recognised by its body hash
    assert (report.articles, report.alerts) == (0, 0)
    assert [s.topic_text for s in subscriptions.for_chat(7)] == ["e-commerce"]
    index.ingest_articles([STADIUM_ARTICLE])
    assert matcher.run().articles == 1  # new articles after the rebuild are still matched


def test_old_news_and_news_before_the_subscription_never_alert(
    index: Index, db: StateDatabase, subscriptions: Subscriptions
) -> None:
    subscriptions.add(7, "e-commerce")
    today = dt.datetime.now(dt.UTC).date()
    matcher = _matcher(index, db, subscriptions)
    undated = Article("undated", "Alibaba", None, "Wire", None, None,
                      SEED.replace("Friday", "Saturday"))
    index.ingest_articles([
        _article("old", SEED_ARTICLE.title, SEED, "Archive", dt.date(2017, 3, 4)),
        _article("yesterday", RETOLD_ARTICLE.title, SEED_RETOLD, "Daily Times",
                 today - dt.timedelta(days=1)),
        undated,
    ])
    assert index.stats().articles == 3
    assert matcher.run().alerts == 0
    assert _outbox(db) == []


def test_two_matchers_at_once_alert_once_per_article(
    index: Index, open_state_db: Callable[[], StateDatabase]
) -> None:
    """Two bot processes matching the same new articles at the same moment. These
    articles have too few facts to be recognised as one story, so only the processed
    marker, checked again inside the serialized transaction, keeps the second matcher from
    adding a second alert."""
    dbs = [open_state_db(), open_state_db()]
    Subscriptions(dbs[0], per_chat_limit=5).add(7, "wheat harvest")
    crops = ["wheat", "barley", "maize", "rice"]
    index.ingest_articles([_article(
        f"harvest-{crop}", "wheat harvest",
        f"farmers harvested a record wheat crop this spring beside their {crop} fields, and "
        "flour mills expect lower prices for bread once the harvest reaches the markets.",
        "Wire") for crop in crops])
    start = threading.Barrier(len(dbs))
    reports: list[int] = []

    def match(db: StateDatabase) -> None:
        matcher = _matcher(index, db, Subscriptions(db, per_chat_limit=5))
        start.wait()
        reports.append(matcher.run().alerts)

    threads = [threading.Thread(target=match, args=(db,)) for db in dbs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert sum(reports) == len(crops)
    assert dbs[0].query("SELECT count(*) FROM outbox") == [(len(crops),)]

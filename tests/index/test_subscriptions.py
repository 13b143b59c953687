"""Topics, story facts, subscriptions and the outbox: the pure parts, and the stores on
both state backends (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from index.alerts.outbox import NewAlert, Outbox
from index.alerts.state import StateDatabase
from index.alerts.stories import fact_overlap, facts
from index.alerts.subscriptions import SubscriptionError, Subscriptions
from index.alerts.topics import TopicError, contains_phrase, parse_topic


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def db(state_db: StateDatabase) -> StateDatabase:
    """The alert state on each backend (tests/conftest.py ``open_state_db``)."""
    return state_db


def test_topic_phrases_and_meaning() -> None:
    topic = parse_topic('  "State Bank"   interest   rate ')
    assert topic.text == '"State Bank" interest rate'
    assert topic.phrases == ("State Bank",) and topic.meaning == "State Bank interest rate"
    assert parse_topic("“IMF” loan").phrases == ("IMF",)
    assert parse_topic("e-commerce").phrases == ()
    for bad in ("", "   ", '""', "!!!", "x" * 201):
        with pytest.raises(TopicError):
            parse_topic(bad)


def test_phrases_match_whole_words_across_spacing_and_case() -> None:
    assert contains_phrase("the STATE\n bank of Pakistan", "State Bank")
    assert not contains_phrase("the estate banking sector", "State Bank")
    assert contains_phrase("K-IV project", "K-IV")
    topic = parse_topic('"State Bank" "policy rate" inflation')
    assert topic.accepts_text("The State Bank kept its policy rate at 5.75%.")
    assert not topic.accepts_text("The State Bank said inflation rose.")


@given(st.text(max_size=60))
def test_parse_topic_never_crashes_and_keeps_meaning_quote_free(text: str) -> None:
    try:
        topic = parse_topic(text)
    except TopicError:
        return
    assert '"' not in topic.meaning and topic.meaning.strip() == topic.meaning
    assert all(p.strip() for p in topic.phrases)


def test_facts_are_numbers_and_names() -> None:
    found = facts("Alibaba eyes Pakistan’s market",
                  "ISLAMABAD: The minister said 1,100 firms and Jack Ma's group met.")
    assert {"alibaba", "pakistan", "islamabad", "1100", "jack", "ma"} <= found
    assert "the" not in found and "minister" not in found
    assert fact_overlap(frozenset("abc"), frozenset("abcdef")) == 1.0
    assert fact_overlap(frozenset("ab"), frozenset("ab")) == 0.0  # too few to judge


def test_subscriptions_limit_duplicates_and_removal(db: StateDatabase) -> None:
    clock = Clock()
    subs = Subscriptions(db, per_chat_limit=2, clock=clock)
    first, resumed = subs.add(5, "oil prices")
    assert resumed == 0 and first.created_date.isoformat() == "2023-11-14"
    with pytest.raises(SubscriptionError, match="already subscribed"):
        subs.add(5, "Oil  Prices")
    subs.add(5, "gold")
    with pytest.raises(SubscriptionError, match="2 subscriptions, the most allowed"):
        subs.add(5, "cotton")
    subs.add(6, "cotton")  # the limit is per chat
    with pytest.raises(SubscriptionError, match="number 3"):
        subs.remove(5, "3")
    assert subs.remove(5, "OIL prices").topic_text == "oil prices"
    assert [s.topic_text for s in subs.for_chat(5)] == ["gold"]
    assert subs.remove(5, "1").topic_text == "gold"
    assert subs.counts() == (1, 1)


def test_a_paused_chat_resumes_when_it_subscribes_again(db: StateDatabase) -> None:
    subs = Subscriptions(db, per_chat_limit=5)
    subs.add(-9, "oil prices")
    assert subs.disable_chat(-9) == 1 and subs.active() == []
    again, resumed = subs.add(-9, "oil prices")
    assert resumed == 1 and again.active and len(subs.active()) == 1


def test_outbox_is_idempotent_per_chat_and_story_and_paces_from_the_database(
    db: StateDatabase,
) -> None:
    clock = Clock()
    outbox = Outbox(db, clock)

    def alert(chat: int, story: int) -> NewAlert:
        return NewAlert(chat, story, 1, "oil", "Headline", "Quote.", "Wire", None,
                        "2023-11-14", 0.5)

    with db.transaction() as cur:
        assert outbox.enqueue(cur, alert(1, 10))
        assert not outbox.enqueue(cur, alert(1, 10))  # the same story again: ignored
        assert outbox.enqueue(cur, alert(2, 10))
        assert outbox.enqueue(cur, alert(1, 11))
    due = outbox.claim_due()
    assert [(a.chat_id, a.story_id) for a in due] == [(1, 10), (2, 10), (1, 11)]
    assert outbox.claim_due() == [] and outbox.due() == []  # claimed: nobody else gets them
    outbox.retry_later([due[0].id], 30, "network down")
    outbox.mark_sent([due[1].id, due[2].id], message_id=77)  # one digest message
    assert outbox.claim_due() == []  # the retry is not due yet
    clock.now += 31
    [retried] = outbox.claim_due()
    assert retried.attempts == 1 and retried.id == due[0].id
    assert outbox.messages_since(1, clock.now - 60) == 1
    assert outbox.alerts_since(2, clock.now - 60) == 1
    assert outbox.drop_chat(1, "forbidden") == 1
    assert outbox.counts() == {"sent": 2, "dropped": 1}

"""Follow-up questions: the rule that tells them from stand-alone ones, what they are
searched with, and the turn an answer leaves for the next question."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from index.api import Index
from index.followup import (
    FollowUpRule,
    asks_for_another,
    context_text,
    is_follow_up,
    new_names,
    next_turn,
    search_text,
)
from index.models import Answer, Citation, StoredArticle, Turn
from index.text import content_terms
from tests.conftest import write_article

RULE = FollowUpRule(max_terms=3, similarity=0.6)
VOTE = "Which city voted to build a tram line along the river last week?"


@pytest.mark.parametrize("question", [
    "When was that?", "what about India?", "Who else attended?", "and last year?",
    "How much did they pay?", "Where is it?", "How about the other ones?", "Who said so?",
    "How big is the screen?", "Which other stars have had courses?",
])
def test_questions_that_refer_back_and_name_little_are_follow_ups(question: str) -> None:
    assert is_follow_up(question, VOTE, similarity=0.0, rule=RULE)


@pytest.mark.parametrize("question", [
    "What is NEOWISE?",  # short, but points at nothing said before
    "Who is headlining Bonnaroo this year?",  # "this year" is a date, not a back-reference
    "Why were the schools in Alpenrose closed?",  # short, "the", but a subject of its own
    "Which country said this week that it would ban imports of Russian oil and gas from "
    "next year?",  # "this", "it", but a question of its own
])
def test_questions_of_their_own_stand_alone(question: str) -> None:
    assert not is_follow_up(question, VOTE, similarity=0.3, rule=RULE)


def test_a_question_close_to_the_earlier_one_follows_it() -> None:
    question = "Did Springfield’s council pass its tram line vote?"
    assert len(content_terms(question)) > RULE.max_terms  # too many words of its own
    assert is_follow_up(question, VOTE, similarity=0.61, rule=RULE)
    assert not is_follow_up(question, VOTE, similarity=0.59, rule=RULE)
    assert not is_follow_up(question, VOTE, similarity=None, rule=RULE)  # not measured
    assert not is_follow_up(question, VOTE, similarity=0.99,
                            rule=FollowUpRule(max_terms=3))  # the similarity part is off


def test_a_name_the_earlier_question_did_not_use_makes_a_new_subject() -> None:
    assert new_names("Why were the schools in Alpenrose closed?", VOTE) == ["Alpenrose"]
    assert new_names("Who paid for the Springfield line?", "Did Springfield vote?") == []
    assert is_follow_up("And in France?", VOTE, None, RULE)  # "and …" asks for another


@pytest.mark.parametrize(("question", "another"), [
    ("And in France?", True), ("What about the oldest man?", True), ("And last year?", True),
    ("Who won it in 2021?", True), ("When was that?", False), ("Who else attended?", False),
    ("How much did they pay?", False),
])
def test_asking_for_another_story_of_the_kind(question: str, another: bool) -> None:
    assert asks_for_another(question) is another


def test_a_follow_up_is_searched_with_the_earlier_questions() -> None:
    turn = Turn(VOTE, VOTE)
    assert search_text("Who paid for it?", turn) == f"{VOTE} Who paid for it?"
    # Its own dates replace the earlier ones.
    assert search_text("And in  March 2019?", turn) == (
        "Which city voted to build a tram line along the river ? And in March 2019?")
    later = Turn(VOTE, "Who paid for it?")
    assert context_text(later) == f"{VOTE} Who paid for it?"


def test_the_next_turn_keeps_the_opener_of_a_thread() -> None:
    article = StoredArticle(1, "w1", "Tram", "2020-01-02", "Wire", None, None, "Body.")
    day = dt.date(2020, 1, 5)
    first = Answer(VOTE, (Citation(article, (), 0.8),))
    turn = next_turn(first, day)
    assert turn == Turn(VOTE, VOTE, ("w1",), day)
    follow = Answer("Who paid for it?", (Citation(article, (), 0.7),), context=turn)
    assert next_turn(follow, day) == Turn(VOTE, "Who paid for it?", ("w1",), day)


def test_index_reads_a_follow_up_in_context_and_a_new_topic_alone(
        tmp_path: Path, embedder) -> None:
    docs = tmp_path / "docs"
    write_article(docs, "tram.txt", title="Springfield votes for a river tram", date="2020-01-02",
                  body="The city council of Springfield voted to build a new tram line along "
                       "the river. The regional government will pay two thirds of the cost.")
    write_article(docs, "tram2.txt", title="Shelbyville approves a tram line", date="2019-05-02",
                  body="The city council of Shelbyville approved a tram line to the airport. "
                       "Construction will take four years.")
    write_article(docs, "snow.txt", title="Snowstorm shuts Alpenrose schools", date="2020-01-03",
                  body="A snowstorm closed every school in the mountain town of Alpenrose for "
                       "three days, the mayor said.")
    from index.settings import IndexSettings

    with Index.open(IndexSettings(_env_file=None, data_dir=tmp_path / "data"),
                    embedder=embedder) as index:
        index.ingest([str(docs)])
        day = dt.date(2020, 1, 5)
        first = index.answer("Which city voted to build a tram line along the river?",
                             asked_at=day)
        turn = next_turn(first, day)
        follow = index.answer("Who will pay for it?", asked_at=day, context=turn)
        assert follow.context == turn
        assert follow.citations[0].article.ext_id == turn.story_ids[0]
        assert follow.question == "Who will pay for it?"

        other = index.answer("What about the other city?", asked_at=day, context=turn)
        assert other.context == turn  # another story of the kind: the one shown goes last
        assert "Shelbyville" in other.citations[0].article.title
        assert other.citations[-1].article.ext_id == turn.story_ids[0]

        snow = "Why were the schools in Alpenrose closed?"
        alone = index.answer(snow, asked_at=day)
        after = index.answer(snow, asked_at=day, context=turn)
        assert after.context is None  # nothing of the tram leaks into it
        assert [c.article.ext_id for c in after.citations] == \
            [c.article.ext_id for c in alone.citations]
        assert "snow" in alone.citations[0].article.title.lower()

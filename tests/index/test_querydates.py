from __future__ import annotations

import datetime as dt

import pytest

from index.querydates import DateRange, parse_query_dates

TODAY = dt.date(2017, 3, 5)  # a Sunday
D = dt.date


@pytest.mark.parametrize(
    ("question", "start", "end", "strict"),
    [
        ("What did the SBP decide in March 2017?", D(2017, 3, 1), D(2017, 4, 1), True),
        ("Who met Dar on 4 March?", D(2017, 3, 3), D(2017, 3, 5), True),
        ("Who met Dar on March 4, 2017?", D(2017, 3, 3), D(2017, 3, 5), True),
        ("What happened on 20 December?", D(2016, 12, 19), D(2016, 12, 21), True),
        ("Exports since January", D(2017, 1, 1), TODAY, True),
        ("Exports since 2016", D(2016, 1, 1), TODAY, True),
        ("Floods in 2016", D(2016, 1, 1), D(2016, 12, 31), True),
        ("Floods in August", D(2016, 8, 1), D(2016, 9, 1), True),
        ("What happened yesterday in Karachi?", D(2017, 3, 3), TODAY, False),
        ("Which team won this week?", D(2017, 2, 26), TODAY, False),
        ("Who resigned last week?", D(2017, 2, 19), D(2017, 2, 28), False),
        ("What was announced last month?", D(2017, 2, 1), TODAY, False),
        ("Prices three days ago", D(2017, 3, 1), D(2017, 3, 3), False),
        ("What did he say on Friday?", D(2017, 3, 2), D(2017, 3, 4), False),
    ],
)
def test_phrases_resolve_relative_to_the_question_date(question, start, end, strict) -> None:
    rng = parse_query_dates(question, TODAY)
    assert rng is not None
    assert (rng.start, rng.end, rng.strict) == (start, end, strict)


@pytest.mark.parametrize(
    "question",
    ["Who led the Alibaba delegation?", "What will happen in 2030?", "The 2022 World Cup host"],
)
def test_no_date_phrase_gives_none(question: str) -> None:
    assert parse_query_dates(question, TODAY) is None


def test_relative_phrases_need_a_today() -> None:
    assert parse_query_dates("What happened yesterday?", None) is None
    rng = parse_query_dates("What happened in March 2017?", None)
    assert rng == DateRange(D(2017, 3, 1), D(2017, 4, 1), True, "March 2017", calendar=True)


@pytest.mark.parametrize(
    ("question", "calendar"),
    [
        ("What did the SBP decide in March 2017?", True),
        ("Exports since 2016", True),
        ("Which team won this week?", False),
        ("Who is the latest minister to resign?", False),
        ("What has the court recently ruled on?", False),
        ("Which state passed a new voting law?", False),
        ("Who is now leading the talks?", False),
        ("Which royal is expected to retire next month?", False),
        ("What hobby has been in the news this summer?", False),
    ],
)
def test_calendar_periods_and_relative_cues_are_told_apart(question, calendar) -> None:
    rng = parse_query_dates(question, TODAY)
    assert rng is not None and rng.calendar is calendar
    if not calendar:
        assert rng.end == TODAY and not rng.strict


@pytest.mark.parametrize("question", [
    "Where is the New York Stock Exchange?", "Who just as quickly left?",
    "Which company won the contract?",
])
def test_names_and_plain_words_are_no_time_cue(question) -> None:
    assert parse_query_dates(question, TODAY) is None


def test_contains_is_inclusive() -> None:
    rng = DateRange(D(2017, 3, 1), D(2017, 3, 3), True, "x")
    assert rng.contains(D(2017, 3, 1)) and rng.contains(D(2017, 3, 3))
    assert not rng.contains(D(2017, 3, 4))

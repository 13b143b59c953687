from __future__ import annotations

import datetime as dt

import pytest

from index.pubdates import is_future, parse_published


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2017-03-04", dt.date(2017, 3, 4)),
        ("  2017-03-04 ", dt.date(2017, 3, 4)),
        ("2017-03-04T10:15:00", dt.datetime(2017, 3, 4, 10, 15)),
        ("2017-03-04T10:15:00Z", dt.datetime(2017, 3, 4, 10, 15)),
        ("2017-03-04T10:15:00+05:00", dt.datetime(2017, 3, 4, 5, 15)),
        ("2017-03-04 01:00:00-03:00", dt.datetime(2017, 3, 4, 4, 0)),
        ("2017-03-04T23:30:00-02:00", dt.datetime(2017, 3, 5, 1, 30)),
    ],
)
def test_iso(value: str, expected: dt.date) -> None:
    result = parse_published(value)
    assert result == expected
    assert type(result) is type(expected)
    if isinstance(result, dt.datetime):
        assert result.tzinfo is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("01-05-2015", dt.date(2015, 1, 5)),  # month first, as US exports write it
        ("2/16/2015", dt.date(2015, 2, 16)),
        ("12/1/2015", dt.date(2015, 12, 1)),
        ("16/2/2015", dt.date(2015, 2, 16)),  # first number > 12: must be the day
        ("2015/03/07", dt.date(2015, 3, 7)),
        ("2/16/2015 3:45 PM", dt.datetime(2015, 2, 16, 15, 45)),
    ],
)
def test_numeric_formats(value: str, expected: dt.date) -> None:
    result = parse_published(value)
    assert result == expected
    assert type(result) is type(expected)


def test_impossible_numeric_dates_are_none() -> None:
    assert parse_published("13/13/2015") is None
    assert parse_published("02-30-2015") is None


def test_rfc822() -> None:
    assert parse_published("Sat, 04 Mar 2017 10:00:00 +0500") == dt.datetime(2017, 3, 4, 5, 0)
    assert parse_published("Sat, 04 Mar 2017 10:00:00 GMT") == dt.datetime(2017, 3, 4, 10, 0)


def test_prose_dates_via_fallback() -> None:
    assert parse_published("March 4, 2017") == dt.date(2017, 3, 4)
    assert parse_published("4 March 2017 10:30") == dt.datetime(2017, 3, 4, 10, 30)


@pytest.mark.parametrize(
    "value",
    [None, "", "   ", "n/a", "N/A", "tomorrow-ish", "tomorrow", "yesterday", "2 days ago",
     "now", "March 2017", "2017", "garbage 12", "0001-01-01", "1488585600"],
)
def test_garbage_and_relative_words_are_none(value: str | None) -> None:
    assert parse_published(value) is None


def test_date_objects_pass_through() -> None:
    assert parse_published(dt.date(2020, 1, 2)) == dt.date(2020, 1, 2)  # type: ignore[arg-type]
    aware = dt.datetime(2020, 1, 2, 12, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert parse_published(aware) == dt.datetime(2020, 1, 2, 10)  # type: ignore[arg-type]


def test_future_dates_are_returned_and_flagged() -> None:
    today = dt.date(2020, 5, 1)
    far = parse_published("2020-05-10")
    assert far == dt.date(2020, 5, 10)
    assert is_future(far, today)
    assert not is_future(dt.date(2020, 5, 3), today)  # within the two-day slack
    assert is_future(dt.date(2020, 5, 4), today)
    assert is_future(dt.datetime(2020, 5, 4, 0, 1), today)
    assert not is_future(None, today)

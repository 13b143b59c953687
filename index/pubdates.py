"""Publication dates from whatever a source wrote: ISO, US-style CSV dates, RFC 822, prose.

The rule that matters most: never invent a date. A wrong date is worse than none, because
questions like "in March 2017" filter on it, so garbage and relative words ("tomorrow")
give None rather than "today". Results are a ``date`` when only a day was given, else a
naive ``datetime`` in UTC, so that every stored value compares with every other.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import re
from typing import Any

_MIN_YEAR = 1800  # "0001-01-01" and friends are export placeholders, not dates
_MAX_YEAR = 2200

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ISO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{1,2}:\d{2}")
_TIME = r"(?:[T ]+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AaPp][Mm])?)?"
_YEAR_FIRST = re.compile(r"^(\d{4})[/.-](\d{1,2})[/.-](\d{1,2})" + _TIME + "$")
_YEAR_LAST = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})" + _TIME + "$")
_HAS_TIME = re.compile(r"\d{1,2}:\d{2}")
_RFC822_HINT = re.compile(r"\d{1,2}\s+[A-Za-z]{3}\s+\d{2,4}\s+\d{1,2}:\d{2}")
_LETTER_RUN = re.compile(r"[^\W\d_]{3,}")
# Month names are tried in these languages after English. Letting dateparser detect among
# all of its ~200 locales costs seconds on first use and only adds false matches.
_OTHER_LANGUAGES = ["ur", "ar", "fa", "hi", "bn", "fr", "de", "es", "it", "pt", "nl", "ru", "tr"]

_DATEPARSER_SETTINGS: dict[str, Any] = {
    # All three parts must be present: "March 2017" is not a day, so no day is invented.
    "STRICT_PARSING": True,
    "REQUIRE_PARTS": ["day", "month", "year"],
    "PREFER_DAY_OF_MONTH": "first",
    # Absolute dates only: "tomorrow", "2 days ago", timestamps are not publication dates.
    "PARSERS": ["custom-formats", "absolute-time"],
    "DATE_ORDER": "MDY",
    "TO_TIMEZONE": "UTC",
    "RETURN_AS_TIMEZONE_AWARE": True,
}


def parse_published(value: str | dt.date | None) -> dt.date | dt.datetime | None:
    """Parse a publication date; None for empty input or anything not clearly a date.

    Numeric day/month orders follow US exports (``01-05-2015`` is 5 January) unless the
    first number cannot be a month. Timezone-aware values are converted to naive UTC.
    """
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return _sane(_to_naive_utc(value))
    if isinstance(value, dt.date):
        return _sane(value)
    text = " ".join(str(value).split())
    if not text:
        return None
    for parse in (_parse_iso, _parse_numeric, _parse_rfc822, _parse_dateparser):
        try:
            result = parse(text)
        except _Impossible:
            return None  # clearly meant as this format, e.g. "02-30-2015": no second guess
        except (ValueError, TypeError, OverflowError, IndexError):
            result = None
        if result is not None:
            return _sane(result)
    return None


class _Impossible(Exception):
    """A value in an unambiguous numeric format that names no real day."""


def is_future(
    value: dt.date | dt.datetime | None, today: dt.date, *, slack_days: int = 2
) -> bool:
    """True when ``value`` lies more than ``slack_days`` after ``today``.

    The slack absorbs timezones and feeds that stamp tomorrow's print edition; beyond it a
    date is suspicious and the caller decides what to do.
    """
    if value is None:
        return False
    day = value.date() if isinstance(value, dt.datetime) else value
    return day > today + dt.timedelta(days=slack_days)


def _parse_iso(text: str) -> dt.date | dt.datetime | None:
    if _ISO_DATE.match(text):
        return dt.date.fromisoformat(text)
    if _ISO_DATETIME.match(text):
        return _to_naive_utc(dt.datetime.fromisoformat(text.replace(" ", "T", 1)))
    return None


def _parse_numeric(text: str) -> dt.date | dt.datetime | None:
    match = _YEAR_FIRST.match(text)
    if match:
        year, month, day = (int(g) for g in match.groups()[:3])
    else:
        match = _YEAR_LAST.match(text)
        if not match:
            return None
        first, second, year = (int(g) for g in match.groups()[:3])
        month, day = (first, second) if first <= 12 else (second, first)
    hour, minute, second_, ampm = match.groups()[3:]
    try:
        day_value = dt.date(year, month, day)
        if hour is None:
            return day_value
        h = int(hour)
        if ampm:
            if not 1 <= h <= 12:
                raise ValueError("12-hour clock")
            h = h % 12 + (12 if ampm.lower() == "pm" else 0)
        return dt.datetime.combine(day_value, dt.time(h, int(minute), int(second_ or 0)))
    except ValueError:
        raise _Impossible(text) from None


def _parse_rfc822(text: str) -> dt.datetime | None:
    if not _RFC822_HINT.search(text):
        return None
    return _to_naive_utc(email.utils.parsedate_to_datetime(text))


def _parse_dateparser(text: str) -> dt.date | dt.datetime | None:
    if len(text) > 80 or not any(ch.isdigit() for ch in text):
        return None  # every absolute date names a day and a year in digits
    import dateparser  # lazy: loading its language data costs a noticeable moment

    # English first (fast); other languages only when a word could be a month name.
    parsed = dateparser.parse(text, languages=["en"], settings=_DATEPARSER_SETTINGS)
    if parsed is None and _LETTER_RUN.search(text):
        parsed = dateparser.parse(
            text, languages=_OTHER_LANGUAGES, settings=_DATEPARSER_SETTINGS
        )
    if parsed is None:
        return None
    naive = _to_naive_utc(parsed)
    return naive if _HAS_TIME.search(text) else naive.date()


def _to_naive_utc(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        return value
    return value.astimezone(dt.UTC).replace(tzinfo=None)


def _sane(value: dt.date | dt.datetime) -> dt.date | dt.datetime | None:
    return value if _MIN_YEAR <= value.year <= _MAX_YEAR else None

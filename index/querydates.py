"""Dates in questions: "in March 2017", "on 4 March", "since 2016", "yesterday", "last week".

Each phrase becomes a ``DateRange`` of publication dates, resolved against the day the
question was asked (today in chat, ``asked_at`` in evaluation). Calendar phrases ("in March
2017", "on 4 March", "in 2016", "since January") are *filters* — which the search keeps only
when the period holds a story about as relevant as the best one anywhere, since a date may
name when something happened rather than when it was reported; relative ones ("this week",
"last month") are *boosts* on top of the recency prior.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass, replace

_MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}
_MONTHS.update({name.lower(): i for i, name in enumerate(calendar.month_abbr) if name})
_MONTHS["sept"] = 9
_WEEKDAYS = {name.lower(): i for i, name in enumerate(calendar.day_name)}
_M = r"(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
_YEAR = r"((?:19|20)\d\d)"

_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("day_month_year", re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?{_M}\.?,?\s+{_YEAR}\b", re.I)),
    ("month_day_year", re.compile(rf"\b{_M}\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+{_YEAR}\b", re.I)),
    ("since_month_year", re.compile(rf"\bsince\s+{_M}\.?\s+{_YEAR}\b", re.I)),
    ("month_year", re.compile(rf"\b{_M}\.?,?\s+{_YEAR}\b", re.I)),
    ("on_day_month", re.compile(rf"\bon\s+(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?{_M}\b", re.I)),
    ("on_month_day", re.compile(rf"\bon\s+{_M}\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?\b(?!\s*,?\s*(?:19|20)\d\d)", re.I)),
    ("since_month", re.compile(rf"\bsince\s+{_M}\b(?!\.?\s*(?:19|20)\d\d)", re.I)),
    ("in_month", re.compile(rf"\bin\s+{_M}\b(?!\.?\s*\d)", re.I)),
    ("since_year", re.compile(rf"\bsince\s+{_YEAR}\b", re.I)),
    ("in_year", re.compile(rf"\bin\s+{_YEAR}\b", re.I)),
    ("yesterday", re.compile(r"\byesterday\b", re.I)),
    ("today", re.compile(r"\b(?:today|this morning|tonight)\b", re.I)),
    ("this_week", re.compile(r"\b(?:this|past)\s+week(?:end)?\b", re.I)),
    ("last_week", re.compile(r"\blast\s+week(?:end)?\b", re.I)),
    ("this_month", re.compile(r"\bthis\s+month\b", re.I)),
    ("last_month", re.compile(r"\blast\s+month\b", re.I)),
    ("this_year", re.compile(r"\bthis\s+year\b", re.I)),
    ("last_year", re.compile(r"\blast\s+year\b", re.I)),
    ("recent", re.compile(
        r"\b(?:recent(?:ly)?|latest|newly|currently|ongoing|upcoming|nowadays|right now|"
        r"so far|(?:has|have|had)\s+just|just\s+\w+ed|in the news|next\s+(?:week(?:end)?|"
        r"month|year))\b|\bnow\b|(?-i:\bnew\b)", re.I)),
    ("ago", re.compile(r"\b(\d{1,2}|a|one|two|three|four|five|six)\s+(day|week|month)s?\s+ago\b", re.I)),
    ("weekday", re.compile(r"\b(?:on|last|this)\s+(monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b", re.I)),
]
_CALENDAR_KINDS = frozenset({
    "day_month_year", "month_day_year", "since_month_year", "month_year", "on_day_month",
    "on_month_day", "since_month", "in_month", "since_year", "in_year"})
RECENT_DAYS = 30  # "recently", "the latest", "new": published within about a month
_WORD_NUMBERS = {"a": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6}


@dataclass(slots=True, frozen=True)
class DateRange:
    """Inclusive publication-date range; ``strict`` ranges filter, others boost.

    ``calendar`` phrases name a period ("in March 2017", "since 2016"); the others are
    relative to the day asked ("this week", "yesterday", "recently", "the latest").
    """

    start: dt.date | None
    end: dt.date | None
    strict: bool
    phrase: str
    calendar: bool = False

    def contains(self, day: dt.date) -> bool:
        return (self.start is None or day >= self.start) and (self.end is None or day <= self.end)


def parse_query_dates(question: str, asked_at: dt.date | None) -> DateRange | None:
    """The first date phrase in ``question`` as a range, or None.

    Phrases that need "today" (relative ones, a day without a year) are ignored when
    ``asked_at`` is None.
    """
    best: tuple[int, DateRange] | None = None
    for kind, pattern in _PATTERNS:
        for match in pattern.finditer(question):
            rng = _resolve(kind, match, asked_at)
            if rng is not None and kind in _CALENDAR_KINDS:
                rng = replace(rng, calendar=True)
            if rng is not None and (best is None or match.start() < best[0]):
                best = (match.start(), rng)
            break
    return best[1] if best else None


def without_date_phrases(text: str) -> str:
    """``text`` with every date phrase taken out ("the vote last week" → "the vote"), so an
    earlier question's dates do not compete with a follow-up's own ("and last year?")."""
    for _kind, pattern in _PATTERNS:
        text = pattern.sub(" ", text)
    return " ".join(text.split())


def _month_range(year: int, month: int) -> tuple[dt.date, dt.date]:
    return dt.date(year, month, 1), dt.date(year, month, calendar.monthrange(year, month)[1])


def _month(name: str) -> int:
    return _MONTHS[name.lower().rstrip(".")[:3] if name.lower() not in _MONTHS else name.lower()]


def _latest_year(month: int, day: int, today: dt.date) -> int:
    """The year that puts month/day on or before today."""
    year = today.year
    try:
        return year if dt.date(year, month, day) <= today else year - 1
    except ValueError:
        return year


def _resolve(kind: str, m: re.Match[str], today: dt.date | None) -> DateRange | None:
    phrase = m.group(0)
    try:
        if kind == "day_month_year":
            d = dt.date(int(m.group(3)), _month(m.group(2)), int(m.group(1)))
            return DateRange(d - dt.timedelta(days=1), d + dt.timedelta(days=1), True, phrase)
        if kind == "month_day_year":
            d = dt.date(int(m.group(3)), _month(m.group(1)), int(m.group(2)))
            return DateRange(d - dt.timedelta(days=1), d + dt.timedelta(days=1), True, phrase)
        if kind == "month_year":
            start, end = _month_range(int(m.group(2)), _month(m.group(1)))
            return DateRange(start, end + dt.timedelta(days=1), True, phrase)
        if kind == "since_month_year":
            start, _ = _month_range(int(m.group(2)), _month(m.group(1)))
            return DateRange(start, today, True, phrase)
        if kind == "since_year":
            return DateRange(dt.date(int(m.group(1)), 1, 1), today, True, phrase)
        if kind == "in_year":
            year = int(m.group(1))
            if today is not None and year > today.year:
                return None  # "in 2030": a plan, not a publication date
            return DateRange(dt.date(year, 1, 1), dt.date(year, 12, 31), True, phrase)
        if today is None:
            return None
        if kind in ("on_day_month", "on_month_day"):
            day_s, month_s = (m.group(1), m.group(2)) if kind == "on_day_month" else (
                m.group(2), m.group(1))
            month, day = _month(month_s), int(day_s)
            d = dt.date(_latest_year(month, day, today), month, day)
            return DateRange(d - dt.timedelta(days=1), d + dt.timedelta(days=1), True, phrase)
        if kind == "since_month":
            month = _month(m.group(1))
            year = today.year if month <= today.month else today.year - 1
            return DateRange(dt.date(year, month, 1), today, True, phrase)
        if kind == "in_month":
            month = _month(m.group(1))
            year = today.year if month <= today.month else today.year - 1
            start, end = _month_range(year, month)
            return DateRange(start, end + dt.timedelta(days=1), True, phrase)
        days = dt.timedelta
        if kind == "yesterday":
            return DateRange(today - days(2), today, False, phrase)
        if kind == "today":
            return DateRange(today - days(1), today, False, phrase)
        if kind == "recent":
            return DateRange(today - days(RECENT_DAYS), today, False, phrase)
        if kind == "this_week":
            return DateRange(today - days(7), today, False, phrase)
        if kind == "last_week":
            return DateRange(today - days(14), today - days(5), False, phrase)
        if kind == "this_month":
            return DateRange(today.replace(day=1) - days(3), today, False, phrase)
        if kind == "last_month":
            end = today.replace(day=1) - days(1)
            return DateRange(end.replace(day=1), today, False, phrase)
        if kind == "this_year":
            return DateRange(dt.date(today.year, 1, 1), today, False, phrase)
        if kind == "last_year":
            return DateRange(dt.date(today.year - 1, 1, 1), dt.date(today.year - 1, 12, 31),
                             False, phrase)
        if kind == "ago":
            n_s = m.group(1).lower()
            n = int(n_s) if n_s.isdigit() else _WORD_NUMBERS[n_s]
            unit = {"day": 1, "week": 7, "month": 30}[m.group(2).lower()]
            centre = today - days(n * unit)
            spread = days(max(1, unit // 2))
            return DateRange(centre - spread, centre + spread, False, phrase)
        if kind == "weekday":
            target = _WEEKDAYS[m.group(1).lower()]
            back = (today.weekday() - target) % 7
            d = today - days(back)
            return DateRange(d - days(1), d + days(1), False, phrase)
    except (ValueError, KeyError):
        return None
    return None

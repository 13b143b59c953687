"""Articles for the benchmark: a real corpus read at bench time, or text written here.

The real corpus (``pk_business_2015.jsonl``, Pakistani business news) is evaluation data
that must not be copied into the repository, so it is only read from where it lives. When
it is absent (a fresh clone elsewhere) the benchmark falls back to articles generated from
the sentence templates below, which were written for this project.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

DEFAULT_CORPUS = Path(__file__).resolve().parents[3] / "shared" / "data" / "pk_business_2015.jsonl"


@dataclass(frozen=True, slots=True)
class BenchQuestion:
    """A question asked at ``asked_at`` (which drives the recency window, as in chat)."""

    text: str
    asked_at: dt.date


def read_records(path: Path | None, limit: int | None) -> tuple[list[dict], str]:
    """Corpus records (one dict per article) and a short description of where they came
    from; generated records when ``path`` is None or missing."""
    path = path or DEFAULT_CORPUS
    if path.exists():
        records = []
        with path.open(encoding="utf-8") as fh:
            for line in fh:
                if line.strip():
                    records.append(json.loads(line))
                if limit is not None and len(records) >= limit:
                    break
        return records, f"{path.name} ({len(records)} articles)"
    count = limit or 400
    return list(generated_records(count)), f"generated ({count} articles; {path} not found)"


def questions_for(records: list[dict], count: int, seed: int = 7) -> list[BenchQuestion]:
    """Headlines asked as questions a few days after publication, plus hand-written ones
    that name dates (so the date-window path of search runs too)."""
    rng = random.Random(seed)
    out: list[BenchQuestion] = []
    dated = [r for r in records if r.get("title") and r.get("published_at")]
    for record in rng.sample(dated, min(len(dated), count)):
        day = dt.date.fromisoformat(str(record["published_at"])[:10])
        out.append(BenchQuestion(str(record["title"]), day + dt.timedelta(days=rng.randint(0, 6))))
    asked = dt.date(2015, 12, 31)
    for text in _WRITTEN_QUESTIONS:
        if len(out) >= count:
            break
        out.append(BenchQuestion(text, asked))
    return out[:count]


_WRITTEN_QUESTIONS = (
    "What did the State Bank decide about the policy rate in March 2015?",
    "How much did the stock exchange index gain last week?",
    "Which company announced new investment in the textile sector since June 2015?",
    "What happened to petrol prices in January 2015?",
    "How much foreign direct investment came in during 2015?",
    "What did the finance minister say about the budget deficit?",
    "Who will build the new power plant and at what cost?",
    "What were the exports of rice this year?",
)

# -- generated articles (text written for this project) ------------------------------------
_CITIES = ("Karachi", "Lahore", "Islamabad", "Peshawar", "Quetta", "Multan", "Faisalabad")
_FIRMS = ("Indus Steel", "Ravi Textiles", "Margalla Cement", "Sindh Gas", "Chenab Foods",
          "Kohinoor Power", "Makran Fisheries", "Potohar Motors", "Bolan Mining")
_SECTORS = ("textile", "cement", "power", "telecom", "banking", "fertiliser", "auto",
            "rice export", "software", "construction")
_OFFICIALS = ("the finance minister", "the central bank governor", "the commerce secretary",
              "the chamber president", "the planning minister", "an industry spokesman")
_TEMPLATES = (
    "{city} - {firm} said on {day} it would invest Rs{n} billion in a new {sector} plant.",
    "The company expects the plant to add {m} jobs within two years, {official} said.",
    "Shares of {firm} rose {p} percent after the announcement, dealers said.",
    "The {sector} sector grew {p} percent in the last quarter, official figures showed.",
    "Analysts said higher energy costs could slow the {sector} industry this year.",
    "{official} told reporters that the government would cut duties on {sector} inputs.",
    "Exports from the {sector} sector reached ${n} million in the first {m} months.",
    "The benchmark index closed {p} percent higher at {n},{m} points on {day}.",
    "Traders in {city} complained that gas shortages had cut output by {p} percent.",
    "{firm} reported a profit of Rs{n} million, up {p} percent from a year earlier.",
    "The central bank kept its policy rate at {p} percent, citing stable inflation.",
    "A delegation led by {official} met investors in {city} to discuss {sector} projects.",
    "The project will be financed by a consortium of local banks, {official} said.",
    "Workers at the {city} factory staged a protest over unpaid wages on {day}.",
)
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")


def generated_records(count: int, seed: int = 11) -> Iterator[dict]:
    """Business-news-like articles from the templates above, dated through 2015."""
    rng = random.Random(seed)
    start = dt.date(2015, 1, 1)
    for i in range(count):
        firm, sector, city = rng.choice(_FIRMS), rng.choice(_SECTORS), rng.choice(_CITIES)
        sentences = []
        for _ in range(rng.randint(4, 22)):
            sentences.append(rng.choice(_TEMPLATES).format(
                city=city, firm=firm, sector=sector, official=rng.choice(_OFFICIALS),
                day=rng.choice(_DAYS), n=rng.randint(2, 900), m=rng.randint(2, 99),
                p=round(rng.uniform(0.5, 12.0), 1)))
        day = start + dt.timedelta(days=rng.randint(0, 364))
        yield {"id": f"gen-{i:05d}", "title": f"{firm} plans {sector} expansion in {city}",
               "published_at": day.isoformat(), "source": "Generated Wire", "url": None,
               "category": "business", "body": " ".join(sentences)}

"""Story identity for alerts: one story told by several outlets is one story.

A chat must get one alert per story, not one per outlet that ran it. Embeddings alone do
not tell a retelling from a different story on the same subject: measured on the test
articles, a second outlet's rewrite of the seed article has lead-chunk cosine 0.876 with
the original, while two *different* Karachi water-shortage stories reach 0.869. What
separates them is the facts: a retelling repeats the same numbers and names (overlap 1.0
for the rewrite), a different story on the subject shares few (at most 0.44 there; see
``tests/bench/calibrate_alerts.py`` for the run on pk_business_2015). So two articles are the same
story when they are published within a few days, their lead chunks are similar *and* their
facts overlap.

Stories are kept in the state database (they must outlive index rebuilds) and pruned
once they are too old to be repeated by anyone.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import numpy as np

from index.alerts.state import StateCursor
from index.settings import STORY_DAYS
from index.text import STOPWORDS

_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_NAME = re.compile(r"\b[A-Z][\w’'-]*[A-Za-z]")
_POSSESSIVE = re.compile(r"[’']s$")
_MIN_FACTS = 3  # fewer facts than this and the overlap says nothing


def facts(title: str, body: str) -> frozenset[str]:
    """Numbers (commas dropped, "1,100" = "1100") and capitalized names, case-folded.

    Capitalized stop words ("The", "He") are not names; both "ISLAMABAD -" and
    "ISLAMABAD:" give "islamabad".
    """
    text = f"{title}\n{body}"
    numbers = {n.replace(",", "") for n in _NUMBER.findall(text)}
    names = {
        _POSSESSIVE.sub("", w.casefold())
        for w in _NAME.findall(text)
        if w.casefold() not in STOPWORDS
    }
    return frozenset(numbers | {n for n in names if len(n) > 1})


def fact_overlap(a: frozenset[str], b: frozenset[str]) -> float:
    """Share of the smaller fact set found in the larger one (a summary of a story has
    all its facts in the full text), 0 when either has too few facts to judge."""
    if min(len(a), len(b)) < _MIN_FACTS:
        return 0.0
    return len(a & b) / min(len(a), len(b))


@dataclass(frozen=True, slots=True)
class StoryRule:
    """When two articles are one story (settings ``alert_story_similarity``/``_overlap``)."""

    similarity: float
    overlap: float
    days: int = STORY_DAYS


class StoryBook:
    """Assigns story ids inside the caller's state-database transaction."""

    def __init__(self, rule: StoryRule) -> None:
        self.rule = rule

    def assign(
        self,
        cur: StateCursor,
        published: dt.date,
        lead: np.ndarray,
        article_facts: frozenset[str],
        now: float,
    ) -> int:
        """The id of the stored story this article retells, or of a new story."""
        rule = self.rule
        low = (published - dt.timedelta(days=rule.days)).isoformat()
        high = (published + dt.timedelta(days=rule.days)).isoformat()
        rows = cur.execute(
            "SELECT id, lead, facts FROM stories WHERE published BETWEEN ? AND ?",
            (low, high)).fetchall()
        best: tuple[float, int] | None = None
        for story_id, blob, fact_text in rows:
            similarity = float(np.frombuffer(blob, dtype=np.float32) @ lead)
            if similarity < rule.similarity:
                continue
            overlap = fact_overlap(article_facts, frozenset(fact_text.split("\n")))
            if overlap >= rule.overlap and (best is None or similarity > best[0]):
                best = (similarity, story_id)
        if best is not None:
            return best[1]
        return int(cur.execute(
            "INSERT INTO stories (published, lead, facts, created_at) VALUES (?, ?, ?, ?) "
            "RETURNING id",
            (published.isoformat(), np.asarray(lead, dtype=np.float32).tobytes(),
             "\n".join(sorted(article_facts)), now)).fetchone()[0])

    @staticmethod
    def prune(cur: StateCursor, before: dt.date) -> int:
        """Forget stories published before ``before`` (nothing can retell them any more)."""
        return cur.execute("DELETE FROM stories WHERE published < ?",
                           (before.isoformat(),)).rowcount

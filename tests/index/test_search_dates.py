"""Dates in questions through the real search path: a calendar phrase filters when the period
holds a matching story, only boosts when it names when something happened, and the recency
prior counts from both the question's day and the period asked about."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from index import Index
from index.search import Candidate, fresh_story_up
from index.settings import IndexSettings
from tests.conftest import write_article

TODAY = dt.date(2026, 11, 28)


@pytest.fixture
def dated(index: Index, tmp_path: Path) -> Index:
    folder = tmp_path / "dated"
    write_article(folder, "rates_jan.txt", title="State Bank keeps policy rate unchanged",
                  date="2017-01-28", source="Wire A", body=(
                      "KARACHI - The State Bank of Pakistan kept its policy rate at 5.75 "
                      "percent, saying inflation stayed within its target range."))
    write_article(folder, "rates_mar.txt", title="State Bank holds policy rate again",
                  date="2017-03-25", source="Wire B", body=(
                      "KARACHI - The State Bank of Pakistan held its policy rate at 5.75 "
                      "percent for another two months as oil prices rose."))
    write_article(folder, "hack.txt", title="Report: spyware targeted Downing Street phones",
                  date="2022-04-18", source="Wire C", body=(
                      "LONDON - A new report said phones at Downing Street were targeted in "
                      "July 2020 with Pegasus spyware sold by the Israeli firm NSO Group."))
    write_article(folder, "cotton.txt", title="Monsoon floods damage cotton in Sindh",
                  date="2020-07-20", source="Wire D", body=(
                      "HYDERABAD - Monsoon floods damaged about 90,000 acres of cotton in Sindh, "
                      "the provincial agriculture minister said."))
    write_article(folder, "wheat_old.txt", title="Wheat harvest hit by heat wave",
                  date="2016-05-10", source="Wire E", body=(
                      "LAHORE - A heat wave cut the wheat harvest in Punjab by an estimated "
                      "eight percent, the crop reporting service said."))
    write_article(folder, "wheat_new.txt", title="Heat wave cuts wheat harvest",
                  date="2026-11-20", source="Wire F", body=(
                      "LAHORE - Punjab's wheat harvest fell by about seven percent after a "
                      "heat wave, according to the crop reporting service."))
    index.ingest([str(folder)])
    return index


def titles(index: Index, question: str) -> list[str]:
    return [h.article.title for h in index.search(question, k=5, asked_at=TODAY)]


def test_a_period_holding_a_matching_story_filters(dated: Index) -> None:
    found = titles(dated, "What did the State Bank decide about the policy rate in March 2017?")
    assert found[0] == "State Bank holds policy rate again"
    assert "State Bank keeps policy rate unchanged" not in found  # January: filtered out


def test_a_date_naming_when_something_happened_only_boosts(dated: Index) -> None:
    """Nothing from July 2020 is about spyware: the later report is still the answer."""
    found = titles(dated, "Which spyware was used against Downing Street in July 2020?")
    assert found[0] == "Report: spyware targeted Downing Street phones"
    assert "Monsoon floods damage cotton in Sindh" in found  # boosted, not the only choice


def test_recency_counts_from_the_period_named_and_from_today(dated: Index) -> None:
    assert titles(dated, "How much did the heat wave cut the wheat harvest in 2016?")[0] == (
        "Wheat harvest hit by heat wave")
    assert titles(dated, "How much did the heat wave cut the wheat harvest this week?")[0] == (
        "Heat wave cuts wheat harvest")


def test_without_a_question_date_an_event_date_does_not_pull_in_that_period(
        dated: Index) -> None:
    """With no "today" (``newsbot eval`` without ``--as-of``), a demoted calendar filter must
    not come back as a recency prior anchored at the period: July 2020 holds only the cotton
    story, which gets the small in-period boost and not the prior's weight (0.8)."""
    hits = dated.search("Which spyware was used against Downing Street in July 2020?", k=5)
    assert hits[0].article.title == "Report: spyware targeted Downing Street phones"
    cotton = next(h for h in hits if h.article.title == "Monsoon floods damage cotton in Sindh")
    s = dated.settings
    assert cotton.dense_score is not None
    assert cotton.score - cotton.dense_score <= s.date_range_weight + s.keyword_weight + 1e-6


def test_without_a_time_cue_an_older_story_that_matches_best_is_not_buried(
        index: Index, tmp_path: Path) -> None:
    """Knowing today's date must not push a better-matching older story below this week's
    news: with no time word the question is about whenever its story happened; a relative
    cue ("the latest") asks about the news around today."""
    folder = tmp_path / "gwadar"
    write_article(folder, "airport.txt", title="Cabinet approves Gwadar international airport",
                  date="2026-03-02", source="Wire G", body=(
                      "ISLAMABAD - The federal cabinet approved a new international airport "
                      "for Gwadar costing Rs 35 billion, to be built by a Chinese contractor."))
    write_article(folder, "port.txt", title="Gwadar port sees more ships",
                  date="2026-11-25", source="Wire H", body=(
                      "GWADAR - Gwadar port handled more ships this month as two new cranes "
                      "arrived from Shanghai."))
    index.ingest([str(folder)])
    asked = dt.date(2026, 11, 28)
    hits = index.search("How much will the Gwadar international airport cost?", k=2,
                        asked_at=asked)
    assert hits[0].article.title == "Cabinet approves Gwadar international airport"
    undated = index.search("How much will the Gwadar international airport cost?", k=2)
    assert [h.article.title for h in hits] == [h.article.title for h in undated]
    latest = index.search("What is the latest from Gwadar?", k=2, asked_at=asked)
    assert latest[0].article.title == "Gwadar port sees more ships"


def _ranked(*stories: tuple[str, float]) -> list[Candidate]:
    """Candidates in rank order from (ISO date, the question's cosine) pairs."""
    return [Candidate(article_id=n, dense=dense, published=dt.date.fromisoformat(day))
            for n, (day, dense) in enumerate(stories)]


def test_todays_relevant_story_moves_up_to_third_place() -> None:
    settings = IndexSettings(data_dir=Path("unused"))
    ranked = _ranked(("2026-10-01", 0.70), ("2026-09-12", 0.66), ("2026-06-30", 0.60),
                     ("2026-05-02", 0.55), ("2026-11-26", 0.48), ("2026-11-27", 0.45))
    moved = fresh_story_up(ranked, TODAY, settings)
    assert [c.article_id for c in moved] == [0, 1, 4, 2, 3, 5]  # the best fresh one, third


def test_fresh_story_stays_put_when_not_needed_or_not_relevant() -> None:
    settings = IndexSettings(data_dir=Path("unused"))
    already = _ranked(("2026-10-01", 0.70), ("2026-11-25", 0.66), ("2026-06-30", 0.60),
                      ("2026-11-27", 0.58))
    assert fresh_story_up(already, TODAY, settings) == already  # today's news is shown
    weak = _ranked(("2026-10-01", 0.70), ("2026-09-12", 0.66), ("2026-06-30", 0.60),
                   ("2026-11-27", settings.confident_relevance - 0.01))
    assert fresh_story_up(weak, TODAY, settings) == weak  # not relevant on its own
    stale = _ranked(("2026-10-01", 0.70), ("2026-09-12", 0.66), ("2026-06-30", 0.60),
                    ("2026-11-10", 0.65))
    assert fresh_story_up(stale, TODAY, settings) == stale  # older than current_news_days
    off = IndexSettings(data_dir=Path("unused"), fresh_story_place=0)
    ranked = _ranked(("2026-10-01", 0.70), ("2026-09-12", 0.66), ("2026-06-30", 0.60),
                     ("2026-11-27", 0.65))
    assert fresh_story_up(ranked, TODAY, off) == ranked

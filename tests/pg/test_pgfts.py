"""PostgreSQL keyword search (``index.pgfts``) against SQLite FTS5's ``bm25`` on the same
rows: the same chunks in the same order with the same scores, one case derived by hand."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from index.models import Article, Chunk
from index.pgfts import fold
from index.pgstore import PgStore
from index.storage import IndexStore
from index.store import PendingArticle, Store

DIM = 8


def article(ext_id: str, title: str, texts: list[str]) -> PendingArticle:
    chunks, at = [], 0
    for i, text in enumerate(texts):
        chunks.append(Chunk(i, at, at + len(text), text, f"{title}\n{text}"))
        at += len(text) + 1
    v = np.random.default_rng(len(ext_id)).standard_normal((len(texts), DIM)).astype(np.float32)
    body = " ".join(texts)
    return PendingArticle(
        Article(id=ext_id, title=title, published_at=None, source="Wire", url=None,
                category=None, body=body, key=ext_id),
        f"hash-{ext_id}", chunks, v / np.linalg.norm(v, axis=1, keepdims=True))


@pytest.fixture
def both(pg_url: str, tmp_path: Path) -> Iterator[tuple[Store, PgStore]]:
    sqlite, pg = Store(tmp_path / "index.sqlite"), PgStore(pg_url, DIM)
    yield sqlite, pg
    sqlite.close()
    pg.close()


def ranked(store: IndexStore, match: str) -> list[tuple[str, float]]:
    """(chunk text, score) best first: chunk ids may differ between the stores, texts not."""
    rows = store.keyword_search(match, 50)
    texts = store.chunks([r[0] for r in rows])
    return [(texts[r[0]].text, r[2]) for r in rows]


def test_fold_removes_diacritics_case_and_punctuation() -> None:
    assert fold("Café-owners, ZÜRICH") == "cafe owners zurich"
    assert fold("Pakistan’s 3.5% e-mail: a@b.org") == "pakistan s 3 5 e mail a b org"
    assert fold("  ¿Qué?  ") == "que"
    assert fold("--") == ""


def test_a_score_derived_by_hand(both: tuple[Store, PgStore]) -> None:
    """Three one-chunk articles: |D| (title + text words) 4, 5 and 3, so N = 3 and
    avgdl = 12 / 3 = 4. "port" is in one chunk: idf = ln((3 − 1 + 0.5) / (1 + 0.5)); there
    f = 2·1 (title) + 1·2 (text) = 4 and K = 1.2 · (1 − 0.75 + 0.75 · 4/4) = 1.2. "rain"
    likewise has idf ln(2.5/1.5), f = 2·1 + 1·1 = 3, K = 1.2 · (0.25 + 0.75 · 5/4) = 1.425.
    "city" is in two of three chunks: ln(1.5/2.5) < 0, floored at 1e-6 as FTS5 does; it
    adds 1e-6 · f · 2.2 / (f + K) with f = 1 to both."""
    for store in both:
        store.write_batch([article("p", "Port", ["port port city"]),
                           article("r", "Rain", ["rain in the city"]),
                           article("b", "Budget", ["budget news"])])
    idf = math.log(2.5 / 1.5)
    port = idf * 4 * 2.2 / (4 + 1.2)
    rain = idf * 3 * 2.2 / (3 + 1.425)
    city_in_port = 1e-6 * 1 * 2.2 / (1 + 1.2)
    city_in_rain = 1e-6 * 1 * 2.2 / (1 + 1.425)
    expected = [("port port city", -(port + city_in_port)),
                ("rain in the city", -(rain + city_in_rain))]
    for store in both:
        got = ranked(store, '"port" OR "rain" OR "city"')
        assert [t for t, _ in got] == [t for t, _ in expected]
        assert [s for _, s in got] == pytest.approx([s for _, s in expected], rel=1e-9)


NEWS = [
    article("a1", "Karachi port handles record cargo", [
        "Karachi's port handled record cargo on Monday, the port authority said.",
        "Officials expect the port to handle more ships as new berths open in 2024."]),
    article("a2", "Café owners in Zürich protest rents", [
        "Café owners in Zürich protested rising rents, saying cafés cannot survive.",
        "The city council of Zurich will debate the rents of cafe premises next week."]),
    article("a3", "Pakistan win one-day series", [
        "Pakistan's bowlers took six wickets as Pakistan won the one-day series 3-1.",
        "The series was played in Lahore and Rawalpindi before large crowds."]),
    article("a4", "", [
        "Cargo ships waited outside the port for days while cranes were repaired.",
        "Shipping lines said the delays cost them millions of dollars."]),
    article("a5", "Rains flood Lahore", [
        "Heavy rains flooded Lahore's streets; Karachi's port was spared, Karachi's mayor said.",
        "Forecasters expect more rain in Punjab, and more flooding, this week."]),
]
QUERIES = ['"port"', '"port" OR "cargo" OR "ships"', '"karachi\'s" OR "port"',
           '"zürich" OR "cafe"', '"cafes" OR "rents"', '"pakistan" OR "series" OR "wickets"',
           '"the" OR "rain"', '"one" OR "day"', '"2024" OR "ships"', '"flooding" OR "lahore"',
           '"nowhere"']


def test_scores_and_order_match_fts5_bm25(both: tuple[Store, PgStore]) -> None:
    sqlite, pg = both
    for store in both:
        store.write_batch(NEWS)
    for match in QUERIES:
        want, got = ranked(sqlite, match), ranked(pg, match)
        assert [t for t, _ in got] == [t for t, _ in want], match
        assert [s for _, s in got] == pytest.approx([s for _, s in want], rel=1e-6), match
    assert ranked(pg, '"nowhere"') == []

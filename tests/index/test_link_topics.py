"""Link topics (index.normalize.link_topics): the words of the story URLs an HTML body
links to stand in for a missing headline, embedded and keyword-indexed but never quoted."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from index import Index
from index.ingest import chunks_of
from index.migrations import MIGRATIONS, connect, migrate
from index.normalize import LINK_TOPICS_MAX_CHARS, link_topics, search_title
from index.rebuild import stored_as_articles

PORT = "https://news.example.com/2023/04/11/business/karachi-port-strike-ends/index.html"
CROPS = "https://news.example.com/2023/04/12/pakistan/wheat-harvest-record-sindh.html"


def test_the_slug_words_of_each_link_in_order() -> None:
    body = (f'Dock workers <a href="{PORT}">returned on Monday</a> after twelve days. '
            f"<a href='{CROPS}'>Farmers</a> expect a record.")
    assert link_topics(body) == "karachi port strike ends · wheat harvest record sindh"


@pytest.mark.parametrize("body", [
    "Plain text that mentions href and a URL https://x.example/a-b-c without a link tag.",
    '<a href="https://news.example.com/">home</a> <a href="/video">video</a>',
    '<a href="https://news.example.com/2023/04/11/index.html">dated only</a>',
    '<a href="https://news.example.com/2023/04/11/us/">a two-letter section</a>',
    '<a href="https://news.example.com/markets/karachi">one word says too little</a>',
    "",
    None,
])
def test_links_that_name_no_story_give_nothing(body: str | None) -> None:
    assert link_topics(body) == ""


def test_a_story_linked_twice_counts_once_and_the_total_is_capped_at_a_whole_topic() -> None:
    assert link_topics(f'<a href="{PORT}">a</a> <a href="{PORT}?utm=x">b</a>') == (
        "karachi port strike ends")
    many = " ".join(f'<a href="https://n.example/2023/story-number-{n}-about-karachi-trade">x</a>'
                    for n in range(40))
    topics = link_topics(many)
    assert 0 < len(topics) <= LINK_TOPICS_MAX_CHARS
    assert all(t.startswith("story number") and t.endswith("about karachi trade")
               for t in topics.split(" · "))


def test_a_real_headline_wins_over_link_topics() -> None:
    assert search_title("Port strike ends", "karachi port strike ends") == "Port strike ends"
    assert search_title("  ", "karachi port strike ends") == "karachi port strike ends"


@pytest.fixture
def linked(index: Index, tmp_path: Path) -> Index:
    records = [
        {"id": "port", "title": "", "published_at": "2023-04-11", "source": "Wire",
         "body": f'Dock workers <a href="{PORT}">returned on Monday</a> after twelve days.'},
        {"id": "crops", "title": "", "published_at": "2023-04-12", "source": "Wire",
         "body": "Farmers in the province expect a record harvest of wheat this season."},
    ]
    path = tmp_path / "linked.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n", encoding="utf-8")
    index.ingest([str(path)])
    return index


def _stored(index: Index, ext_id: str):
    return next(a for a in index.generation.store.latest(limit=-1) if a.ext_id == ext_id)


def test_ingest_keeps_the_topics_beside_the_plain_body(linked: Index) -> None:
    port = _stored(linked, "port")
    assert port.link_topics == "karachi port strike ends"
    assert port.body == "Dock workers returned on Monday after twelve days."
    assert _stored(linked, "crops").link_topics == ""


def test_the_topics_are_keyword_indexed_and_embedded_but_never_quoted(linked: Index) -> None:
    store = linked.generation.store
    rows = store.keyword_search('"strike"', 10)  # only in the link, not the visible text
    assert [store.articles([a])[a].ext_id for _, a, _ in rows] == ["port"]
    article = next(iter(stored_as_articles([_stored(linked, "port")])))
    assert article.link_topics == "karachi port strike ends"  # a re-embed keeps them
    chunk = chunks_of(article, linked.embedder, linked.settings)[0]
    assert chunk.embed_text.startswith("karachi port strike ends\n")
    assert chunk.text == "Dock workers returned on Monday after twelve days."
    answer = linked.answer("Did the Karachi port strike end?")
    assert answer.citations and answer.citations[0].article.ext_id == "port"
    for quote in answer.citations[0].quotes:
        assert quote.text in answer.citations[0].article.body and "strike" not in quote.text


def test_an_index_from_before_gains_the_column(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    conn = connect(path)
    migrate(conn, MIGRATIONS[:2])
    conn.execute("INSERT INTO articles (ext_id, body_hash, title, source, body, ingested_at) "
                 "VALUES ('a', 'h', 't', 's', 'b', 'now')")
    conn.commit()
    assert migrate(conn) == len(MIGRATIONS)
    assert conn.execute("SELECT link_topics FROM articles").fetchall() == [("",)]
    conn.close()

"""The answer store on disk: buttons and follow-up context outlive the process, then expire."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest

from bot.answers import AnswerStore, Place
from bot.chatdb import CHATS_NAME, ChatDB
from index.models import AlsoReported, Answer, Citation, Quote, StoredArticle, Turn

HOUR = 3600.0


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def _answer(question: str = "How bad is the water shortage?") -> Answer:
    body = "Tankers now cost Rs 5,000. The shortage is the worst in years."
    article = StoredArticle(7, "ext-7", "Water <crisis> & tankers", "2017-03-04", "Dawn",
                            "https://news.example.com/w?id=1&x=2", None, body, key="k7",
                            note=None, link_topics="water")
    quote = Quote(body[:26], 0, 26, best=True)
    earlier = Turn("Who runs the tankers?", "Who runs the tankers?", ("ext-1",),
                   dt.date(2017, 3, 5))
    return Answer(question, (Citation(article, (quote,), 0.71, (AlsoReported("Geo", "https://geo.test/1", "g-1"),)),), ("a note",),
                  True, 0.25, earlier)


def _store(path: Path, clock: Clock, keep: float = 48 * HOUR) -> AnswerStore:
    return AnswerStore(ChatDB.open(path), keep, clock=clock)


def test_an_answer_round_trips_through_a_reopened_file(tmp_path: Path) -> None:
    clock = Clock()
    store = _store(tmp_path, clock)
    answer = _answer()
    turn = Turn("How bad is the water shortage?", "How bad is the water shortage?",
                ("ext-7",), dt.date(2017, 3, 6))
    token = store.put(answer, Place(42, 7), turn)
    store.shown_in(token, 42, [100, 101])
    store.close()

    again = _store(tmp_path, clock)  # a restart: a new connection to the same file
    assert (tmp_path / CHATS_NAME).is_file()
    assert again.get(token) == answer  # every field, nested records included
    assert again.turn_shown_in(42, 101) == turn
    assert again.turn_shown_in(42, 102) is None  # not a message of ours
    assert again.turn_shown_in(43, 100) is None  # the same id in another chat
    assert again.latest_turn(Place(42, 7), within=600) == turn
    assert again.latest_turn(Place(42, 0), within=600) is None  # another forum topic
    assert len(again) == 1
    again.close()


def test_an_answer_kept_before_also_links_reads_back(tmp_path: Path) -> None:
    """Answers stored by the previous release list other outlets by name only."""
    from bot.answers import answer_from_dict, answer_to_dict

    data = answer_to_dict(_answer())
    data["citations"][0]["also"] = ["Geo"]
    again = answer_from_dict(data)
    assert again.citations[0].also == (AlsoReported("Geo"),)


def test_answers_expire_and_are_deleted(tmp_path: Path) -> None:
    clock = Clock()
    store = _store(tmp_path, clock, keep=2 * HOUR)
    old = store.put(_answer("first"), Place(1), Turn("first", "first"))
    store.shown_in(old, 1, [5])
    clock.now += 2 * HOUR - 1
    assert store.get(old) is not None and store.turn_shown_in(1, 5) is not None
    clock.now += 2
    assert store.get(old) is None  # a button now says it expired
    assert store.turn_shown_in(1, 5) is None
    new = store.put(_answer("second"), Place(1))  # storing deletes what expired
    assert store.get(new) is not None and store.get(new).question == "second"
    rows = sqlite3.connect(tmp_path / CHATS_NAME).execute(
        "SELECT count(*) FROM answers").fetchone()[0]
    assert rows == 1
    links = sqlite3.connect(tmp_path / CHATS_NAME).execute(
        "SELECT count(*) FROM answer_messages").fetchone()[0]
    assert links == 0  # the old answer's messages went with it


def test_latest_turn_is_the_last_answer_within_the_window(tmp_path: Path) -> None:
    clock = Clock()
    store = _store(tmp_path, clock)
    store.put(_answer("a"), Place(9), Turn("a", "a"))
    clock.now += 60
    store.put(_answer("b"), Place(9), Turn("a", "b"))
    assert store.latest_turn(Place(9), within=600) == Turn("a", "b")
    clock.now += 601
    assert store.latest_turn(Place(9), within=600) is None  # too long ago for a follow-up
    store.put(_answer("nothing found"), Place(9), None)  # an unanswered question
    assert store.latest_turn(Place(9), within=600) is None  # breaks the thread


def test_tokens_are_short_and_distinct(tmp_path: Path) -> None:
    store = _store(tmp_path, Clock())
    tokens = {store.put(_answer()) for _ in range(50)}
    assert len(tokens) == 50 and all(len(t) == 8 for t in tokens)
    assert store.get("AAAAAAAA") is None


def test_keep_must_be_positive(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        _store(tmp_path, Clock(), keep=0)

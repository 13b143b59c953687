"""Greetings, thanks and questions to the bot get one line on what it does, never news."""

from __future__ import annotations

import pytest

from index import Index
from index.smalltalk import ABOUT, is_small_talk


@pytest.mark.parametrize("message", [
    "hi", "Hello there!", "hey 👋", "good morning", "Assalam o alaikum", "salam",
    "thanks!", "Thank you so much", "ok", "what time is it?", "What can you do?",
    "what day is it today", "what's the date today?",
    "are you a bot?", "how are you", "help", "?", "🙂🙂", "   ",
])
def test_small_talk_is_recognised(message: str) -> None:
    assert is_small_talk(message)


@pytest.mark.parametrize("message", [
    "Hi, what did the State Bank decide about the policy rate?",
    "Who led the Alibaba delegation that met Ishaq Dar?",
    "thanks to what did exports rise?",
    "what time is the budget speech",
    "Gwadar port",
])
def test_questions_are_not_small_talk(message: str) -> None:
    assert not is_small_talk(message)


def test_greeting_gets_the_about_line_and_no_news(index: Index, corpus_dir) -> None:
    index.ingest([str(corpus_dir)])
    for message in ("hello", "thanks!", "What time is it?"):
        answer = index.answer(message)
        assert not answer.found and answer.citations == ()
        assert answer.notes == (ABOUT,)

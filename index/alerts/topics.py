"""Subscription topics: free text matched by meaning, with optional required phrases.

A topic such as ``"State Bank" interest rate`` means: an article must contain the exact
phrase "State Bank" (case and spacing ignored) *and* be about "State Bank interest rate" by
meaning. A word after a minus (``oil prices -cricket``, or ``-"premier league"``) excludes:
an article containing it never matches, and it is not part of the meaning. Meaning is the cosine between the topic's embedding and the article's chunk
vectors, taking the best chunk, so a long article that covers the topic in one paragraph
still matches. The threshold is calibrated on real articles (docs/alerts.md).
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from index.embed import Embedder

MAX_TOPIC_CHARS = 200
_PHRASE = re.compile(r"[\"“”„«»]([^\"“”„«»]+)[\"“”„«»]")
_QUOTES = re.compile(r"[\"“”„«»]")
# "-cricket" or -"premier league" at the start of a word: articles containing it never match.
_EXCLUDED = re.compile(
    r"(?<!\S)-(?:[\"“”„«»]([^\"“”„«»]+)[\"“”„«»][.,;:!?]*|([^\s\"“”„«»-]\S*))")


class TopicError(ValueError):
    """The topic text is empty, too long or only punctuation; the message says which."""


@dataclass(frozen=True, slots=True)
class Topic:
    """A parsed topic: ``text`` as the user wrote it (whitespace collapsed), the quoted
    ``phrases`` an article must contain, and the ``meaning`` text that is embedded."""

    text: str
    phrases: tuple[str, ...]
    meaning: str
    excluded: tuple[str, ...] = ()  # words or phrases an article must not contain

    def accepts_text(self, text: str) -> bool:
        """True when every required phrase occurs in ``text`` and no excluded one does."""
        return (all(contains_phrase(text, phrase) for phrase in self.phrases)
                and not any(contains_phrase(text, word) for word in self.excluded))


def parse_topic(text: str) -> Topic:
    """``'"State Bank" interest rate'`` → phrases ("State Bank",), meaning "State Bank
    interest rate". Raises ``TopicError`` for a topic nobody could match."""
    cleaned = " ".join(text.split())
    if not cleaned:
        raise TopicError("the topic is empty")
    if len(cleaned) > MAX_TOPIC_CHARS:
        raise TopicError(f"the topic is longer than {MAX_TOPIC_CHARS} characters")
    excluded = tuple(dict.fromkeys(
        word for word in (" ".join((quoted or bare).strip(".,;:!?").split())
                          for quoted, bare in _EXCLUDED.findall(cleaned)) if word))
    wanted = _EXCLUDED.sub(" ", cleaned)
    phrases = tuple(
        dict.fromkeys(" ".join(p.split()) for p in _PHRASE.findall(wanted) if p.strip())
    )
    meaning = " ".join(_QUOTES.sub(" ", wanted).split())
    if not any(ch.isalnum() for ch in meaning):
        raise TopicError("the topic has no words" + (" besides the excluded ones"
                                                      if excluded else ""))
    return Topic(cleaned, phrases, meaning, excluded)


def contains_phrase(text: str, phrase: str) -> bool:
    """Whole-word, case-insensitive phrase match that ignores how whitespace is laid out."""
    words = phrase.casefold().split()
    if not words:
        return True
    pattern = r"(?<!\w)" + r"\s+".join(re.escape(w) for w in words) + r"(?!\w)"
    return re.search(pattern, text.casefold()) is not None


class TopicScorer:
    """Embeds topics once (a small LRU cache) and scores articles against them."""

    def __init__(self, embedder: Embedder, cache_size: int = 1024) -> None:
        self._embedder = embedder
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()

    def vector(self, topic: Topic) -> np.ndarray:
        with self._lock:
            cached = self._cache.get(topic.meaning)
            if cached is not None:
                self._cache.move_to_end(topic.meaning)
                return cached
        vector = self._embedder.encode_query(topic.meaning)
        with self._lock:
            self._cache[topic.meaning] = vector
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return vector

    def score(self, topic: Topic, chunk_vectors: np.ndarray) -> tuple[float, int]:
        """(best cosine over the chunks, index of that chunk); (-1, -1) without chunks."""
        if len(chunk_vectors) == 0:
            return -1.0, -1
        sims = chunk_vectors @ self.vector(topic)
        best = int(np.argmax(sims))
        return float(sims[best]), best

"""Which sentences of a cited article to quote: the ones that answer the question.

A question names its story with some words ("the Nasdaq opening bell ceremony with Maleeha
Lodhi") and asks about a detail with others ("which consul general attended"). The story's
words recur all over the article; the detail's words occur in one or two sentences. So each
question word is weighted by how rare it is in the index (IDF over chunks, the counts the
keyword search already took) *and* by how rare it is among the article's candidate
sentences, and a sentence scores the weighted share of the question it covers. The kind of
answer asked for adds to it: a figure for "how much", a date for "when", a name for "who".
The best sentence is quoted in bold, with the runner-up when it scores close.

Sentence embeddings were measured as another signal; what they add and cost is in
docs/quality.md, "Quotes".
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from index.keywords import TermCounts
from index.text import content_terms, stem, words

COVERAGE_WEIGHT = 2.0  # the weighted share of the question a sentence holds, 0..1
FOCUS_BONUS = 0.3  # share of the words right after "which"/"what"/"how many" it holds
FIGURE_BONUS = 0.5  # "how much/many/big", "what rate": an amount the question does not hold
DATE_BONUS = 0.3  # "when", "what year", "how long": a date or a span of time
NAME_BONUS = 0.3  # "who", "which company/minister": a name the question does not hold
SIZE_BONUS = 0.3  # "how big is …": a sentence stating a total, size or worth
RUNNER_UP_MARGIN = 0.5  # the second-best sentence is quoted too when this close to the best

_FOCUS = re.compile(
    r"\b(?:which|what|how\s+(?:many|much))\s+(?:of\s+the\s+)?((?:[\w'-]+\s+){0,2}[\w'-]+)", re.I)
_WANTS_FIGURE = re.compile(
    r"\bhow\s+(?:many|much|big|large|long|far|old|high|low|fast)\b|\bby how\b|"
    r"\bwhat\s+(?:percentage|share|rate|amount|number|price|figure|size|level|total|value|"
    r"growth rate|cost)\b|\bwhere did\b.*\b(?:close|end|settle)\b", re.I)
_WANTS_DATE = re.compile(r"^\s*when\b|\bwhat\s+(?:year|date|day|month)\b|\bhow\s+long\b", re.I)
_WANTS_NAME = re.compile(
    r"\bwho(?:m|se)?\b|\bwhich\s+(?:company|firm|country|city|airline|bank|analyst|minister|"
    r"official|person|group|team|party|leader|agency|body|organisation|"
    r"organization)\b", re.I)
_AMOUNT = re.compile(
    r"(?:Rs\.?|PKR|US\$|\$|€|£)\s?\d|\d[\d,.]*\s?(?:%|percent|per\s?cent|million|billion|"
    r"trillion|crore|lakh|mn|bn|tons?|tonnes?|barrels?|kilomet(?:er|re)s?|km|megawatts?|MW|"
    r"points?|dollars?|rupees?|euros?)\b", re.I)
_NUMBER = re.compile(r"\b\d[\d,.]*\b")
_PERIOD = re.compile(r"\b(?:19|20)\d\d(?:\s?[-–/]\s?(?:19|20)?\d\d)?\b")
_WANTS_SIZE = re.compile(r"\bhow\s+(?:big|large|much)\s+(?:is|was|are|were|will)\b", re.I)
_SIZE = re.compile(r"\b(?:total|outlay|size|worth|valued?|amount(?:s|ing|ed)?|sum|volume)\b",
                   re.I)
_DATE = re.compile(
    r"\b(?:19|20)\d\d\b|\b(?:January|February|March|April|May|June|July|August|September|"
    r"October|November|December)\b|\b\d+\s+(?:years?|months?|days?|weeks?|hours?)\b")
_NAME = re.compile(r"\b[A-Z][a-z]+(?:\s+[A-Z]\.?)?\s+[A-Z][a-z]+\b")


@dataclass(slots=True, frozen=True)
class QuestionTerms:
    """What of a question sentence scoring needs: content words with their index IDF, all
    its words, the focus words, and the kind of answer it asks for."""

    question: str
    idf: dict[str, float]  # stem → IDF over the index's chunks
    said: frozenset[str]  # every word of the question, lower case
    focus: frozenset[str]  # stems of the words after "which"/"what"/"how many"
    wants_figure: bool
    wants_date: bool
    wants_name: bool
    wants_size: bool

    @classmethod
    def of(cls, question: str, counts: TermCounts, chunks: int) -> QuestionTerms:
        terms = content_terms(question)
        try:
            df = counts.get(terms) if terms else {}
        except Exception:  # counts only weigh words: without them every word weighs 1
            df = {}
        idf: dict[str, float] = {}
        for term in terms:
            weight = math.log((chunks + 1) / (df[term] + 1)) if term in df else 1.0
            idf[stem(term)] = max(idf.get(stem(term), 0.0), weight, 0.0)
        match = _FOCUS.search(question)
        focus = ({stem(w) for w in words(match.group(1))} - {"much", "many", "of", "the"}
                 if match else set())
        return cls(question, idf, frozenset(words(question)), frozenset(focus),
                   bool(_WANTS_FIGURE.search(question)), bool(_WANTS_DATE.search(question)),
                   bool(_WANTS_NAME.search(question)), bool(_WANTS_SIZE.search(question)))


def rank_sentences(q: QuestionTerms, sentences: list[str]) -> list[float]:
    """A score for each of one article's candidate sentences (higher answers better)."""
    stems = [{stem(w) for w in words(s)} for s in sentences]
    count = len(sentences)
    weight: dict[str, float] = {}
    for term, idf in q.idf.items():
        holding = sum(term in s for s in stems)
        weight[term] = idf * max(0.0, math.log((count + 1) / (holding + 0.5)))
    total = sum(weight.values())
    scores = []
    for text, have in zip(sentences, stems, strict=True):
        covered = sum(w for t, w in weight.items() if t in have) / total if total else 0.0
        score = COVERAGE_WEIGHT * covered
        if q.focus:
            score += FOCUS_BONUS * len(q.focus & have) / len(q.focus)
        if q.wants_figure:
            score += FIGURE_BONUS * _figure(text, q.said)
        if q.wants_date and any(m.group(0).lower() not in q.question.lower()
                                for m in _DATE.finditer(text)):
            score += DATE_BONUS
        if q.wants_name and any(all(p.lower() not in q.said for p in m.group(0).split())
                                for m in _NAME.finditer(text)):
            score += NAME_BONUS
        if q.wants_size and _SIZE.search(text):
            score += SIZE_BONUS
        scores.append(score)
    return scores


def choose(scores: list[float], spans: list[tuple[int, int]]) -> tuple[int, ...]:
    """Indexes of the sentences to quote, best first: the best, and the next one that does
    not overlap it when it scores within ``RUNNER_UP_MARGIN`` of it."""
    if not scores:
        return ()
    order = sorted(range(len(scores)), key=lambda i: (-scores[i], spans[i][0]))
    best = order[0]
    for i in order[1:]:
        if scores[i] < scores[best] - RUNNER_UP_MARGIN:
            break
        if spans[i][0] < spans[best][1] and spans[best][0] < spans[i][1]:
            continue
        return best, i
    return (best,)


def _figure(text: str, said: frozenset[str]) -> float:
    """1 for an amount the question does not hold ("Rs 4.313 trillion", "8.5 percent"),
    0.5 for another number, 0 when the only numbers are years ("2015-16") or asked ones."""
    rest = _PERIOD.sub(" ", text)
    if not any(n not in said for n in _NUMBER.findall(rest)):
        return 0.0
    return 1.0 if _AMOUNT.search(rest) else 0.5

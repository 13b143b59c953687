"""Follow-up questions: "when was that?", "what about India?", "and last year?".

A question asked right after an answer (or in reply to it) may lean on the earlier
question for its subject. Whether it does is decided by a simple, measured rule
(docs/quality.md, "Follow-up questions"):

- it *refers back*: a pronoun or a word that points at something said before ("that",
  "they", "there", "the …", "else", "what about …", "and …"), and it names little of its
  own (at most ``follow_up_max_terms`` content words); or
- it is *about the same thing*: its embedding is at least ``follow_up_similarity`` from
  the earlier question's.

A follow-up is searched with the earlier questions' words in front of its own (the
opener that set the subject, and the latest follow-up of it), so retrieval finds the
subject's stories and the new words steer among them; when the follow-up names dates of
its own, the earlier questions' dates are left out. Anything else is answered on its own:
nothing of an old topic leaks into a new one.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from index.models import Answer, Turn
from index.querydates import without_date_phrases
from index.text import content_terms

# Words and openings that point back at something said before: pronouns, "the …"/"other"
# (a thing already named: "the screen", "the other stars"), "what about …", a leading
# "and". Date phrases are taken out first ("this week" points at no earlier question);
# inside a long question these words are ordinary, which the content-word limit settles.
_REFERS_BACK = re.compile(
    r"^\s*(?:and|but|also|so|or|plus|then)\b|"
    r"\b(?:what|how)\s+about\b|\bwhat\s+of\b|\b(?:else|the|other|another|same)\b|"
    r"\b(?:it|its|they|them|their|theirs|he|him|his|she|her|hers|there|then|that|this|"
    r"those|these|such)\b|\bso\W*$",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class FollowUpRule:
    """The two thresholds of the rule above (``IndexSettings.follow_up_*``)."""

    max_terms: int
    similarity: float


def refers_back(question: str) -> bool:
    """True when ``question`` has a word or opening that points at something said before."""
    return bool(_REFERS_BACK.search(without_date_phrases(question)))


def is_follow_up(question: str, similarity: float, rule: FollowUpRule) -> bool:
    """Whether ``question`` leans on the earlier turn; ``similarity`` is the cosine of its
    embedding with the earlier question's (``context_text``)."""
    if refers_back(question) and len(content_terms(question)) <= rule.max_terms:
        return True
    return similarity >= rule.similarity


def context_text(turn: Turn) -> str:
    """The earlier questions a follow-up is read with: the opener and the latest follow-up."""
    earlier = [turn.opener] if turn.question == turn.opener else [turn.opener, turn.question]
    return " ".join(" ".join(q.split()) for q in earlier)


def search_text(question: str, turn: Turn) -> str:
    """What a follow-up is searched with: the earlier questions, then its own words. When
    it names dates of its own ("and last year?"), the earlier questions' dates go."""
    earlier = context_text(turn)
    if has_date_phrase(question):
        earlier = without_date_phrases(earlier)
    return f"{earlier} {' '.join(question.split())}".strip()


def has_date_phrase(text: str) -> bool:
    return without_date_phrases(text) != " ".join(text.split())


def next_turn(answer: Answer, asked_at: dt.date | None) -> Turn:
    """The turn ``answer`` leaves for the next question: a follow-up keeps its opener."""
    stories = tuple(c.article.ext_id for c in answer.citations)
    opener = answer.context.opener if answer.context is not None else answer.question
    return Turn(opener, answer.question, stories, asked_at)

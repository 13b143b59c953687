"""Follow-up questions: "when was that?", "what about India?", "and last year?".

A question asked right after an answer (or in reply to it) may lean on the earlier
question for its subject. Whether it does is decided by a simple, measured rule
(docs/quality.md, "Follow-up questions"):

- it *refers back*: a pronoun or a word that points at something said before ("that",
  "they", "there", "the …", "else"), names little of its own (at most
  ``follow_up_max_terms`` content words) and no name the earlier questions did not
  ("… in Alpenrose?" is a new subject); or it opens with "and …", "what about …" and is as
  short; or
- (when ``follow_up_similarity`` is set) it is *about the same thing*: the cosine of its
  embedding with the earlier question's reaches that. Off by default: on the dev set it
  caught no follow-up the first rule missed, and read consecutive questions about other
  stories of one theme as follow-ups.

A follow-up is searched with the earlier questions' words in front of its own (the
opener that set the subject, and the latest follow-up of it), so retrieval finds the
subject's stories and the new words steer among them; when the follow-up names dates of
its own, the earlier questions' dates are left out. One that asks for another story of the
kind ("and in France?", ``asks_for_another``) is not about the story just cited first, which
then goes after the others. Anything else is answered on its own: nothing of an old topic
leaks into a new one.
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
    """The two thresholds of the rule above (``IndexSettings.follow_up_*``); ``similarity``
    None leaves the second part out."""

    max_terms: int
    similarity: float | None = None


def refers_back(question: str) -> bool:
    """True when ``question`` has a word or opening that points at something said before."""
    return bool(_REFERS_BACK.search(without_date_phrases(question)))


def is_follow_up(question: str, earlier: str, similarity: float | None,
                 rule: FollowUpRule) -> bool:
    """Whether ``question`` leans on the earlier questions ``earlier`` (``context_text``);
    ``similarity`` is the cosine of their embeddings, None when not measured."""
    if _ANOTHER.search(question) and len(content_terms(question)) <= rule.max_terms:
        return True  # "and in France?", "what about the oldest man?"
    if refers_back(question) and len(content_terms(question)) <= rule.max_terms and \
            not new_names(question, earlier):
        return True  # "who did he replace?", "how big is the screen?"
    return similarity is not None and rule.similarity is not None and \
        similarity >= rule.similarity


_WORD = re.compile(r"[^\W\d_][\w'’.-]*")


def new_names(question: str, earlier: str) -> list[str]:
    """Capitalised words of ``question`` (past its first word) that ``earlier`` does not
    contain: "Why were the schools in Alpenrose closed?" names its own subject, so it is a
    question of its own however short."""
    known = {w.lower() for w in _WORD.findall(earlier)}
    words = _WORD.findall(question)[1:]
    return [w for w in words if w[0].isupper() and w != "I" and w.lower() not in known]


_ANOTHER = re.compile(r"^\s*(?:and|or)\b|\b(?:what|how)\s+about\b|\bwhat\s+of\b",
                      re.IGNORECASE)


def asks_for_another(question: str) -> bool:
    """True when a follow-up asks for another story of the same kind rather than more of
    the one just shown: "and in France?", "what about last year?", "who won in 2021?"
    (an opening "and"/"what about", or dates of its own)."""
    return bool(_ANOTHER.search(question)) or has_date_phrase(question)


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

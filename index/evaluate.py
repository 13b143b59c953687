"""Answer quality as numbers: Hits@k, MRR@10, found, quote@1 and off-topic refusals.

Questions go through ``Index.answer`` — the same path as the bot — and a question is a hit
at k when a gold article is among the first k citations: the cited article itself, or
another outlet's article on the same story that the citation lists and links ("also").
A quote counts when the first citation is gold and its quoted sentences contain one of the
question's answer strings (case, punctuation and spacing ignored), over the questions whose
answer occurs in a gold passage at all. The bare cost of the model (query embedding + FAISS
search) is timed in the same run so latency can be compared with what the hardware allows.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import statistics
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from index.api import Index
from index.followup import next_turn
from index.models import Answer, StoredArticle, Turn

SHOWN = 3  # citations a chat reply shows at once: Hits@3 and the padding figure count these
EVAL_CITATIONS = 10  # citations asked for per question: ranks past this count as not found

# The evaluation data's definition of a question tied to the day it was asked
# (../shared/data/README.md, "Asked later"): asked later, "this week" means another week, so
# shifted runs use only the questions without these words. This is the benchmark's rule,
# not the search's (``index.querydates`` reads time cues to answer them).
_TIME_WORDS = re.compile(
    r"\b(?:(?:this|last|past|next)\s+(?:week|weekend|month|year|monday|tuesday|wednesday|"
    r"thursday|friday|saturday|sunday)|recent|recently|latest|newly|just|today|yesterday|"
    r"tonight|currently|now|upcoming|ongoing|new|news)\b",
    re.IGNORECASE,
)
_NOT_WORD = re.compile(r"[\W_]+", re.UNICODE)


@dataclass(slots=True, frozen=True)
class Question:
    id: str
    question: str
    asked_at: dt.date | None
    gold_ids: tuple[str, ...]
    answers: tuple[str, ...] = ()
    split: str | None = None
    follow_up_of: str | None = None  # id of the question this one follows up on


@dataclass(slots=True, frozen=True)
class Outcome:
    """What one question got: rank of the first gold citation (1-based, None if absent),
    whether the answer counted as found, citations shown, and whether the first citation's
    quotes hold the answer (None when the answer is in no gold passage: not scored)."""

    id: str
    rank: int | None
    found: bool
    shown: int
    quote_ok: bool | None

    def as_dict(self) -> dict[str, object]:
        return {"id": self.id, "rank": self.rank, "found": self.found, "shown": self.shown,
                "quote_ok": self.quote_ok}


@dataclass(slots=True)
class FollowUpResult:
    """Follow-up questions (``follow_up_of`` set): ranks of the gold story when asked after
    their earlier question (``ranks``) and when asked on their own (``alone_ranks``), and
    how many the rule read as follow-ups."""

    ranks: list[int | None] = field(default_factory=list)
    alone_ranks: list[int | None] = field(default_factory=list)
    read_as_follow_up: int = 0

    def as_dict(self) -> dict[str, float | int]:
        n = len(self.ranks)
        return {
            "followups": n,
            "followup_hits@1": round(_hits(self.ranks, 1, n), 4),
            "followup_hits@3": round(_hits(self.ranks, 3, n), 4),
            "followup_alone_hits@1": round(_hits(self.alone_ranks, 1, n), 4),
            "followup_alone_hits@3": round(_hits(self.alone_ranks, 3, n), 4),
            "followup_read_as_followup": round(self.read_as_follow_up / max(1, n), 4),
        }


def _hits(ranks: Sequence[int | None], k: int, n: int) -> float:
    return sum(1 for r in ranks if r is not None and r <= k) / max(1, n)


@dataclass(slots=True)
class EvalResult:
    """Scores of the stand-alone questions (``ranks``, ``outcomes``), and of the follow-ups
    apart (``follow_ups``). ``read_in_context``: stand-alone questions the follow-up rule
    read as follow-ups of the one before (``conversation`` runs)."""

    questions: int = 0
    ranks: list[int | None] = field(default_factory=list)
    outcomes: list[Outcome] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)
    bare_ms: list[float] = field(default_factory=list)
    follow_ups: FollowUpResult = field(default_factory=FollowUpResult)
    read_in_context: int = 0

    def hits_at(self, k: int) -> float:
        return sum(1 for r in self.ranks if r is not None and r <= k) / max(1, self.questions)

    def mrr_at(self, k: int = 10) -> float:
        return sum(1.0 / r for r in self.ranks if r is not None and r <= k) / max(
            1, self.questions)

    def found(self) -> float:
        return sum(o.found for o in self.outcomes) / max(1, len(self.outcomes))

    def quote_at_1(self) -> float:
        scored = [o for o in self.outcomes if o.quote_ok is not None]
        return sum(1 for o in scored if o.rank == 1 and o.quote_ok) / max(1, len(scored))

    def quote_given_hit_at_1(self) -> float:
        firsts = [o for o in self.outcomes if o.quote_ok is not None and o.rank == 1]
        return sum(1 for o in firsts if o.quote_ok) / max(1, len(firsts))

    def shown_mean(self) -> float:
        """Citations shown per found answer (of the first ``SHOWN``): padding shows here."""
        found = [o.shown for o in self.outcomes if o.found]
        return sum(found) / max(1, len(found))

    def as_dict(self) -> dict[str, float | int]:
        return {
            "hits@1": round(self.hits_at(1), 4),
            "hits@3": round(self.hits_at(3), 4),
            "hits@10": round(self.hits_at(10), 4),
            "mrr@10": round(self.mrr_at(10), 4),
            "found": round(self.found(), 4),
            "quote@1": round(self.quote_at_1(), 4),
            "quote_given_hit@1": round(self.quote_given_hit_at_1(), 4),
            "quotes_scored": sum(1 for o in self.outcomes if o.quote_ok is not None),
            "shown_per_answer": round(self.shown_mean(), 3),
            "p50_ms": round(_percentile(self.latencies_ms, 50), 2),
            "p95_ms": round(_percentile(self.latencies_ms, 95), 2),
            "bare_p50_ms": round(_percentile(self.bare_ms, 50), 2),
            "questions": self.questions,
            "read_in_context": self.read_in_context,
            **(self.follow_ups.as_dict() if self.follow_ups.ranks else {}),
        }


def _percentile(values: list[float], pct: float) -> float:
    if not values:
        return 0.0
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(pct) - 1]


def read_questions(path: Path) -> Iterator[Question]:
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
                asked = rec.get("asked_at")
                yield Question(
                    str(rec.get("id", lineno)),
                    str(rec["question"]),
                    dt.date.fromisoformat(asked[:10]) if asked else None,
                    tuple(str(g) for g in rec.get("gold_ids") or ()),
                    tuple(str(a) for a in rec.get("answer") or ()),
                    str(rec["split"]) if rec.get("split") else None,
                    str(rec["follow_up_of"]) if rec.get("follow_up_of") else None,
                )
            except (ValueError, KeyError, TypeError) as exc:
                raise ValueError(f"{path}:{lineno}: bad question record ({exc})") from None


def check_follow_ups(questions: Sequence[Question]) -> None:
    """Every ``follow_up_of`` names a question of the set (raises ``ValueError``): checked
    before the costly ingest, not halfway through the questions."""
    ids = {q.id for q in questions}
    for q in questions:
        if q.follow_up_of is not None and q.follow_up_of not in ids:
            raise ValueError(f"question {q.id} follows up on {q.follow_up_of}, "
                             "which is not in the set")


def has_time_words(question: str) -> bool:
    """True when the question is tied to the day it was asked (the benchmark's word list)."""
    return bool(_TIME_WORDS.search(question))


def select(questions: Sequence[Question], *, timeless: bool = False, split: str | None = None,
           years: tuple[int, int] | None = None) -> list[Question]:
    """The questions a run measures: without time words, of one ``split`` (the record's own
    ``split`` field), asked within ``years`` (inclusive)."""
    out = []
    for q in questions:
        if timeless and has_time_words(q.question):
            continue
        if split is not None and q.split != split:
            continue
        if years is not None and (q.asked_at is None or not
                                  years[0] <= q.asked_at.year <= years[1]):
            continue
        out.append(q)
    return out


def loose(text: str) -> str:
    """Text as answers are matched: lower case, punctuation and spacing ignored."""
    return " ".join(_NOT_WORD.sub(" ", text.lower()).split())


def contains_answer(text: str, answers: Sequence[str]) -> bool:
    """True when ``text`` holds one of ``answers`` as whole words (loosely compared)."""
    hay = f" {loose(text)} "
    return any(f" {a} " in hay for a in (loose(x) for x in answers) if a)


def evaluate(
    index: Index,
    questions: list[Question],
    *,
    as_of: bool = False,
    shift_days: int = 0,
    on_question: Callable[[], None] | None = None,
    conversation: bool = False,
    pool: Sequence[Question] = (),
) -> EvalResult:
    """Ask every question; ``as_of`` asks it on its ``asked_at`` (later articles do not
    exist), ``shift_days`` that many days later with the same semantics.

    A question with ``follow_up_of`` is asked after the question it follows (its answer is
    the context, ``Index.answer(context=…)``) and again on its own; it is scored apart
    (``EvalResult.follow_ups``). With ``conversation``, every other question is asked as the
    next message of one chat, with the previous question's answer as its context: the rule
    must answer them on their own, as without it. ``pool`` holds questions a follow-up may
    refer to beyond ``questions`` (a selection may leave its earlier question out)."""
    result = EvalResult()
    index.embedder.load()
    gen = index.generation
    gold = gen.store.articles_by_ext_id(sorted({g for q in questions for g in q.gold_ids}))
    by_id = {q.id: q for q in [*pool, *questions]}
    turns: dict[str, Turn | None] = {}  # what each answered question leaves as context
    dated = as_of or shift_days != 0
    previous: Turn | None = None

    def asked_on(q: Question) -> dt.date | None:
        return q.asked_at + dt.timedelta(days=shift_days) if (dated and q.asked_at) else None

    def ask(q: Question, context: Turn | None) -> Answer:
        answer = index.answer(q.question, asked_at=asked_on(q), limit=EVAL_CITATIONS,
                              context=context)
        found = answer.found and bool(answer.citations)
        turns[q.id] = next_turn(answer, asked_on(q)) if found else None
        return answer

    for q in questions:
        if q.follow_up_of is not None:
            earlier = by_id.get(q.follow_up_of)
            if earlier is None:
                raise ValueError(f"question {q.id} follows up on {q.follow_up_of}, "
                                 "which is not in the set")
            if earlier.id not in turns:
                ask(earlier, None)
            in_context = ask(q, turns[earlier.id])
            alone = index.answer(q.question, asked_at=asked_on(q), limit=EVAL_CITATIONS)
            result.follow_ups.ranks.append(score(q, in_context, gold).rank)
            result.follow_ups.alone_ranks.append(score(q, alone, gold).rank)
            result.follow_ups.read_as_follow_up += in_context.context is not None
            if on_question is not None:
                on_question()
            continue
        started = time.perf_counter()
        answer = ask(q, previous if conversation else None)
        result.latencies_ms.append((time.perf_counter() - started) * 1000)
        result.read_in_context += answer.context is not None
        previous = turns[q.id]
        started = time.perf_counter()
        vec = index.embedder.encode_query(q.question)
        gen.search(vec, index.settings.search_candidates)
        result.bare_ms.append((time.perf_counter() - started) * 1000)
        outcome = score(q, answer, gold)
        result.outcomes.append(outcome)
        result.ranks.append(outcome.rank)
        result.questions += 1
        if on_question is not None:
            on_question()
    return result


def score(q: Question, answer: Answer, gold: dict[str, StoredArticle]) -> Outcome:
    """One question's outcome from its answer (``gold`` holds the stored gold passages)."""
    rank = next((i for i, c in enumerate(answer.citations, start=1)
                 if any(ext in q.gold_ids for ext in c.ext_ids)), None)
    answerable = bool(q.answers) and any(
        g in gold and contains_answer(gold[g].body, q.answers) for g in q.gold_ids)
    quote_ok: bool | None = None
    if answerable:
        first = answer.citations[0] if answer.citations else None
        quote_ok = bool(first is not None and rank == 1 and contains_answer(
            " ".join(quote.text for quote in first.quotes), q.answers))
    return Outcome(q.id, rank, answer.found and bool(answer.citations),
                   min(SHOWN, len(answer.citations)), quote_ok)


@dataclass(slots=True)
class OffTopicResult:
    """Questions the news cannot answer: the share the bot refused (cited nothing)."""

    questions: int = 0
    refused: int = 0
    answered_ids: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, float | int]:
        return {"offtopic_refused": round(self.refused / max(1, self.questions), 4),
                "offtopic_questions": self.questions}


def evaluate_offtopic(index: Index, questions: list[Question]) -> OffTopicResult:
    """Ask each off-topic question (with its ``asked_at`` when it has one) and count the
    answers that cite nothing."""
    result = OffTopicResult()
    for q in questions:
        answer = index.answer(q.question, asked_at=q.asked_at, limit=EVAL_CITATIONS)
        result.questions += 1
        if answer.found and answer.citations:
            result.answered_ids.append(q.id)
        else:
            result.refused += 1
    return result

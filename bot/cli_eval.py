"""``newsbot eval``: measure answer quality on a corpus and questions with gold articles."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import tempfile
from pathlib import Path
from typing import Any


def register(add: Any) -> None:
    p = add("eval", cmd_eval, "measure Hits@k, MRR@10 and latency on a question set",
            data_dir_help="reuse (or build) the index here (default: a temporary index)")
    p.add_argument("corpus", help="corpus JSONL (id, title, published_at, source, url, body)")
    p.add_argument("questions", help="questions JSONL (id, question, asked_at, gold_ids; "
                                     "follow_up_of: the id of the question it follows up on)")
    p.add_argument("--extra", action="append", default=[], metavar="CORPUS",
                   help="more articles to ingest as distractors (repeatable)")
    p.add_argument("--as-of", action="store_true",
                   help="each question's asked_at is its today (later articles do not exist)")
    p.add_argument("--shift", type=int, default=0, metavar="DAYS",
                   help="ask each question DAYS after its asked_at (as --as-of, then)")
    p.add_argument("--timeless", action="store_true",
                   help="only questions without relative time words (this week, latest, …)")
    p.add_argument("--split", help="only questions whose 'split' field is this (tune, check)")
    p.add_argument("--years", metavar="FROM-TO",
                   help="only questions asked in these years, e.g. 2020-2021 or 2022")
    p.add_argument("--offtopic", metavar="FILE",
                   help="questions the news cannot answer: report the share refused")
    p.add_argument("--conversation", action="store_true",
                   help="ask each question as the next message of one chat (the one before "
                        "is offered as follow-up context): stand-alone ones must not change")
    p.add_argument("--details", metavar="FILE", help="write one JSON line per question")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--limit", type=int, default=0, help="only the first N questions")


def cmd_eval(args: argparse.Namespace) -> int:
    from bot.cli_common import load_settings, open_index, show_progress
    from index.evaluate import (
        check_follow_ups,
        evaluate,
        evaluate_offtopic,
        read_questions,
        select,
    )

    every = list(read_questions(Path(args.questions)))
    check_follow_ups(every)
    questions = select(every, timeless=args.timeless, split=args.split,
                       years=_years(args.years))
    offtopic = list(read_questions(Path(args.offtopic))) if args.offtopic else []
    if args.split and offtopic:
        offtopic = select(offtopic, split=args.split)
    if args.limit:
        questions = questions[: args.limit]
    with contextlib.ExitStack() as stack:
        if not args.data_dir:
            args.data_dir = stack.enter_context(
                tempfile.TemporaryDirectory(prefix="newsbot-eval-"))
        index = stack.enter_context(open_index(load_settings(args)))
        show = show_progress()
        report = index.ingest([args.corpus, *args.extra], progress=show)
        if report.failed:
            print(f"warning: {report.failed} corpus records failed to load", file=sys.stderr)
        from tqdm import tqdm

        with tqdm(total=len(questions), desc="questions", disable=not show, leave=False) as bar:
            result = evaluate(index, questions, as_of=args.as_of, shift_days=args.shift,
                              on_question=bar.update, conversation=args.conversation,
                              pool=every)
        refusals = evaluate_offtopic(index, offtopic) if offtopic else None
    out: dict[str, Any] = result.as_dict()
    if refusals is not None:
        out.update(refusals.as_dict())
    if args.details:
        with open(args.details, "w", encoding="utf-8") as fh:
            for outcome in result.outcomes:
                fh.write(json.dumps(outcome.as_dict()) + "\n")
            for qid in refusals.answered_ids if refusals else ():
                fh.write(json.dumps({"id": qid, "offtopic_answered": True}) + "\n")
    if args.json:
        print(json.dumps(out))
        return 0
    print(f"questions {out['questions']}  Hits@1 {out['hits@1']:.3f}  Hits@3 "
          f"{out['hits@3']:.3f}  Hits@10 {out['hits@10']:.3f}  MRR@10 {out['mrr@10']:.3f}")
    print(f"found {out['found']:.3f}  quote@1 {out['quote@1']:.3f}  quote|hit@1 "
          f"{out['quote_given_hit@1']:.3f} (over {out['quotes_scored']})  citations shown "
          f"per answer {out['shown_per_answer']:.2f}")
    if args.conversation:
        print(f"asked in one conversation: {out['read_in_context']} of {out['questions']} "
              "read as follow-ups of the question before")
    if "followups" in out:
        print(f"follow-ups {out['followups']}  with context Hits@1 {out['followup_hits@1']:.3f}"
              f"  Hits@3 {out['followup_hits@3']:.3f}  alone Hits@1 "
              f"{out['followup_alone_hits@1']:.3f}  Hits@3 {out['followup_alone_hits@3']:.3f}"
              f"  read as follow-ups {out['followup_read_as_followup']:.3f}")
    if refusals is not None:
        print(f"off-topic refused {out['offtopic_refused']:.3f} "
              f"of {out['offtopic_questions']}")
    print(f"latency p50 {out['p50_ms']:.1f} ms  p95 {out['p95_ms']:.1f} ms  "
          f"(bare embed+FAISS p50 {out['bare_p50_ms']:.1f} ms)")
    return 0


def _years(text: str | None) -> tuple[int, int] | None:
    """``2020-2021`` → (2020, 2021); ``2022`` → (2022, 2022)."""
    if not text:
        return None
    first, _, last = text.partition("-")
    try:
        return int(first), int(last or first)
    except ValueError:
        raise SystemExit(f"newsbot eval: --years wants FROM-TO or a year, got {text!r}")

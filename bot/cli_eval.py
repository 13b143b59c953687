"""``newsbot eval``: measure answer quality on a corpus and questions with gold articles."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any


def register(add: Any) -> None:
    p = add("eval", cmd_eval, "measure Hits@k, MRR@10 and latency on a question set",
            data_dir_help="reuse (or build) the index here (default: a temporary index)")
    p.add_argument("corpus", help="corpus JSONL (id, title, published_at, source, url, body)")
    p.add_argument("questions", help="questions JSONL (id, question, asked_at, gold_ids)")
    p.add_argument("--extra", action="append", default=[], metavar="CORPUS",
                   help="more articles to ingest as distractors (repeatable)")
    p.add_argument("--as-of", action="store_true",
                   help="each question's asked_at is its today (later articles do not exist)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--limit", type=int, default=0, help="only the first N questions")


def cmd_eval(args: argparse.Namespace) -> int:
    from bot.cli import _settings
    from index import Index
    from index.evaluate import evaluate, read_questions

    questions = list(read_questions(Path(args.questions)))
    if args.limit:
        questions = questions[: args.limit]
    tmp = None
    if not args.data_dir:
        tmp = tempfile.TemporaryDirectory(prefix="newsbot-eval-")
        args.data_dir = tmp.name
    settings = _settings(args)
    index = Index.open(settings)
    show = sys.stderr.isatty()
    try:
        report = index.ingest([args.corpus, *args.extra], progress=show)
        if report.failed:
            print(f"warning: {report.failed} corpus records failed to load", file=sys.stderr)
        from tqdm import tqdm

        with tqdm(total=len(questions), desc="questions", disable=not show, leave=False) as bar:
            result = evaluate(index, questions, as_of=args.as_of, on_question=bar.update)
    finally:
        index.close()
        if tmp is not None:
            tmp.cleanup()
    out = result.as_dict()
    if args.json:
        print(json.dumps(out))
    else:
        print(f"questions {out['questions']}  Hits@1 {out['hits@1']:.3f}  Hits@3 "
              f"{out['hits@3']:.3f}  Hits@10 {out['hits@10']:.3f}  MRR@10 {out['mrr@10']:.3f}")
        print(f"latency p50 {out['p50_ms']:.1f} ms  p95 {out['p95_ms']:.1f} ms  "
              f"(bare embed+FAISS p50 {out['bare_p50_ms']:.1f} ms)")
    return 0

"""``newsbot bench``: measure ingest, re-ingest, ask latency, memory and recall (issue 6)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any


def register(add: Any) -> None:
    p = add("bench", cmd_bench, "measure ingest speed, ask latency, memory and recall")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--sizes", help="index sizes in chunks, comma-separated "
                   "(default 10000,100000,1000000)")
    p.add_argument("--quick", action="store_true",
                   help="10k chunks and a slice of the corpus (about a minute)")
    p.add_argument("--corpus", help="corpus JSONL to ingest (default: "
                   "../shared/data/pk_business_2015.jsonl, else generated articles)")
    p.add_argument("--articles", type=int, help="use only the first N corpus articles")
    p.add_argument("--questions", type=int, help="questions asked per size")
    p.add_argument("--work-dir", help="where the temporary indexes are built")
    p.add_argument("--rebuild-sizes", help="sizes whose rebuild's peak RSS is measured, "
                   "comma-separated, e.g. 1000000 (hours at 1M; default none)")
    p.add_argument("--rebuild-only", action="store_true",
                   help="measure only the rebuilds of --rebuild-sizes (a plain seed ingest; "
                   "no ingest-speed or ask phases)")
    p.add_argument("--keep", action="store_true", help="keep the built indexes")
    p.add_argument("--postgres", metavar="URL",
                   help="also load each size into this PostgreSQL database (pgvector; it must "
                   "hold no newsbot index: the bench fills it and empties it again) and "
                   "measure it side by side; never taken from NEWSBOT_DATABASE_URL")


def _command_line(args: argparse.Namespace) -> str:
    """The command as typed (for the report), rebuilt from the parsed options."""
    words = ["newsbot", "bench"]
    if args.quick:
        words.append("--quick")
    if args.rebuild_only:
        words.append("--rebuild-only")
    for name in ("sizes", "corpus", "articles", "questions", "rebuild_sizes"):
        value = getattr(args, name)
        if value:
            words += [f"--{name.replace('_', '-')}", str(value)]
    if args.postgres:
        words.append("--postgres URL")  # never the URL itself: it may hold a password
    if args.json:
        words.append("--json")
    return " ".join(words)


def _sizes(text: str) -> tuple[int, ...]:
    """``10000,1_000_000`` → (10000, 1000000); ``none`` → ()."""
    if text.strip().lower() == "none":
        return ()
    return tuple(int(s.replace("_", "")) for s in text.split(",") if s.strip())


def cmd_bench(args: argparse.Namespace) -> int:
    from bot.cli_common import load_settings
    from index.bench.report import render
    from index.bench.run import BenchOptions, run_bench

    changes: dict[str, Any] = {"command": _command_line(args)}
    if args.sizes:
        changes["sizes"] = tuple(int(s.replace("_", "")) for s in args.sizes.split(",") if s)
    if args.rebuild_sizes:
        changes["rebuild_sizes"] = _sizes(args.rebuild_sizes)
    for name in ("articles", "questions"):
        if getattr(args, name):
            changes[name] = getattr(args, name)
    if args.corpus:
        changes["corpus"] = Path(args.corpus)
    if args.work_dir:
        changes["work_dir"] = Path(args.work_dir)
    changes["keep"] = args.keep
    if args.postgres:
        if args.rebuild_only:
            print("newsbot bench: --postgres measures questions, --rebuild-only asks none",
                  file=sys.stderr)
            return 2
        changes["postgres"] = args.postgres
    if args.rebuild_only:
        if not args.rebuild_sizes:
            print("newsbot bench: --rebuild-only needs --rebuild-sizes, e.g. 1000000",
                  file=sys.stderr)
            return 2
        changes["rebuild_only"] = True
    options = BenchOptions.quick_run(**changes) if args.quick else BenchOptions(**changes)
    settings = load_settings(args)

    def say(message: str) -> None:
        print(f"bench: {message}", file=sys.stderr, flush=True)

    report = run_bench(options, settings, say)
    if args.json:
        print(json.dumps(report))
    else:
        print(render(report))
    return 0

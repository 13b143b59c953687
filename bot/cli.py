"""``newsbot``: the one command-line entry point (run, chat, ingest, search, ask, …).

Imports are lazy: ``newsbot --help`` and the commands that never embed must not pay for
torch or sentence-transformers (5–8 s), nor for python-telegram-bot.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import signal
import sys
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.settings import Settings
    from index import Index

log = logging.getLogger("newsbot")


def samples_dir() -> Path:
    """The sample articles bundled in the ``index`` package."""
    return Path(str(resources.files("index") / "samples"))


def _settings(args: argparse.Namespace) -> Settings:
    from bot.settings import Settings

    overrides: dict[str, Any] = {}
    if getattr(args, "data_dir", None):
        overrides["data_dir"] = Path(args.data_dir)
    return Settings.load(**overrides)


def _writer(settings: Settings, command: str) -> Any:
    """The data directory's one-writer lock (``index.datalock``) for ``newsbot COMMAND``."""
    from index.datalock import DataDirLock

    return DataDirLock(Path(settings.data_dir), f"newsbot {command}")


def _open(settings: Settings) -> Index:
    from index import Index

    return Index.open(settings)


def _print_report(report: Any, as_json: bool) -> None:
    if as_json:
        print(json.dumps(report.as_dict(), ensure_ascii=False))
        return
    print(
        f"{report.articles_new} new, {report.articles_updated} updated, "
        f"{report.duplicates} duplicate, {report.skipped} skipped, {report.failed} failed; "
        f"{report.chunks_embedded} chunks embedded in {report.seconds:.1f} s"
    )
    for p in report.problems[:50]:
        count = f" ×{p.count}" if p.count > 1 else ""
        print(f"  {p.kind}{count}: {p.where}: {p.reason}")
    if len(report.problems) > 50:
        print(f"  … and {len(report.problems) - 50} more problems (see --json)")


def _ensure_content(index: Index, settings: Settings) -> None:
    """An empty index gets the configured sources, or the bundled samples."""
    if index.stats().articles:
        return
    sources = settings.sources or [str(samples_dir())]
    print(f"Index is empty: ingesting {', '.join(sources)} …", file=sys.stderr)
    report = index.ingest(sources, progress=sys.stderr.isatty())
    print(f"Indexed {report.articles_new} articles ({report.chunks_embedded} chunks).",
          file=sys.stderr)


def _parse_date(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


# -- commands -------------------------------------------------------------------------------
def cmd_run(args: argparse.Namespace) -> int:
    settings = _settings(args)
    with _writer(settings, "run"):  # held until the bot stops
        return _run(settings)


def _run(settings: Settings) -> int:
    index = _open(settings)
    _ensure_content(index, settings)
    if settings.telegram_token is None:
        print("No NEWSBOT_TELEGRAM_TOKEN set: serving the terminal chat instead of Telegram.",
              file=sys.stderr)
        return _chat(index)
    from bot.app import run_bot

    logging.getLogger().setLevel(settings.log_level)
    run_bot(settings, index)
    return 0


def cmd_chat(args: argparse.Namespace) -> int:
    settings = _settings(args)
    index = _open(settings)
    if not index.stats().articles:  # only an empty index is written to
        with _writer(settings, "chat"):
            _ensure_content(index, settings)
    return _chat(index)


def _chat(index: Index) -> int:
    from bot.terminal import chat_loop

    index.warm_up()
    try:
        chat_loop(lambda q: index.answer(q, asked_at=dt.date.today()))
    finally:
        index.close()
    return 0


def cmd_ingest(args: argparse.Namespace) -> int:
    settings = _settings(args)
    with _writer(settings, "ingest"):
        index = _open(settings)
        try:
            report = index.ingest(args.sources, progress=sys.stderr.isatty() and not args.json)
        finally:
            index.close()
    _print_report(report, args.json)
    return 0


def cmd_search(args: argparse.Namespace) -> int:
    settings = _settings(args)
    index = _open(settings)
    try:
        hits = index.search(args.query, k=args.k, asked_at=_parse_date(args.as_of))
    finally:
        index.close()
    from bot.terminal import format_date

    for n, h in enumerate(hits, start=1):
        dense = f"{h.dense_score:.3f}" if h.dense_score is not None else "-"
        print(f"{n:2}. [{h.score:.4f} dense {dense}] {h.article.headline[:90]} · "
              f"{h.article.source} · {format_date(h.article.published_date)}")
    return 0


def cmd_ask(args: argparse.Namespace) -> int:
    settings = _settings(args)
    index = _open(settings)
    try:
        answer = index.answer(args.question, asked_at=_parse_date(args.as_of) or dt.date.today(),
                              limit=args.limit or settings.max_citations)
    finally:
        index.close()
    from bot.terminal import render_answer

    print(render_answer(answer, color=sys.stdout.isatty()))
    return 0


def cmd_reindex(args: argparse.Namespace) -> int:
    settings = _settings(args)
    with _writer(settings, "reindex"):
        return _reindex(settings)


def _reindex(settings: Settings) -> int:
    previous = signal.signal(signal.SIGTERM, _interrupt)  # stopped like Ctrl-C: cleanly
    try:
        report, stats = _rebuild(settings)
    except KeyboardInterrupt:
        print("\nreindex stopped: its half-built generation was removed; the previous index "
              "is still serving", file=sys.stderr)
        raise
    finally:
        signal.signal(signal.SIGTERM, previous)
    print(f"Rebuilt: {stats.articles} articles, {stats.chunks} chunks in {report.seconds:.1f} s; "
          f"{report.failed} failed, {report.skipped} skipped")
    return 0


def _rebuild(settings: Settings) -> tuple[Any, Any]:
    index = _open(settings)
    # Feeds are not re-fetched here: the poller stored their full pages, which a feed's
    # teaser (same URL) would otherwise replace; stored articles are all re-embedded.
    sources = list(settings.sources)

    def show(p: Any) -> None:
        eta = f", ETA {p.eta_seconds:.0f} s" if p.eta_seconds is not None else ""
        print(f"\r{p.phase}: {p.fraction:.0%} ({p.articles} articles, {p.chunks} chunks{eta})  ",
              end="", file=sys.stderr, flush=True)

    try:
        report = index.rebuild(sources, progress=show)
        print(file=sys.stderr)
        return report, index.stats()
    finally:
        index.close()


def _interrupt(signum: int, frame: Any) -> None:
    """SIGTERM as Ctrl-C: the rebuild unwinds and removes what it half built."""
    raise KeyboardInterrupt


def cmd_stats(args: argparse.Namespace) -> int:
    settings = _settings(args)
    index = _open(settings)
    try:
        stats = index.stats()
        sources = index.sources()
        dtype = index.embedder.dtype
    finally:
        index.close()
    if args.json:
        from dataclasses import asdict

        print(json.dumps({**asdict(stats), "embed_dtype": asdict(dtype),
                          "outlets": [asdict(s) for s in sources]}))
        return 0
    print(f"articles {stats.articles}, chunks {stats.chunks}, vectors {stats.vectors}, "
          f"outlets {stats.sources}, on disk {stats.disk_bytes / 1e6:.1f} MB, "
          f"last ingest {stats.last_ingest or 'never'}, model {stats.model} computing in "
          f"{dtype.describe()}")
    for s in sources[:20]:
        print(f"  {s.source}: {s.articles} articles, {s.first or '?'} … {s.last or '?'}")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    settings = _settings(args)
    index = _open(settings)  # opening repairs FAISS from SQLite if a crash left them apart
    try:
        problems = index.check()
    finally:
        index.close()
    if problems:
        for p in problems:
            print(f"problem: {p}")
        return 1
    print("ok: FAISS ids, SQLite chunks and FTS rows agree")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="newsbot",
        description="Answer questions about the news with quoted, cited snippets.",
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def add(name: str, func: Any, help_text: str, *,
            data_dir_help: str = "index directory (default: NEWSBOT_DATA_DIR or ./data)",
            ) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.add_argument("--data-dir", help=data_dir_help)
        p.set_defaults(func=func)
        return p

    add("run", cmd_run, "serve Telegram (or the terminal chat when no token is set)")
    add("chat", cmd_chat, "ask questions in the terminal")
    p = add("ingest", cmd_ingest, "add articles from files, folders, feeds or article URLs")
    p.add_argument("sources", nargs="+", metavar="PATH|URL")
    p.add_argument("--json", action="store_true", help="print the report as one JSON object")
    p = add("search", cmd_search, "list the articles that best match a query")
    p.add_argument("query")
    p.add_argument("-k", type=int, default=10)
    p.add_argument("--as-of", help="treat this ISO date as today")
    p = add("ask", cmd_ask, "answer a question with quoted, cited snippets")
    p.add_argument("question")
    p.add_argument("--limit", type=int, default=0,
                   help="most citations (default: NEWSBOT_MAX_CITATIONS)")
    p.add_argument("--as-of", help="treat this ISO date as today")
    add("reindex", cmd_reindex, "rebuild the whole index and swap it in atomically")
    p = add("stats", cmd_stats, "articles, chunks, outlets and size of the index")
    p.add_argument("--json", action="store_true")
    add("check", cmd_check, "verify that FAISS, SQLite and FTS agree")
    _add_optional_commands(add)
    return parser


def _add_optional_commands(add: Any) -> None:
    """Commands that live in their own modules (eval, bench) register themselves here."""
    try:
        from bot import cli_eval
    except ImportError:
        return
    cli_eval.register(add)
    from bot import cli_bench

    cli_bench.register(add)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    from bot.settings import ConfigurationError
    from index.datalock import DataDirLocked
    from index.settings import SettingsError

    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        return int(args.func(args) or 0)
    except SettingsError as exc:
        print(f"newsbot: configuration error: {exc}", file=sys.stderr)
        return 2
    except DataDirLocked as exc:
        print(f"newsbot: {exc}", file=sys.stderr)
        return 3
    except ConfigurationError as exc:  # one line with the fix; it never quotes a secret
        if args.debug:
            raise
        print(f"newsbot: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        if args.debug:
            raise
        print(f"newsbot: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())

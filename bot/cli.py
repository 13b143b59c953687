"""``newsbot``: the one command-line entry point (run, chat, ingest, search, ask, …).

``--data-dir`` and ``--debug`` go before or after the command; exit codes are
``bot.cli_common.EXIT_*`` (docs/cli.md). Imports are lazy: ``newsbot --help`` and the
commands that never embed must not pay for torch or sentence-transformers (5–8 s), nor
for python-telegram-bot.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import signal
import sys
from typing import TYPE_CHECKING, Any

from bot.cli_common import (
    EMPTY_INDEX,
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_LOCKED,
    EXIT_MODEL_CHANGED,
    EXIT_OK,
    EXIT_USAGE,
    IndexEmpty,
    checked_text,
    load_settings,
    model_changed_message,
    open_index,
    rebuild_progress_bar,
    samples_dir,
    show_progress,
    writer_lock,
)

if TYPE_CHECKING:
    from bot.settings import Settings
    from index import Answer, Index, IngestReport

log = logging.getLogger("newsbot")

__all__ = ["build_parser", "main", "samples_dir"]


def package_version() -> str:
    """The installed package's version (pyproject.toml is its one definition)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("newsbot")
    except PackageNotFoundError:
        return "unknown (not installed)"


def _print_report(report: IngestReport, as_json: bool) -> None:
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


def _fill_if_empty(index: Index, sources: list[str]) -> None:
    """An empty index gets ``sources`` (nothing when there are none)."""
    if index.stats().articles or not sources:
        return
    print(f"Index is empty: ingesting {', '.join(sources)} …", file=sys.stderr)
    report = index.ingest(sources, progress=show_progress())
    print(f"Indexed {report.articles_new} articles ({report.chunks_embedded} chunks).",
          file=sys.stderr)


def _demo_sources(settings: Settings) -> list[str]:
    """What an empty index gets for the terminal chat: the configured sources, or else the
    bundled samples (made-up stories: a demo, never indexed for Telegram)."""
    return list(settings.sources) or [str(samples_dir())]


def _parse_date(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def _iso_date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {value!r}") from None


def _require_articles(index: Index) -> None:
    if not index.stats().articles:
        raise IndexEmpty


# -- commands -------------------------------------------------------------------------------
def cmd_run(args: argparse.Namespace) -> int:
    from bot.settings import ConfigurationError

    settings = load_settings(args)
    if settings.telegram_token is None and not sys.stdin.isatty():
        raise ConfigurationError(
            "NEWSBOT_TELEGRAM_TOKEN is not set and there is no terminal for the chat: set "
            "the token (environment or .env) to serve Telegram")
    with writer_lock(settings, "run"):  # held until the bot stops
        with open_index(settings, may_reembed=True) as index:
            if settings.telegram_token is None:
                print("No NEWSBOT_TELEGRAM_TOKEN set: serving the terminal chat instead of "
                      "Telegram.", file=sys.stderr)
                _fill_if_empty(index, _demo_sources(settings))
                return _chat(index, settings)
            _serve(index, settings)
    return EXIT_OK


def _serve(index: Index, settings: Settings) -> None:
    """Telegram: the configured sources fill an empty index; demo samples a terminal chat
    indexed earlier are taken out (made-up stories must not answer a real chat)."""
    from bot.app import run_bot

    removed = index.remove_loaded(str(samples_dir()))
    if removed.articles:
        print(f"Removed the {removed.articles} bundled sample articles (a terminal demo) "
              "before serving Telegram.", file=sys.stderr)
    _fill_if_empty(index, list(settings.sources))
    if not index.stats().articles:
        print(f"Warning: {IndexEmpty()}.", file=sys.stderr)
    logging.getLogger().setLevel(settings.log_level)
    run_bot(settings, index)


def cmd_chat(args: argparse.Namespace) -> int:
    settings = load_settings(args)
    with open_index(settings) as index:
        if not index.stats().articles:  # only an empty index is written to
            with writer_lock(settings, "chat"):
                _fill_if_empty(index, _demo_sources(settings))
        return _chat(index, settings)


def _chat(index: Index, settings: Settings) -> int:
    from pathlib import Path

    from bot.terminal import HISTORY_NAME, chat_loop

    if not index.stats().articles:
        print(f"Note: {IndexEmpty()}.", file=sys.stderr)
    index.warm_up()
    chat_loop(lambda q: _chat_answer(index, q), per_page=settings.citations_per_message,
              history=Path(settings.data_dir) / HISTORY_NAME)
    return EXIT_OK


def _chat_answer(index: Index, question: str) -> Answer:
    from index import Answer

    if not index.stats().articles:  # checked per question: an ingest may fill it meanwhile
        return Answer(question, (), (f"{EMPTY_INDEX[:1].upper()}{EMPTY_INDEX[1:]}.",),
                      found=False)
    return index.answer(question, asked_at=dt.date.today())


def cmd_ingest(args: argparse.Namespace) -> int:
    settings = load_settings(args)
    with writer_lock(settings, "ingest"), open_index(settings) as index:
        report = index.ingest(args.sources, progress=show_progress() and not args.json)
    _print_report(report, args.json)
    if report.failed:
        print(f"newsbot: {report.failed} failed (listed above); the rest was stored",
              file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def cmd_search(args: argparse.Namespace) -> int:
    settings = load_settings(args)
    with open_index(settings) as index:
        _require_articles(index)
        hits = index.search(args.query, k=args.k, asked_at=_parse_date(args.as_of))
    from bot.terminal import day_text

    for n, h in enumerate(hits, start=1):
        dense = f"{h.dense_score:.3f}" if h.dense_score is not None else "-"
        print(f"{n:2}. [{h.score:.4f} dense {dense}] {h.article.headline[:90]} · "
              f"{h.article.source} · {day_text(h.article.published_date)}")
    return EXIT_OK


def cmd_ask(args: argparse.Namespace) -> int:
    settings = load_settings(args)
    with open_index(settings) as index:
        _require_articles(index)
        answer = index.answer(args.question, asked_at=_parse_date(args.as_of) or dt.date.today(),
                              limit=args.limit or settings.citations_per_message)
    from bot.terminal import render_answer

    print(render_answer(answer, color=sys.stdout.isatty()))
    return EXIT_OK


def cmd_reindex(args: argparse.Namespace) -> int:
    settings = load_settings(args)
    with writer_lock(settings, "reindex"):
        previous = signal.signal(signal.SIGTERM, _interrupt)  # stopped like Ctrl-C: cleanly
        try:
            return _reindex(settings)
        except KeyboardInterrupt:
            print("\nreindex stopped: its half-built generation was removed; the previous "
                  "index is still serving", file=sys.stderr)
            raise
        finally:
            signal.signal(signal.SIGTERM, previous)


def _reindex(settings: Settings) -> int:
    from index import Index, ModelChanged

    try:
        index = Index.open(settings)
    except ModelChanged as exc:
        # Re-embedding every stored article is the rebuild: it is not done twice.
        print(f"newsbot: {exc}: re-embedding every stored article with {exc.model!r}",
              file=sys.stderr, flush=True)
        with Index.open(settings, reembed=True, progress=show_progress()) as index:
            stats = index.stats()
        print(f"Re-embedded: {stats.articles} articles, {stats.chunks} chunks with "
              f"{stats.model!r}")
        return EXIT_OK
    # Feeds are not re-fetched here: the poller stored their full pages, which a feed's
    # teaser (same URL) would otherwise replace; stored articles are all re-embedded.
    show, close = rebuild_progress_bar()
    with index:
        try:
            report = index.rebuild(list(settings.sources), progress=show)
        finally:
            close()
        stats = index.stats()
    print(f"Rebuilt: {stats.articles} articles, {stats.chunks} chunks in {report.seconds:.1f} s; "
          f"{report.failed} failed, {report.skipped} skipped")
    return EXIT_OK


def _interrupt(signum: int, frame: Any) -> None:
    """SIGTERM as Ctrl-C: the rebuild unwinds and removes what it half built."""
    raise KeyboardInterrupt


def cmd_stats(args: argparse.Namespace) -> int:
    settings = load_settings(args)
    with open_index(settings) as index:
        stats = index.stats()
        sources = index.sources()
        dtype = index.embedder.dtype
    if args.json:
        from dataclasses import asdict

        print(json.dumps({**asdict(stats), "embed_dtype": asdict(dtype),
                          "outlets": [asdict(s) for s in sources]}))
        return EXIT_OK
    print(f"articles {stats.articles}, chunks {stats.chunks}, vectors {stats.vectors}, "
          f"outlets {stats.sources}, on disk {stats.disk_bytes / 1e6:.1f} MB, "
          f"last ingest {stats.last_ingest or 'never'}, model {stats.model} computing in "
          f"{dtype.describe()}")
    for s in sources[:20]:
        print(f"  {s.source}: {s.articles} articles, {s.first or '?'} … {s.last or '?'}")
    return EXIT_OK


def cmd_check(args: argparse.Namespace) -> int:
    settings = load_settings(args)
    # Opening repairs FAISS from SQLite if a crash left them apart.
    with open_index(settings) as index:
        problems = index.check()
    if problems:
        for p in problems:
            print(f"problem: {p}")
        return EXIT_FAILED
    print(f"ok: {checked_text(settings)}")
    return EXIT_OK


def cmd_remove(args: argparse.Namespace) -> int:
    settings = load_settings(args)
    with writer_lock(settings, "remove"), open_index(settings) as index:
        outlets = [s.source for s in index.sources()]
        if args.source not in outlets:
            import difflib

            close = difflib.get_close_matches(args.source, outlets, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else " (`newsbot stats` lists them)"
            print(f"newsbot: no outlet named {args.source!r}{hint}", file=sys.stderr)
            return EXIT_FAILED
        removed = index.remove_source(args.source)
    print(f"Removed {removed.articles} articles ({removed.chunks} chunks) of {args.source!r}.")
    return EXIT_OK


def cmd_prune(args: argparse.Namespace) -> int:
    from index import retention_cutoff

    settings = load_settings(args)
    before = args.before
    if before is None:
        if settings.retention_days is None:
            print("newsbot: prune needs --before YYYY-MM-DD, or NEWSBOT_RETENTION_DAYS set",
                  file=sys.stderr)
            return EXIT_USAGE
        before = retention_cutoff(settings.retention_days, dt.date.today())
    with writer_lock(settings, "prune"), open_index(settings) as index:
        removed = index.prune(before)
    print(f"Removed {removed.articles} articles published before {before.isoformat()} "
          f"({removed.chunks} chunks).")
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="newsbot",
        description="Answer questions about the news with quoted, cited snippets.",
        epilog="Exit codes: 0 ok, 1 failed or found problems, 2 usage or configuration, "
               "3 data directory in use, 4 index built with another model, 130 interrupted "
               "(docs/cli.md).",
    )
    parser.add_argument("--version", action="version", version=f"newsbot {package_version()}")
    data_dir_default = "index directory (default: NEWSBOT_DATA_DIR or ./data)"
    _global_options(parser, data_dir_default)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def add(name: str, func: Any, help_text: str, *,
            data_dir_help: str = data_dir_default) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        _global_options(p, data_dir_help)
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
                   help="most citations (default: NEWSBOT_CITATIONS_PER_MESSAGE)")
    p.add_argument("--as-of", help="treat this ISO date as today")
    add("reindex", cmd_reindex, "rebuild the whole index and swap it in atomically")
    p = add("stats", cmd_stats, "articles, chunks, outlets and size of the index")
    p.add_argument("--json", action="store_true")
    add("check", cmd_check, "verify that the vector index, the chunks and the full text agree")
    p = add("remove", cmd_remove, "delete every article of one outlet")
    p.add_argument("--source", required=True, metavar="NAME",
                   help="the outlet, as `newsbot stats` lists it")
    p = add("prune", cmd_prune, "delete the articles published before a date")
    p.add_argument("--before", type=_iso_date, metavar="YYYY-MM-DD",
                   help="cut-off date (default: today minus NEWSBOT_RETENTION_DAYS)")
    from bot import cli_backup, cli_copy, cli_feeds, cli_migrate, doctor

    doctor.register(add)
    cli_backup.register(add)
    cli_copy.register(add)
    cli_feeds.register(add)
    cli_migrate.register(add)
    _add_optional_commands(add)
    return parser


def _global_options(parser: argparse.ArgumentParser, data_dir_help: str) -> None:
    """``--data-dir`` and ``--debug``, accepted before the command and after it (SUPPRESS:
    the command's parser leaves a value given before it alone)."""
    parser.add_argument("--data-dir", default=argparse.SUPPRESS, help=data_dir_help)
    parser.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                        help="show tracebacks on errors")


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
    args.data_dir = getattr(args, "data_dir", None)
    args.debug = getattr(args, "debug", False)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_OK
    from bot.settings import ConfigurationError
    from index import ModelChanged, RebuildRunning
    from index.datalock import DataDirLocked
    from index.settings import SettingsError

    logging.basicConfig(level=logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        return int(args.func(args) or 0)
    except SettingsError as exc:
        print(f"newsbot: configuration error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except DataDirLocked as exc:
        print(f"newsbot: {exc}", file=sys.stderr)
        return EXIT_LOCKED
    except ModelChanged as exc:
        print(f"newsbot: {model_changed_message(exc)}", file=sys.stderr)
        return EXIT_MODEL_CHANGED
    except ConfigurationError as exc:  # one line with the fix; it never quotes a secret
        if args.debug:
            raise
        print(f"newsbot: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (IndexEmpty, RebuildRunning) as exc:
        print(f"newsbot: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except Exception as exc:
        if args.debug:
            raise
        print(f"newsbot: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())

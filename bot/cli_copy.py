"""``newsbot copy --to [URL]`` and ``newsbot copy --from [URL]``: move a data directory's
index and alert state into an empty PostgreSQL database, or a database's into an empty
data directory (``index.alerts.datacopy``), then print one summary of both sides' checks
and counts. The URL defaults to ``NEWSBOT_DATABASE_URL`` (a URL typed on the command line
shows in the shell history and ``ps``), and is only ever shown without its password."""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.cli_common import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    checked_text,
    load_settings,
    show_progress,
)
from bot.redact import (
    describe,
    install_log_redaction,
    redact,
    url_password,
    url_without_password,
)

if TYPE_CHECKING:
    from bot.settings import Settings
    from index.alerts.datacopy import CopyReport

ROW_STEP = 0.1  # without a terminal, a progress line per tenth of the articles


def register(add: Any) -> None:
    p = add("copy", cmd_copy, "copy the index and alert state between the data directory "
            "and an empty PostgreSQL database (either way), then check both sides",
            data_dir_help="the data directory copied from (--to) or into (--from) "
            "(default: NEWSBOT_DATA_DIR or ./data)")
    way = p.add_mutually_exclusive_group(required=True)
    way.add_argument("--to", nargs="?", const="", metavar="postgresql://…",
                     help="copy the data directory into this empty database "
                     "(no URL: NEWSBOT_DATABASE_URL)")
    way.add_argument("--from", dest="source", nargs="?", const="", metavar="postgresql://…",
                     help="copy this database into the empty data directory "
                     "(no URL: NEWSBOT_DATABASE_URL)")


def cmd_copy(args: argparse.Namespace) -> int:
    from pydantic import SecretStr

    from index.alerts.datacopy import CopyRefused, copy_data
    from index.datalock import DataDirLocked

    settings = load_settings(args)
    given = args.to if args.to is not None else args.source
    url = given or (settings.database_url.get_secret_value() if settings.database_url else "")
    if not url.startswith(("postgresql://", "postgres://")):
        print("newsbot copy: give a postgresql://… URL, or set NEWSBOT_DATABASE_URL",
              file=sys.stderr)
        return EXIT_USAGE
    secrets = [s for s in (url, url_password(url)) if s]
    install_log_redaction(secrets)
    here = settings.model_copy(update={"database_url": None})
    there = settings.model_copy(update={"database_url": SecretStr(url)})
    source, dest = (here, there) if args.to is not None else (there, here)
    print(f"Copying {side_text(source)} into {side_text(dest)} …", file=sys.stderr,
          flush=True)
    show, close = progress_display()
    previous = signal.signal(signal.SIGTERM, _interrupt)  # stopped like Ctrl-C: cleanly
    try:
        report = copy_data(source, dest, model=settings.embedding_model, progress=show)
    except CopyRefused as exc:
        print(f"newsbot copy: refused, nothing written: {redact(str(exc), secrets)}",
              file=sys.stderr)
        return EXIT_FAILED
    except DataDirLocked:
        raise  # exit code 3 (bot.cli.main), the message names the holder
    except KeyboardInterrupt:
        print("\nnewsbot copy: stopped; nothing of it went live at the destination",
              file=sys.stderr)
        raise
    except Exception as exc:  # the URL may be in a driver's message: never shown whole
        if args.debug:
            raise
        print(f"newsbot copy: {describe(exc, secrets)}; nothing of it went live at the "
              "destination", file=sys.stderr)
        return EXIT_FAILED
    finally:
        signal.signal(signal.SIGTERM, previous)
        close()
    print_summary(report, source, dest)
    return EXIT_OK if report.ok else EXIT_FAILED


def _interrupt(signum: int, frame: Any) -> None:
    """SIGTERM as Ctrl-C: the copy unwinds and removes the generation it half built."""
    raise KeyboardInterrupt


def side_text(side: Settings) -> str:
    if side.database_url is not None:
        return f"PostgreSQL {url_without_password(side.database_url.get_secret_value())}"
    return f"data directory {Path(side.data_dir)}"


def print_summary(report: CopyReport, source: Settings, dest: Settings) -> None:
    """One table of counts (source, copy) and the verdict."""
    print(f"Copied {side_text(source)} into {side_text(dest)} in {report.seconds:.1f} s "
          f"(live generation {report.generation}).")
    width = max(len(k) for k in report.source) if report.source else 0
    print(f"  {'':{width}}  {'source':>9}  {'copy':>9}")
    for key, count in report.source.items():
        copied = report.copy.get(key)
        shown = f"{copied:,}" if copied is not None else "-"
        mark = "" if copied == count else "  <- differs"
        print(f"  {key:{width}}  {count:>9,}  {shown:>9}{mark}")
    for problem in report.problems:
        print(f"problem: {problem}")
    if report.ok:
        print(f"ok: every count agrees; source: {checked_text(source)}; copy: "
              f"{checked_text(dest)}")
    else:
        print(f"newsbot copy: {len(report.problems)} problem(s) above; the copy is live at "
              "the destination, the source is unchanged", file=sys.stderr)


def progress_display() -> tuple[Callable[[str, int, int], None], Callable[[], None]]:
    """A tqdm bar on a terminal; otherwise a line on stderr per phase and per tenth of
    the articles copied."""
    if show_progress():
        from tqdm import tqdm

        bar = tqdm(desc="copy", unit="article", leave=False)

        def draw(phase: str, done: int, total: int) -> None:
            bar.set_description_str(f"copy: {phase}", refresh=False)
            bar.total = total
            bar.update(done - bar.n)

        return draw, bar.close
    shown: dict[str, float] = {}

    def line(phase: str, done: int, total: int) -> None:
        fraction = done / total if total else 1.0
        if phase not in shown or fraction >= shown[phase] + ROW_STEP or done == total:
            if shown.get(phase) == 1.0:
                return
            shown[phase] = fraction
            unit = " articles" if phase == "rows" else ""
            print(f"copy: {phase} {done:,}/{total:,}{unit}", file=sys.stderr, flush=True)

    return line, lambda: None

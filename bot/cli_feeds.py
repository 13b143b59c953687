"""``newsbot feeds list|add URL|remove N-or-URL|import FILE.opml|export``: the polled feeds
from the command line, over the same list as the bot's ``/feeds`` (``NEWSBOT_FEEDS`` plus
the feeds added at run time, in ``state.sqlite``).

It works beside a running bot: the change is one SQLite transaction in the state database,
and the bot reads the list afresh at every poll, so no restart is needed (and the data
directory's writer lock, which the bot holds, is not taken).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.cli_common import EXIT_FAILED, EXIT_OK, load_settings

if TYPE_CHECKING:
    from index.alerts.feedstore import FeedStore
    from index.alerts.state import StateDatabase


def register(add: Any) -> None:
    p = add("feeds", cmd_feeds, "list, add, remove, import (OPML) or export the polled feeds")
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    actions.add_parser("list", help="the feeds, numbered, with their last poll and error")
    a = actions.add_parser("add", help="fetch and check a feed, then poll it from now on")
    a.add_argument("url", metavar="URL")
    a = actions.add_parser("remove", help="stop polling a feed (its articles stay)")
    a.add_argument("which", metavar="N|URL", help="its number in `newsbot feeds list`, or URL")
    a = actions.add_parser("import", help="add every feed of an OPML file (again: no change)")
    a.add_argument("file", metavar="FILE.opml", type=Path)
    a = actions.add_parser("export", help="write every polled feed as OPML 2.0")
    a.add_argument("-o", "--output", metavar="FILE", type=Path,
                   help="write to FILE instead of standard output")


def cmd_feeds(args: argparse.Namespace) -> int:
    from index.alerts.feedstore import FeedStore
    from index.alerts.state import open_state

    settings = load_settings(args)
    db = open_state(settings)
    try:
        store = FeedStore(db, settings.feeds)
        action = {"list": _list, "add": _add, "remove": _remove, "import": _import,
                  "export": _export}[args.action]
        return action(args, db, store, settings)
    finally:
        db.close()


def _fail(message: str) -> int:
    print(f"newsbot feeds: {message}", file=sys.stderr)
    return EXIT_FAILED


def _list(args: argparse.Namespace, db: StateDatabase, store: FeedStore, settings: Any) -> int:
    from bot.alerts.format import feed_host
    from index.alerts.feeds import FeedState

    listing = store.listing()
    if not listing:
        print("No feeds. Add one with `newsbot feeds add URL` or list them in NEWSBOT_FEEDS.")
        return EXIT_OK
    statuses = {s.url: s for s in FeedState(db).statuses([f.url for f in listing])}
    now = time.time()
    for feed in listing:
        status = statuses[feed.url]
        origin = " [NEWSBOT_FEEDS]" if feed.configured else ""
        title = f" — {feed.title}" if feed.title else ""
        print(f"{feed.number}. {feed_host(feed.url)}{title}{origin}")
        print(f"   {feed.url}")
        polled = (f"last poll {_ago(now - status.last_ok)} ago" if status.last_ok is not None
                  else "not polled yet")
        state = f"failing ({status.error_count}x in a row)" if status.failing else "ok"
        print(f"   {polled}, {state}, {status.articles} articles")
        if status.last_error:
            print(f"   last error: {status.last_error}")
    return EXIT_OK


def _add(args: argparse.Namespace, db: StateDatabase, store: FeedStore, settings: Any) -> int:
    from index.alerts.feedprobe import FeedRejected, probe_feed
    from index.alerts.feedstore import FeedStoreError

    known = store.find(args.url)
    if known is not None:
        return _fail(f"{args.url} is already feed {known.number}")
    try:
        probe = probe_feed(args.url, settings)
        added = store.add(args.url, title=probe.title)
    except (FeedRejected, FeedStoreError) as exc:
        return _fail(f"not added: {exc}")
    entries = f"{probe.entries} entr{'y' if probe.entries == 1 else 'ies'}"
    print(f"Added feed {added.number}: {probe.title} ({entries} now); a running bot polls "
          "it from its next feed poll.")
    return EXIT_OK


def _remove(args: argparse.Namespace, db: StateDatabase, store: FeedStore, settings: Any) -> int:
    from index.alerts.feedstore import FeedStoreError

    try:
        removed = store.remove(args.which)
    except FeedStoreError as exc:
        return _fail(str(exc))
    print(f"Removed feed {removed.number} ({removed.url}); its articles stay in the index.")
    return EXIT_OK


def _import(args: argparse.Namespace, db: StateDatabase, store: FeedStore, settings: Any) -> int:
    from index.alerts.feedstore import FeedStoreError
    from index.alerts.opml import OpmlError, read_opml

    try:
        feeds = read_opml(args.file.read_bytes())
        report = store.import_urls([(f.url, f.title) for f in feeds])
    except OSError as exc:
        return _fail(f"cannot read {args.file}: {exc.strerror or exc}")
    except (OpmlError, FeedStoreError) as exc:
        return _fail(f"{args.file}: {exc}; nothing imported")
    print(f"Imported {len(report.added)} new feed(s) from {args.file}; "
          f"{len(report.present)} already polled.")
    for url in report.added:
        print(f"  + {url}")
    return EXIT_OK


def _export(args: argparse.Namespace, db: StateDatabase, store: FeedStore, settings: Any) -> int:
    from index.alerts.opml import OpmlFeed, write_opml

    document = write_opml([OpmlFeed(f.url, f.title) for f in store.listing()])
    if args.output is None:
        sys.stdout.buffer.write(document)
        sys.stdout.flush()
        return EXIT_OK
    try:
        args.output.write_bytes(document)
    except OSError as exc:
        return _fail(f"cannot write {args.output}: {exc.strerror or exc}")
    print(f"Wrote {len(store.listing())} feed(s) to {args.output}", file=sys.stderr)
    return EXIT_OK


def _ago(seconds: float) -> str:
    from bot.alerts.format import short_duration

    return short_duration(max(0, round(seconds)))

"""``newsbot doctor``: one checklist from a fresh token to a bot answering in a group, with
the fix for each failure. Exits 1 when anything fails (warnings do not).

It only reads: a model mismatch is reported, never re-embedded, and the index is opened
(to run ``check``) only when its model matches the setting. The Telegram checks live in
``bot.doctor_telegram``, imported only when this command runs.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.doctor_finding import Finding

if TYPE_CHECKING:
    from bot.settings import Settings

MIN_FREE_BYTES = 200_000_000  # headroom beyond a second copy of the index
LABELS = {"ok": "ok  ", "warn": "warn", "fail": "FAIL"}


def register(add: Any) -> None:
    p = add("doctor", cmd_doctor, "check token, privacy mode, webhook, admins, feeds, data "
            "directory, model and index, with a fix for each problem")
    p.add_argument("--offline", action="store_true",
                   help="skip the checks that use the network (Telegram, feeds)")


def cmd_doctor(args: argparse.Namespace) -> int:
    from bot.settings import Settings
    from index.settings import SettingsError

    try:
        settings = Settings.load(**({"data_dir": Path(args.data_dir)} if args.data_dir else {}))
    except SettingsError as exc:
        findings = [Finding("settings", "fail", str(exc), "fix the variable named, in .env "
                            "or the environment (config.example.env lists them all)")]
    else:
        findings = run_checks(settings, network=not args.offline)
    print(render(findings))
    return 1 if any(f.status == "fail" for f in findings) else 0


def run_checks(settings: Settings, *, network: bool = True) -> list[Finding]:
    findings = [Finding("settings", "ok", "loaded (.env and NEWSBOT_* variables)")]
    if network:
        from bot.doctor_telegram import telegram_findings

        findings += telegram_findings(settings)
        findings += feed_findings(settings)
    data_dir = Path(settings.data_dir)
    in_database = settings.database_url is not None
    findings += [data_dir_finding(data_dir), disk_finding(data_dir, in_database=in_database)]
    findings += index_findings(settings)
    return findings


def render(findings: list[Finding]) -> str:
    width = max(len(f.check) for f in findings)
    lines = []
    for f in findings:
        lines.append(f"{LABELS[f.status]}  {f.check:<{width}}  {f.detail}")
        if f.fix and f.status != "ok":
            lines.append(f"{'':4}  {'':<{width}}  fix: {f.fix}")
    failed = sum(f.status == "fail" for f in findings)
    warned = sum(f.status == "warn" for f in findings)
    lines.append(f"{failed} failed, {warned} warnings, {len(findings) - failed - warned} ok")
    return "\n".join(lines)


# -- feeds ---------------------------------------------------------------------------------
def feed_findings(settings: Settings) -> list[Finding]:
    if not settings.feeds:
        return [Finding("feeds", "ok", "none configured (NEWSBOT_FEEDS); articles come from "
                        "`newsbot ingest` only")]
    with ThreadPoolExecutor(max_workers=min(8, len(settings.feeds))) as pool:
        return list(pool.map(lambda url: feed_finding(url, settings), settings.feeds))


def feed_finding(url: str, settings: Settings) -> Finding:
    """Fetch the feed as the poller does (same size, time and address limits) and parse it."""
    from index.fetch import FetchError, FetchRefused, fetch
    from index.loaders import looks_like_feed
    from index.loaders.feed import load_feed
    from index.models import Article

    name = f"feed {url}"
    try:
        result = fetch(url, timeout=settings.fetch_timeout, max_bytes=settings.fetch_max_bytes,
                       allow=settings.fetch_allow)
    except FetchRefused as exc:
        return Finding(name, "fail", str(exc), "an internal feed's host must be listed in "
                       "NEWSBOT_FETCH_ALLOW")
    except FetchError as exc:
        return Finding(name, "fail", str(exc), "open the URL in a browser; fix or remove it "
                       "in NEWSBOT_FEEDS")
    if not looks_like_feed(result.content, result.mime_type):
        return Finding(name, "fail", f"not an RSS or Atom feed ({result.mime_type or 'no type'})",
                       "use the site's feed URL (often /rss, /feed or /atom.xml), not a page")
    entries = sum(isinstance(i, Article) for i in load_feed(result.content, result.url,
                                                              fallback_source=url))
    if not entries:
        return Finding(name, "warn", "reachable, but no entries with text",
                       "check the feed in a reader; an empty feed brings no news")
    return Finding(name, "ok", f"reachable, {entries} entries")


# -- this machine --------------------------------------------------------------------------
def data_dir_finding(data_dir: Path) -> Finding:
    name = "data directory"
    existing = _existing(data_dir)
    if existing != data_dir:
        if os.access(existing, os.W_OK):
            return Finding(name, "ok", f"{data_dir.absolute()} will be created (in {existing})")
        return Finding(name, "fail", f"{data_dir} does not exist and {existing} is not writable",
                       "create it for the user newsbot runs as, or set NEWSBOT_DATA_DIR")
    try:
        with tempfile.NamedTemporaryFile(dir=data_dir, prefix=".doctor-"):
            pass
    except OSError as exc:
        return Finding(name, "fail", f"{data_dir} is not writable ({exc.strerror})",
                       "give the user newsbot runs as write access, or set NEWSBOT_DATA_DIR")
    return Finding(name, "ok", f"{data_dir.resolve()} is writable")


def disk_finding(data_dir: Path, *, in_database: bool = False) -> Finding:
    """A reindex writes a whole second generation beside the live one (in the data
    directory, unless the index lives in PostgreSQL)."""
    from index.lifecycle import current_dir

    live = current_dir(data_dir) if data_dir.is_dir() and not in_database else None
    size = _size(live) if live is not None else 0
    need = size + MIN_FREE_BYTES
    free = shutil.disk_usage(_existing(data_dir)).free
    where = "the index is in PostgreSQL" if in_database else f"the index uses {size / 1e6:.1f} MB"
    text = f"{free / 1e9:.1f} GB free; {where}"
    if free < need:
        return Finding("free disk", "fail", text, f"free at least {need / 1e9:.1f} GB: a "
                       "reindex writes a second copy of the index before it deletes the first")
    return Finding("free disk", "ok", text)


def _size(directory: Path) -> int:
    """Bytes of the files in ``directory``; a file renamed away meanwhile counts 0."""
    total = 0
    for path in directory.glob("*"):
        try:
            total += path.stat().st_size if path.is_file() else 0
        except FileNotFoundError:
            continue
    return total


def _existing(path: Path) -> Path:
    path = path.absolute()
    while not path.exists():
        path = path.parent
    return path


# -- model and index -----------------------------------------------------------------------
def index_findings(settings: Settings) -> list[Finding]:
    from index.generation import built_with
    from index.lifecycle import current_dir
    from index.modelzoo import ModelNotFound, resolve_model_path

    model = settings.embedding_model
    try:
        path = resolve_model_path(model)
        findings = [Finding("model", "ok", f"{model} at {path}")]
    except ModelNotFound as exc:
        findings = [Finding("model", "fail", str(exc), "run `make run` once (it installs "
                            "the model), or set NEWSBOT_EMBEDDING_MODEL")]
    if settings.database_url is None:
        data_dir = Path(settings.data_dir)
        live = current_dir(data_dir) if data_dir.is_dir() else None
        built = built_with(live) if live is not None else None
    else:
        reached, built = database_finding(settings.database_url.get_secret_value())
        findings.append(reached)
        if reached.status == "fail":
            return findings
    if built is None:
        return findings + [Finding("index", "ok", "empty: `newsbot run` indexes NEWSBOT_SOURCES "
                                   "(or the samples) at start; `newsbot ingest PATH|URL` adds")]
    if built[0] != model:
        return findings + [Finding(
            "index model", "fail", f"the index was embedded with {built[0]!r}, "
            f"NEWSBOT_EMBEDDING_MODEL is {model!r}",
            f"set NEWSBOT_EMBEDDING_MODEL={built[0]}, or run `newsbot reindex` to re-embed "
            "everything (long on a large archive)")]
    findings.append(Finding("index model", "ok", f"the index was embedded with {model!r}"))
    if findings[0].status == "fail":
        return findings
    return findings + [_consistency(settings)]


def _consistency(settings: Settings) -> Finding:
    from index import Index

    index = Index.open(settings)
    try:
        problems = index.check()
        stats = index.stats()
    finally:
        index.close()
    if problems:
        return Finding("index", "fail", "; ".join(problems),
                       "`newsbot reindex` rebuilds it from the stored articles")
    agree = ("PostgreSQL rows, HNSW index and full text agree" if settings.database_url
             else "FAISS, SQLite and FTS agree")
    return Finding("index", "ok", f"{stats.articles} articles, {stats.chunks} chunks; {agree}")


def database_finding(url: str) -> tuple[Finding, tuple[str, int] | None]:
    """Whether the database of ``NEWSBOT_DATABASE_URL`` answers and has pgvector, and the
    model and vector size of its live index (None when it has none yet). Reads only: the
    extension and tables are created by the first ``newsbot run``, not here."""
    import psycopg

    from bot.redact import describe, url_password, url_without_password
    from index.pgstore import LIVE_TABLE, built_with

    shown = url_without_password(url)
    fix = ("check NEWSBOT_DATABASE_URL (user, host, database, password) and that the "
           "server is running and accepts this user")
    try:
        with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
            vector = conn.execute("SELECT installed_version FROM pg_available_extensions "
                                  "WHERE name = 'vector'").fetchone()
            live = None
            if conn.execute("SELECT to_regclass(%s)", (f"public.{LIVE_TABLE}",)).fetchone()[0]:
                row = conn.execute(f"SELECT name FROM public.{LIVE_TABLE}").fetchone()
                live = row[0] if row else None
        built = built_with(url, live) if live is not None else None
    except psycopg.Error as exc:
        secrets = [password for password in [url_password(url)] if password]
        return Finding("database", "fail", f"{shown}: {describe(exc, secrets)}", fix), None
    if vector is None:
        return Finding("database", "fail", f"{shown}: the server has no pgvector extension",
                       "install pgvector on the server (its package for your PostgreSQL "
                       "version), then run `newsbot run` or `newsbot migrate`"), None
    version = f"pgvector {vector[0]}" if vector[0] else "pgvector available, not yet created"
    return Finding("database", "ok", f"{shown} answers; {version}"), built

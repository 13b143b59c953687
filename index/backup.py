"""Back up a data directory while the bot runs, and restore a backup into a fresh one.

A backup is a directory laid out like a data directory: ``CURRENT``, the live generation
(``gen-…/newsbot.sqlite`` and, when it could be copied, ``vectors.faiss``), the alert
state ``state.sqlite``, and a manifest. Each SQLite file is copied with SQLite's online
backup API, one consistent snapshot per file, while writers keep writing.

Order matters: the state database is copied *before* the index. Its alert cursor then
never points past the articles the index copy holds, so after a restore the matcher looks
at the newest articles again (the outbox's one-alert-per-story rule stops doubles) rather
than skipping articles the copy lacks. The vector file is optional: chunk ids are never
reused, so opening the restored generation adds what the copy lacks from SQLite's own
float16 vectors and drops what SQLite no longer holds, or rebuilds the file when absent.

A backup is written under a temporary name and renamed into place when complete, so a
directory named like a backup is always a whole one.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import sqlite3
from dataclasses import asdict, dataclass
from pathlib import Path

from index.alerts.statedb import STATE_NAME
from index.datalock import LOCK_NAME
from index.generation import SQLITE_NAME, VECTORS_NAME, Generation, built_with
from index.lifecycle import current_dir, point_current
from index.store import Store
from index.vectors import fsync_dir

MANIFEST = "newsbot-backup.json"
FORMAT = 1
ATTEMPTS = 3  # a reindex may retire the generation being copied: start over this often


class BackupError(RuntimeError):
    """A backup or restore cannot be made; the message says why and what to do."""


@dataclass(frozen=True, slots=True)
class BackupManifest:
    """What a backup holds (written as ``newsbot-backup.json`` beside it)."""

    format: int
    created_at: str  # ISO datetime, UTC
    generation: str  # the generation directory's name
    model: str
    articles: int
    chunks: int
    vectors: bool  # vectors.faiss copied (else rebuilt from SQLite on restore)
    state: bool  # state.sqlite copied (subscriptions, outbox, feed state)


@dataclass(frozen=True, slots=True)
class RestoreReport:
    manifest: BackupManifest
    vectors_rebuilt: bool  # the backup had no vector file: rebuilt from SQLite's vectors


def backup(data_dir: Path, dest: Path) -> BackupManifest:
    """Copy the live index and the alert state of ``data_dir`` into the new directory
    ``dest`` (which must not exist, or be empty). Safe while the bot or an ingest runs."""
    data_dir, dest = Path(data_dir), Path(dest)
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise BackupError(f"{dest} already exists and is not empty; choose a new directory")
    partial = dest.parent / f".{dest.name}.partial-{os.getpid()}"
    shutil.rmtree(partial, ignore_errors=True)
    try:
        manifest = _copy_live(data_dir, partial)
        (partial / MANIFEST).write_text(json.dumps(asdict(manifest), indent=1) + "\n")
        fsync_dir(partial)
        if dest.exists():
            dest.rmdir()  # empty (checked above); rename cannot replace it on every system
        os.replace(partial, dest)
        fsync_dir(dest.parent)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return manifest


def _copy_live(data_dir: Path, out: Path) -> BackupManifest:
    out.mkdir(parents=True)
    state = data_dir / STATE_NAME
    has_state = state.is_file()
    if has_state:
        snapshot(state, out / STATE_NAME)
    for _ in range(ATTEMPTS):
        live = current_dir(data_dir) if data_dir.is_dir() else None
        if live is None or not (live / SQLITE_NAME).is_file():
            raise BackupError(f"{data_dir} holds no live index (no valid CURRENT); run "
                              "`newsbot check` on it first, which repairs the pointer")
        copy = out / live.name
        shutil.rmtree(copy, ignore_errors=True)
        copy.mkdir()
        has_vectors = _copy_if_present(live / VECTORS_NAME, copy / VECTORS_NAME)
        try:
            snapshot(live / SQLITE_NAME, copy / SQLITE_NAME)
        except sqlite3.OperationalError:
            if live.exists():
                raise
            continue  # a reindex swapped generations and deleted this one: copy the new one
        break
    else:
        raise BackupError("the live generation kept changing (reindexing?); try again")
    built = built_with(copy)
    if built is None:
        raise BackupError(f"{live} is not a newsbot index")
    store = Store(copy / SQLITE_NAME)
    try:
        articles, chunks, _ = store.counts()
    finally:
        store.close()
    point_current(out, copy)
    return BackupManifest(FORMAT, dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                          live.name, built[0], articles, chunks, has_vectors, has_state)


def snapshot(src: Path, dst: Path) -> None:
    """A consistent copy of the SQLite database ``src`` taken with the online backup API
    (one read transaction, so writers are never blocked for long), fsynced. The source
    must exist: it is opened without being created."""
    source = sqlite3.connect(f"file:{src}?mode=rw", uri=True)
    try:
        source.execute("PRAGMA busy_timeout = 10000")
        target = sqlite3.connect(dst)
        try:
            source.backup(target)
        finally:
            target.close()
    finally:
        source.close()
    with open(dst, "rb") as fh:
        os.fsync(fh.fileno())


def _copy_if_present(src: Path, dst: Path) -> bool:
    """Copy a file that an atomic rename may replace meanwhile (the open file stays whole);
    False when it does not exist."""
    try:
        with open(src, "rb") as fin, open(dst, "wb") as fout:
            shutil.copyfileobj(fin, fout, 1 << 20)
            fout.flush()
            os.fsync(fout.fileno())
    except FileNotFoundError:
        return False
    return True


def read_manifest(src: Path) -> BackupManifest:
    path = Path(src) / MANIFEST
    try:
        data = json.loads(path.read_text())
        manifest = BackupManifest(**data)
    except FileNotFoundError:
        raise BackupError(f"{src} is not a newsbot backup (no {MANIFEST})") from None
    except (ValueError, TypeError) as exc:
        raise BackupError(f"{path} is damaged: {exc}") from None
    if manifest.format > FORMAT:
        raise BackupError(f"{src} was written by a newer newsbot (format {manifest.format})")
    return manifest


def restore(src: Path, data_dir: Path) -> RestoreReport:
    """Restore the backup ``src`` into ``data_dir``, which must be new or empty (only the
    data directory lock may exist). The generation is copied under a temporary name,
    renamed, opened (its vector file rebuilt from SQLite if the backup has none) and
    checked; ``CURRENT`` is written last, so an interrupted restore serves nothing."""
    src, data_dir = Path(src), Path(data_dir)
    manifest = read_manifest(src)
    generation = src / manifest.generation
    if not (generation / SQLITE_NAME).is_file():
        raise BackupError(f"{src} lacks {manifest.generation}/{SQLITE_NAME}")
    if data_dir.exists() and any(p.name != LOCK_NAME for p in data_dir.iterdir()):
        raise BackupError(f"{data_dir} is not empty; restore into a new directory and point "
                          "NEWSBOT_DATA_DIR at it")
    data_dir.mkdir(parents=True, exist_ok=True)
    staging = data_dir / f".restoring-{manifest.generation}"
    final = data_dir / manifest.generation
    try:
        shutil.copytree(generation, staging)
        os.replace(staging, final)
        rebuilt = not (final / VECTORS_NAME).exists()
        gen = Generation.open_as_built(final)  # adds/removes vectors to match SQLite
        try:
            problems = gen.check()
        finally:
            gen.close()
        if problems:
            raise BackupError(f"the restored index is inconsistent: {'; '.join(problems)}")
        if manifest.state:
            _copy_file(src / STATE_NAME, data_dir / STATE_NAME)
        fsync_dir(data_dir)
        point_current(data_dir, final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(final, ignore_errors=True)
        (data_dir / STATE_NAME).unlink(missing_ok=True)
        raise
    return RestoreReport(manifest, rebuilt)


def _copy_file(src: Path, dst: Path) -> None:
    """Copy beside ``dst`` then rename, so ``dst`` is whole or absent."""
    tmp = dst.with_name(dst.name + ".tmp")
    shutil.copyfile(src, tmp)
    with open(tmp, "rb") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, dst)

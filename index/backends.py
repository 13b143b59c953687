"""Where the index lives, chosen by the settings: SQLite + FAISS generations in the data
directory (the default), or PostgreSQL schemas when ``NEWSBOT_DATABASE_URL`` is set.

A backend knows which generation is live, opens it, builds a new one beside it and swaps
it in, removes retired ones, and keeps two rebuilds from running at once. ``Index`` uses
only this small surface (``Backend``), so the same code serves both.

PostgreSQL layout: each generation is a schema (``gen_<time>_<random>``) holding
``index.pgstore``'s tables; the one-row table ``public.newsbot_live`` names the live
schema. A rebuild fills a new schema and then, in one transaction, updates that row: every
process sees either the old or the new generation, never a mix. Only one process rebuilds
at a time: the rebuild holds a session advisory lock, which the server releases if the
process dies.
"""

from __future__ import annotations

import contextlib
import logging
import re
import shutil
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol

from index.embed import Embedder
from index.generation import Generation, ModelChanged, built_with
from index.lifecycle import (
    COMPLETE_META,
    SOURCES_META,
    STALE_GENERATION_SECONDS,
    NewGeneration,
    live_or_new,
    pointed_dir,
)
from index.pglocks import session_lock
from index.pgstore import LIVE_TABLE
from index.rebuild import reembed_stored
from index.settings import IndexSettings
from index.storage import IndexGeneration

if TYPE_CHECKING:
    import psycopg

log = logging.getLogger(__name__)

REBUILD_LOCK = "newsbot.index.rebuild"
WRITE_LOCK = "newsbot.index.write"
SETUP_LOCK = "newsbot.index.setup"
_PG_GENERATION = re.compile(r"^gen_(\d{20})_[0-9a-f]{6}$")


class Building(Protocol):
    """A generation being built beside the live one; a context manager that removes it
    when the block fails before ``publish``."""

    gen: IndexGeneration

    def __enter__(self) -> Building: ...

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None: ...

    def swapping(self) -> contextlib.AbstractContextManager[Any]:
        """The rebuild's last catch-up and ``publish`` run inside this: on PostgreSQL it
        holds the live pointer, so no other process's write falls between the two (and
        yields the swap's connection; None on SQLite)."""
        ...

    def publish(self, sources_json: str | None) -> IndexGeneration:
        """Make the new generation the live one (atomically)."""
        ...


class Backend(Protocol):
    def open_live(self, dim: int, model: str) -> IndexGeneration:
        """The live generation (a fresh, empty, live one when there is none); raises
        ``ModelChanged`` when it was embedded by another model."""
        ...

    def open_as_built(self) -> IndexGeneration | None:
        """The live generation opened with the model and vector size it records (no
        embedder needed), or None when there is none; nothing is created. For tools that
        copy or verify an index (``newsbot copy``)."""
        ...

    def live_name(self) -> str | None:
        """The live generation's name, cheaply (checked before every question to notice
        another process's swap)."""
        ...

    def open_named(self, name: str, dim: int, model: str) -> IndexGeneration:
        ...

    def reembed(self, settings: IndexSettings, embedder: Embedder, changed: ModelChanged,
                *, progress: bool = False) -> IndexGeneration:
        """Re-embed the live generation's articles with the configured model into a new
        generation and make it live (the model changed)."""
        ...

    def new_generation(self, dim: int, model: str) -> Building:
        ...

    def discard(self, gen: IndexGeneration) -> None:
        """Close a retired generation and delete it."""
        ...

    def rebuild_lock(self) -> contextlib.AbstractContextManager[bool]:
        """Held for a whole rebuild; yields False when another process holds it."""
        ...

    def write_lock(self) -> contextlib.AbstractContextManager[None]:
        """Held for a whole ingest: one writing process at a time, so an article that two
        processes ingest at once (the sources both read at start) is stored once."""
        ...

    def close(self) -> None:
        """Release what the backend holds itself (not the generations)."""
        ...


def backend_for(settings: IndexSettings) -> Backend:
    """PostgreSQL when ``database_url`` is set, else SQLite + FAISS in ``data_dir``."""
    if settings.database_url is not None:
        return PgBackend(settings.database_url.get_secret_value())
    return SqliteBackend(Path(settings.data_dir))


class SqliteBackend:
    """Generation directories in ``data_dir``, ``CURRENT`` naming the live one
    (``index.lifecycle``)."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir

    def open_live(self, dim: int, model: str) -> Generation:
        return Generation.open(live_or_new(self.data_dir), dim, model)

    def reembed(self, settings: IndexSettings, embedder: Embedder, changed: ModelChanged,
                *, progress: bool = False) -> Generation:
        return reembed_stored(settings, embedder, live_or_new(self.data_dir), changed,
                              progress=progress)

    def open_as_built(self) -> Generation | None:
        live = pointed_dir(self.data_dir)
        return Generation.open_as_built(live) if live and built_with(live) else None

    def live_name(self) -> str | None:
        live = pointed_dir(self.data_dir)
        return live.name if live is not None and live.exists() else None

    def open_named(self, name: str, dim: int, model: str) -> Generation:
        return Generation.open(self.data_dir / name, dim, model)

    def new_generation(self, dim: int, model: str) -> NewGeneration:
        return NewGeneration(self.data_dir, dim, model)

    def discard(self, gen: IndexGeneration) -> None:
        gen.close()
        if isinstance(gen, Generation):
            shutil.rmtree(gen.dir, ignore_errors=True)

    @contextlib.contextmanager
    def rebuild_lock(self) -> Iterator[bool]:
        """One process per data directory writes (``index.datalock``): nothing to hold."""
        yield True

    def write_lock(self) -> contextlib.AbstractContextManager[None]:
        """One process per data directory writes (``index.datalock``): nothing to hold."""
        return contextlib.nullcontext()

    def close(self) -> None:
        """Nothing held."""


class PgBackend:
    """Generation schemas in one PostgreSQL database (see the module docstring)."""

    def __init__(self, url: str) -> None:
        import psycopg

        self.url = url
        self._lock = threading.Lock()
        self._conn: psycopg.Connection | None = None  # for live_name
        try:
            with psycopg.connect(url, autocommit=True) as conn, conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (SETUP_LOCK,))
                conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
                conn.execute(f"CREATE TABLE IF NOT EXISTS public.{LIVE_TABLE} (one boolean "
                             "PRIMARY KEY DEFAULT true CHECK (one), name text NOT NULL)")
        except psycopg.Error as exc:
            raise RuntimeError(f"cannot use the database of NEWSBOT_DATABASE_URL: "
                               f"{str(exc).strip()}") from None

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def _connect(self) -> psycopg.Connection:
        import psycopg

        return psycopg.connect(self.url, autocommit=True)

    def open_as_built(self) -> IndexGeneration | None:
        from index.pgstore import built_with

        name = self.live_name()
        built = built_with(self.url, name) if name is not None else None
        return self.open_named(name, built[1], built[0]) if name and built else None

    def live_name(self) -> str | None:
        """One small query on a connection kept for it (asked before every question)."""
        import psycopg

        with self._lock:
            for attempt in (1, 2):
                try:
                    if self._conn is None or self._conn.closed:
                        self._conn = self._connect()
                    row = self._conn.execute(f"SELECT name FROM public.{LIVE_TABLE}").fetchone()
                    return row[0] if row else None
                except psycopg.OperationalError:  # a restarted server: connect again, once
                    self._conn = None
                    if attempt == 2:
                        raise
        return None

    def open_live(self, dim: int, model: str) -> IndexGeneration:
        from index.pggeneration import PgGeneration

        with self._connect() as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (SETUP_LOCK,))
            row = conn.execute(f"SELECT name FROM public.{LIVE_TABLE}").fetchone()
            if row is None:  # a new database: an empty generation, live from birth
                name = new_schema_name()
                gen = PgGeneration.open(self.url, name, dim, model)
                gen.store.set_meta(COMPLETE_META, "1")
                point_live(conn, name)
                gen.store.live_table = LIVE_TABLE
                return gen
        name = row[0]
        self._remove_abandoned(keep=name)
        return self.open_named(name, dim, model)

    def open_named(self, name: str, dim: int, model: str) -> IndexGeneration:
        from index.pggeneration import PgGeneration

        gen = PgGeneration.open(self.url, name, dim, model)
        gen.store.live_table = LIVE_TABLE  # its writes check it is still live
        return gen

    def reembed(self, settings: IndexSettings, embedder: Embedder, changed: ModelChanged,
                *, progress: bool = False) -> IndexGeneration:
        """Not yet on PostgreSQL (docs/postgres.md): the error says what happened."""
        raise changed

    def new_generation(self, dim: int, model: str) -> PgNewGeneration:
        return PgNewGeneration(self, dim, model)

    def discard(self, gen: IndexGeneration) -> None:
        gen.close()
        self.drop(gen.name)

    def drop(self, name: str) -> None:
        if _PG_GENERATION.match(name):
            with self._connect() as conn:
                conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')

    def _remove_abandoned(self, keep: str) -> None:
        """Drop generation schemas left by crashed rebuilds (old enough not to be one in
        progress), as ``index.lifecycle`` removes abandoned directories."""
        cutoff = int((time.time() - STALE_GENERATION_SECONDS) * 1_000_000)
        with self._connect() as conn:
            names = [r[0] for r in conn.execute(
                "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'gen\\_%'").fetchall()]
        for name in names:
            match = _PG_GENERATION.match(name)
            if name != keep and match and int(match.group(1)) < cutoff:
                log.info("dropping abandoned generation schema %s", name)
                self.drop(name)

    @contextlib.contextmanager
    def rebuild_lock(self) -> Iterator[bool]:
        """A session advisory lock on a connection of its own, held for the rebuild."""
        with self._connect() as conn, session_lock(conn, REBUILD_LOCK, wait=False) as got:
            yield got

    @contextlib.contextmanager
    def write_lock(self) -> Iterator[None]:
        """A session advisory lock on a connection of its own, waited for; the server
        releases it should the process die."""
        with self._connect() as conn, session_lock(conn, WRITE_LOCK, wait=True):
            yield


class PgNewGeneration:
    """A generation schema built beside the live one (``Building``)."""

    def __init__(self, backend: PgBackend, dim: int, model: str) -> None:
        from index.pggeneration import PgGeneration

        self.backend = backend
        self.gen = PgGeneration.open(backend.url, new_schema_name(), dim, model)
        self.published = False
        self._swap: psycopg.Connection | None = None

    def __enter__(self) -> PgNewGeneration:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        if kind is not None and not self.published:
            self.backend.discard(self.gen)

    @contextlib.contextmanager
    def swapping(self) -> Iterator[psycopg.Connection]:
        """One transaction that names this generation live first (the row lock makes other
        processes' writes to the old generation wait, and then be refused: ``PgStore.
        _check_live``), runs the block (the last catch-up, the checks, ``publish``) and
        commits: every write the old generation committed is caught up, none after. If
        the block fails, the pointer is left as it was. The block gets the transaction's
        connection: ``newsbot copy`` writes the alert state in it, so the copied state and
        index go live at one commit."""
        with self.backend._connect() as conn, conn.transaction():
            point_live(conn, self.gen.name)
            self._swap = conn
            try:
                yield conn
            finally:
                self._swap = None

    def publish(self, sources_json: str | None) -> IndexGeneration:
        """Mark complete, remember the sources, and name it live (inside ``swapping``, at
        its commit; otherwise in a transaction of its own)."""
        if self.gen.vectors_deferred:
            raise RuntimeError("a generation is published only after index_written")
        if sources_json:
            self.gen.store.set_meta(SOURCES_META, sources_json)
        self.gen.store.set_meta(COMPLETE_META, "1")
        if self._swap is None:
            with self.backend._connect() as conn, conn.transaction():
                point_live(conn, self.gen.name)
        self.gen.store.live_table = LIVE_TABLE
        self.published = True
        return self.gen


def point_live(conn: psycopg.Connection, name: str) -> None:
    """Name ``name`` the live generation (in the caller's transaction), whether or not one
    was named before (a database filled by a load has none)."""
    conn.execute(f"INSERT INTO public.{LIVE_TABLE} (name) VALUES (%s) ON CONFLICT (one) "
                 "DO UPDATE SET name = excluded.name", (name,))


def new_schema_name() -> str:
    """``gen_`` + microseconds since 1970 (creation order, and the age a cleanup reads) +
    a random suffix against two processes in the same microsecond."""
    return f"gen_{int(time.time() * 1_000_000):020d}_{uuid.uuid4().hex[:6]}"

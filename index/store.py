"""The SQLite side of the index: articles, chunks (with vectors), FTS5, metadata.

SQLite is the source of truth. Every write is one transaction, so an article never exists
without its chunks and a crash leaves the last committed state. One connection guarded by
a lock: queries are short, and WAL keeps readers and the writer out of each other's way.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from dataclasses import astuple, dataclass
from pathlib import Path

import numpy as np

from index.bm25 import TEXT_WEIGHT, TITLE_WEIGHT
from index.chunkdays import day_number
from index.migrations import connect, migrate, stored_version, transaction
from index.models import Article, Chunk, ChunkRow, SourceStats, StoredArticle
from index.normalize import search_title
from index.rows import ARTICLE_FIELDS, ArticleRecord, ChunkRecord, RowPage

# Vectors read at a time by whole-index passes (a FAISS build, the neighbour lists): 6 MB
# of float32 at 768-d, so a pass adds little beside the indexes it builds.
VECTOR_PAGE = 2_048
_ARTICLE_COLUMNS = (
    "id, ext_id, title, published_at, source, url, category, body, key, note, link_topics")


@dataclass(slots=True)
class PendingArticle:
    """An article ready to write: its hash, chunks and their vectors."""

    article: Article
    body_hash: str
    chunks: list[Chunk]
    vectors: np.ndarray | None = None
    replaces: int | None = None  # rowid of the older version this one replaces


def iso(value: dt.date | dt.datetime | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.replace(microsecond=0).isoformat()
    return value.isoformat()


def utcnow() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0, tzinfo=None).isoformat()


class Store:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock = threading.RLock()
        self.conn = connect(path)
        self.schema_was = stored_version(self.conn)
        self.schema_version = migrate(self.conn)

    def close(self) -> None:
        with self.lock:
            self.conn.close()

    @staticmethod
    def peek(path: Path, flag: str) -> tuple[bool, int]:
        """(meta ``flag`` is set, article count) of a database file, read without writing
        to it (no migration, read-only): for choosing among generations on disk.
        Raises ``sqlite3.Error`` for an unreadable file."""
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
            row = conn.execute("SELECT value FROM meta WHERE key = ?", (flag,)).fetchone()
            articles = conn.execute("SELECT count(*) FROM articles").fetchone()[0]
        return row is not None, int(articles)

    def data_version(self) -> int:
        """Changes whenever another connection (e.g. a CLI ingest) commits to this file."""
        with self.lock:
            return int(self.conn.execute("PRAGMA data_version").fetchone()[0])

    # -- metadata ---------------------------------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        with self.lock:
            row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        with self.lock:
            self.conn.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    # -- dedup lookups ----------------------------------------------------------------------
    def has_hash(self, body_hash: str) -> bool:
        with self.lock:
            row = self.conn.execute(
                "SELECT 1 FROM articles WHERE body_hash = ?", (body_hash,)
            ).fetchone()
        return row is not None

    def find_key(self, key: str) -> int | None:
        with self.lock:
            row = self.conn.execute("SELECT id FROM articles WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    # -- writes -----------------------------------------------------------------------------
    def write_batch(self, batch: Sequence[PendingArticle]) -> tuple[list[int], list[int]]:
        """Store ``batch`` in one transaction; return (new chunk ids, removed chunk ids).

        Chunk ids are in the order of ``batch`` and of each article's chunks, matching the
        rows of the stacked vectors.
        """
        new_ids: list[int] = []
        removed: list[int] = []
        now = utcnow()
        with transaction(self.conn, self.lock) as cur:
            for item in batch:
                if item.replaces is not None:
                    removed.extend(self._delete_article(cur, item.replaces))
                a = item.article
                cur.execute(
                    "INSERT INTO articles (ext_id, key, body_hash, title, published_at, "
                    "source, url, category, body, origin, note, ingested_at, link_topics) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (a.id, a.key, item.body_hash, a.title, iso(a.published_at), a.source,
                     a.url, a.category, a.body, a.origin, a.note, now, a.link_topics),
                )
                article_id = cur.lastrowid
                assert item.vectors is not None and len(item.vectors) == len(item.chunks)
                for chunk, vector in zip(item.chunks, item.vectors, strict=True):
                    cur.execute(
                        "INSERT INTO chunks (article_id, ordinal, start, end, text, vector) "
                        "VALUES (?, ?, ?, ?, ?, ?)",
                        (article_id, chunk.ordinal, chunk.start, chunk.end, chunk.text,
                         vector.astype(np.float16).tobytes()),
                    )
                    chunk_id = cur.lastrowid
                    assert chunk_id is not None
                    cur.execute(
                        "INSERT INTO chunks_fts (rowid, title, text) VALUES (?, ?, ?)",
                        (chunk_id, search_title(a.title, a.link_topics), chunk.text),
                    )
                    new_ids.append(chunk_id)
            cur.execute(
                "INSERT INTO meta (key, value) VALUES ('last_ingest', ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (now,),
            )
        return new_ids, removed

    def _delete_article(self, cur: sqlite3.Cursor, article_id: int) -> list[int]:
        ids = [r[0] for r in cur.execute(
            "SELECT id FROM chunks WHERE article_id = ?", (article_id,))]
        self._forget_neighbours(ids)
        cur.executemany("DELETE FROM chunks_fts WHERE rowid = ?", [(i,) for i in ids])
        cur.execute("DELETE FROM chunks WHERE article_id = ?", (article_id,))
        cur.execute("DELETE FROM articles WHERE id = ?", (article_id,))
        return ids

    def delete_articles(self, article_ids: Sequence[int]) -> list[int]:
        """Delete these articles with their chunks, FTS rows and neighbour entries in one
        transaction (all or nothing); return the removed chunk ids, for the vector file."""
        ids = [int(a) for a in article_ids]
        if not ids:
            return []
        with transaction(self.conn, self.lock) as cur:
            gone: list[int] = []
            for part in _parts(ids):
                marks = ",".join("?" * len(part))
                gone += [r[0] for r in cur.execute(
                    f"SELECT id FROM chunks WHERE article_id IN ({marks})", part)]
            self._forget_neighbours(gone)
            cur.executemany("DELETE FROM chunks_fts WHERE rowid = ?", [(i,) for i in gone])
            for part in _parts(ids):
                marks = ",".join("?" * len(part))
                cur.execute(f"DELETE FROM chunks WHERE article_id IN ({marks})", part)
                cur.execute(f"DELETE FROM articles WHERE id IN ({marks})", part)
        return gone

    def article_ids_from(self, source: str) -> list[int]:
        """Ids of the articles of one outlet (``source`` exactly as ``sources()`` lists it)."""
        with self.lock:
            rows = self.conn.execute(
                "SELECT id FROM articles WHERE source = ? ORDER BY id", (source,)).fetchall()
        return [r[0] for r in rows]

    def article_ids_with_hashes(self, body_hashes: Sequence[str]) -> list[int]:
        """Ids of the articles whose normalized body has one of these hashes."""
        rows = self._rows_in("SELECT id FROM articles WHERE body_hash IN ({marks})",
                             list(body_hashes))
        return sorted(r[0] for r in rows)

    def article_ids_before(self, day: dt.date) -> list[int]:
        """Ids of the articles published before ``day``; an undated article counts from the
        day it was ingested (its only known age)."""
        with self.lock:
            rows = self.conn.execute(
                "SELECT id FROM articles WHERE coalesce(published_at, ingested_at) < ? "
                "ORDER BY id", (day.isoformat(),)).fetchall()
        return [r[0] for r in rows]

    # -- reads ------------------------------------------------------------------------------
    def chunk_ids(self) -> np.ndarray:
        """Every chunk id, ascending, read row by row into the array: a list of row tuples
        first peaks at ~90 MB at 1M chunks (a rebuild asks beside two indexes, ``check``)."""
        with self.lock:
            cur = self.conn.execute("SELECT id FROM chunks ORDER BY id")
            return np.fromiter((r[0] for r in cur), dtype=np.int64)

    def iter_vectors(self, ids: Sequence[int] | None = None, batch: int = 10_000
                     ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """(ids, float32 vectors) in batches: all chunks, or only ``ids``."""
        if ids is None:
            last = 0
            while True:
                with self.lock:
                    rows = self.conn.execute(
                        "SELECT id, vector FROM chunks WHERE id > ? ORDER BY id LIMIT ?",
                        (last, batch),
                    ).fetchall()
                if not rows:
                    return
                last = rows[-1][0]
                yield _unpack(rows)
        else:
            for part in _parts(ids, batch):
                rows = self._rows_in("SELECT id, vector FROM chunks WHERE id IN ({marks})", part)
                if rows:
                    yield _unpack(rows)

    def chunks(self, ids: Sequence[int]) -> dict[int, ChunkRow]:
        rows = self._rows_in(
            "SELECT id, article_id, start, end, text FROM chunks WHERE id IN ({marks})", ids)
        return {r[0]: ChunkRow(*r) for r in rows}

    def article_chunks(self, article_id: int) -> list[ChunkRow]:
        with self.lock:
            rows = self.conn.execute(
                "SELECT id, article_id, start, end, text FROM chunks WHERE article_id = ? "
                "ORDER BY ordinal", (article_id,)).fetchall()
        return [ChunkRow(*r) for r in rows]

    def articles(self, ids: Sequence[int]) -> dict[int, StoredArticle]:
        rows = self._rows_in(
            f"SELECT {_ARTICLE_COLUMNS} FROM articles WHERE id IN ({{marks}})", ids)
        return {r[0]: StoredArticle(*r) for r in rows}

    def articles_by_ext_id(self, ext_ids: Sequence[str]) -> dict[str, StoredArticle]:
        """Stored articles by the id their source gave them (evaluation reads gold passages)."""
        rows = self._rows_in(
            f"SELECT {_ARTICLE_COLUMNS} FROM articles WHERE ext_id IN ({{marks}})",
            [str(e) for e in ext_ids])
        return {r[1]: StoredArticle(*r) for r in rows}

    def keyword_search(self, match: str, limit: int) -> list[tuple[int, int, float]]:
        """(chunk id, article id, bm25) for an FTS5 MATCH expression; lower bm25 = better."""
        with self.lock:
            rows = self.conn.execute(
                "SELECT f.rowid, c.article_id, "
                f"bm25(chunks_fts, {TITLE_WEIGHT}, {TEXT_WEIGHT}) AS score "
                "FROM chunks_fts AS f JOIN chunks AS c ON c.id = f.rowid "
                "WHERE chunks_fts MATCH ? ORDER BY score LIMIT ?",
                (match, limit),
            ).fetchall()
        return [(r[0], r[1], r[2]) for r in rows]

    @staticmethod
    def chunk_days_text(path: Path, undated: int) -> str:
        """Every chunk's id and its article's publication day (days since 1970, ``undated``
        when none) as one space-separated string built inside SQLite: parsing it with numpy
        holds the GIL far shorter than fetching a row tuple per chunk. Read on its own
        read-only connection, so a background thread can run it beside the questions."""
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
        try:
            return conn.execute(
                "SELECT group_concat(c.id || ' ' || coalesce(CAST(julianday(substr("
                "a.published_at, 1, 10)) - 2440587.5 AS INTEGER), ?), ' ') "
                "FROM chunks AS c JOIN articles AS a ON a.id = c.article_id",
                (undated,)).fetchone()[0] or ""
        finally:
            conn.close()

    def term_counts(self, terms: list[str], cap: int) -> dict[str, int]:
        """Chunks matching each term as an FTS5 phrase, counted up to ``cap`` (a ``LIMIT``-ed
        match costs at most ``cap`` postings however common the word is)."""
        out = {}
        with self.lock:
            for term in terms:
                phrase = '"' + term.replace('"', "") + '"'
                out[term] = int(self.conn.execute(
                    "SELECT count(*) FROM (SELECT rowid FROM chunks_fts "
                    "WHERE chunks_fts MATCH ? LIMIT ?)", (phrase, cap)).fetchone()[0])
        return out

    def counts(self) -> tuple[int, int, int]:
        """(articles, chunks, sources)."""
        with self.lock:
            a = self.conn.execute("SELECT count(*) FROM articles").fetchone()[0]
            c = self.conn.execute("SELECT count(*) FROM chunks").fetchone()[0]
            s = self.conn.execute("SELECT count(DISTINCT source) FROM articles").fetchone()[0]
        return a, c, s

    def fts_count(self) -> int:
        with self.lock:
            return self.conn.execute("SELECT count(*) FROM chunks_fts").fetchone()[0]

    def sources(self) -> list[SourceStats]:
        with self.lock:
            rows = self.conn.execute(
                "SELECT source, count(*), min(published_at), max(published_at) FROM articles "
                "GROUP BY source ORDER BY count(*) DESC, source").fetchall()
        return [SourceStats(*r) for r in rows]

    def latest(self, limit: int, ids: Sequence[int] | None = None) -> list[StoredArticle]:
        """The newest ``limit`` articles (undated last), of all or only of ``ids``."""
        if ids is not None:
            rows = self._rows_in(
                f"SELECT {_ARTICLE_COLUMNS} FROM articles WHERE id IN ({{marks}})", ids)
            articles = [StoredArticle(*r) for r in rows]
            articles.sort(key=lambda a: a.rowid, reverse=True)
            articles.sort(key=lambda a: a.published_at or "", reverse=True)
            articles.sort(key=lambda a: a.published_at is None)
            return articles[:limit]
        with self.lock:
            rows = self.conn.execute(
                f"SELECT {_ARTICLE_COLUMNS} FROM articles "
                "ORDER BY published_at IS NULL, published_at DESC, id DESC LIMIT ?",
                (limit,)).fetchall()
        return [StoredArticle(*r) for r in rows]

    def chunk_articles(self, chunk_ids: Sequence[int]) -> dict[int, int]:
        """chunk id → article id."""
        return dict(self._rows_in(
            "SELECT id, article_id FROM chunks WHERE id IN ({marks})", chunk_ids))

    def _rows_in(self, sql: str, ids: Sequence[int] | Sequence[str]) -> list[tuple]:
        """Rows of ``sql``, whose ``{marks}`` is an ``IN`` list of ``ids`` (run in parts:
        SQLite caps the parameters of one statement)."""
        rows: list[tuple] = []
        for part in _parts(ids):
            with self.lock:
                rows.extend(self.conn.execute(
                    sql.format(marks=",".join("?" * len(part))), part).fetchall())
        return rows

    def chunk_ids_of(self, article_ids: Sequence[int]) -> dict[int, list[int]]:
        """article id → its chunk ids."""
        out: dict[int, list[int]] = {int(a): [] for a in article_ids}
        if not out:
            return out
        rows = self._rows_in(
            "SELECT article_id, id FROM chunks WHERE article_id IN ({marks})", list(out))
        for article_id, chunk_id in rows:
            out[article_id].append(chunk_id)
        return out

    def chunk_ids_published(self, start: dt.date | None, end: dt.date | None) -> np.ndarray:
        """Ids of chunks whose article was published within [start, end] (inclusive)."""
        clauses, params = [], []
        if start is not None:
            clauses.append("a.published_at >= ?")
            params.append(start.isoformat())
        if end is not None:
            clauses.append("a.published_at < ?")
            params.append((end + dt.timedelta(days=1)).isoformat())
        where = " AND ".join(clauses) or "a.published_at IS NOT NULL"
        with self.lock:
            rows = self.conn.execute(
                f"SELECT c.id FROM chunks AS c JOIN articles AS a ON a.id = c.article_id "
                f"WHERE {where}", params).fetchall()
        return np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))

    def published_dates(self, article_ids: Sequence[int]) -> dict[int, dt.date | None]:
        rows = self._rows_in(
            "SELECT id, published_at FROM articles WHERE id IN ({marks})", article_ids)
        return {a: (dt.date.fromisoformat(p[:10]) if p else None) for a, p in rows}

    # -- neighbour lists (index.hubness) ----------------------------------------------------
    def neighbour_sims(self, chunk_ids: Sequence[int]) -> dict[int, np.ndarray]:
        """chunk id → similarities to its nearest neighbours in other stories, best first."""
        rows = self._rows_in(
            "SELECT chunk_id, sims FROM neighbours WHERE chunk_id IN ({marks})", chunk_ids)
        return {c: np.frombuffer(b, dtype=np.float16).astype(np.float32) for c, b in rows}

    def neighbour_lists(self, chunk_ids: Sequence[int]) -> dict[int, Neighbours]:
        """chunk id → (neighbour chunk ids, their similarities), best first."""
        rows = self._rows_in(
            "SELECT chunk_id, ids, sims FROM neighbours WHERE chunk_id IN ({marks})", chunk_ids)
        return {c: (np.frombuffer(i, dtype=np.int64),
                    np.frombuffer(b, dtype=np.float16).astype(np.float32)) for c, i, b in rows}

    def put_neighbours(self, own: dict[int, Neighbours], merged: dict[int, Neighbours],
                       keep: int) -> None:
        """Write the lists in ``own`` (whole) and merge the entries in ``merged`` into the
        lists those chunks already have (a chunk without one is left for the backfill),
        keeping the best ``keep`` — one entry per neighbour; one transaction."""
        current = self.neighbour_lists(list(merged))
        updates = []
        for chunk, (ids, sims) in merged.items():
            if chunk in current:
                old_ids, old_sims = current[chunk]
                updates.append((*_pack(np.concatenate([old_ids, ids]),
                                       np.concatenate([old_sims, sims]), keep), chunk))
        with transaction(self.conn, self.lock) as cur:
            cur.executemany(
                "INSERT OR REPLACE INTO neighbours (chunk_id, ids, sims) "
                "SELECT ?, ?, ? WHERE EXISTS (SELECT 1 FROM chunks WHERE id = ?)",
                [(c, *_pack(ids, sims, keep), c) for c, (ids, sims) in own.items()])
            cur.executemany("UPDATE neighbours SET ids = ?, sims = ? WHERE chunk_id = ?",
                            updates)

    def _forget_neighbours(self, gone: list[int]) -> None:
        """Take chunks about to be deleted out of the lists of the chunks they list (within
        the caller's transaction), so a replaced article's old version is not counted twice
        by its neighbours. A list holding a deleted chunk that did not hold it back keeps
        the entry until the next rebuild."""
        if not gone:
            return
        listed = self.neighbour_lists(gone)
        near = {int(i) for ids, _ in listed.values() for i in ids} - set(gone)
        updates = []
        for chunk, (ids, sims) in self.neighbour_lists(sorted(near)).items():
            stay = ~np.isin(ids, gone)
            if not stay.all():
                updates.append((ids[stay].tobytes(), sims[stay].astype(np.float16).tobytes(),
                                chunk))
        self.conn.executemany("UPDATE neighbours SET ids = ?, sims = ? WHERE chunk_id = ?",
                              updates)

    def replace_neighbour_lists(self, rows: Sequence[tuple[int, np.ndarray, np.ndarray]]
                                ) -> None:
        """Write whole neighbour lists ((chunk id, neighbour ids, similarities), best
        first, at most ``keep`` already) in one transaction, packed as ``put_neighbours``
        stores them."""
        packed = [(int(c), np.asarray(ids, dtype=np.int64).tobytes(),
                   np.asarray(sims, dtype=np.float16).tobytes()) for c, ids, sims in rows]
        with transaction(self.conn, self.lock) as cur:
            cur.executemany(
                "INSERT OR REPLACE INTO neighbours (chunk_id, ids, sims) VALUES (?, ?, ?)",
                packed)

    def chunk_article_table(self) -> tuple[np.ndarray, np.ndarray]:
        """Every chunk id (ascending) and its article id, as two arrays."""
        with self.lock:
            cur = self.conn.execute("SELECT id, article_id FROM chunks ORDER BY id")
            table = np.fromiter(cur, dtype=np.dtype([("c", np.int64), ("a", np.int64)]))
        return table["c"].copy(), table["a"].copy()

    def article_days(self) -> tuple[np.ndarray, np.ndarray]:
        """Every article id (ascending) and its publication day (``day_number``: days since
        1970, ``UNDATED`` when none), read row by row into two arrays: the rows and their
        date strings as a list first cost ~75 MB at 1M chunks."""
        with self.lock:
            cur = self.conn.execute("SELECT id, published_at FROM articles ORDER BY id")
            table = np.fromiter(((a, day_number(p)) for a, p in cur),
                                dtype=np.dtype([("a", np.int64), ("d", np.int64)]))
        return table["a"].copy(), table["d"].copy()

    def chunks_without_neighbours(self) -> np.ndarray:
        with self.lock:
            rows = self.conn.execute(
                "SELECT id FROM chunks WHERE id NOT IN (SELECT chunk_id FROM neighbours) "
                "ORDER BY id").fetchall()
        return np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))

    # -- alerts: new articles and their vectors ----------------------------------------------
    def max_article_id(self) -> int:
        with self.lock:
            return int(self.conn.execute("SELECT coalesce(max(id), 0) FROM articles").fetchone()[0])

    def articles_after(self, last_id: int, limit: int = 200) -> list[StoredArticle]:
        """Articles with an id above ``last_id``, oldest first: what an alert matcher has
        not seen yet. (New articles get higher ids; only a new version replacing the
        newest article can take over its id.)"""
        with self.lock:
            rows = self.conn.execute(
                f"SELECT {_ARTICLE_COLUMNS} FROM articles WHERE id > ? ORDER BY id LIMIT ?",
                (last_id, limit)).fetchall()
        return [StoredArticle(*r) for r in rows]

    def iter_articles(self, after: int = 0, upto: int | None = None, *,
                      page: int = 500) -> Iterator[StoredArticle]:
        """Articles with ``after < id <= upto`` (all above ``after`` when ``upto`` is None),
        in id order, read ``page`` rows at a time: a rebuild of millions of articles holds
        one page in memory, not the whole store."""
        last = after
        while True:
            rows = self.articles_after(last, limit=page)
            for article in rows:
                if upto is not None and article.rowid > upto:
                    return
                yield article
            if len(rows) < page:
                return
            last = rows[-1].rowid

    def articles_published_since(self, day: dt.date, limit: int = 5000) -> list[StoredArticle]:
        """Articles published on or after ``day``, in id order (fresh news after a rebuild)."""
        with self.lock:
            rows = self.conn.execute(
                f"SELECT {_ARTICLE_COLUMNS} FROM articles WHERE published_at >= ? "
                "ORDER BY id LIMIT ?", (day.isoformat(), limit)).fetchall()
        return [StoredArticle(*r) for r in rows]

    def article_vectors(self, article_id: int) -> tuple[list[ChunkRow], np.ndarray]:
        """An article's chunks in order with their vectors, read from SQLite (the source of
        truth), so callers need neither FAISS nor its lock."""
        with self.lock:
            rows = self.conn.execute(
                "SELECT id, article_id, start, end, text, vector FROM chunks "
                "WHERE article_id = ? ORDER BY ordinal", (article_id,)).fetchall()
        chunks = [ChunkRow(*r[:5]) for r in rows]
        if not rows:
            return chunks, np.zeros((0, 0), dtype=np.float32)
        return chunks, _unpack([(r[0], r[5]) for r in rows])[1]


    # -- whole rows, ids included (``newsbot copy``, ``index.copy``) ------------------------
    def meta_items(self) -> dict[str, str]:
        """Every metadata key and value."""
        with self.lock:
            return dict(self.conn.execute("SELECT key, value FROM meta").fetchall())

    def neighbour_count(self) -> int:
        """Chunks with a neighbour list."""
        with self.lock:
            return int(self.conn.execute("SELECT count(*) FROM neighbours").fetchone()[0])

    def dump_rows(self, after: int, limit: int) -> RowPage:
        """Up to ``limit`` articles with an id above ``after``, as stored, with their chunks,
        vectors (float32 of the stored float16) and neighbour lists."""
        with self.lock:
            articles = [ArticleRecord(*r) for r in self.conn.execute(
                f"SELECT {ARTICLE_FIELDS} FROM articles WHERE id > ? ORDER BY id LIMIT ?",
                (after, limit)).fetchall()]
            if not articles:
                return RowPage([], [], np.zeros((0, 0), dtype=np.float32))
            rows = self.conn.execute(
                'SELECT id, article_id, ordinal, start, "end", text, vector FROM chunks '
                "WHERE article_id BETWEEN ? AND ? ORDER BY id",
                (articles[0].id, articles[-1].id)).fetchall()
        chunks = [ChunkRecord(*r[:6]) for r in rows]
        vectors = (_unpack([(r[0], r[6]) for r in rows])[1] if rows
                   else np.zeros((0, 0), dtype=np.float32))
        lists = self.neighbour_lists([c.id for c in chunks])
        return RowPage(articles, chunks, vectors,
                       [(c, *lists[c]) for c in sorted(lists)])

    def load_rows(self, page: RowPage) -> None:
        """Write ``page`` with its ids as they are (an empty generation a copy fills), FTS
        rows and neighbour lists included; one transaction."""
        by_id = {a.id: a for a in page.articles}
        with transaction(self.conn, self.lock) as cur:
            cur.executemany(
                f"INSERT INTO articles ({ARTICLE_FIELDS}) VALUES "
                f"({', '.join(['?'] * len(ARTICLE_FIELDS.split(',')))})",
                [astuple(a) for a in page.articles])
            vectors = np.asarray(page.vectors, dtype=np.float32).astype(np.float16)
            cur.executemany(
                'INSERT INTO chunks (id, article_id, ordinal, start, "end", text, vector) '
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(c.id, c.article_id, c.ordinal, c.start, c.end, c.text, v.tobytes())
                 for c, v in zip(page.chunks, vectors, strict=True)])
            cur.executemany(
                "INSERT INTO chunks_fts (rowid, title, text) VALUES (?, ?, ?)",
                [(c.id, search_title(by_id[c.article_id].title,
                                     by_id[c.article_id].link_topics), c.text)
                 for c in page.chunks])
            cur.executemany(
                "INSERT INTO neighbours (chunk_id, ids, sims) VALUES (?, ?, ?)",
                [(int(c), np.asarray(ids, dtype=np.int64).tobytes(),
                  np.asarray(sims, dtype=np.float16).tobytes())
                 for c, ids, sims in page.neighbours])


Neighbours = tuple[np.ndarray, np.ndarray]  # (chunk ids int64, similarities float32)


def best_neighbours(ids: np.ndarray, sims: np.ndarray, keep: int) -> Neighbours:
    """A neighbour list as every backend stores it: best first, each neighbour once (its
    best), ``keep`` at most."""
    ids = np.asarray(ids, dtype=np.int64)
    sims = np.asarray(sims, dtype=np.float32)
    order = np.argsort(-sims, kind="stable")
    ids, sims = ids[order], sims[order]
    _, first = np.unique(ids, return_index=True)
    chosen = np.sort(first)[:keep]
    return ids[chosen], sims[chosen]


def _pack(ids: np.ndarray, sims: np.ndarray, keep: int) -> tuple[bytes, bytes]:
    """``best_neighbours`` as SQLite stores it: ids int64, similarities float16."""
    ids, sims = best_neighbours(ids, sims, keep)
    return ids.tobytes(), sims.astype(np.float16).tobytes()


def _parts(values: Sequence[int] | Sequence[str], size: int = 10_000
           ) -> Iterator[list[int | str]]:
    """``values`` as lists short enough for one ``IN (...)`` (SQLite caps parameters); ids
    become plain ints (numpy's are not SQLite parameters), text stays text."""
    values = [v if isinstance(v, str) else int(v) for v in values]
    for start in range(0, len(values), size):
        yield values[start:start + size]


def _unpack(rows: list[tuple[int, bytes]]) -> tuple[np.ndarray, np.ndarray]:
    ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
    vecs = np.stack([np.frombuffer(r[1], dtype=np.float16) for r in rows]).astype(np.float32)
    return ids, vecs

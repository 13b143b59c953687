"""The PostgreSQL side of the index: the ``IndexStore`` and ``NeighbourStore`` of
``index.storage`` on a server that
several processes share, with the vectors in the database (pgvector) instead of a FAISS file.

- Vectors: a ``vector(dim)`` column under an HNSW index with inner-product ops (the vectors
  are unit length, so the inner product is the cosine). ``nearest`` answers a vector query,
  the job ``index.vectors.VectorIndex.search`` does beside the SQLite store.
- Full text: ``chunks_fts``, a ``tsvector`` per chunk (search title weighted A, text B) under
  GIN, cut, folded and stemmed as FTS5's tokenizer does and ranked by FTS5's bm25
  (``index.pgfts``; docs/postgres.md has the measured parity).
- Writes: one transaction each, as in SQLite; every write also updates ``store_state``
  (a write count, so ``data_version`` tells another process that something was committed,
  and the chunk and token counts bm25's idf and average length need without a scan).

One connection guarded by a lock, as ``index.store.Store`` does; a pool for many threads is
part of the wiring still to come (docs/postgres.md).
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections.abc import Iterator, Sequence
from dataclasses import astuple

import numpy as np
import psycopg
from pgvector import Vector
from pgvector.psycopg import register_vector

from index import pgfts
from index.chunkdays import day_number
from index.models import ChunkRow, SourceStats, StoredArticle
from index.normalize import search_title
from index.pgmigrations import build_vector_index, migrate, stored_version
from index.rows import ARTICLE_FIELDS, ArticleRecord, ChunkRecord, RowPage
from index.store import Neighbours, PendingArticle, best_neighbours, iso, utcnow

ARTICLE_COLUMNS = (
    "id, ext_id, title, published_at, source, url, category, body, key, note, link_topics")
CHUNK_COLUMNS = 'id, article_id, start, "end", text'
# HNSW candidate lists (pgvector's ``hnsw.ef_search``, raised to k for larger queries). A
# question's search needs recall, so it reads more candidates than pgvector's default;
# ingest's neighbour lists ask many rows at once and tolerate a near miss, so they keep the
# default. The measured recall by value is in docs/postgres.md ("The HNSW graph").
QUESTION_EF_SEARCH = 400
NEIGHBOUR_EF_SEARCH = 40

LIVE_TABLE = "newsbot_live"  # public.newsbot_live names the live generation (index.backends)
SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")  # unquoted-safe, so never injected
_QUOTED = re.compile(r'"([^"]*)"')


class GenerationRetired(RuntimeError):
    """A write to a generation another process has replaced (a reindex swapped in a new
    one): refused, nothing written; the writer switches to the live one and writes again."""


class QuerySyntaxError(ValueError):
    """A keyword query that is not an OR of double-quoted terms."""


def quoted_terms(match: str) -> list[str]:
    """The terms of an OR-query of double-quoted terms (what ``index.search.fts_query``
    builds), e.g. ``"gwadar" OR "port"`` → ``["gwadar", "port"]``. Anything else is refused
    rather than half-understood."""
    terms = _QUOTED.findall(match)
    rest = _QUOTED.sub("", match).replace(" OR ", " ").strip()
    if rest or not terms:
        raise QuerySyntaxError(f"not an OR-query of quoted terms: {match!r}")
    return [t for t in terms if t.strip()]


class PgStore:
    """The index's rows in one PostgreSQL database (see the module docstring)."""

    def __init__(self, url: str, dim: int, schema: str | None = None) -> None:
        """Open (creating and migrating) the index in ``url``'s database: in the schema
        ``schema`` (one generation's table set, created if missing), or wherever the
        connection's search path puts new tables when it is None."""
        self.url = url
        self.dim = dim
        self.schema = schema
        # Set once this schema is the live generation: each article write then first checks
        # that it still is (``_check_live``), so no write lands in a retired generation.
        self.live_table: str | None = None
        self.lock = threading.RLock()
        self.conn = self._connect()
        try:
            self.schema_was = stored_version(self.conn)
            self.schema_version = migrate(self.conn, dim)
            stored = self._column_dim()
            if stored != dim:
                raise ValueError(f"this database holds {stored}-dimensional vectors; "
                                 f"the embedding model makes {dim}")
        except BaseException:
            self.conn.close()
            raise

    def _connect(self) -> psycopg.Connection:
        """An autocommit connection whose search path is this store's schema, then
        ``public`` (where the ``vector`` type lives)."""
        if self.schema is not None and not SCHEMA_NAME.match(self.schema):
            raise ValueError(f"not a generation schema name: {self.schema!r}")
        conn = psycopg.connect(self.url, autocommit=True)
        try:
            if self.schema is not None:
                conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"')
                conn.execute(f'SET search_path TO "{self.schema}", public')
            register_vector(conn)  # numpy arrays travel as pgvector's binary format
        except BaseException:
            conn.close()
            raise
        return conn

    def _column_dim(self) -> int:
        return int(self.conn.execute(
            "SELECT atttypmod FROM pg_attribute "
            "WHERE attrelid = 'chunks'::regclass AND attname = 'vector'").fetchone()[0])

    def close(self) -> None:
        with self.lock:
            self.conn.close()

    def data_version(self) -> int:
        with self.lock:
            return int(self.conn.execute("SELECT writes FROM store_state").fetchone()[0])

    # -- metadata ---------------------------------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        with self.lock:
            row = self.conn.execute("SELECT value FROM meta WHERE key = %s", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        with self.lock, self.conn.transaction():
            self._put_meta(key, value)
            self._bump()

    def _put_meta(self, key: str, value: str) -> None:
        self.conn.execute(
            "INSERT INTO meta (key, value) VALUES (%s, %s) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value", (key, value))

    def _check_live(self) -> None:
        """In the caller's write transaction: wait for a swap in progress, then refuse if
        this schema is no longer the live generation. ``FOR SHARE`` on the pointer row: a
        swap's ``UPDATE`` of it waits for writes under way, and writes that start meanwhile
        wait for the swap to commit and then see the new name."""
        if self.live_table is None:
            return
        row = self.conn.execute(
            f"SELECT name FROM public.{self.live_table} FOR SHARE").fetchone()
        if row is None or row[0] != self.schema:
            raise GenerationRetired(f"generation {self.schema} was replaced by "
                                    f"{row[0] if row else 'nothing'}; nothing was written")

    def _bump(self, chunks: int = 0, tokens: int = 0) -> None:
        """Count a write (and the chunks and keyword tokens it added, negative for removed
        ones), in the caller's transaction."""
        self.conn.execute("UPDATE store_state SET writes = writes + 1, chunks = chunks + %s, "
                          "tokens = tokens + %s", (chunks, tokens))

    # -- dedup lookups ----------------------------------------------------------------------
    def has_hash(self, body_hash: str) -> bool:
        with self.lock:
            return self.conn.execute(
                "SELECT 1 FROM articles WHERE body_hash = %s", (body_hash,)).fetchone() is not None

    def find_key(self, key: str) -> int | None:
        with self.lock:
            row = self.conn.execute("SELECT id FROM articles WHERE key = %s", (key,)).fetchone()
        return row[0] if row else None

    # -- writes -----------------------------------------------------------------------------
    def write_batch(self, batch: Sequence[PendingArticle]) -> tuple[list[int], list[int]]:
        new_ids: list[int] = []
        removed: list[int] = []
        now = utcnow()
        for item in batch:
            if item.vectors is None or len(item.vectors) != len(item.chunks):
                raise ValueError(f"article {item.article.id!r}: {len(item.chunks)} chunks but "
                                 f"{0 if item.vectors is None else len(item.vectors)} vectors")
        with self.lock, self.conn.transaction():
            self._check_live()
            cur = self.conn.cursor()
            replaced = [item.replaces for item in batch if item.replaces is not None]
            tokens_removed = 0
            if replaced:
                gone, tokens_removed = self._delete(cur, replaced)
                removed.extend(gone)
            cur.executemany(
                "INSERT INTO articles (ext_id, key, body_hash, title, published_at, "
                "source, url, category, body, origin, note, ingested_at, link_topics) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
                [(a.id, a.key, item.body_hash, a.title, iso(a.published_at), a.source,
                  a.url, a.category, a.body, a.origin, a.note, now, a.link_topics)
                 for item in batch for a in [item.article]], returning=True)
            article_ids = []
            while True:
                article_ids.extend(r[0] for r in cur.fetchall())
                if not cur.nextset():
                    break
            # Chunks by binary COPY (vectors in pgvector's binary form); their ids, assigned
            # by the identity column, are read back in batch and chunk order.
            texts: list[tuple[int, str, str]] = []  # (article id, search title, text)
            with cur.copy('COPY chunks (article_id, ordinal, start, "end", text, search_title, '
                          "vector) FROM STDIN WITH (FORMAT BINARY)") as copy:
                copy.set_types(["int8", "int4", "int4", "int4", "text", "text", "vector"])
                for article_id, item in zip(article_ids, batch, strict=True):
                    title = search_title(item.article.title, item.article.link_topics)
                    vectors = np.asarray(item.vectors, dtype=np.float32)
                    for c, v in zip(item.chunks, vectors, strict=True):
                        copy.write_row((article_id, c.ordinal, c.start, c.end, c.text, title, v))
                        texts.append((article_id, title, c.text))
            new_ids = [r[0] for r in cur.execute(
                "SELECT id FROM chunks WHERE article_id = ANY(%s::bigint[]) "
                "ORDER BY array_position(%s::bigint[], article_id), ordinal",
                (article_ids, article_ids)).fetchall()]
            params, tokens = pgfts.fts_rows(
                [(c, *t) for c, t in zip(new_ids, texts, strict=True)])
            cur.execute(pgfts.INSERT_ROWS, params)
            self._put_meta("last_ingest", now)
            self._bump(len(new_ids) - len(removed), tokens - tokens_removed)
        return new_ids, removed

    def _delete(self, cur: psycopg.Cursor, article_ids: list[int]) -> tuple[list[int], int]:
        """Delete articles (their chunks and keyword rows go by the foreign keys' cascade) in
        the caller's transaction; return the removed chunk ids and their keyword tokens."""
        rows = cur.execute(
            "SELECT c.id, coalesce(f.tokens, 0) FROM chunks AS c "
            "LEFT JOIN chunks_fts AS f ON f.chunk_id = c.id "
            "WHERE c.article_id = ANY(%s::bigint[]) ORDER BY c.id", (article_ids,)).fetchall()
        gone = [r[0] for r in rows]
        self._forget_neighbours(cur, gone)
        cur.execute("DELETE FROM articles WHERE id = ANY(%s::bigint[])", (article_ids,))
        return gone, sum(r[1] for r in rows)

    def delete_articles(self, article_ids: Sequence[int]) -> list[int]:
        ids = [int(a) for a in article_ids]
        if not ids:
            return []
        with self.lock, self.conn.transaction():
            self._check_live()
            gone, tokens = self._delete(self.conn.cursor(), ids)
            self._bump(-len(gone), -tokens)
        return gone

    def article_ids_from(self, source: str) -> list[int]:
        return self._ids("SELECT id FROM articles WHERE source = %s ORDER BY id", (source,))

    def article_ids_with_hashes(self, body_hashes: Sequence[str]) -> list[int]:
        return self._ids("SELECT id FROM articles WHERE body_hash = ANY(%s::text[]) ORDER BY id",
                         ([str(h) for h in body_hashes],))

    def article_ids_before(self, day: dt.date) -> list[int]:
        return self._ids("SELECT id FROM articles WHERE coalesce(published_at, ingested_at) < %s "
                         "ORDER BY id", (day.isoformat(),))

    def _ids(self, sql: str, params: tuple) -> list[int]:
        with self.lock:
            return [r[0] for r in self.conn.execute(sql, params).fetchall()]

    # -- chunks and vectors -----------------------------------------------------------------
    def chunk_ids(self) -> np.ndarray:
        return np.asarray(self._ids("SELECT id FROM chunks ORDER BY id", ()), dtype=np.int64)

    def iter_vectors(self, ids: Sequence[int] | None = None, batch: int = 10_000
                     ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        if ids is None:
            last = 0
            while True:
                with self.lock:
                    rows = self.conn.cursor(binary=True).execute(
                        "SELECT id, vector FROM chunks WHERE id > %s ORDER BY id "
                        "LIMIT %s", (last, batch)).fetchall()
                if not rows:
                    return
                last = rows[-1][0]
                yield _unpack(rows)
            return
        wanted = [int(i) for i in ids]
        for start in range(0, len(wanted), batch):
            with self.lock:
                rows = self.conn.cursor(binary=True).execute(
                    "SELECT id, vector FROM chunks WHERE id = ANY(%s::bigint[]) "
                    "ORDER BY id", (wanted[start:start + batch],)).fetchall()
            if rows:
                yield _unpack(rows)

    def chunks(self, ids: Sequence[int]) -> dict[int, ChunkRow]:
        rows = self._rows(f"SELECT {CHUNK_COLUMNS} FROM chunks WHERE id = ANY(%s::bigint[])",
                          (_int_list(ids),))
        return {r[0]: ChunkRow(*r) for r in rows}

    def article_chunks(self, article_id: int) -> list[ChunkRow]:
        rows = self._rows(f"SELECT {CHUNK_COLUMNS} FROM chunks WHERE article_id = %s "
                          "ORDER BY ordinal", (int(article_id),))
        return [ChunkRow(*r) for r in rows]

    def chunk_articles(self, chunk_ids: Sequence[int]) -> dict[int, int]:
        return dict(self._rows("SELECT id, article_id FROM chunks WHERE id = ANY(%s::bigint[])",
                               (_int_list(chunk_ids),)))

    def chunk_ids_of(self, article_ids: Sequence[int]) -> dict[int, list[int]]:
        out: dict[int, list[int]] = {int(a): [] for a in article_ids}
        if not out:
            return out
        for article_id, chunk_id in self._rows(
                "SELECT article_id, id FROM chunks WHERE article_id = ANY(%s::bigint[]) "
                "ORDER BY article_id, ordinal", (list(out),)):
            out[article_id].append(chunk_id)
        return out

    def article_vectors(self, article_id: int) -> tuple[list[ChunkRow], np.ndarray]:
        with self.lock:
            rows = self.conn.cursor(binary=True).execute(
                f"SELECT {CHUNK_COLUMNS}, vector FROM chunks WHERE article_id = %s "
                "ORDER BY ordinal", (int(article_id),)).fetchall()
        chunks = [ChunkRow(*r[:5]) for r in rows]
        if not rows:
            return chunks, np.zeros((0, 0), dtype=np.float32)
        return chunks, _unpack([(r[0], r[5]) for r in rows])[1]

    def nearest(self, vector: np.ndarray, k: int, *, restrict: np.ndarray | None = None
                ) -> tuple[np.ndarray, np.ndarray]:
        """(chunk ids, cosines) of the ``k`` nearest chunks, best first: through the HNSW
        index, or exactly among ``restrict`` (a date window), where a filtered approximate
        search could return fewer than ``k``."""
        query = np.asarray(vector, dtype=np.float32).ravel()
        with self.lock, self.conn.transaction():
            if restrict is None:
                self.conn.execute("SELECT set_config('hnsw.ef_search', %s, true)",
                                  (str(max(QUESTION_EF_SEARCH, k)),))
                rows = self.conn.execute(
                    "SELECT id, -(vector <#> %b) FROM chunks ORDER BY vector <#> %b LIMIT %s",
                    (query, query, k)).fetchall()
            else:
                rows = self.conn.execute(
                    "WITH allowed AS MATERIALIZED (SELECT id, vector FROM chunks "
                    "WHERE id = ANY(%s::bigint[])) "
                    "SELECT id, -(vector <#> %b) AS score FROM allowed "
                    "ORDER BY score DESC, id LIMIT %s",
                    (_int_list(restrict), query, k)).fetchall()
        return (np.asarray([r[0] for r in rows], dtype=np.int64),
                np.asarray([r[1] for r in rows], dtype=np.float32))

    def nearest_many(self, vectors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """For each row of ``vectors``, the ``k`` nearest chunks through the HNSW index:
        (ids, cosines) arrays of shape (rows, k), best first, padded with id -1 and -inf.
        One round trip for all rows (ingest asks this for every new chunk)."""
        vectors = np.atleast_2d(np.asarray(vectors, dtype=np.float32))
        ids = np.full((len(vectors), k), -1, dtype=np.int64)
        sims = np.full((len(vectors), k), -np.inf, dtype=np.float32)
        if not len(vectors) or k <= 0:
            return ids, sims
        with self.lock, self.conn.transaction():
            self.conn.execute("SELECT set_config('hnsw.ef_search', %s, true)",
                              (str(max(NEIGHBOUR_EF_SEARCH, k)),))
            rows = self.conn.execute(
                "SELECT q.row - 1, n.id, n.score FROM unnest(%s::vector[]) WITH ORDINALITY "
                "AS q(v, row) CROSS JOIN LATERAL (SELECT id, -(vector <#> q.v) AS score "
                "FROM chunks ORDER BY vector <#> q.v LIMIT %s) AS n "
                "ORDER BY q.row, n.score DESC, n.id", (list(vectors), k)).fetchall()
        filled = np.zeros(len(vectors), dtype=np.int64)
        for row, chunk, score in rows:
            ids[row, filled[row]] = chunk
            sims[row, filled[row]] = score
            filled[row] += 1
        return ids, sims

    # -- articles ---------------------------------------------------------------------------
    def articles(self, ids: Sequence[int]) -> dict[int, StoredArticle]:
        rows = self._rows(f"SELECT {ARTICLE_COLUMNS} FROM articles WHERE id = ANY(%s::bigint[])",
                          (_int_list(ids),))
        return {r[0]: StoredArticle(*r) for r in rows}

    def articles_by_ext_id(self, ext_ids: Sequence[str]) -> dict[str, StoredArticle]:
        rows = self._rows(
            f"SELECT {ARTICLE_COLUMNS} FROM articles WHERE ext_id = ANY(%s::text[])",
            ([str(e) for e in ext_ids],))
        return {r[1]: StoredArticle(*r) for r in rows}

    def latest(self, limit: int, ids: Sequence[int] | None = None) -> list[StoredArticle]:
        where, params = "", ()
        if ids is not None:
            where, params = "WHERE id = ANY(%s::bigint[]) ", (_int_list(ids),)
        rows = self._rows(
            f"SELECT {ARTICLE_COLUMNS} FROM articles {where}"
            "ORDER BY published_at IS NULL, published_at DESC, id DESC LIMIT %s",
            (*params, limit))
        return [StoredArticle(*r) for r in rows]

    def max_article_id(self) -> int:
        with self.lock:
            return int(self.conn.execute(
                "SELECT coalesce(max(id), 0) FROM articles").fetchone()[0])

    def articles_after(self, last_id: int, limit: int = 200) -> list[StoredArticle]:
        rows = self._rows(f"SELECT {ARTICLE_COLUMNS} FROM articles WHERE id > %s "
                          "ORDER BY id LIMIT %s", (int(last_id), limit))
        return [StoredArticle(*r) for r in rows]

    def iter_articles(self, after: int = 0, upto: int | None = None, *,
                      page: int = 500) -> Iterator[StoredArticle]:
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

    def articles_published_since(self, day: dt.date, limit: int = 5000
                                 ) -> list[StoredArticle]:
        rows = self._rows(f"SELECT {ARTICLE_COLUMNS} FROM articles WHERE published_at >= %s "
                          "ORDER BY id LIMIT %s", (day.isoformat(), limit))
        return [StoredArticle(*r) for r in rows]

    # -- keyword search ---------------------------------------------------------------------
    def keyword_search(self, match: str, limit: int) -> list[tuple[int, int, float]]:
        """Chunks holding any of the terms, by FTS5's bm25 (lower = better; ``index.pgfts``)."""
        terms = quoted_terms(match)
        with self.lock:
            return pgfts.keyword_search(self.conn, terms, limit)

    def term_counts(self, terms: list[str], cap: int) -> dict[str, int]:
        with self.lock:
            return pgfts.term_counts(self.conn, [t.replace('"', "") for t in terms], cap)

    def fts_count(self) -> int:
        with self.lock:
            return int(self.conn.execute(
                "SELECT count(*) FROM chunks_fts").fetchone()[0])

    # -- dates ------------------------------------------------------------------------------
    def chunk_ids_published(self, start: dt.date | None, end: dt.date | None) -> np.ndarray:
        clauses, params = [], []
        if start is not None:
            clauses.append("a.published_at >= %s")
            params.append(start.isoformat())
        if end is not None:
            clauses.append("a.published_at < %s")
            params.append((end + dt.timedelta(days=1)).isoformat())
        where = " AND ".join(clauses) or "a.published_at IS NOT NULL"
        rows = self._rows(f"SELECT c.id FROM chunks AS c JOIN articles AS a "
                          f"ON a.id = c.article_id WHERE {where} ORDER BY c.id", tuple(params))
        return np.asarray([r[0] for r in rows], dtype=np.int64)

    def published_dates(self, article_ids: Sequence[int]) -> dict[int, dt.date | None]:
        rows = self._rows("SELECT id, published_at FROM articles WHERE id = ANY(%s::bigint[])",
                          (_int_list(article_ids),))
        return {a: (dt.date.fromisoformat(p[:10]) if p else None) for a, p in rows}

    # -- counts -----------------------------------------------------------------------------
    def counts(self) -> tuple[int, int, int]:
        with self.lock:
            row = self.conn.execute(
                "SELECT (SELECT count(*) FROM articles), (SELECT count(*) FROM chunks), "
                "(SELECT count(DISTINCT source) FROM articles)").fetchone()
        return int(row[0]), int(row[1]), int(row[2])

    def sources(self) -> list[SourceStats]:
        rows = self._rows("SELECT source, count(*), min(published_at), max(published_at) "
                          "FROM articles GROUP BY source ORDER BY count(*) DESC, source", ())
        return [SourceStats(*r) for r in rows]

    # -- neighbour lists (index.hubness) ----------------------------------------------------
    def neighbour_sims(self, chunk_ids: Sequence[int]) -> dict[int, np.ndarray]:
        rows = self._rows("SELECT chunk_id, sims FROM neighbours "
                          "WHERE chunk_id = ANY(%s::bigint[])", (_int_list(chunk_ids),))
        return {c: np.asarray(s, dtype=np.float32) for c, s in rows}

    def neighbour_lists(self, chunk_ids: Sequence[int]) -> dict[int, Neighbours]:
        rows = self._rows("SELECT chunk_id, ids, sims FROM neighbours "
                          "WHERE chunk_id = ANY(%s::bigint[])", (_int_list(chunk_ids),))
        return {c: (np.asarray(i, dtype=np.int64), np.asarray(s, dtype=np.float32))
                for c, i, s in rows}

    def put_neighbours(self, own: dict[int, Neighbours], merged: dict[int, Neighbours],
                       keep: int) -> None:
        """As ``index.store.Store.put_neighbours``: ``own`` written whole (for chunks that
        still exist), ``merged`` merged into existing lists only; one transaction."""
        with self.lock, self.conn.transaction():
            current = self.neighbour_lists(list(merged))
            updates = []
            for chunk, (ids, sims) in merged.items():
                if chunk in current:
                    old_ids, old_sims = current[chunk]
                    best = best_neighbours(np.concatenate([old_ids, ids]),
                                           np.concatenate([old_sims, sims]), keep)
                    updates.append((*_arrays(best), int(chunk)))
            cur = self.conn.cursor()
            if own:
                cur.executemany(
                    "INSERT INTO neighbours (chunk_id, ids, sims) "
                    "SELECT id, %s::bigint[], %s::real[] FROM chunks WHERE id = %s "
                    "ON CONFLICT (chunk_id) DO UPDATE SET ids = excluded.ids, "
                    "sims = excluded.sims",
                    [(*_arrays(best_neighbours(ids, sims, keep)), int(c))
                     for c, (ids, sims) in own.items()])
            if updates:
                cur.executemany("UPDATE neighbours SET ids = %s::bigint[], sims = %s::real[] "
                                "WHERE chunk_id = %s", updates)
            self._bump()

    def _forget_neighbours(self, cur: psycopg.Cursor, gone: list[int]) -> None:
        """Take chunks about to be deleted out of the lists of the chunks they list (in the
        caller's transaction), as ``index.store.Store`` does."""
        if not gone:
            return
        listed = self.neighbour_lists(gone)
        near = {int(i) for ids, _ in listed.values() for i in ids} - set(gone)
        updates = []
        for chunk, (ids, sims) in self.neighbour_lists(sorted(near)).items():
            stay = ~np.isin(ids, gone)
            if not stay.all():
                updates.append((*_arrays((ids[stay], sims[stay])), chunk))
        if updates:
            cur.executemany("UPDATE neighbours SET ids = %s::bigint[], sims = %s::real[] "
                            "WHERE chunk_id = %s", updates)

    def chunks_without_neighbours(self) -> np.ndarray:
        return np.asarray(self._ids(
            "SELECT c.id FROM chunks AS c WHERE NOT EXISTS "
            "(SELECT 1 FROM neighbours AS n WHERE n.chunk_id = c.id) ORDER BY c.id", ()),
            dtype=np.int64)

    def replace_neighbour_lists(self, rows: Sequence[tuple[int, np.ndarray, np.ndarray]]
                                ) -> None:
        """Write whole neighbour lists ((chunk id, neighbour ids, similarities), best
        first), in one transaction: what a rebuild's ``hubness.record_all`` writes."""
        with self.lock, self.conn.transaction():
            self.conn.cursor().executemany(
                "INSERT INTO neighbours (chunk_id, ids, sims) VALUES (%s, %s::bigint[], "
                "%s::real[]) ON CONFLICT (chunk_id) DO UPDATE SET ids = excluded.ids, "
                "sims = excluded.sims",
                [(int(c), *_arrays((ids, sims))) for c, ids, sims in rows])
            self._bump()

    def chunk_article_table(self) -> tuple[np.ndarray, np.ndarray]:
        """Every chunk id (ascending) and its article id, as two arrays."""
        rows = self._rows("SELECT id, article_id FROM chunks ORDER BY id", ())
        table = np.asarray(rows, dtype=np.int64).reshape(-1, 2)
        return table[:, 0].copy(), table[:, 1].copy()

    def article_days(self) -> tuple[np.ndarray, np.ndarray]:
        """Every article id (ascending) and its publication day (``day_number``)."""
        rows = self._rows("SELECT id, published_at FROM articles ORDER BY id", ())
        return (np.asarray([r[0] for r in rows], dtype=np.int64),
                np.asarray([day_number(r[1]) for r in rows], dtype=np.int64))

    # -- what a generation needs beside the rows ---------------------------------------
    def chunk_count(self) -> int:
        """Chunks stored, as every write keeps it (no ``count(*)``)."""
        with self.lock:
            return int(self.conn.execute("SELECT chunks FROM store_state").fetchone()[0])

    def token_totals(self) -> tuple[int, int]:
        """The keyword side's summed token count (bm25's avgdl · N) as every write keeps it,
        and as the rows hold it (a scan: for ``check``, not per question)."""
        with self.lock:
            kept, counted = self.conn.execute(
                "SELECT tokens, (SELECT coalesce(sum(tokens), 0) FROM chunks_fts) "
                "FROM store_state").fetchone()
        return int(kept), int(counted)

    def chunk_days_text(self, undated: int) -> str:
        """Every chunk's id and its article's publication day (days since 1970, ``undated``
        when none), one space-separated string built in the server, as
        ``index.store.Store.chunk_days_text`` gives it; on a connection of its own, so a
        background thread reads it beside the questions."""
        with self._connect() as conn:
            return conn.execute(
                "SELECT string_agg(c.id || ' ' || coalesce((substr(a.published_at, 1, 10)"
                "::date - date '1970-01-01')::text, %s), ' ') "
                "FROM chunks AS c JOIN articles AS a ON a.id = c.article_id",
                (str(undated),)).fetchone()[0] or ""

    def disk_bytes(self) -> int:
        """Bytes of this store's tables with their indexes and TOAST."""
        with self.lock:
            return int(self.conn.execute(
                "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class AS c "
                "WHERE c.relkind = 'r' AND c.relnamespace = current_schema()::regnamespace"
            ).fetchone()[0])

    def drop_vector_index(self) -> None:
        """Drop the HNSW index (a bulk load then writes rows only; ``create_vector_index``
        builds it once, which is far faster than growing it row by row)."""
        with self.lock:
            self.conn.execute("DROP INDEX IF EXISTS chunks_vector")

    def vector_index_valid(self) -> bool:
        """Whether this schema's HNSW index exists and is valid (a failed build leaves an
        invalid one behind)."""
        rows = self._rows(
            "SELECT i.indisvalid FROM pg_index AS i JOIN pg_class AS c ON c.oid = "
            "i.indexrelid WHERE c.relname = 'chunks_vector' "
            "AND c.relnamespace = current_schema()::regnamespace", ())
        return bool(rows and rows[0][0])

    def create_vector_index(self) -> None:
        """Build the HNSW index over the rows written (``pgmigrations.build_vector_index``:
        the graph options every schema has since migration 4)."""
        with self.lock, self.conn.transaction():
            build_vector_index(self.conn)

    # -- whole rows, ids included (``newsbot copy``, ``index.copy``) ------------------------
    def meta_items(self) -> dict[str, str]:
        """Every metadata key and value."""
        return dict(self._rows("SELECT key, value FROM meta", ()))

    def neighbour_count(self) -> int:
        """Chunks with a neighbour list."""
        return int(self._rows("SELECT count(*) FROM neighbours", ())[0][0])

    def dump_rows(self, after: int, limit: int) -> RowPage:
        """Up to ``limit`` articles with an id above ``after``, as stored, with their chunks,
        float32 vectors and neighbour lists."""
        articles = [ArticleRecord(*r) for r in self._rows(
            f"SELECT {ARTICLE_FIELDS} FROM articles WHERE id > %s ORDER BY id LIMIT %s",
            (int(after), limit))]
        if not articles:
            return RowPage([], [], np.zeros((0, 0), dtype=np.float32))
        with self.lock:
            rows = self.conn.cursor(binary=True).execute(
                'SELECT id, article_id, ordinal, start, "end", text, vector FROM chunks '
                "WHERE article_id BETWEEN %s AND %s ORDER BY id",
                (articles[0].id, articles[-1].id)).fetchall()
        chunks = [ChunkRecord(*r[:6]) for r in rows]
        vectors = (_unpack([(r[0], r[6]) for r in rows])[1] if rows
                   else np.zeros((0, 0), dtype=np.float32))
        lists = self.neighbour_lists([c.id for c in chunks])
        return RowPage(articles, chunks, vectors, [(c, *lists[c]) for c in sorted(lists)])

    def load_rows(self, page: RowPage) -> None:
        """Write ``page`` with its ids as they are (an empty generation a copy fills), then
        move the id sequences past them; one transaction."""
        by_id = {a.id: a for a in page.articles}
        with self.lock, self.conn.transaction():
            self._check_live()
            cur = self.conn.cursor()
            cur.executemany(
                f"INSERT INTO articles ({ARTICLE_FIELDS}) OVERRIDING SYSTEM VALUE VALUES "
                f"({', '.join(['%s'] * len(ARTICLE_FIELDS.split(',')))})",
                [astuple(a) for a in page.articles])
            with cur.copy('COPY chunks (id, article_id, ordinal, start, "end", text, '
                          "search_title, vector) FROM STDIN WITH (FORMAT BINARY)") as copy:
                copy.set_types(["int8", "int8", "int4", "int4", "int4", "text", "text",
                                "vector"])
                vectors = np.asarray(page.vectors, dtype=np.float32)
                texts: list[tuple[int, int, str, str]] = []  # the keyword rows' input
                for c, v in zip(page.chunks, vectors, strict=True):
                    a = by_id[c.article_id]
                    title = search_title(a.title, a.link_topics)
                    copy.write_row((c.id, c.article_id, c.ordinal, c.start, c.end, c.text,
                                    title, v))
                    texts.append((c.id, c.article_id, title, c.text))
            params, tokens = pgfts.fts_rows(texts)
            cur.execute(pgfts.INSERT_ROWS, params)
            if page.neighbours:
                cur.executemany(
                    "INSERT INTO neighbours (chunk_id, ids, sims) VALUES "
                    "(%s, %s::bigint[], %s::real[])",
                    [(int(c), *_arrays((ids, sims))) for c, ids, sims in page.neighbours])
            for table in ("articles", "chunks"):
                cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                            f"(SELECT coalesce(max(id), 0) + 1 FROM {table}), false)")
            self._bump(len(page.chunks), tokens)

    def _rows(self, sql: str, params: tuple) -> list[tuple]:
        with self.lock:
            return self.conn.execute(sql, params).fetchall()


def built_with(url: str, schema: str) -> tuple[str, int] | None:
    """The embedding model and vector size the generation in ``schema`` records (None when
    it records none), read without opening (or creating) the store."""
    if not SCHEMA_NAME.match(schema):
        raise ValueError(f"not a generation schema name: {schema!r}")
    with psycopg.connect(url, autocommit=True) as conn:
        try:
            meta = dict(conn.execute(f'SELECT key, value FROM "{schema}".meta '
                                     "WHERE key IN ('model', 'dim')").fetchall())
        except psycopg.errors.UndefinedTable:
            return None
    if "model" not in meta or "dim" not in meta:
        return None
    return meta["model"], int(meta["dim"])


def _int_list(ids: Sequence[int] | np.ndarray) -> list[int]:
    return [int(i) for i in ids]


def _arrays(neighbours: Neighbours) -> tuple[list[int], list[float]]:
    """A neighbour list as query parameters (bigint[] and real[])."""
    ids, sims = neighbours
    return [int(i) for i in ids], [float(x) for x in sims]


def _unpack(rows: list[tuple[int, Vector]]) -> tuple[np.ndarray, np.ndarray]:
    ids = np.asarray([r[0] for r in rows], dtype=np.int64)
    return ids, np.stack([r[1].to_numpy() for r in rows]).astype(np.float32, copy=False)

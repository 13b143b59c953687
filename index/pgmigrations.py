"""Numbered schema migrations of the PostgreSQL index (``index.pgstore``), applied the way
``index.migrations`` applies SQLite's: in order, each in its own transaction, the number of
the last one recorded, a database newer than this code refused.

Postgres has no ``user_version``, so the number lives in ``schema_version``. Several
processes may open the same database at once: each migration step holds a transaction-level
advisory lock and re-reads the number under it, so a step runs exactly once.

A migration is a SQL text whose ``{dim}`` is the vector size (a pgvector column and its
index are typed by it), or a function of the connection for a step SQL alone cannot do (one
that needs Python's text folding). Append new migrations at the end; never edit one that
has shipped.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import psycopg

from index.pgfts import INSERT_ROWS, fts_rows, text_config_sql

Migration = str | Callable[[psycopg.Connection], None]
FILL_BATCH = 2_000  # chunks folded and written per statement when migration 3 fills chunks_fts
# The HNSW graph of chunk vectors (pgvector's defaults are m 16, ef_construction 64). A
# denser graph keeps recall on tightly clustered stories, at several times the build and
# insert cost; the measured choice is in docs/postgres.md ("The HNSW graph"). Changing
# these needs a new migration that rebuilds the index, as 4 does.
HNSW_M = 48
HNSW_EF_CONSTRUCTION = 256
HNSW_BUILD_MEMORY = "1GB"  # maintenance_work_mem of a whole-table HNSW build (~100k 768-d)


def build_vector_index(conn: psycopg.Connection) -> None:
    """Build ``chunks_vector`` over the rows of the current schema, in the caller's
    transaction, with ``HNSW_BUILD_MEMORY`` (pgvector builds far faster while the graph fits
    in it). Used by migration 4 and by a bulk load's ``PgStore.create_vector_index``."""
    conn.execute("SELECT set_config('maintenance_work_mem', %s, true)", (HNSW_BUILD_MEMORY,))
    conn.execute(f"CREATE INDEX IF NOT EXISTS chunks_vector ON chunks USING hnsw "
                 f"(vector vector_ip_ops) WITH (m = {int(HNSW_M)}, "
                 f"ef_construction = {int(HNSW_EF_CONSTRUCTION)})")


def _denser_graph(conn: psycopg.Connection) -> None:
    """4: the HNSW index rebuilt with ``HNSW_M`` and ``HNSW_EF_CONSTRUCTION`` (it was built
    with pgvector's defaults). On a stored index this reads every vector once and takes
    minutes per 100k chunks (docs/postgres.md), while other processes wait for the
    migration lock."""
    conn.execute("DROP INDEX IF EXISTS chunks_vector")
    build_vector_index(conn)


def _keyword_rows(conn: psycopg.Connection) -> None:
    """3: keyword search as FTS5 ranks it (``index.pgfts``): the text configuration (Porter,
    no stop words), ``chunks_fts`` with each chunk's folded tsvector and token count, filled
    from the chunks already stored, the summed token count in ``store_state``; the old
    ``chunks.tsv`` (``english``, no diacritics fold) dropped."""
    types = [r[0] for r in conn.execute(
        "SELECT alias FROM ts_token_type('default') WHERE alias <> 'blank' ORDER BY tokid")]
    for statement in text_config_sql(types):
        conn.execute(statement)
    conn.execute("""
        CREATE TABLE chunks_fts (
            chunk_id bigint PRIMARY KEY REFERENCES chunks (id) ON DELETE CASCADE,
            article_id bigint NOT NULL,
            tokens integer NOT NULL,  -- |D|: the words of the search title and the text
            tsv tsvector NOT NULL     -- search title weighted A, text B
        )""")
    last, total = 0, 0
    while True:
        rows = conn.execute(
            "SELECT id, article_id, search_title, text FROM chunks WHERE id > %s "
            "ORDER BY id LIMIT %s", (last, FILL_BATCH)).fetchall()
        if not rows:
            break
        params, tokens = fts_rows(rows)
        conn.execute(INSERT_ROWS, params)
        total += tokens
        last = rows[-1][0]
    conn.execute("CREATE INDEX chunks_fts_tsv ON chunks_fts USING gin (tsv)")
    conn.execute("ALTER TABLE store_state ADD COLUMN tokens bigint NOT NULL DEFAULT 0")
    conn.execute("UPDATE store_state SET tokens = %s", (total,))
    conn.execute("DROP INDEX chunks_tsv")
    conn.execute("ALTER TABLE chunks DROP COLUMN tsv")

MIGRATIONS: list[Migration] = [
    # 1: articles, chunks with float vectors (HNSW, inner product = cosine on unit vectors)
    # and a weighted tsvector (title A, text B) under GIN, metadata, and one row counting
    # committed writes (data_version) and chunks (the N of the keyword ranking's idf).
    """
    CREATE TABLE meta (key text PRIMARY KEY, value text NOT NULL);
    CREATE TABLE store_state (one boolean PRIMARY KEY DEFAULT true CHECK (one),
                              writes bigint NOT NULL, chunks bigint NOT NULL);
    INSERT INTO store_state (writes, chunks) VALUES (0, 0);
    CREATE TABLE articles (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        ext_id text NOT NULL,
        key text UNIQUE,
        body_hash text NOT NULL UNIQUE,
        title text NOT NULL,
        published_at text,
        source text NOT NULL,
        url text,
        category text,
        body text NOT NULL,
        origin text NOT NULL DEFAULT '',
        note text,
        ingested_at text NOT NULL,
        link_topics text NOT NULL DEFAULT ''
    );
    CREATE INDEX articles_published ON articles (published_at);
    CREATE INDEX articles_source ON articles (source);
    CREATE TABLE chunks (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        article_id bigint NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
        ordinal integer NOT NULL,
        start integer NOT NULL,
        "end" integer NOT NULL,
        text text NOT NULL,
        search_title text NOT NULL,
        vector vector({dim}) NOT NULL,
        tsv tsvector GENERATED ALWAYS AS (
            setweight(to_tsvector('english', search_title), 'A')
            || setweight(to_tsvector('english', text), 'B')) STORED
    );
    CREATE INDEX chunks_article ON chunks (article_id);
    CREATE INDEX chunks_tsv ON chunks USING gin (tsv);
    CREATE INDEX chunks_vector ON chunks USING hnsw (vector vector_ip_ops);
    """,
    # 2: each chunk's similarities to its nearest neighbours in other stories (index.hubness).
    """
    CREATE TABLE neighbours (
        chunk_id bigint PRIMARY KEY REFERENCES chunks (id) ON DELETE CASCADE,
        ids bigint[] NOT NULL,  -- chunk ids of the nearest, best first
        sims real[] NOT NULL    -- their cosines
    );
    """,
    _keyword_rows,
    _denser_graph,
]

LOCK_KEY = "newsbot.pgmigrations"


def stored_version(conn: psycopg.Connection) -> int:
    """The schema version the connection's schema holds before ``migrate`` (0 when it has
    none yet), so ``newsbot migrate`` can say what it applied."""
    if conn.execute("SELECT to_regclass('schema_version')").fetchone()[0] is None:
        return 0
    row = conn.execute("SELECT version FROM schema_version").fetchone()
    return int(row[0]) if row else 0


def migrate(conn: psycopg.Connection, dim: int, migrations: Sequence[Migration] | None = None,
            *, name: str = "index") -> int:
    """Apply pending migrations to the database of ``conn`` (an autocommit connection);
    return the schema version. ``migrations`` defaults to the index's own list."""
    steps = MIGRATIONS if migrations is None else migrations
    while True:
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (LOCK_KEY,))
            # under the lock: CREATE ... IF NOT EXISTS alone races with another process
            conn.execute("CREATE TABLE IF NOT EXISTS schema_version (one boolean PRIMARY KEY "
                         "DEFAULT true CHECK (one), version integer NOT NULL)")
            conn.execute("INSERT INTO schema_version (version) VALUES (0) "
                         "ON CONFLICT DO NOTHING")
            version = conn.execute("SELECT version FROM schema_version").fetchone()[0]
            if version > len(steps):
                raise RuntimeError(f"{name} schema version {version} is newer than this "
                                   f"newsbot ({len(steps)})")
            if version == len(steps):
                return version
            step = steps[version]
            if isinstance(step, str):
                conn.execute(step.format(dim=int(dim)))
            else:
                step(conn)
            conn.execute("UPDATE schema_version SET version = %s", (version + 1,))

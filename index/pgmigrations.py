"""Numbered schema migrations of the PostgreSQL index (``index.pgstore``), applied the way
``index.migrations`` applies SQLite's: in order, each in its own transaction, the number of
the last one recorded, a database newer than this code refused.

Postgres has no ``user_version``, so the number lives in ``schema_version``. Several
processes may open the same database at once: each migration step holds a transaction-level
advisory lock and re-reads the number under it, so a step runs exactly once.

A migration is a SQL text whose ``{dim}`` is the vector size (a pgvector column and its
index are typed by it). Append new migrations at the end; never edit one that has shipped.
"""

from __future__ import annotations

import psycopg

MIGRATIONS: list[str] = [
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
]

LOCK_KEY = "newsbot.pgmigrations"


def stored_version(conn: psycopg.Connection) -> int:
    """The schema version the connection's schema holds before ``migrate`` (0 when it has
    none yet), so ``newsbot migrate`` can say what it applied."""
    if conn.execute("SELECT to_regclass('schema_version')").fetchone()[0] is None:
        return 0
    row = conn.execute("SELECT version FROM schema_version").fetchone()
    return int(row[0]) if row else 0


def migrate(conn: psycopg.Connection, dim: int, migrations: list[str] | None = None,
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
            conn.execute(steps[version].format(dim=int(dim)))
            conn.execute("UPDATE schema_version SET version = %s", (version + 1,))

"""The test server itself: PostgreSQL 16 with pgvector, a database per test."""

from __future__ import annotations


def test_each_test_gets_a_fresh_database_with_pgvector(pg_url: str) -> None:
    import psycopg

    with psycopg.connect(pg_url) as conn:
        version = conn.execute("SHOW server_version_num").fetchone()[0]
        assert int(version) >= 160000
        ext = conn.execute(
            "SELECT extversion FROM pg_extension WHERE extname = 'vector'").fetchone()
        assert ext is not None
        tables = conn.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchone()[0]
        assert tables == 0
        # the extension works: an inner product of two vectors
        assert conn.execute("SELECT '[1,2,3]'::vector <#> '[1,0,1]'::vector").fetchone()[0] == -4


def test_databases_are_not_shared(pg_url: str, pg_server) -> None:
    import psycopg

    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE left_behind (x int)")
    others = [u for u in _databases(pg_server) if u.startswith("test_")]
    assert len(others) == 1  # only this test's database exists now


def _databases(server) -> list[str]:
    import psycopg

    with psycopg.connect(server.get_uri()) as conn:
        return [r[0] for r in conn.execute("SELECT datname FROM pg_database")]

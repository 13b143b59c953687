"""A real PostgreSQL 16 with pgvector for the tests, from the ``pgserver`` package (dev extra);
loaded for the whole suite by ``tests/conftest.py`` (``pytest_plugins``).

One server per test session, in a temporary directory and listening only on a Unix socket;
each test gets a database of its own with the ``vector`` extension, dropped afterwards. Where
pgserver cannot start a server (not installed, an unsupported platform), the tests that ask
for one are skipped with the reason.
"""

from __future__ import annotations

import shutil
import tempfile
import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def pg_server() -> Iterator[object]:
    """The session's PostgreSQL server (a ``pgserver.PostgresServer``)."""
    try:
        with warnings.catch_warnings():  # platformdirs warns that XDG_RUNTIME_DIR is unset
            warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR")
            import pgserver
        import psycopg  # noqa: F401  (the driver the store uses; skip early without it)
    except ImportError as exc:
        pytest.skip(f"PostgreSQL tests need the dev extra (pgserver, psycopg): {exc}")
    # A short path of its own: the socket lives in it, and Unix socket paths are capped
    # at ~107 bytes (pytest's tmp paths can be longer).
    root = Path(tempfile.mkdtemp(prefix="newsbot-pg-"))
    try:
        server = pgserver.get_server(root / "data", cleanup_mode="delete")
    except Exception as exc:  # initdb or pg_ctl failing: the platform cannot run it
        shutil.rmtree(root, ignore_errors=True)
        pytest.skip(f"pgserver could not start PostgreSQL on this platform: {exc!r}")
    try:
        yield server
    finally:
        server.cleanup()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def pg_url(pg_server) -> Iterator[str]:
    """The URL of a fresh, empty database with the ``vector`` extension, for one test."""
    import psycopg

    name = f"test_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(pg_server.get_uri(), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = pg_server.get_uri(name)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION vector")
    try:
        yield url
    finally:
        with psycopg.connect(pg_server.get_uri(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

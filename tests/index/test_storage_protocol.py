"""The SQLite store is an ``IndexStore`` and a ``NeighbourStore`` (index.storage)."""

from __future__ import annotations

from pathlib import Path

from index.storage import IndexStore, NeighbourStore, RowStore
from index.store import Store
from tests.storage_checks import protocol_members, protocol_mismatches


def test_sqlite_store_matches_the_storage_protocols_method_by_method() -> None:
    assert protocol_mismatches(Store, IndexStore) == []
    assert protocol_mismatches(Store, NeighbourStore) == []
    assert protocol_mismatches(Store, RowStore) == []


def test_the_protocols_cover_what_the_index_reads_and_writes() -> None:
    members = set(protocol_members(IndexStore))
    assert {"write_batch", "delete_articles", "iter_vectors", "keyword_search", "term_counts",
            "chunk_ids_published", "published_dates", "get_meta", "set_meta", "counts",
            "articles_after", "data_version"} <= members
    assert "conn" not in members and "peek" not in members  # SQLite's own, not shared


def test_an_open_store_passes_the_runtime_check(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.sqlite")
    try:
        assert isinstance(store, IndexStore)
        assert isinstance(store, NeighbourStore)
        assert not isinstance(object(), IndexStore)
    finally:
        store.close()


def test_a_wrong_signature_is_reported() -> None:
    class Wrong(Store):
        def get_meta(self, name: str) -> str | None:  # parameter renamed
            return None

    problems = protocol_mismatches(Wrong, IndexStore)
    assert len(problems) == 1 and "get_meta" in problems[0]



def test_the_copy_hooks_take_the_protocols_parameters() -> None:
    """``index_written(neighbours=…)`` and ``open_as_built`` (``newsbot copy``) on both
    backends (return types may be narrower than the Protocol's)."""
    import inspect

    from index.backends import Backend, PgBackend, SqliteBackend
    from index.generation import Generation
    from index.pggeneration import PgGeneration
    from index.storage import IndexGeneration

    def params(func) -> list[tuple]:
        return [(p.name, p.kind, p.default, str(p.annotation))
                for p in inspect.signature(func).parameters.values()]

    for cls, protocol, name in ((Generation, IndexGeneration, "index_written"),
                                (PgGeneration, IndexGeneration, "index_written"),
                                (SqliteBackend, Backend, "open_as_built"),
                                (PgBackend, Backend, "open_as_built")):
        assert params(getattr(cls, name)) == params(getattr(protocol, name)), (cls, name)

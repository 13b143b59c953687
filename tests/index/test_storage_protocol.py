"""The SQLite store is an ``IndexStore`` and a ``NeighbourStore`` (index.storage)."""

from __future__ import annotations

from pathlib import Path

from index.storage import IndexStore, NeighbourStore
from index.store import Store
from tests.storage_checks import protocol_members, protocol_mismatches


def test_sqlite_store_matches_the_storage_protocols_method_by_method() -> None:
    assert protocol_mismatches(Store, IndexStore) == []
    assert protocol_mismatches(Store, NeighbourStore) == []


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

"""``index.memory.release_memory``: trims glibc's heap, and is a harmless no-op elsewhere."""

from __future__ import annotations

import platform

import numpy as np
import pytest

from index import memory


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="malloc_trim is glibc's")
def test_freed_memory_is_given_back_onglibc() -> None:
    from index.bench.rebuild import resident_bytes

    memory.release_memory()
    before = resident_bytes()
    blocks = [np.ones(4096, dtype=np.float64) for _ in range(20_000)]  # ~650 MB of small heap
    held = resident_bytes()
    del blocks
    assert memory.release_memory() is True
    assert held - before > 1 << 29
    assert resident_bytes() - before < (held - before) / 4


def test_withoutglibc_it_only_collects_garbage(monkeypatch: pytest.MonkeyPatch) -> None:
    """musl or macOS cannot run here, so their libc_ver answer is what is stood in."""
    monkeypatch.setattr(platform, "libc_ver", lambda *a, **k: ("", ""))
    memory.glibc.cache_clear()
    try:
        assert memory.release_memory() is False
    finally:
        memory.glibc.cache_clear()

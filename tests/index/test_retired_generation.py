"""After a rebuild's swap the retired generation is closed (database and vector index let
go) as soon as no question reads it: at once when none does, else when the last one ends.
Its files stay until the next swap (other processes may still be switching over)."""

from __future__ import annotations

import threading
from pathlib import Path

from index import Index
from index.readers import Readers


def _is_closed(gen) -> bool:  # type: ignore[no-untyped-def]
    try:
        gen.store.counts()
    except Exception as exc:  # sqlite3.ProgrammingError: closed database
        return "closed" in str(exc)
    return False


def test_the_retired_generation_is_closed_at_the_swap_when_nobody_reads_it(
        index: Index, corpus_dir: Path) -> None:
    index.ingest([str(corpus_dir)])
    old = index.generation
    assert old.ntotal > 0
    index.rebuild([])
    assert index.generation is not old
    assert _is_closed(old) and old.ntotal == 0  # its FAISS index is let go too
    assert old.dir.exists()  # deleted at the next swap, not before
    assert index.search("Gwadar port container ship")  # the new one answers
    index.rebuild([])
    assert not old.dir.exists()


def test_a_question_in_flight_keeps_the_retired_generation_open_until_it_ends(
        index: Index, corpus_dir: Path) -> None:
    index.ingest([str(corpus_dir)])
    old = index.generation
    chunks = old.ntotal
    with index._reading() as gen:  # a question that began before the swap
        assert gen is old
        index.rebuild([])
        assert index.generation is not old
        assert not _is_closed(old) and old.ntotal == chunks  # still readable
        hits = index._retriever.search(old, "Gwadar port container ship", k=3)
        assert hits
    assert _is_closed(old) and old.ntotal == 0


def test_readers_close_when_the_last_one_ends() -> None:
    readers: Readers[object] = Readers()
    a, b = object(), object()
    live = [a]
    closed: list[object] = []
    first, second = readers.reading(lambda: live[0]), readers.reading(lambda: live[0])
    assert first.__enter__() is a and second.__enter__() is a
    live[0] = b  # the swap
    readers.when_idle(a, lambda: closed.append(a))
    with readers.reading(lambda: live[0]) as now:
        assert now is b and readers.reading_now(a) == 2
    first.__exit__(None, None, None)
    assert closed == []
    second.__exit__(None, None, None)
    assert closed == [a] and readers.reading_now(a) == 0
    readers.when_idle(b, lambda: closed.append(b))  # nobody reads it: closed at once
    assert closed == [a, b]


def test_readers_on_many_threads_close_once_after_the_last() -> None:
    readers: Readers[object] = Readers()
    old, new = object(), object()
    live = [old]
    closes: list[int] = []
    inside, release = threading.Barrier(9), threading.Event()

    def question() -> None:
        with readers.reading(lambda: live[0]):
            inside.wait()
            release.wait()

    threads = [threading.Thread(target=question) for _ in range(8)]
    for t in threads:
        t.start()
    inside.wait()  # all eight read the old generation
    live[0] = new
    readers.when_idle(old, lambda: closes.append(1))
    assert closes == []
    release.set()
    for t in threads:
        t.join()
    assert closes == [1]

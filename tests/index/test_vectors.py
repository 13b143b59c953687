"""The FAISS layer: both layouts (exact flat, IVF with float16 or 8-bit codes) search,
restrict, remove, reconstruct and survive a save/load; the layout and the codes follow the
size; a generation relays itself out and stays in agreement with SQLite through deletions.
No model needed: vectors are made up here."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import faiss
import numpy as np
import pytest

from index import vectors as vmod
from index.generation import VECTORS_NAME, Generation
from index.models import Article, Chunk
from index.store import PendingArticle
from index.vectors import VectorIndex, ivf_codes, ivf_lists, layout_for

DIM = 16


def _clustered(n: int, seed: int = 0) -> np.ndarray:
    """Unit vectors in 40 clusters (IVF needs structure to be meaningful)."""
    rng = np.random.default_rng(seed)
    centers = rng.standard_normal((40, DIM)).astype(np.float32)
    x = centers[rng.integers(0, 40, n)] + 0.35 * rng.standard_normal((n, DIM)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x.astype(np.float16).astype(np.float32)  # what SQLite holds


def _build(n: int, monkeypatch: pytest.MonkeyPatch | None = None, flat_max: int | None = None
           ) -> tuple[VectorIndex, np.ndarray, np.ndarray]:
    if monkeypatch is not None and flat_max is not None:
        monkeypatch.setattr(vmod, "FLAT_MAX", flat_max)
        monkeypatch.setattr(vmod, "FLAT_BACK", flat_max // 2)
    x = _clustered(n)
    ids = np.arange(n, dtype=np.int64) * 3 + 7  # sparse, like chunk ids after deletions
    vi = VectorIndex.build(DIM, n, lambda k: x[:k], lambda: [(ids[:n // 2], x[:n // 2]),
                                                             (ids[n // 2:], x[n // 2:])])
    return vi, ids, x


def _exact(x: np.ndarray, ids: np.ndarray, q: np.ndarray, k: int,
           allowed: np.ndarray | None = None) -> set[int]:
    mask = np.ones(len(ids), bool) if allowed is None else np.isin(ids, allowed)
    scores = np.where(mask, x @ q, -np.inf)
    return set(ids[np.argsort(-scores, kind="stable")[:k]].tolist())


def _tol(vi: VectorIndex) -> float:
    """How far a stored vector may be from the original: float16 rounding, or one 8-bit
    step of a dimension's range (the made-up vectors span about [-1, 1])."""
    return 2e-2 if vi.codes == "sq8" else 1e-3


class _Copies:
    """What SQLite is to a generation: the exact vector of every live chunk id, kept in
    step with the index's adds and removes (``VectorIndex.exact``)."""

    def __init__(self, vi: VectorIndex, ids: np.ndarray, x: np.ndarray) -> None:
        self.rows = dict(zip(ids.tolist(), x, strict=True))
        add, remove = vi.add, vi.remove

        def add_both(new_ids, vectors) -> None:
            self.rows.update(zip(np.asarray(new_ids).tolist(), vectors, strict=True))
            add(new_ids, vectors)

        def remove_both(gone) -> int:
            for i in np.asarray(gone).tolist():
                self.rows.pop(i, None)
            return remove(gone)

        vi.add, vi.remove = add_both, remove_both  # type: ignore[method-assign]
        vi.exact = self

    def __call__(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        found = [i for i in np.asarray(ids).tolist() if i in self.rows]
        rows = [self.rows[i] for i in found] or [np.zeros((0, DIM), np.float32)]
        return np.asarray(found, dtype=np.int64), np.vstack(rows)


@pytest.fixture(params=["flat fp16", "ivf fp16", "ivf sq8"])
def built(request, monkeypatch):
    layout, codes = request.param.split()
    if codes == "sq8":  # 3000 × 16 dims × 2 B = 96,000 B of float16 codes: over budget
        monkeypatch.setattr(vmod, "FP16_CODE_BUDGET", 50_000)
    vi, ids, x = _build(3000, monkeypatch, flat_max=100_000 if layout == "flat" else 1000)
    assert vi.layout == layout and vi.codes == codes
    _Copies(vi, ids, x)  # as a generation attaches SQLite
    assert vi.reranks == (codes == "sq8")
    return vi, ids, x


def test_layout_follows_size() -> None:
    assert layout_for(vmod.FLAT_MAX) == "flat" and layout_for(vmod.FLAT_MAX + 1) == "ivf"
    assert ivf_lists(100_000) == 512 and ivf_lists(1_000_000) == 2048
    assert VectorIndex(DIM).describe() == "flat fp16" and VectorIndex(DIM).codes == "fp16"


def test_ivf_codes_follow_count_times_dim() -> None:
    # float16 while count·dim·2 bytes fit the budget, 8-bit beyond
    fits = vmod.FP16_CODE_BUDGET // (2 * 768)
    assert ivf_codes(fits, 768) == "fp16" and ivf_codes(fits + 1, 768) == "sq8"
    assert ivf_codes(1_000_000, 384) == "fp16"  # MiniLM at 1M: 0.75 GiB, lossless
    assert ivf_codes(1_000_000, 768) == "sq8"  # mpnet at 1M: 1.5 GiB would not fit
    assert ivf_codes(100_000, 768) == "fp16"


def test_build_picks_the_codes(monkeypatch) -> None:
    monkeypatch.setattr(vmod, "FLAT_MAX", 1000)
    monkeypatch.setattr(vmod, "FP16_CODE_BUDGET", 3000 * DIM * 2)
    assert _build(3000)[0].describe().endswith("fp16 nprobe 64")
    monkeypatch.setattr(vmod, "FP16_CODE_BUDGET", 3000 * DIM * 2 - 1)
    vi = _build(3000)[0]
    assert vi.codes == "sq8" and vi.describe() == f"ivf{vi.index.nlist} sq8 nprobe 64"


def test_search_finds_exact_neighbours(built) -> None:
    vi, ids, x = built
    hits = [len(set(vi.search(q, 10)[0].tolist()) & _exact(x, ids, q, 10)) / 10 for q in x[:50]]
    assert np.mean(hits) >= (1.0 if vi.layout == "flat" else 0.95)
    got, scores = vi.search(x[5], 3)
    assert got[0] == ids[5] and scores[0] == pytest.approx(1.0, abs=_tol(vi))
    assert list(scores) == sorted(scores, reverse=True)


@pytest.mark.parametrize("window", [40, 900])  # exact subset scoring / selector scan
def test_restricted_search_stays_inside_the_window(built, window) -> None:
    vi, ids, x = built
    allowed = np.sort(np.random.default_rng(1).choice(ids, window, replace=False))
    for q in x[:20]:
        got, _ = vi.search(q, 10, restrict=allowed)
        assert set(got.tolist()) <= set(allowed.tolist()) and len(got) == 10
        assert len(set(got.tolist()) & _exact(x, ids, q, 10, allowed)) >= 8
    assert len(vi.search(x[0], 10, restrict=np.zeros(0, np.int64))[0]) == 0


def test_removed_ids_are_never_returned_and_reconstruct_works(built) -> None:
    vi, ids, x = built
    gone = ids[:100]
    assert vi.remove(gone) == 100 and vi.ntotal == 2900
    for q in x[:100:7]:
        got, _ = vi.search(q, 20)
        assert not set(got.tolist()) & set(gone.tolist())
    assert not set(vi.search(x[0], 10, restrict=gone[:50])[0].tolist())
    assert sorted(vi.ids().tolist()) == sorted(ids[100:].tolist())
    found, rows = vi.reconstruct(np.array([ids[200], ids[0], ids[300]]))  # ids[0] is gone
    assert found.tolist() == [ids[200], ids[300]]
    # 8-bit codes keep no id map: their vectors are the exact copies (SQLite's)
    np.testing.assert_allclose(rows, x[[200, 300]], atol=0 if vi.codes == "sq8" else _tol(vi))
    assert vi.has_id_map == (vi.codes != "sq8")
    # an update: the id comes back with a new vector, found by search and reconstruct
    vi.add(ids[:1], x[1000:1001])
    assert vi.search(x[1000], 2)[0].tolist()[0] in (ids[0], ids[1000])
    np.testing.assert_allclose(vi.reconstruct(ids[:1])[1][0], x[1000], atol=_tol(vi))


def test_save_and_load_keep_the_layout(built, tmp_path: Path) -> None:
    vi, ids, x = built
    path = tmp_path / "v.faiss"
    vi.save(path)
    back = VectorIndex.load(path, DIM)
    assert back is not None and back.describe() == vi.describe() and back.ntotal == vi.ntotal
    assert back.search(x[9], 5)[0].tolist() == vi.search(x[9], 5)[0].tolist()
    back.exact = vi.exact
    np.testing.assert_allclose(back.reconstruct(ids[9:10])[1][0], x[9], atol=_tol(vi))
    assert back.has_id_map == vi.has_id_map
    assert VectorIndex.load(path, DIM + 1) is None


def test_legacy_float32_flat_file_still_loads(tmp_path: Path) -> None:
    legacy = faiss.IndexIDMap2(faiss.IndexFlatIP(DIM))
    x = _clustered(50)
    legacy.add_with_ids(x, np.arange(50, dtype=np.int64) + 1)
    faiss.write_index(legacy, str(tmp_path / "old.faiss"))
    vi = VectorIndex.load(tmp_path / "old.faiss", DIM)
    assert vi is not None and vi.describe() == "flat fp32" and vi.layout == "flat"
    assert vi.search(x[3], 1)[0].tolist() == [4]


def test_only_float16_ivf_codes_keep_an_id_map(monkeypatch, tmp_path: Path) -> None:
    """8-bit codes keep no id → entry hashtable (their exact vectors are SQLite's); a file
    written with one loads without it, and still searches, removes and reconstructs; an
    IVF file of float16 codes without one is rebuilt as before."""
    monkeypatch.setattr(vmod, "FP16_CODE_BUDGET", 50_000)
    vi, ids, x = _build(3000, monkeypatch, flat_max=1000)
    assert vi.codes == "sq8" and not vi.has_id_map
    with pytest.raises(RuntimeError, match="no id map"):
        vi.reconstruct(ids[:2])  # nothing to reconstruct from without SQLite's copies
    old = faiss.clone_index(vi.index)  # as files of 8-bit codes were written before
    old.set_direct_map_type(faiss.DirectMap.Hashtable)
    faiss.write_index(old, str(tmp_path / "old.faiss"))
    back = VectorIndex.load(tmp_path / "old.faiss", DIM)
    assert back is not None and not back.has_id_map and back.ntotal == 3000
    _Copies(back, ids, x)
    assert back.search(x[9], 5)[0].tolist() == vi.search(x[9], 5)[0].tolist()
    assert back.remove(ids[:10]) == 10 and back.ntotal == 2990
    found, rows = back.reconstruct(ids[5:15])
    assert found.tolist() == ids[10:15].tolist() and np.array_equal(rows, x[10:15])
    monkeypatch.setattr(vmod, "FP16_CODE_BUDGET", 1 << 30)
    fp16 = _build(3000)[0]
    assert fp16.codes == "fp16" and fp16.has_id_map
    fp16.index.set_direct_map_type(faiss.DirectMap.NoMap)
    faiss.write_index(fp16.index, str(tmp_path / "nomap.faiss"))
    assert VectorIndex.load(tmp_path / "nomap.faiss", DIM) is None  # rebuilt from SQLite


def test_relayout_thresholds(monkeypatch) -> None:
    monkeypatch.setattr(vmod, "FLAT_MAX", 1000)
    monkeypatch.setattr(vmod, "FLAT_BACK", 500)
    flat = VectorIndex(DIM)
    x = _clustered(1001)
    flat.add(np.arange(1001, dtype=np.int64), x)
    assert flat.needs_relayout()  # outgrew exact search
    ivf, ids, _ = _build(3000)
    assert not ivf.needs_relayout()
    ivf.remove(ids[:2600])
    assert ivf.needs_relayout()  # shrank below FLAT_BACK: back to exact search


def test_8bit_candidates_are_rescored_exactly(monkeypatch) -> None:
    monkeypatch.setattr(vmod, "FLAT_MAX", 1000)
    monkeypatch.setattr(vmod, "FP16_CODE_BUDGET", 1000)
    vi, ids, x = _build(3000)
    queries = _clustered(40, seed=9)

    def recall(index: VectorIndex) -> float:
        return float(np.mean([len(set(index.search(q, 10)[0].tolist()) & _exact(x, ids, q, 10))
                              / 10 for q in queries]))

    alone = recall(vi)  # FAISS scores from 8-bit codes
    got, scores = vi.search(queries[0], 10)
    assert not np.allclose(scores, x[(got - 7) // 3] @ queries[0], atol=1e-6)
    _Copies(vi, ids, x)
    got, scores = vi.search(queries[0], 10)
    np.testing.assert_allclose(scores, x[(got - 7) // 3] @ queries[0], rtol=0, atol=1e-6)
    assert list(scores) == sorted(scores, reverse=True)
    assert recall(vi) >= max(alone, 0.95)
    allowed = ids[::20]  # a small window is scored from the exact copies too
    got, scores = vi.search(queries[1], 5, restrict=allowed)
    assert set(got.tolist()) == _exact(x, ids, queries[1], 5, allowed)


def test_relayout_when_codes_no_longer_fit(monkeypatch) -> None:
    monkeypatch.setattr(vmod, "FLAT_MAX", 1000)
    monkeypatch.setattr(vmod, "FLAT_BACK", 500)
    fp16_bytes = 3000 * DIM * 2
    ivf, _, _ = _build(3000)
    assert ivf.codes == "fp16" and not ivf.needs_relayout()
    monkeypatch.setattr(vmod, "FP16_CODE_BUDGET", fp16_bytes - 1)
    assert ivf.needs_relayout()  # grew past the budget: rebuild with 8-bit codes
    sq8, ids, _ = _build(3000)
    assert sq8.codes == "sq8" and not sq8.needs_relayout()
    monkeypatch.setattr(vmod, "FP16_CODE_BUDGET", 2 * fp16_bytes - 1)
    assert not sq8.needs_relayout()  # fits again, but not by a margin: no flip-flop
    monkeypatch.setattr(vmod, "FP16_CODE_BUDGET", 2 * fp16_bytes)
    assert sq8.needs_relayout()  # half the budget: back to float16


# -- a generation relays itself out and stays consistent -------------------------------------
def _article(n: int) -> PendingArticle:
    body = f"Article number {n} about the economy. It has a second sentence."
    article = Article(f"a{n}", f"Title {n}", dt.date(2015, 1, 1 + n % 28), "Wire", None, None,
                      body, origin="test", key=f"key-{n}")
    chunks = [Chunk(0, 0, len(body), body, body)]
    return PendingArticle(article, f"hash-{n}", chunks)


def _write(gen: Generation, items: list[PendingArticle], x: np.ndarray) -> np.ndarray:
    for item, vec in zip(items, x, strict=True):
        item.vectors = vec.reshape(1, -1)
    new_ids, removed = gen.store.write_batch(items)
    gen.vectors.remove(removed)
    gen.vectors.add(np.asarray(new_ids, dtype=np.int64), x)
    return np.asarray(new_ids)


def test_generation_relays_out_and_reconciles(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(vmod, "FLAT_MAX", 600)
    monkeypatch.setattr(vmod, "FLAT_BACK", 300)
    gen = Generation.open(tmp_path / "gen", DIM, "test-model")
    x = _clustered(800, seed=3)
    ids = _write(gen, [_article(n) for n in range(800)], x)
    assert gen.vectors.layout == "flat" and gen.vectors.needs_relayout()
    gen.relayout()
    assert gen.vectors.layout == "ivf" and gen.check() == []
    assert gen.vectors.search(x[17], 1)[0].tolist() == [ids[17]]

    # A replaced article (same key, new body) loses its old chunk in FAISS too.
    newer = _article(17)
    newer.replaces = gen.store.find_key("key-17")
    newer.body_hash = "hash-17b"
    [new_id] = _write(gen, [newer], x[17:18])
    assert ids[17] not in gen.vectors.ids() and new_id in gen.vectors.ids()
    assert gen.check() == []
    gen.save_vectors()
    gen.close()

    # A lost vector file is rebuilt from SQLite, directly in the layout its size calls for.
    (tmp_path / "gen" / VECTORS_NAME).unlink()
    reopened = Generation.open(tmp_path / "gen", DIM, "test-model")
    try:
        assert reopened.vectors.layout == "ivf" and reopened.check() == []
        assert reopened.vectors.search(x[17], 1)[0].tolist() == [new_id]
    finally:
        reopened.close()


def test_generation_moves_to_8bit_codes_and_stays_consistent(tmp_path: Path,
                                                            monkeypatch) -> None:
    monkeypatch.setattr(vmod, "FLAT_MAX", 600)
    monkeypatch.setattr(vmod, "FLAT_BACK", 300)
    monkeypatch.setattr(vmod, "FP16_CODE_BUDGET", 900 * DIM * 2)
    gen = Generation.open(tmp_path / "gen", DIM, "test-model")
    try:
        x = _clustered(1000, seed=6)
        ids = _write(gen, [_article(n) for n in range(800)], x[:800])
        gen.relayout()
        assert gen.vectors.describe().endswith("fp16 nprobe 64") and gen.check() == []
        more = _write(gen, [_article(n) for n in range(800, 1000)], x[800:])
        assert gen.vectors.needs_relayout()  # 1000 × 16 × 2 B is over the budget
        gen.relayout()
        assert gen.vectors.codes == "sq8" and gen.vectors.reranks and gen.check() == []
        got, scores = gen.vectors.search(x[900], 3)  # re-scored from SQLite's float16 copies
        assert got[0] == more[100] and scores[0] == pytest.approx(float(x[900] @ x[900]), abs=1e-3)
        # replacing and deleting still reach FAISS
        newer = _article(17)
        newer.replaces = gen.store.find_key("key-17")
        newer.body_hash = "hash-17b"
        [new_id] = _write(gen, [newer], x[17:18])
        assert ids[17] not in gen.vectors.ids() and new_id in gen.vectors.ids()
        assert gen.vectors.search(x[17], 1)[0].tolist() == [new_id]
        assert gen.vectors.remove(more[:5]) == 5
        assert not set(gen.vectors.search(x[800], 10)[0].tolist()) & set(more[:5].tolist())
        gen.save_vectors()
        back = VectorIndex.load(gen.dir / VECTORS_NAME, DIM)
        assert back is not None and back.describe() == gen.vectors.describe()
    finally:
        gen.close()


# -- publication days in memory agree with SQLite ---------------------------------------------
def test_chunk_days_window_matches_sqlite(tmp_path: Path) -> None:
    import time

    from index.chunkdays import day_number

    gen = Generation.open(tmp_path / "days", DIM, "test-model")
    try:
        items = [_article(n) for n in range(60)]
        items[5].article.published_at = None  # undated: in no window
        items[6].article.published_at = dt.datetime(2015, 1, 9, 23, 30)
        ids = _write(gen, items, _clustered(60, seed=4))
        gen.days.load_in_background(gen.read_days)
        for _ in range(200):
            if gen.days.ready:
                break
            time.sleep(0.01)
        windows = [(dt.date(2015, 1, 3), dt.date(2015, 1, 9)), (None, dt.date(2015, 1, 2)),
                   (dt.date(2015, 1, 27), None), (None, None), (dt.date(2016, 1, 1), None)]
        for start, end in windows:
            expect = sorted(gen.store.chunk_ids_published(start, end).tolist())
            assert sorted(gen.chunk_ids_published(start, end).tolist()) == expect
        # writes after loading: a replaced article moves, a new one appears
        newer = _article(7)
        newer.replaces = gen.store.find_key("key-7")
        newer.body_hash = "hash-7b"
        newer.article.published_at = dt.date(2015, 1, 20)
        extra = _article(100)
        new_ids = _write(gen, [newer, extra], _clustered(2, seed=5))
        gen.note_written(new_ids, [day_number(newer.article.published_at),
                                   day_number(extra.article.published_at)], [int(ids[7])])
        for start, end in windows:
            expect = sorted(gen.store.chunk_ids_published(start, end).tolist())
            assert sorted(gen.chunk_ids_published(start, end).tolist()) == expect
    finally:
        gen.close()


def test_chunk_days_queue_writes_made_while_loading() -> None:
    from index.chunkdays import ChunkDays, day_number

    days = ChunkDays()
    assert days.window(None, None) is None  # not loaded: callers ask SQLite
    days._loading = 1  # a load in flight: updates wait for the snapshot
    days.update(np.array([3, 4]), np.array([10, 12]), np.array([], dtype=np.int64))
    assert days.window(None, None) is None and len(days._queued) == 1
    assert day_number("2015-01-20T10:00:00") == day_number(dt.date(2015, 1, 20)) == 16455


def test_nearest_of_all_finds_what_a_faiss_search_finds(built) -> None:
    """The rebuild's all-neighbours pass (``index.allknn``: the same probed lists and codes,
    scored by matrix products) returns FAISS's own nearest, for every layout."""
    from index.allknn import nearest_of_all

    vi, ids, x = built
    want_ids, want = vi.neighbours(x, 41)
    passes = list(nearest_of_all(vi, [(ids[:1000], x[:1000]), (ids[1000:], x[1000:])], 41,
                                 block_rows=700))
    assert np.array_equal(np.concatenate([p[0] for p in passes]), ids)  # every row, in order
    got_ids = np.concatenate([p[1] for p in passes])
    got = np.concatenate([p[2] for p in passes])
    np.testing.assert_allclose(got, want, atol=1e-5)  # the same scores, best first
    # and the same neighbours, wherever a score is not tied (within rounding) with another
    gaps = np.diff(want, axis=1)
    clear = np.ones(want.shape, bool)
    clear[:, 1:] &= gaps < -1e-5
    clear[:, :-1] &= gaps < -1e-5
    assert clear.mean() > 0.9
    assert np.array_equal(got_ids[clear], want_ids[clear])


def test_nearest_of_all_pads_with_minus_one_when_the_index_is_small() -> None:
    from index.allknn import nearest_of_all

    x = _clustered(5)
    vi = VectorIndex.build(DIM, 5, lambda k: x[:k], lambda: [(np.arange(5), x)])
    [(rows, found, scores)] = list(nearest_of_all(vi, [(np.arange(5), x)], 8))
    assert rows.tolist() == list(range(5))
    assert (found[:, 5:] == -1).all() and (found[:, :5] >= 0).all()
    assert found[:, 0].tolist() == list(range(5))  # each vector is its own nearest
    assert np.all(np.diff(scores[:, :5], axis=1) <= 0)


@pytest.mark.parametrize("codes", ["fp16", "sq8"])
@pytest.mark.parametrize("same_batches", [True, False])
def test_presized_build_holds_what_plain_adds_hold(monkeypatch, codes: str,
                                                   same_batches: bool) -> None:
    """An IVF build sizes each list before adding (``_add_presized``); its lists must hold
    the ids and codes FAISS's own ``add_with_ids`` puts there, also when the second pass
    sees other batches than the first (it then assigns those again)."""
    monkeypatch.setattr(vmod, "FLAT_MAX", 1000)
    if codes == "sq8":
        monkeypatch.setattr(vmod, "FP16_CODE_BUDGET", 50_000)
    n = 3000
    x = _clustered(n, seed=3)
    ids = np.arange(n, dtype=np.int64) * 3 + 7
    calls = []

    def batches():
        calls.append(None)
        size = 1000 if same_batches or len(calls) == 1 else 700
        return [(ids[s:s + size], x[s:s + size]) for s in range(0, n, size)]

    vi = VectorIndex.build(DIM, n, lambda k: x[:k], batches)
    assert vi.layout == "ivf" and vi.codes == codes and vi.ntotal == n and len(calls) == 2
    plain = faiss.clone_index(vi.index)
    plain.reset()  # trained, empty
    plain.add_with_ids(x, ids)
    got, want = faiss.downcast_index(vi.index).invlists, faiss.downcast_index(plain).invlists
    size = vi.index.code_size
    for lst in range(vi.index.nlist):
        m = want.list_size(lst)
        assert got.list_size(lst) == m
        if m:
            assert np.array_equal(faiss.rev_swig_ptr(got.get_ids(lst), m),
                                  faiss.rev_swig_ptr(want.get_ids(lst), m))
            assert np.array_equal(faiss.rev_swig_ptr(got.get_codes(lst), m * size),
                                  faiss.rev_swig_ptr(want.get_codes(lst), m * size))
    if codes == "sq8":  # no id map (their exact vectors are SQLite's)
        assert vi.index.direct_map.type == faiss.DirectMap.NoMap
    else:
        found, _ = vi.reconstruct(ids[:50])
        assert np.array_equal(found, ids[:50])  # the direct map knows every id

"""The FAISS side of the index: chunk vectors keyed by chunk id, saved atomically.

SQLite holds every vector too (as float16), so this file is a fast cache that can always be
rebuilt; ``VectorIndex.load`` therefore treats a torn or unreadable file as "rebuild from
SQLite", never as data loss.

Two layouts, chosen by size (``layout_for``). Codes are float16 wherever they fit: since
SQLite's copy is float16, FAISS holding float16 loses nothing, halves memory and scans faster.

- ``flat``: ``IndexIDMap2(IndexScalarQuantizer fp16)``, exact inner-product search, used
  up to ``FLAT_MAX`` vectors (beyond, a scan costs more than a question can spend).
- ``ivf``: ``IndexIVFScalarQuantizer`` (ids stored natively) with about 2·√N lists and
  ``nprobe`` 64 (recall against exact search: ``newsbot bench``). Its codes are float16
  while they fit ``FP16_CODE_BUDGET`` and 8-bit beyond (``ivf_codes``); 8-bit candidates are
  re-scored exactly from SQLite's float16 copies (``exact``).

Both remove ids natively and reconstruct by chunk id, so deletions and updates need no
tombstones. Float16 IVF codes are reconstructed through FAISS's hashtable from id to list
entry; 8-bit ones keep no such map (``has_id_map``): their vectors are read from SQLite's
copies, which are exact, and removals scan the lists. The map is ~38 MB at 1M vectors,
held twice while a rebuild builds its new index beside the live one (docs/performance.md
"Rebuild memory"). HNSW was rejected (docs/performance.md): slow to build, low recall on clustered
news vectors, and it cannot remove ids.
Legacy ``IndexIDMap2(IndexFlatIP)`` files (float32) still load and count as ``flat``.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import faiss
import numpy as np

log = logging.getLogger(__name__)

# Single queries are faster on one thread; builds (training, bulk adds) use every core.
faiss.omp_set_num_threads(1)

FLAT_MAX = 50_000  # above this an exact scan costs more than a question should: switch to IVF
FLAT_BACK = FLAT_MAX // 2  # an IVF index shrunk below this goes back to exact search
IVF_NPROBE = 64
TRAIN_POINTS_PER_LIST = 40  # k-means sample size per list (faiss warns below 39)
TRAIN_ITERATIONS = 12
RESTRICT_BOOST_MAX = 4.0  # most a restricted search widens its probes (docs/performance.md)
SUBSET_EXACT_MAX = 256  # a window this small is scored exactly from reconstructed rows
# float16 codes of an IVF index may take this much memory; beyond, it stores 8-bit codes.
FP16_CODE_BUDGET = 1 << 30
# 8-bit codes rank the best RERANK_FACTOR·k candidates, re-scored from float16 copies.
RERANK_FACTOR = 3
LIST_ROWS = 1024  # vectors decoded at a time by ``lists`` (4 MB of float32 at 1024-d)

Batches = Callable[[], Iterable[tuple[np.ndarray, np.ndarray]]]
# chunk ids → (ids found, their float16-exact float32 vectors); ids not found are left out
ExactVectors = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]


def ivf_lists(count: int) -> int:
    """About 2·√N inverted lists, as a power of two (512 at 100k, 2048 at 1M)."""
    return int(2 ** round(math.log2(max(64.0, 2 * math.sqrt(max(count, 1))))))


def layout_for(count: int) -> str:
    return "flat" if count <= FLAT_MAX else "ivf"


def ivf_codes(count: int, dim: int) -> str:
    """How an IVF index of ``count`` vectors of ``dim`` stores them: ``fp16`` while its
    float16 codes (``count·dim·2`` bytes) fit ``FP16_CODE_BUDGET`` (1 GiB), else ``sq8``.

    The rule keeps a 1M-chunk index within the 2.5 GB memory target with the model loaded
    (docs/performance.md). Only the approximate IVF index is ever quantized below float16:
    exact search (``flat``, at most ``FLAT_MAX`` vectors) stays float16.

    8-bit codes are faiss ``QT_8bit`` (a min/max range per dimension, trained on the IVF
    sample). Their score error is larger than the gap between near neighbours, so alone
    they lose recall; ``search`` therefore fetches ``RERANK_FACTOR``·k candidates and
    re-scores them with the float16 vectors SQLite keeps (``exact``).
    """
    return "fp16" if count * dim * 2 <= FP16_CODE_BUDGET else "sq8"


_QTYPES = {"fp16": faiss.ScalarQuantizer.QT_fp16, "sq8": faiss.ScalarQuantizer.QT_8bit}


def keeps_id_map(codes: str) -> bool:
    """Whether an IVF index with these codes keeps FAISS's id → entry hashtable: float16
    codes do (``reconstruct`` reads them, exact); 8-bit codes do not, as their exact
    vectors come from SQLite anyway (``reconstruct``, ``_score_exactly``)."""
    return codes != "sq8"


def cosines_with(stored: dict[int, np.ndarray], vector: np.ndarray) -> dict[int, float]:
    """Cosine of ``vector`` with each stored unit vector, by chunk id (both generations'
    ``cosines``: the exact stored vectors, not the index's codes)."""
    if not stored:
        return {}
    sims = np.stack(list(stored.values())) @ vector
    return dict(zip(stored, sims.tolist(), strict=True))


@contextmanager
def all_cores() -> Iterator[None]:
    """Let FAISS use every core for a bulk build, then return to one thread for queries."""
    faiss.omp_set_num_threads(os.cpu_count() or 1)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(1)


def _new_flat(dim: int) -> faiss.Index:
    codes = faiss.IndexScalarQuantizer(dim, faiss.ScalarQuantizer.QT_fp16,
                                       faiss.METRIC_INNER_PRODUCT)
    return faiss.IndexIDMap2(codes)


def _new_ivf(dim: int, nlist: int, codes: str) -> faiss.Index:
    quantizer = faiss.IndexFlatIP(dim)
    ivf = faiss.IndexIVFScalarQuantizer(quantizer, dim, nlist, _QTYPES[codes],
                                        faiss.METRIC_INNER_PRODUCT, False)
    ivf.cp.niter = TRAIN_ITERATIONS
    ivf.cp.max_points_per_centroid = TRAIN_POINTS_PER_LIST
    ivf.cp.min_points_per_centroid = 1
    ivf.nprobe = min(nlist, IVF_NPROBE)
    return ivf


class VectorIndex:
    """Chunk vectors keyed by chunk id: add, remove, search (optionally restricted to a set
    of ids), reconstruct, save."""

    def __init__(self, dim: int, index: faiss.Index | None = None) -> None:
        self.dim = dim
        self.index = index if index is not None else _new_flat(dim)
        self.codes = _codes_of(self.index)
        # Where exact vectors come from (the generation's SQLite); used with 8-bit codes.
        self.exact: ExactVectors | None = None

    # -- construction -----------------------------------------------------------------------
    @classmethod
    def build(cls, dim: int, count: int, sample: Callable[[int], np.ndarray],
              batches: Batches) -> VectorIndex:
        """A new index of the layout ``count`` vectors call for.

        ``sample(n)`` returns about ``n`` representative vectors (IVF training);
        ``batches()`` yields every (ids, vectors) pair to add. Both are callables so the
        caller can stream from SQLite without holding all vectors in memory twice.
        """
        if layout_for(count) == "flat":
            vi = cls(dim)
        else:
            nlist, codes = ivf_lists(count), ivf_codes(count, dim)
            index = _new_ivf(dim, nlist, codes)
            train = np.ascontiguousarray(sample(nlist * TRAIN_POINTS_PER_LIST), dtype=np.float32)
            nlist = min(nlist, max(1, len(train)))
            if nlist != index.nlist:  # a tiny sample: fewer lists than planned
                index = _new_ivf(dim, nlist, codes)
            with all_cores():
                index.train(train)
            del train  # the training sample (250 MB at 1M mpnet) is not kept through the adds
            if keeps_id_map(codes):
                index.set_direct_map_type(faiss.DirectMap.Hashtable)
            vi = cls(dim, index)
            vi._add_presized(batches)
            return vi
        with all_cores():
            for ids, vectors in batches():
                vi.add(ids, vectors)
        return vi

    def _add_presized(self, batches: Batches) -> None:
        """Add every vector of ``batches`` to an empty IVF index with each inverted list
        allocated once at its final size.

        Plain adds grow each list's buffers by doubling; the freed smaller buffers stay in
        the C heap until ``malloc_trim``, ~0.4 GB at 1M vectors (docs/performance.md
        "Rebuild memory"). So a first pass assigns every vector to its list (the quantizer
        FAISS's add would ask), each list is sized exactly, and a second pass adds the
        vectors with those assignments: the same lists and codes as ``add``.
        """
        ivf = faiss.downcast_index(self.index)
        passes: list[tuple[np.ndarray, np.ndarray]] = []  # (ids, list of each) per batch
        counts = np.zeros(ivf.nlist, dtype=np.int64)
        with all_cores():
            for ids, vectors in batches():
                lists = ivf.quantizer.assign(np.ascontiguousarray(vectors, dtype=np.float32),
                                             1).ravel()
                passes.append((np.asarray(ids, dtype=np.int64), lists))
                counts += np.bincount(lists, minlength=ivf.nlist)
        invlists = ivf.invlists
        for lst in np.flatnonzero(counts).tolist():
            invlists.resize(lst, int(counts[lst]))  # allocates exactly this many entries
            invlists.resize(lst, 0)  # empty again; the allocation stays for the adds
        with all_cores():
            for n, (ids, vectors) in enumerate(batches()):
                ids = np.ascontiguousarray(ids, dtype=np.int64)
                x = np.ascontiguousarray(vectors, dtype=np.float32)
                if n < len(passes) and np.array_equal(passes[n][0], ids):
                    lists = np.ascontiguousarray(passes[n][1])
                else:  # not the batches of the first pass: assign again
                    lists = ivf.quantizer.assign(x, 1).ravel()
                if len(ids):
                    ivf.add_core(len(ids), faiss.swig_ptr(x), faiss.swig_ptr(ids),
                                 faiss.swig_ptr(lists))

    @classmethod
    def load(cls, path: Path, dim: int) -> VectorIndex | None:
        """The saved index, or None when missing, torn or of another dimension."""
        if not path.exists():
            return None
        try:
            index = faiss.read_index(str(path))
        except Exception as exc:  # faiss raises RuntimeError with C++ text
            log.warning("vector file %s is unreadable (%s); rebuilding it from SQLite", path,
                        str(exc).splitlines()[0][:200])
            return None
        if index.d != dim:
            log.warning("vector file %s has dimension %d, model has %d; rebuilding",
                        path, index.d, dim)
            return None
        if isinstance(index, faiss.IndexIVF):
            has_map = index.direct_map.type == faiss.DirectMap.Hashtable
            if keeps_id_map(_codes_of(index)) and not has_map:
                log.warning("vector file %s cannot reconstruct by id; rebuilding it", path)
                return None
            if has_map and not keeps_id_map(_codes_of(index)):
                index.set_direct_map_type(faiss.DirectMap.NoMap)  # written before 8-bit
                # codes dropped it: its memory is handed back (``release_memory``) later
        return cls(dim, index)

    # -- facts ------------------------------------------------------------------------------
    @property
    def layout(self) -> str:
        return "ivf" if isinstance(self.index, faiss.IndexIVF) else "flat"

    @property
    def ntotal(self) -> int:
        return int(self.index.ntotal)

    @property
    def has_id_map(self) -> bool:
        """FAISS finds a stored vector by chunk id (flat indexes, float16 IVF codes)."""
        if isinstance(self.index, faiss.IndexIVF):
            return self.index.direct_map.type != faiss.DirectMap.NoMap
        return True

    @property
    def reranks(self) -> bool:
        """Searches re-score 8-bit candidates exactly (an ``exact`` source is attached)."""
        return self.codes == "sq8" and self.exact is not None

    def describe(self) -> str:
        """E.g. ``flat fp16`` or ``ivf2048 sq8 nprobe 64`` (for stats and the benchmark)."""
        if isinstance(self.index, faiss.IndexIVF):
            return f"ivf{self.index.nlist} {self.codes} nprobe {self.index.nprobe}"
        return f"flat {self.codes}"

    def needs_relayout(self) -> bool:
        """The size has outgrown (or shrunk far below) what this layout was built for: flat
        past ``FLAT_MAX``; IVF below ``FLAT_BACK``, or ~16× off its list count, or float16
        codes past ``FP16_CODE_BUDGET`` (8-bit ones go back to float16 only below half the
        budget, so an index hovering at the limit is not rebuilt back and forth)."""
        n = self.ntotal
        if self.layout == "flat":
            return n > FLAT_MAX
        if n < FLAT_BACK:
            return True
        nlist = int(self.index.nlist)
        want = ivf_lists(n)
        if want >= 4 * nlist or want * 4 <= nlist:  # N grew or shrank ~16×
            return True
        fp16_bytes = n * self.dim * 2
        if self.codes == "fp16":
            return fp16_bytes > FP16_CODE_BUDGET
        return self.codes == "sq8" and 2 * fp16_bytes <= FP16_CODE_BUDGET

    def ids(self) -> np.ndarray:
        """Every stored chunk id (in no particular order)."""
        if self.ntotal == 0:
            return np.zeros(0, dtype=np.int64)
        if isinstance(self.index, faiss.IndexIVF):
            invlists = self.index.invlists
            parts = []
            for lst in range(self.index.nlist):
                size = invlists.list_size(lst)
                if size:
                    parts.append(faiss.rev_swig_ptr(invlists.get_ids(lst), size).copy())
            return np.concatenate(parts).astype(np.int64)
        return faiss.vector_to_array(self.index.id_map).astype(np.int64)

    # -- writes -----------------------------------------------------------------------------
    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        if len(ids):
            self.index.add_with_ids(
                np.ascontiguousarray(vectors, dtype=np.float32),
                np.ascontiguousarray(ids, dtype=np.int64),
            )

    def remove(self, ids: np.ndarray | list[int]) -> int:
        if len(ids) == 0:
            return 0
        return int(self.index.remove_ids(np.asarray(ids, dtype=np.int64)))

    # -- reads ------------------------------------------------------------------------------
    def search(self, vector: np.ndarray, k: int, *, restrict: np.ndarray | None = None
               ) -> tuple[np.ndarray, np.ndarray]:
        """Chunk ids and inner-product scores of the ``k`` nearest vectors, best first;
        ``restrict`` limits the search to those chunk ids."""
        if self.ntotal == 0 or k <= 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        query = np.ascontiguousarray(vector, dtype=np.float32).reshape(1, -1)
        params = None
        if restrict is not None:
            restrict = np.ascontiguousarray(restrict, dtype=np.int64)
            if len(restrict) == 0:
                return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
            if len(restrict) <= SUBSET_EXACT_MAX:
                return self._search_subset(query[0], k, restrict)
            params = self._restricted_params(restrict)
        rerank = self.reranks
        scores, ids = self.index.search(query, k * RERANK_FACTOR if rerank else k, params=params)
        keep = ids[0] >= 0
        if rerank:
            return self._score_exactly(query[0], k, ids[0][keep])
        return ids[0][keep], scores[0][keep]

    def neighbours(self, vectors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Ids and scores (``len(vectors)`` × ``k``, padded with id -1) of each row's ``k``
        nearest, in one batched search on every core. Scores are the codes' own (within
        ~0.003 of exact for 8-bit codes): for bulk statistics (``index.hubness``), not for
        ranking answers."""
        rows = np.ascontiguousarray(np.atleast_2d(vectors), dtype=np.float32)
        if self.ntotal == 0 or k <= 0 or len(rows) == 0:
            return (np.full((len(rows), 0), -1, dtype=np.int64),
                    np.zeros((len(rows), 0), dtype=np.float32))
        with all_cores():
            scores, ids = self.index.search(rows, min(k, self.ntotal))
        return ids, scores

    def probes(self, queries: np.ndarray) -> np.ndarray:
        """The list numbers (``len(queries)`` × nprobe) a search of each row scans, as
        ``search`` and ``neighbours`` would choose them; a flat index is one list, 0."""
        rows = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
        if not isinstance(self.index, faiss.IndexIVF):
            return np.zeros((len(rows), 1), dtype=np.int64)
        nprobe = min(int(self.index.nprobe), int(self.index.nlist))
        with all_cores():
            _, lists = self.index.quantizer.search(rows, nprobe)
        return lists

    def lists(self, rows: int = LIST_ROWS) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
        """Every stored vector as (list number, ids, float32 vectors as the codes hold
        them), at most ``rows`` at a time: an IVF index list by list, a flat one as list 0.
        For whole-index passes (``index.allknn``) that decode each code once."""
        if isinstance(self.index, faiss.IndexIVF):
            ivf = faiss.downcast_index(self.index)
            invlists, size_of_code = ivf.invlists, ivf.code_size
            for lst in range(ivf.nlist):
                size = invlists.list_size(lst)
                if not size:
                    continue
                ids = faiss.rev_swig_ptr(invlists.get_ids(lst), size).astype(np.int64)
                codes = faiss.rev_swig_ptr(invlists.get_codes(lst), size * size_of_code)
                codes = codes.reshape(size, size_of_code)
                for start in range(0, size, rows):
                    yield lst, ids[start:start + rows], ivf.sq.decode(codes[start:start + rows])
            return
        inner = self.index.index
        ids = faiss.vector_to_array(self.index.id_map).astype(np.int64)
        for start in range(0, len(ids), rows):
            part = ids[start:start + rows]
            yield 0, part, inner.reconstruct_n(start, len(part))

    def _restricted_params(self, restrict: np.ndarray) -> faiss.SearchParameters:
        """A selector over ``restrict``; an IVF index probes more lists the narrower the
        window, so in-window neighbours farther from the query are still reached."""
        sel = faiss.IDSelectorBatch(restrict)
        if not isinstance(self.index, faiss.IndexIVF):
            return faiss.SearchParameters(sel=sel)
        share = len(restrict) / max(1, self.ntotal)
        boost = min(RESTRICT_BOOST_MAX, max(1.0, 1.0 / math.sqrt(max(share, 1e-9))))
        nprobe = min(int(self.index.nlist), int(self.index.nprobe * boost))
        return faiss.SearchParametersIVF(sel=sel, nprobe=nprobe)

    def _search_subset(self, query: np.ndarray, k: int, ids: np.ndarray
                       ) -> tuple[np.ndarray, np.ndarray]:
        """Exact scores over a few ids (reconstruction costs ~1.5 µs a row, so this beats a
        selector scan only for small sets)."""
        if self.reranks:  # 8-bit codes: score the float16 copies instead
            return self._score_exactly(query, k, ids)
        return _best(query, k, *self.reconstruct(ids))

    def _score_exactly(self, query: np.ndarray, k: int, ids: np.ndarray
                       ) -> tuple[np.ndarray, np.ndarray]:
        """The best ``k`` of ``ids`` by their exact vectors (ids ``exact`` lacks are left
        out: deleted since, reconciled at the next open)."""
        assert self.exact is not None
        if len(ids) == 0:
            return ids, np.zeros(0, dtype=np.float32)
        return _best(query, k, *self.exact(ids))

    def reconstruct(self, ids: np.ndarray | list[int]) -> tuple[np.ndarray, np.ndarray]:
        """(ids found, their float32 vectors: as FAISS stores them where it keeps an id map,
        exact for float16 codes; SQLite's exact copies (``exact``) for 8-bit codes, which
        keep none); ids missing are left out."""
        ids = np.asarray(ids, dtype=np.int64)
        if len(ids) == 0:
            return ids, np.zeros((0, self.dim), dtype=np.float32)
        if not self.has_id_map:
            if self.exact is None:
                raise RuntimeError("this index keeps no id map and has no exact vectors "
                                   "attached to reconstruct from")
            return self.exact(ids)
        try:
            return ids, self.index.reconstruct_batch(ids)
        except RuntimeError:  # some id is missing (repaired at next open): go one by one
            found, rows = [], []
            for i in ids.tolist():
                try:
                    rows.append(self.index.reconstruct(i))
                    found.append(i)
                except RuntimeError:
                    continue
            if not rows:
                return np.zeros(0, dtype=np.int64), np.zeros((0, self.dim), dtype=np.float32)
            return np.asarray(found, dtype=np.int64), np.stack(rows)

    # -- persistence ------------------------------------------------------------------------
    def save(self, path: Path) -> None:
        """Write beside the old file, fsync, then rename over it: never a half-written index."""
        tmp = path.with_name(path.name + ".tmp")
        faiss.write_index(self.index, str(tmp))
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
        fsync_dir(path.parent)


def _codes_of(index: faiss.Index) -> str:
    """How ``index`` stores vectors: ``fp16``, ``sq8`` (IVF only) or ``fp32`` (legacy)."""
    if isinstance(index, faiss.IndexIVF):
        qtype = faiss.downcast_index(index).sq.qtype
    else:
        inner = faiss.downcast_index(index.index) if hasattr(index, "index") else None
        if not isinstance(inner, faiss.IndexScalarQuantizer):
            return "fp32"
        qtype = inner.sq.qtype
    return next((name for name, q in _QTYPES.items() if q == qtype), f"qt{qtype}")


def _best(query: np.ndarray, k: int, found: np.ndarray, vectors: np.ndarray
          ) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` of ``found`` whose ``vectors`` score highest against ``query``."""
    if len(found) == 0:
        return found, np.zeros(0, dtype=np.float32)
    scores = vectors @ query
    top = np.argsort(-scores, kind="stable")[:k]
    return found[top], scores[top].astype(np.float32)


def fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)

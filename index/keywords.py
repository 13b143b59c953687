"""Which of a question's words are worth a BM25 pass, judged by how many chunks hold them.

FTS5 scores every posting of every OR-ed term before it can sort and cut to the top N, so
one word found in a third of a million-chunk index ("pakistan", "bank") costs hundreds of
milliseconds — while BM25 weighs such a word at a fraction of a rare one (IDF ln 2 against
ln 200), and the meaning-based search covers it anyway. Terms are therefore taken rarest
first until their postings reach ``POSTINGS_BUDGET``. An index of up to ~10k chunks is
unaffected (every term fits), so answer quality on small corpora does not move.

Document frequencies come from an ``fts5vocab`` table over the chunk FTS index. Its terms
are stemmed by the FTS tokenizer, so the question's words are stemmed by the very same
tokenizer: a temporary FTS5 table with the same ``tokenize=`` option, read back through its
own ``instance`` vocabulary (~0.2 ms). Counting a term's documents walks its postings, so a
common term costs a few ms — once: counts are cached per store for ``CACHE_SECONDS`` (they
only steer cost, so a slightly stale count is harmless), and common words are exactly the
ones that recur from question to question.
"""

from __future__ import annotations

import re
import threading
import time
import weakref

from index.store import Store

POSTINGS_BUDGET = 4_000  # ~5–8 ms of FTS5 scoring per question on one core
SINGLE_TERM_MAX = 4 * POSTINGS_BUDGET  # the rarest term is kept up to this many postings
CACHE_SECONDS = 600.0
CACHE_TERMS = 50_000
_TOKENIZE = re.compile(r"tokenize\s*=\s*('(?:[^']|'')*'|\"[^\"]*\")", re.IGNORECASE)
_QTOK = "newsbot_query_tokens"


def plan_terms(store: Store, terms: list[str], budget: int = POSTINGS_BUDGET) -> list[str]:
    """``terms`` (in their order) whose summed postings stay within ``budget``, rarest
    first; the rarest alone is kept when it is below ``SINGLE_TERM_MAX``."""
    if not terms:
        return terms
    try:
        df = document_frequencies(store, terms)
    except Exception:  # no vocabulary support: search with every term, as before
        return terms
    total = sum(df.values())
    if total <= budget:
        return terms
    keep: set[str] = set()
    spent = 0
    for term in sorted(terms, key=lambda t: df[t]):
        if spent + df[term] > budget and (keep or df[term] > SINGLE_TERM_MAX):
            break
        keep.add(term)
        spent += df[term]
    return [t for t in terms if t in keep]


def document_frequencies(store: Store, terms: list[str]) -> dict[str, int]:
    """Chunks holding each term (a word the tokenizer splits counts all its pieces)."""
    cache = _cache_for(store)
    with store.lock:
        conn = store.conn
        if not cache.tables_ready:
            _ensure_tables(store)
            cache.tables_ready = True
        conn.execute(f"DELETE FROM temp.{_QTOK}")
        conn.executemany(f"INSERT INTO temp.{_QTOK} (rowid, t) VALUES (?, ?)",
                         list(enumerate(terms, start=1)))
        pieces = conn.execute(f"SELECT doc, term FROM temp.{_QTOK}_vocab").fetchall()
        counts = cache.get({stem for _, stem in pieces})
        unknown = sorted({stem for _, stem in pieces} - counts.keys())
        if unknown:
            marks = ",".join("?" * len(unknown))
            found = dict(conn.execute(
                f"SELECT term, doc FROM temp.newsbot_chunk_vocab WHERE term IN ({marks})",
                unknown).fetchall())
            fresh = {stem: int(found.get(stem, 0)) for stem in unknown}
            cache.put(fresh)
            counts.update(fresh)
    out = dict.fromkeys(terms, 0)
    for row, stem in pieces:
        out[terms[row - 1]] += counts.get(stem, 0)
    return out


class _Counts:
    """Document counts by stem, each valid for ``CACHE_SECONDS``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: dict[str, tuple[int, float]] = {}
        self.tables_ready = False  # the temporary tables exist on this store's connection

    def get(self, stems: set[str]) -> dict[str, int]:
        now = time.monotonic()
        out: dict[str, int] = {}
        with self._lock:
            for stem in stems:
                hit = self._items.get(stem)
                if hit is not None and now - hit[1] < CACHE_SECONDS:
                    out[stem] = hit[0]
        return out

    def put(self, counts: dict[str, int]) -> None:
        now = time.monotonic()
        with self._lock:
            if len(self._items) + len(counts) > CACHE_TERMS:
                self._items.clear()
            for stem, n in counts.items():
                self._items[stem] = (n, now)


_CACHES: weakref.WeakKeyDictionary[Store, _Counts] = weakref.WeakKeyDictionary()
_CACHES_LOCK = threading.Lock()


def _cache_for(store: Store) -> _Counts:
    with _CACHES_LOCK:
        cache = _CACHES.get(store)
        if cache is None:
            cache = _CACHES[store] = _Counts()
        return cache


def _ensure_tables(store: Store) -> None:
    conn = store.conn
    row = conn.execute(
        "SELECT sql FROM main.sqlite_master WHERE name = 'chunks_fts'").fetchone()
    found = _TOKENIZE.search(row[0]) if row and row[0] else None
    tokenize = f", tokenize = {found.group(1)}" if found else ""
    conn.execute(f"CREATE VIRTUAL TABLE IF NOT EXISTS temp.{_QTOK} USING fts5 (t{tokenize})")
    conn.execute(f"CREATE VIRTUAL TABLE IF NOT EXISTS temp.{_QTOK}_vocab USING fts5vocab "
                 f"(temp, {_QTOK}, 'instance')")
    conn.execute("CREATE VIRTUAL TABLE IF NOT EXISTS temp.newsbot_chunk_vocab USING fts5vocab "
                 "(main, chunks_fts, 'row')")

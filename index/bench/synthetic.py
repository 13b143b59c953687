"""Grow a real index to 10k–1M chunks with stand-in articles, written straight into a
generation's SQLite (articles, chunks with float16 vectors, FTS) in large transactions.

Embedding a million chunks would take half a day on two cores, so only the seed index is
real (ingested and embedded by the benchmark). Stand-ins are built from it so that what
the query path sees looks like news: each stand-in chunk takes a real chunk's sentences,
half of them swapped for sentences from elsewhere in the corpus (realistic word statistics
for FTS5), and a vector near that chunk's real vector — mixed with a second real vector and
random noise, then normalized (realistic clustering for FAISS). Publication dates spread
over five years around the corpus, so date windows hold realistic shares of the index.

The FAISS file is then built by ``Generation.reconcile`` — the path an index takes when its
vector file is lost — so the layout chosen for the size is the product's own choice.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from index.generation import Generation
from index.lifecycle import new_dir, point_current
from index.sentences import split_sentences
from index.store import utcnow

BLOCK_CHUNKS = 20_000
_SOURCES = ("The News", "Dawn", "Business Recorder", "Express Tribune", "The Nation",
            "Pakistan Today", "Daily Times", "APP")
_FIRST_DAY = dt.date(2013, 1, 1)
_DAYS = 5 * 365
_ARTICLE_COLUMNS = ("id, ext_id, key, body_hash, title, published_at, source, url, category, "
                    "body, origin, note, ingested_at")
_CHUNK_COLUMNS = "id, article_id, ordinal, start, end, text, vector"


@dataclass(frozen=True, slots=True)
class Built:
    directory: Path
    chunks: int
    real_chunks: int
    sqlite_seconds: float
    faiss_seconds: float
    layout: str


@dataclass(slots=True)
class _Seed:
    """What stand-ins are made from: the real chunks' sentences and vectors."""

    sentences: list[list[str]]  # per real chunk
    pool: list[str]  # every real sentence
    vectors: np.ndarray  # float32, one per real chunk
    titles: list[str]
    chunks_per_article: np.ndarray
    neighbours: list[tuple[bytes, bytes] | None]  # per real chunk: (ids, sims), index.hubness


def build(seed_db: Path, data_dir: Path, target: int, *, dim: int, model: str,
          seed: int = 3) -> Built:
    """A live generation in ``data_dir`` holding the seed index plus stand-ins, ``target``
    chunks in all."""
    data_dir.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    gen = Generation.open(new_dir(data_dir), dim, model)
    try:
        conn = gen.store.conn
        with gen.store.lock:
            real = _copy_seed(conn, seed_db)
            source = _read_seed(conn)
            _add_standins(conn, source, max(0, target - real), np.random.default_rng(seed))
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        sqlite_seconds = time.monotonic() - started
        started = time.monotonic()
        gen.reconcile()  # vector file missing: built whole, in the layout the size calls for
        faiss_seconds = time.monotonic() - started
        point_current(data_dir, gen.dir)
        return Built(gen.dir, gen.vectors.ntotal, real, sqlite_seconds, faiss_seconds,
                     gen.vectors.describe())
    finally:
        gen.close()


def _copy_seed(conn: sqlite3.Connection, seed_db: Path) -> int:
    conn.execute("ATTACH DATABASE ? AS seed", (str(seed_db),))
    try:
        conn.execute("BEGIN")
        conn.execute(f"INSERT INTO articles ({_ARTICLE_COLUMNS}) "
                     f"SELECT {_ARTICLE_COLUMNS} FROM seed.articles")
        conn.execute(f"INSERT INTO chunks ({_CHUNK_COLUMNS}) SELECT {_CHUNK_COLUMNS} "
                     "FROM seed.chunks")
        conn.execute("INSERT INTO chunks_fts (rowid, title, text) SELECT c.id, a.title, c.text "
                     "FROM chunks AS c JOIN articles AS a ON a.id = c.article_id")
        conn.execute("INSERT INTO neighbours (chunk_id, ids, sims) SELECT chunk_id, ids, sims "
                     "FROM seed.neighbours")
        conn.execute("COMMIT")
    finally:
        conn.execute("DETACH DATABASE seed")
    return int(conn.execute("SELECT count(*) FROM chunks").fetchone()[0])


def _read_seed(conn: sqlite3.Connection) -> _Seed:
    rows = conn.execute("SELECT text, vector FROM chunks ORDER BY id").fetchall()
    if not rows:
        raise ValueError("the seed index holds no chunks")
    sentences = [[text[s:e] for s, e in split_sentences(text)] or [text] for text, _ in rows]
    vectors = np.stack([np.frombuffer(v, dtype=np.float16) for _, v in rows]).astype(np.float32)
    titles = [t for (t,) in conn.execute("SELECT title FROM articles") if t] or ["News"]
    counts = np.array([n for (n,) in conn.execute(
        "SELECT count(*) FROM chunks GROUP BY article_id")], dtype=np.int64)
    lists = {c: (i, s) for c, i, s in conn.execute("SELECT chunk_id, ids, sims FROM neighbours")}
    neighbours = [lists.get(i) for (i,) in conn.execute("SELECT id FROM chunks ORDER BY id")]
    return _Seed(sentences, [s for group in sentences for s in group], vectors, titles, counts,
                 neighbours)


def _add_standins(conn: sqlite3.Connection, seed: _Seed, count: int,
                  rng: np.random.Generator) -> None:
    article_id = int(conn.execute("SELECT coalesce(max(id), 0) FROM articles").fetchone()[0])
    chunk_id = int(conn.execute("SELECT coalesce(max(id), 0) FROM chunks").fetchone()[0])
    now = utcnow()
    made = 0
    while made < count:
        block = min(BLOCK_CHUNKS, count - made)
        base = rng.integers(0, len(seed.sentences), block)
        vectors = _vectors(seed.vectors, base, rng)
        articles, chunks, fts, lists = [], [], [], []
        row = 0
        while row < block:
            article_id += 1
            shape = seed.chunks_per_article[rng.integers(len(seed.chunks_per_article))]
            n = int(min(block - row, shape))
            title = seed.titles[int(rng.integers(len(seed.titles)))]
            texts = [_text(seed, int(base[row + i]), rng) for i in range(n)]
            body = " ".join(texts)
            offset = 0
            for ordinal, text in enumerate(texts):
                chunk_id += 1
                chunks.append((chunk_id, article_id, ordinal, offset, offset + len(text), text,
                               vectors[row].tobytes()))
                fts.append((chunk_id, title, text))
                # A stand-in is near its base chunk's neighbours: it takes that density
                # (computing a million neighbour lists would dwarf the benchmark).
                inherited = seed.neighbours[int(base[row])]
                if inherited is not None:
                    lists.append((chunk_id, *inherited))
                offset += len(text) + 1
                row += 1
            day = _FIRST_DAY + dt.timedelta(days=int(rng.integers(_DAYS)))
            articles.append((article_id, f"standin-{article_id}", None, f"standin:{article_id}",
                             title, day.isoformat(), _SOURCES[article_id % len(_SOURCES)], None,
                             "business", body, "benchmark stand-in", None, now))
        conn.execute("BEGIN")
        try:
            conn.executemany(f"INSERT INTO articles ({_ARTICLE_COLUMNS}) VALUES "
                             "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", articles)
            conn.executemany(f"INSERT INTO chunks ({_CHUNK_COLUMNS}) VALUES "
                             "(?, ?, ?, ?, ?, ?, ?)", chunks)
            conn.executemany("INSERT INTO chunks_fts (rowid, title, text) VALUES (?, ?, ?)", fts)
            conn.executemany("INSERT INTO neighbours (chunk_id, ids, sims) VALUES (?, ?, ?)",
                             lists)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        made += block


def _text(seed: _Seed, base: int, rng: np.random.Generator) -> str:
    """A real chunk's sentences, each swapped for a random corpus sentence half the time."""
    out = []
    for sentence in seed.sentences[base]:
        if rng.random() < 0.5:
            sentence = seed.pool[int(rng.integers(len(seed.pool)))]
        out.append(sentence)
    return " ".join(out)


def _vectors(real: np.ndarray, base: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Unit float16 vectors near the real ones of ``base``: each mixed with a second real
    vector, plus noise of 30–80 % of its norm, normalized."""
    n = len(base)
    first = real[base]
    second = real[rng.integers(0, len(real), n)]
    weight = rng.uniform(0.0, 0.4, (n, 1)).astype(np.float32)
    mixed = (1 - weight) * first + weight * second
    noise = rng.standard_normal(mixed.shape).astype(np.float32)
    scale = rng.uniform(0.3, 0.8, (n, 1)).astype(np.float32)
    noise *= scale * np.linalg.norm(mixed, axis=1, keepdims=True) / np.linalg.norm(
        noise, axis=1, keepdims=True)
    mixed += noise
    mixed /= np.linalg.norm(mixed, axis=1, keepdims=True)
    return mixed.astype(np.float16)

"""The write path: load → dedup → chunk → embed → store, as a two-stage pipeline.

The model is the bottleneck (~23 chunks/s on two cores), so nothing else may wait on it or
make it wait:

- A producer thread loads, normalizes, dedups and chunks articles ahead of the model (for
  feeds and article pages it also overlaps network fetches with embedding). The calling
  thread embeds and writes. A bounded queue keeps the producer about one batch ahead.
- Dedup happens before embedding: an article seen before (same normalized body) costs a
  hash and one lookup, never a model call, so an unchanged re-ingest embeds nothing.
- Chunks are embedded in large batches sorted by their token count (known from the
  tokenizer), so each model batch pads to almost nothing; sentence-transformers' own sort
  uses characters, which wastes ~13 % of the padded tokens on news text.
- Each batch is one SQLite transaction followed by one FAISS add; the vector file is saved
  at the end (and periodically), and anything a crash leaves unsaved is restored from SQLite
  when the index next opens.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import chain
from typing import Any

import numpy as np

from index import hubness
from index.chunkdays import day_number
from index.chunking import chunk_article
from index.embed import Embedder
from index.loaders import load_source, problem_reason
from index.loaders.counting import count_records
from index.models import Article, Chunk, IngestReport, LoadProblem
from index.normalize import body_hash
from index.settings import IndexSettings
from index.storage import IndexGeneration
from index.store import PendingArticle

log = logging.getLogger(__name__)

BATCH_CHUNKS = 512  # chunks embedded and written together (large: better length sorting)
AHEAD_ARTICLES = 512  # how far the producer may run ahead of the model
SAVE_EVERY_SECONDS = 120.0
_POLL_SECONDS = 0.2


@dataclass(slots=True)
class _Prepared:
    """An article ready to embed, with the token count of each chunk's embedded text."""

    pending: PendingArticle
    tokens: list[int]


@dataclass(slots=True)
class _Barrier:
    """Asks the consumer to write everything queued before it (a key must be looked up
    after its earlier version, still in flight, is stored)."""

    done: threading.Event = field(default_factory=threading.Event)


_END = object()


class IngestStopped(Exception):
    """The consumer failed; the producer stops quietly (the consumer's error propagates)."""


class Ingestor:
    def __init__(
        self,
        gen: IndexGeneration,
        embedder: Embedder,
        settings: IndexSettings,
        *,
        on_batch: Callable[[int, int], None] | None = None,
        model_batch: int | None = None,
    ) -> None:
        self.gen = gen
        self.embedder = embedder
        self.settings = settings
        self.report = IngestReport()
        self.on_batch = on_batch  # called with (articles written, chunks written) so far
        self.model_batch = model_batch  # texts per model call (default: the embedder's)
        self._pending: list[_Prepared] = []
        self._pending_chunks = 0
        # Bodies and keys accepted but not yet written (once written, SQLite answers).
        self._inflight_hashes: set[str] = set()
        self._inflight_keys: set[str] = set()
        self._inflight_lock = threading.Lock()
        self._written_articles = 0
        self._last_save = time.monotonic()
        self._bar: Any = None  # a tqdm bar while ``progress_bar`` is active
        self.seen = 0  # articles and problems considered so far (for progress)
        self._story_similarity = float(settings.same_story_similarity or 1.0)

    def run(self, sources: Iterable[str], *, progress: bool = False) -> IngestReport:
        """Ingest ``sources``; ``progress`` shows a bar on stderr, with a total and an ETA
        when the sources can be counted up front (local files and folders)."""
        started = time.monotonic()
        sources = list(sources)
        total = count_records(sources) if progress else None
        try:
            with self.progress_bar(progress, total=total, desc="ingesting"):
                self.add_items(chain.from_iterable(
                    load_source(source, self.settings) for source in sources))
                self.flush()
        finally:
            self.gen.save_if_dirty()
        self.report.seconds = time.monotonic() - started
        return self.report

    @contextmanager
    def progress_bar(self, enabled: bool, *, total: int | None, desc: str) -> Iterator[None]:
        """While inside, a tqdm bar on stderr counts the records considered (articles and
        load problems) against ``total``; nothing is shown when not ``enabled``."""
        if not enabled:
            yield
            return
        from tqdm import tqdm

        with tqdm(total=total, desc=desc, unit=" articles", leave=False) as bar:
            bar.update(self.seen)
            self._bar = bar
            try:
                yield
            finally:
                self._bar = None

    def _considered(self) -> None:
        self.seen += 1
        bar = self._bar
        if bar is not None:
            bar.update(1)

    # -- pipeline ---------------------------------------------------------------------------
    def add_items(self, items: Iterable[Article | LoadProblem]) -> None:
        """Prepare ``items`` on a producer thread while this thread embeds and writes.

        A partial batch may stay pending afterwards, exactly as if the articles had been
        added one by one: ``flush`` writes it.
        """
        lane: queue.Queue[object] = queue.Queue(maxsize=AHEAD_ARTICLES)
        stop = threading.Event()
        failure: list[BaseException] = []

        def produce() -> None:
            try:
                for item in items:
                    self._considered()
                    if isinstance(item, LoadProblem):
                        self.report.add_problem(item)
                        continue
                    prepared = self._prepare_guarded(item, lane, stop)
                    if prepared is not None:
                        _put(lane, prepared, stop)
            except IngestStopped:
                return
            except BaseException as exc:  # re-raised on the calling thread
                failure.append(exc)
            _put_end(lane, stop)

        producer = threading.Thread(target=produce, name="ingest-producer", daemon=True)
        producer.start()
        try:
            while True:
                item = lane.get()
                if item is _END:
                    break
                if isinstance(item, _Barrier):
                    self.flush()
                    item.done.set()
                    continue
                assert isinstance(item, _Prepared)
                self._pending.append(item)
                self._pending_chunks += len(item.pending.chunks)
                if self._pending_chunks >= BATCH_CHUNKS:
                    self.flush()
        finally:
            stop.set()
            producer.join()
        if failure:
            raise failure[0]

    def add(self, article: Article) -> None:
        """Queue one article (no producer thread: for callers adding articles one by one)."""
        self._considered()
        prepared = self._prepare_guarded(article, None, None)
        if prepared is not None:
            self._pending.append(prepared)
            self._pending_chunks += len(prepared.pending.chunks)
            if self._pending_chunks >= BATCH_CHUNKS:
                self.flush()

    def _prepare_guarded(self, article: Article, lane: queue.Queue[object] | None,
                         stop: threading.Event | None) -> _Prepared | None:
        """``_prepare``, but an article that cannot be hashed, chunked or tokenized becomes
        a failed record in the report: one bad record never costs the good ones beside it."""
        try:
            return self._prepare(article, lane, stop)
        except IngestStopped:
            raise
        except Exception as exc:  # noqa: BLE001 - reported, and the batch goes on
            log.warning("article %s not indexed: %s", article.origin, exc)
            self.report.add_problem(LoadProblem(
                "failed", article.origin or article.id, f"not indexed: {problem_reason(exc)}"))
            return None

    def _prepare(self, article: Article, lane: queue.Queue[object] | None,
                 stop: threading.Event | None) -> _Prepared | None:
        """Dedup and chunk one article, updating the report; None when nothing to embed."""
        digest = body_hash(article.body)
        with self._inflight_lock:
            in_flight = digest in self._inflight_hashes
        if in_flight or self.gen.store.has_hash(digest):
            self.report.duplicates += 1
            return None
        replaces = None
        if article.key:
            with self._inflight_lock:
                in_flight = article.key in self._inflight_keys
            if in_flight:
                # Same key twice in one run: the later version replaces the earlier one, so
                # the earlier one must be stored first to know what to replace.
                self._drain(lane, stop)
            replaces = self.gen.store.find_key(article.key)
        chunks = chunks_of(article, self.embedder, self.settings)
        if not chunks:
            self.report.add_problem(LoadProblem("skipped", article.origin, "no text to index"))
            return None
        if replaces is None:
            self.report.articles_new += 1
        else:
            self.report.articles_updated += 1
        with self._inflight_lock:
            self._inflight_hashes.add(digest)
            if article.key:
                self._inflight_keys.add(article.key)
        tokens = self.embedder.count_tokens([c.embed_text for c in chunks])
        return _Prepared(PendingArticle(article, digest, chunks, replaces=replaces), tokens)

    def _drain(self, lane: queue.Queue[object] | None, stop: threading.Event | None) -> None:
        if lane is None or stop is None:  # called on the consumer's own thread
            self.flush()
            return
        barrier = _Barrier()
        _put(lane, barrier, stop)
        while not barrier.done.wait(_POLL_SECONDS):
            if stop.is_set():
                raise IngestStopped

    # -- embedding and writing --------------------------------------------------------------
    def flush(self) -> None:
        if not self._pending:
            return
        batch = [p.pending for p in self._pending]
        texts = [c.embed_text for item in batch for c in item.chunks]
        lengths = [n for p in self._pending for n in p.tokens]
        vectors = self.embedder.encode_by_length(texts, lengths, batch_size=self.model_batch)
        row = 0
        for item in batch:
            item.vectors = vectors[row : row + len(item.chunks)]
            row += len(item.chunks)
        new_ids, removed = self.gen.write_batch(batch, vectors)
        if not self.gen.vectors_deferred:  # else ``index_written`` lists them all
            try:
                hubness.record(self.gen, np.asarray(new_ids, dtype=np.int64), vectors,
                               story_similarity=self._story_similarity)
            except Exception as exc:  # the batch is stored; its densities wait for next open
                log.warning("neighbour densities not recorded (filled in at next open): %s",
                            exc)
        self.gen.note_written(np.asarray(new_ids, dtype=np.int64), [
            day_number(item.article.published_at) for item in batch for _ in item.chunks],
            removed)
        with self._inflight_lock:  # committed: SQLite now answers for these
            self._inflight_hashes.difference_update(item.body_hash for item in batch)
            self._inflight_keys.difference_update(
                item.article.key for item in batch if item.article.key)
        self.report.chunks_embedded += len(texts)
        self._written_articles += len(batch)
        self._pending = []
        self._pending_chunks = 0
        self.gen.relayout_if_needed()
        if self.on_batch is not None:
            self.on_batch(self._written_articles, self.report.chunks_embedded)
        if not self.gen.vectors_deferred and \
                time.monotonic() - self._last_save > SAVE_EVERY_SECONDS:
            self.gen.save_vectors()
            self._last_save = time.monotonic()


def chunks_of(article: Article, embedder: Embedder, settings: IndexSettings) -> list[Chunk]:
    """The chunks ingest embeds for ``article`` (the benchmark embeds the very same)."""
    return chunk_article(
        article,
        count_tokens=embedder.count_tokens,
        max_tokens=embedder.max_tokens,
        max_words=settings.chunk_words,
        overlap=settings.chunk_overlap_sentences,
        prefix_fields=tuple(settings.embed_prefix),
    )


def _put(lane: queue.Queue[object], item: object, stop: threading.Event) -> None:
    while True:
        if stop.is_set():
            raise IngestStopped
        try:
            lane.put(item, timeout=_POLL_SECONDS)
            return
        except queue.Full:
            continue


def _put_end(lane: queue.Queue[object], stop: threading.Event) -> None:
    try:
        _put(lane, _END, stop)
    except IngestStopped:
        pass

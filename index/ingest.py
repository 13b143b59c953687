"""The write path: load → dedup → chunk → embed → store, in batches.

Dedup happens before embedding, so an article seen before (same normalized body) costs a
hash and one lookup, never a model call. Each batch is one SQLite transaction followed by
one FAISS add; the vector file is saved at the end (and periodically), and anything a crash
leaves unsaved is restored from SQLite when the index next opens.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable

import numpy as np

from index.chunking import chunk_article
from index.embed import Embedder
from index.generation import Generation
from index.loaders import load_source
from index.models import Article, IngestReport, LoadProblem
from index.normalize import body_hash
from index.settings import IndexSettings
from index.store import PendingArticle

log = logging.getLogger(__name__)

BATCH_CHUNKS = 256  # chunks embedded and written together
SAVE_EVERY_SECONDS = 120.0


class Ingestor:
    def __init__(
        self,
        gen: Generation,
        embedder: Embedder,
        settings: IndexSettings,
        *,
        on_batch: Callable[[int, int], None] | None = None,
    ) -> None:
        self.gen = gen
        self.embedder = embedder
        self.settings = settings
        self.report = IngestReport()
        self.on_batch = on_batch  # called with (articles written, chunks written) so far
        self._pending: list[PendingArticle] = []
        self._pending_chunks = 0
        self._pending_hashes: set[str] = set()
        self._pending_keys: dict[str, int] = {}
        self._written_articles = 0
        self._last_save = time.monotonic()
        self._bar = None
        self.seen = 0  # articles and problems considered so far (for progress)

    def run(self, sources: Iterable[str], *, progress: bool = False) -> IngestReport:
        started = time.monotonic()
        if progress:
            from tqdm import tqdm

            self._bar = tqdm(desc="embedding", unit=" chunks", leave=False)
        try:
            for source in sources:
                self.add_items(load_source(source, self.settings))
            self.flush()
        finally:
            if self._bar is not None:
                self._bar.close()
            if self.gen.dirty:
                self.gen.save_vectors()
        self.report.seconds = time.monotonic() - started
        return self.report

    def add_items(self, items: Iterable[Article | LoadProblem]) -> None:
        for item in items:
            self.seen += 1
            if isinstance(item, LoadProblem):
                self.report.add_problem(item)
            else:
                self.add(item)

    def add(self, article: Article) -> None:
        digest = body_hash(article.body)
        if digest in self._pending_hashes or self.gen.store.has_hash(digest):
            self.report.duplicates += 1
            return
        replaces = None
        if article.key:
            if article.key in self._pending_keys:
                # Same key twice in one batch: the later version wins once written.
                self.flush()
            replaces = self.gen.store.find_key(article.key)
        chunks = chunk_article(
            article,
            count_tokens=self.embedder.count_tokens,
            max_tokens=self.embedder.max_tokens,
            max_words=self.settings.chunk_words,
            overlap=self.settings.chunk_overlap_sentences,
            prefix_fields=tuple(self.settings.embed_prefix),
        )
        if not chunks:
            self.report.add_problem(LoadProblem("skipped", article.origin, "no text to index"))
            return
        if replaces is None:
            self.report.articles_new += 1
        else:
            self.report.articles_updated += 1
        self._pending.append(PendingArticle(article, digest, chunks, replaces=replaces))
        self._pending_hashes.add(digest)
        if article.key:
            self._pending_keys[article.key] = len(self._pending) - 1
        self._pending_chunks += len(chunks)
        if self._pending_chunks >= BATCH_CHUNKS:
            self.flush()

    def flush(self) -> None:
        if not self._pending:
            return
        batch = self._pending
        texts = [c.embed_text for item in batch for c in item.chunks]
        vectors = self.embedder.encode(texts)
        row = 0
        for item in batch:
            item.vectors = vectors[row : row + len(item.chunks)]
            row += len(item.chunks)
        with self.gen.lock:
            new_ids, removed = self.gen.store.write_batch(batch)
            self.gen.vectors.remove(removed)
            self.gen.vectors.add(np.asarray(new_ids, dtype=np.int64), vectors)
            self.gen.dirty = True
        self.report.chunks_embedded += len(texts)
        self._written_articles += len(batch)
        self._pending = []
        self._pending_chunks = 0
        self._pending_hashes.clear()
        self._pending_keys.clear()
        if self._bar is not None:
            self._bar.update(len(texts))
        if self.on_batch is not None:
            self.on_batch(self._written_articles, self.report.chunks_embedded)
        if time.monotonic() - self._last_save > SAVE_EVERY_SECONDS:
            self.gen.save_vectors()
            self._last_save = time.monotonic()

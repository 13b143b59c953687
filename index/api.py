"""``Index``: the one object callers use (CLI, terminal chat, Telegram bot, eval).

Thread-safety: ``search``/``answer``/``stats`` may be called from several threads at once
(the bot runs them in ``asyncio.to_thread``); writes (``ingest``, ``rebuild``) are
serialized by a lock. ``rebuild`` builds a whole new generation beside the current one and
swaps it in atomically, so questions keep being answered from the old index meanwhile.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

from index import hubness
from index.answer import compose
from index.backends import Backend, backend_for
from index.embed import Embedder
from index.followup import (
    FollowUpRule,
    asks_for_another,
    context_text,
    is_follow_up,
    search_text,
)
from index.generation import ModelChanged
from index.ingest import Ingestor
from index.memory import release_memory
from index.models import (
    Answer,
    Article,
    ChunkRow,
    Hit,
    IndexStats,
    IngestReport,
    LoadProblem,
    RebuildProgress,
    SourceStats,
    StoredArticle,
    Turn,
)
from index.newsness import newsness_model, relevance_bar
from index.readers import Readers
from index.rebuild import (
    catch_up,
    copy_stored,
    remember_sources,
    remembered_sources,
)
from index.retention import Removed
from index.search import Retriever
from index.settings import IndexSettings
from index.smalltalk import ABOUT, is_small_talk
from index.storage import IndexGeneration, IndexStore

log = logging.getLogger(__name__)


# Share of a rebuild's progress given to embedding; the rest is building the new FAISS
# index and the neighbour lists once every chunk is written (``Generation.index_written``).
EMBED_SHARE = 0.95


class RebuildRunning(RuntimeError):
    """A rebuild is already in progress (``fraction`` says how far it got; 0 when it runs
    in another process sharing the database, ``elsewhere``)."""

    def __init__(self, fraction: float, *, elsewhere: bool = False) -> None:
        super().__init__("a rebuild is already running in another process" if elsewhere
                         else f"a rebuild is already running ({fraction:.0%})")
        self.fraction = fraction
        self.elsewhere = elsewhere


class RebuildFailed(RuntimeError):
    """The rebuild produced no usable index; the previous one keeps serving."""


class RebuildCancelled(RuntimeError):
    """``cancel_rebuild`` stopped the rebuild at a batch boundary; the half-built generation
    was removed and the previous one keeps serving."""


class Index:
    def __init__(self, settings: IndexSettings, embedder: Embedder, gen: IndexGeneration,
                 backend: Backend | None = None) -> None:
        self.settings = settings
        self.embedder = embedder
        self._backend = backend or backend_for(settings)
        self._gen = gen
        self._retriever = Retriever(embedder, settings)
        self._write_lock = threading.Lock()
        self._rebuild_lock = threading.Lock()
        self._cancel = threading.Event()  # set by cancel_rebuild, read at batch boundaries
        self._retired: list[IndexGeneration] = []
        self._readers: Readers[IndexGeneration] = Readers()  # who still reads which
        self.rebuild_fraction: float | None = None  # None when no rebuild is running
        self._seen_version = gen.store.data_version()
        self._refresh_lock = threading.Lock()

    @classmethod
    def open(cls, settings: IndexSettings, *, embedder: Embedder | None = None,
             reembed: bool = False, progress: bool = False) -> Index:
        """Open (creating if needed) the index in ``settings.data_dir``, or in the database
        of ``settings.database_url`` (``index.backends``); on SQLite, checks FAISS/SQLite
        agreement and repairs the vector file from SQLite when they differ.

        An index embedded by another model than ``settings.embedding_model`` raises
        ``ModelChanged``, unless ``reembed``: then every stored article is re-embedded
        first (``progress``: a bar on stderr), which takes long on a large archive — so
        only callers that are about to serve or rebuild ask for it."""
        embedder = embedder or Embedder(settings.embedding_model,
                                        batch_size=settings.embed_batch_size,
                                        dtype=settings.embed_dtype)
        backend = backend_for(settings)
        try:
            gen = backend.open_live(embedder.dim, settings.embedding_model)
        except ModelChanged as exc:
            if not reembed:
                raise
            gen = backend.reembed(settings, embedder, exc, progress=progress)
        hubness.backfill(gen, story_similarity=float(settings.same_story_similarity or 1.0))
        return cls(settings, embedder, gen, backend)

    def __enter__(self) -> Index:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def generation(self) -> IndexGeneration:
        return self._gen

    # -- writing ----------------------------------------------------------------------------
    def ingest(self, sources: Iterable[str], *, progress: bool = False) -> IngestReport:
        """Load, dedup, chunk, embed and store every article from paths/URLs in ``sources``."""
        sources = list(sources)
        self.refresh()  # write into the live generation, should another process have swapped
        with self._write_lock, self._backend.write_lock():
            report = Ingestor(self._gen, self.embedder, self.settings).run(
                sources, progress=progress)
            remember_sources(self._gen, sources)
        return report

    def ingest_articles(self, items: Iterable[Article | LoadProblem]) -> IngestReport:
        """Dedup, chunk, embed and store articles a caller has already loaded (the feed
        poller fetches conditionally and enriches entries itself); same pipeline as
        ``ingest``."""
        started = time.monotonic()
        self.refresh()
        with self._write_lock, self._backend.write_lock():
            ingestor = Ingestor(self._gen, self.embedder, self.settings)
            try:
                ingestor.add_items(items)
                ingestor.flush()
            finally:
                self._gen.save_if_dirty()
        report = ingestor.report
        report.seconds = time.monotonic() - started
        return report

    def rebuild(
        self,
        sources: list[str],
        *,
        progress: Callable[[RebuildProgress], None] | None = None,
    ) -> IngestReport:
        """Build a fresh generation: every stored article re-chunked and re-embedded, plus
        whatever ``sources`` (and sources ingested before) now hold; then swap it in
        atomically. On failure the current index keeps serving and the exception propagates.

        Stored articles are read in pages (``Store.iter_articles``), never all at once, and
        written to SQLite only; the new FAISS index (in its final layout) and every
        neighbour list are built once they are all written (``Generation.index_written``).
        Whatever is written to the live generation meanwhile (the feed poller, an
        ``ingest`` call in this process) is caught up before the swap: first without any
        lock, as often as new articles keep arriving, then once more under the write lock,
        so every article committed before the swap is in the new generation. Writers wait
        only for that last step; questions never wait.
        """
        if not self._rebuild_lock.acquire(blocking=False):
            raise RebuildRunning(self.rebuild_fraction or 0.0)
        started = time.monotonic()
        self._cancel.clear()
        try:
            with self._backend.rebuild_lock() as ours:
                if not ours:
                    raise RebuildRunning(0.0, elsewhere=True)
                return self._rebuild(sources, progress, started)
        finally:
            self.rebuild_fraction = None
            self._rebuild_lock.release()

    def _rebuild(self, sources: list[str], progress: Callable[[RebuildProgress], None] | None,
                 started: float) -> IngestReport:
        """``rebuild``'s work, under its locks."""
        self.rebuild_fraction = 0.0
        old = self._gen
        all_sources = list(dict.fromkeys([*sources, *remembered_sources(old)]))
        _emit(progress, "loading", 0.0, 0, 0, started, None)
        from index.loaders import load_source

        copied = old.store.max_article_id()  # articles up to here are copied first
        # Progress is an estimate: sources are streamed, not counted first, and mostly
        # hold the stored articles again.
        stored_count = old.store.counts()[0]
        total = max(1, stored_count * (2 if all_sources else 1))
        with self._backend.new_generation(self.embedder.dim,
                                          self.settings.embedding_model) as new:
            new_gen = new.gen
            new_gen.defer_vectors()  # FAISS and neighbour lists once, after the copy

            def step(phase: str, done: float, articles: int, chunks: int) -> None:
                self._stop_if_cancelled()
                self.rebuild_fraction = done
                elapsed = time.monotonic() - started
                eta = elapsed / done * (1 - done) if done > 0.02 else None
                _emit(progress, phase, done, articles, chunks, started, eta)

            def on_batch(articles: int, chunks: int) -> None:
                step("embedding", EMBED_SHARE * min(1.0, ingestor.seen / total), articles,
                     chunks)

            ingestor = Ingestor(new_gen, self.embedder, self.settings, on_batch=on_batch,
                                model_batch=self.settings.rebuild_embed_batch_size)
            copy_stored(old, ingestor, upto=copied)
            ingestor.add_items(item for src in all_sources
                               for item in load_source(src, self.settings))
            ingestor.flush()
            report = ingestor.report

            def on_block(done: int, chunks: int) -> None:
                share = EMBED_SHARE + (1 - EMBED_SHARE) * done / max(1, chunks)
                step("indexing", share, report.articles_new, done)

            step("indexing", EMBED_SHARE, report.articles_new, 0)
            new_gen.index_written(story_similarity=float(
                self.settings.same_story_similarity or 1.0), on_block=on_block)
            _emit(progress, "saving", 1.0, report.articles_new, report.chunks_embedded,
                  started, 0.0)
            copied = catch_up(old, ingestor, copied)
            # In-process writers wait for the last few articles; on PostgreSQL other
            # processes' writers wait too (``swapping``).
            with self._write_lock, new.swapping():
                copied = catch_up(old, ingestor, copied, rounds=1)
                self._stop_if_cancelled()  # the last moment the swap can still be refused
                new_gen.save_vectors()
                problems = new_gen.check()
                if problems:
                    raise RebuildFailed("; ".join(problems))
                articles, _chunks, _ = new_gen.store.counts()
                if articles == 0 and (report.failed or old.store.counts()[0]):
                    raise RebuildFailed(
                        f"no articles could be loaded ({report.failed} sources failed)")
                new.publish(json.dumps(all_sources))
                self._gen = new_gen
                self._seen_version = new_gen.store.data_version()
                self._retire(old)
        report.seconds = time.monotonic() - started
        _emit(progress, "done", 1.0, articles, new_gen.store.counts()[1], started, 0.0)
        return report

    def remove_source(self, source: str) -> Removed:
        """Delete every article of the outlet ``source`` (rows, FTS and vectors; SQLite in
        one transaction). Refused while a rebuild runs: it would copy them back."""
        return self._delete(lambda store: store.article_ids_from(source))

    def prune(self, before: dt.date) -> Removed:
        """Delete the articles published before ``before`` (an undated one by the day it was
        ingested), atomically as ``remove_source``."""
        return self._delete(lambda store: store.article_ids_before(before))

    def remove_loaded(self, source: str) -> Removed:
        """Delete the stored articles whose text is what the file or folder ``source`` holds
        now (matched by normalized body, so it works after a reindex too): the bundled
        samples leave an index that goes on to serve a real chat."""
        from index.loaders import load_source
        from index.normalize import body_hash

        hashes = [body_hash(item.body) for item in load_source(source, self.settings)
                  if isinstance(item, Article)]
        return self._delete(lambda store: store.article_ids_with_hashes(hashes))

    def _delete(self, select: Callable[[IndexStore], list[int]]) -> Removed:
        with self._write_lock:
            if self.rebuild_fraction is not None:
                raise RebuildRunning(self.rebuild_fraction)
            gen = self._gen
            ids = select(gen.store)
            chunks = gen.delete_articles(ids) if ids else 0
            self._seen_version = gen.store.data_version()
        return Removed(len(ids), chunks)

    def cancel_rebuild(self) -> bool:
        """Ask a running rebuild to stop at its next batch (the bot is shutting down): it
        raises ``RebuildCancelled``, removes its half-built generation and leaves the live
        one as it was. False when no rebuild is running."""
        if self.rebuild_fraction is None:
            return False
        self._cancel.set()
        return True

    def _stop_if_cancelled(self) -> None:
        if self._cancel.is_set():
            raise RebuildCancelled("the rebuild was stopped; the previous index is serving")

    def _reading(self) -> contextlib.AbstractContextManager[IndexGeneration]:
        """The live generation, counted as read until the block ends (``_retire``)."""
        return self._readers.reading(lambda: self._gen)

    def _retire(self, old: IndexGeneration, *, delete: bool = True) -> None:
        """Close ``old`` once no question reads it any more (at once when none does), and
        delete the generation retired before it: its files stay until the next swap for
        other processes still switching over (``refresh``).

        ``delete`` is False when another process made the switch (it deletes its own)."""
        closed, self._retired = self._retired, [old]
        for gen in closed:
            if delete:
                self._backend.discard(gen)
            else:
                gen.close()
        if closed:
            del gen
            closed.clear()  # the last references to their FAISS indexes
        self._readers.when_idle(old, lambda: self._close_retired(old))

    @staticmethod
    def _close_retired(gen: IndexGeneration) -> None:
        gen.close()  # a closed generation lets go of its vectors too
        release_memory()  # which glibc would otherwise keep

    # -- other processes --------------------------------------------------------------------
    def refresh(self) -> None:
        """Pick up what another process did to the same index: a ``newsbot ingest`` (new
        chunks committed → on SQLite their vectors added from SQLite) or a ``newsbot
        reindex`` (another generation is live → switch to it).

        Cheap (a pragma and a small file read, or two small queries), so it runs before
        every question.
        """
        if not self._refresh_lock.acquire(blocking=False):
            return  # another thread is refreshing; this question uses the current state
        try:
            live = self._backend.live_name()
            if live is not None and live != self._gen.name and self.rebuild_fraction is None:
                with self._write_lock:
                    gen = self._backend.open_named(live, self.embedder.dim,
                                                   self.settings.embedding_model)
                    old, self._gen = self._gen, gen
                    self._retire(old, delete=False)
                    self._seen_version = gen.store.data_version()
                log.info("switched to generation %s written by another process", live)
                return
            version = self._gen.store.data_version()
            if version != self._seen_version:
                self._seen_version = version
                added, removed = self._gen.reconcile()
                if added or removed:
                    log.info("picked up %d new and %d removed chunks from another process",
                             added, removed)
        finally:
            self._refresh_lock.release()

    # -- reading ----------------------------------------------------------------------------
    def search(self, query: str, *, k: int = 10, asked_at: dt.date | None = None) -> list[Hit]:
        """Top ``k`` articles for ``query`` (one hit per article, best first)."""
        self.refresh()
        with self._reading() as gen:
            return self._retriever.search(gen, query, k=k, asked_at=asked_at)

    def answer(
        self, question: str, *, asked_at: dt.date | None = None, limit: int | None = None,
        context: Turn | None = None,
    ) -> Answer:
        """Up to ``limit`` (default ``max_citations``) citations with verbatim quotes;
        ``found`` False when nothing is relevant enough (the bot shows the first few and
        pages through the rest).

        ``context`` is the conversation's earlier turn (``index.followup.next_turn`` of the
        previous answer): when the question reads as a follow-up of it, it is searched with
        the earlier question's words and ``Answer.context`` says so; otherwise it is
        answered on its own."""
        started = time.perf_counter()
        limit = limit or self.settings.max_citations
        if is_small_talk(question):  # "hello", "thanks", "what can you do?": no search
            return Answer(question, (), (ABOUT,), found=False,
                          seconds=time.perf_counter() - started)
        self.refresh()
        with self._reading() as gen:
            used = (context if context is not None and self.follows_up(question, context)
                    else None)
            query = search_text(question, used) if used is not None else question
            found = self._retriever.retrieve(gen, query, k=max(limit, 10), asked_at=asked_at)
            hits = found.hits
            if used is not None and used.story_ids and asks_for_another(question):
                shown = used.story_ids[0]  # "and in France?": not the story just cited first
                hits = [h for h in hits if h.article.ext_id != shown] + \
                    [h for h in hits if h.article.ext_id == shown]
            bar = self.settings.min_relevance
            if found.question_vector is not None and hits:  # how strongly must one match?
                model = newsness_model(self.embedder, Path(self.settings.data_dir))
                bar = relevance_bar(query, found.question_vector, hits, gen, model,
                                    self.settings, asked_at)
            answer = compose(query, hits, gen, min_relevance=self.settings.min_relevance,
                             found_relevance=bar, confident=self.settings.confident_relevance,
                             citation_floor=self.settings.citation_floor, limit=limit,
                             same_story=self.settings.same_story_similarity)
        return Answer(question, answer.citations, answer.notes, answer.found,
                      time.perf_counter() - started, used)

    def follows_up(self, question: str, context: Turn) -> bool:
        """Whether ``question`` reads as a follow-up of ``context`` (``index.followup``)."""
        rule = FollowUpRule(self.settings.follow_up_max_terms,
                            self.settings.follow_up_similarity)
        earlier = context_text(context)
        if is_follow_up(question, earlier, None, rule):  # refers back: no embedding needed
            return True
        if rule.similarity is None:
            return False
        own, before = self.embedder.encode_queries([question, earlier])
        return is_follow_up(question, earlier, float(own @ before), rule)

    def warm_up(self) -> None:
        """Load the model and the newsness weights now (training them once per model and
        data directory), so the first question does not wait for either."""
        self.embedder.load()
        newsness_model(self.embedder, Path(self.settings.data_dir))

    def stats(self) -> IndexStats:
        with self._reading() as gen:
            articles, chunks, sources = gen.store.counts()
            return IndexStats(articles, chunks, gen.ntotal, sources,
                              gen.store.get_meta("last_ingest"), gen.disk_bytes(),
                              self.settings.embedding_model)

    def sources(self) -> list[SourceStats]:
        with self._reading() as gen:
            return gen.store.sources()

    def latest(self, topic: str | None = None, *, limit: int = 5) -> list[StoredArticle]:
        """Newest articles, optionally only those matching ``topic``."""
        with self._reading() as gen:
            if not topic or not topic.strip():
                return gen.store.latest(limit)
            hits = self._retriever.search(gen, topic, k=max(30, limit * 5))
            # A topic is a few words, not a question: a story counts when it is about the
            # topic at least as much as a cited story must be, or when its words match it.
            floor = self.settings.citation_floor
            ids = [h.article.rowid for h in hits
                   if (h.dense_score or 0.0) >= floor or h.keyword_rank is not None]
            return gen.store.latest(limit, ids)

    def article(self, rowid: int) -> StoredArticle | None:
        with self._reading() as gen:
            return gen.store.articles([rowid]).get(rowid)

    # -- what the alerts room reads (index.alerts) ------------------------------------------
    @property
    def generation_id(self) -> str:
        """Names the live generation; article ids start over when it changes (a rebuild)."""
        return self._gen.name

    def max_article_id(self) -> int:
        with self._reading() as gen:
            return gen.store.max_article_id()

    def articles_after(self, last_id: int, limit: int) -> list[StoredArticle]:
        """Stored articles with an id above ``last_id``, oldest first (a cursor's next page)."""
        with self._reading() as gen:
            return gen.store.articles_after(last_id, limit)

    def articles_published_since(self, day: dt.date) -> list[StoredArticle]:
        with self._reading() as gen:
            return gen.store.articles_published_since(day)

    def article_vectors(self, rowid: int) -> tuple[list[ChunkRow], np.ndarray]:
        """An article's chunks in order with their stored (normalized) vectors."""
        with self._reading() as gen:
            return gen.store.article_vectors(rowid)

    def has_key(self, key: str) -> bool:
        """Whether an article with this dedup key (a link or an id) is stored."""
        with self._reading() as gen:
            return gen.store.find_key(key) is not None

    def check(self) -> list[str]:
        """Integrity problems (empty list = FAISS, SQLite chunks and FTS agree)."""
        with self._reading() as gen:
            return gen.check()

    def close(self) -> None:
        with self._write_lock:
            for gen in self._retired:
                gen.close()
            self._retired = []
            self._gen.close()
            self._backend.close()


def _emit(progress: Callable[[RebuildProgress], None] | None, phase: str, fraction: float,
          articles: int, chunks: int, started: float, eta: float | None) -> None:
    if progress is None:
        return
    try:
        progress(RebuildProgress(phase, fraction, articles, chunks,
                                 time.monotonic() - started, eta))
    except Exception:  # a broken progress display must not abort a rebuild
        log.exception("rebuild progress callback failed")

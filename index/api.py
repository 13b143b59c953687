"""``Index``: the one object callers use (CLI, terminal chat, Telegram bot, eval).

Thread-safety: ``search``/``answer``/``stats`` may be called from several threads at once
(the bot runs them in ``asyncio.to_thread``); writes (``ingest``, ``rebuild``) are
serialized by a lock. ``rebuild`` builds a whole new generation beside the current one and
swaps it in atomically, so questions keep being answered from the old index meanwhile.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import shutil
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

from index import hubness
from index.answer import compose
from index.embed import Embedder
from index.generation import (
    CURRENT,
    SQLITE_NAME,
    Generation,
    ModelChanged,
    current_dir,
    new_dir,
    point_current,
)
from index.ingest import Ingestor
from index.models import (
    Answer,
    Article,
    Hit,
    IndexStats,
    IngestReport,
    LoadProblem,
    RebuildProgress,
    SourceStats,
    StoredArticle,
)
from index.newsness import names_indexed_thing, newsness_model
from index.querydates import parse_query_dates
from index.search import Retriever
from index.smalltalk import ABOUT, is_small_talk
from index.settings import IndexSettings

log = logging.getLogger(__name__)
STALE_GENERATION_SECONDS = 3600
COMPLETE_META = "complete"  # set in a generation once it is (or was) live
STORE_PAGE = 500  # stored articles read at a time by a rebuild or re-embed
_GEN_NAME = re.compile(r"^gen-[A-Za-z0-9_.-]+$")


class RebuildRunning(RuntimeError):
    """A rebuild is already in progress (``fraction`` says how far it got)."""

    def __init__(self, fraction: float) -> None:
        super().__init__(f"a rebuild is already running ({fraction:.0%})")
        self.fraction = fraction


class RebuildFailed(RuntimeError):
    """The rebuild produced no usable index; the previous one keeps serving."""


class RebuildCancelled(RuntimeError):
    """``cancel_rebuild`` stopped the rebuild at a batch boundary; the half-built generation
    was removed and the previous one keeps serving."""


class Index:
    def __init__(self, settings: IndexSettings, embedder: Embedder, gen: Generation) -> None:
        self.settings = settings
        self.embedder = embedder
        self._gen = gen
        self._retriever = Retriever(embedder, settings)
        self._write_lock = threading.Lock()
        self._rebuild_lock = threading.Lock()
        self._cancel = threading.Event()  # set by cancel_rebuild, read at batch boundaries
        self._retired: list[Generation] = []
        self.rebuild_fraction: float | None = None  # None when no rebuild is running
        self._seen_version = gen.store.data_version()
        self._refresh_lock = threading.Lock()

    @classmethod
    def open(cls, settings: IndexSettings, *, embedder: Embedder | None = None) -> Index:
        """Open (creating if needed) the index in ``settings.data_dir``; checks FAISS/SQLite
        agreement and repairs the vector file from SQLite when they differ."""
        embedder = embedder or Embedder(settings.embedding_model,
                                        batch_size=settings.embed_batch_size,
                                        dtype=settings.embed_dtype)
        data_dir = Path(settings.data_dir)
        data_dir.mkdir(parents=True, exist_ok=True)
        directory = _live_dir(data_dir)
        if directory is None:
            directory = new_dir(data_dir)
            _mark_complete(directory)
            point_current(data_dir, directory)
        _remove_abandoned(data_dir, keep=directory)
        try:
            gen = Generation.open(directory, embedder.dim, settings.embedding_model)
        except ModelChanged as exc:
            gen = _reembed(settings, embedder, directory, exc)
        hubness.backfill(gen, story_similarity=float(settings.same_story_similarity or 1.0))
        return cls(settings, embedder, gen)

    @property
    def generation(self) -> Generation:
        return self._gen

    # -- writing ----------------------------------------------------------------------------
    def ingest(self, sources: Iterable[str], *, progress: bool = False) -> IngestReport:
        """Load, dedup, chunk, embed and store every article from paths/URLs in ``sources``."""
        sources = list(sources)
        with self._write_lock:
            report = Ingestor(self._gen, self.embedder, self.settings).run(
                sources, progress=progress)
            _remember_sources(self._gen, sources)
        return report

    def ingest_articles(self, items: Iterable[Article | LoadProblem]) -> IngestReport:
        """Dedup, chunk, embed and store articles a caller has already loaded (the feed
        poller fetches conditionally and enriches entries itself); same pipeline as
        ``ingest``."""
        started = time.monotonic()
        with self._write_lock:
            ingestor = Ingestor(self._gen, self.embedder, self.settings)
            try:
                ingestor.add_items(items)
                ingestor.flush()
            finally:
                if self._gen.dirty:
                    self._gen.save_vectors()
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

        Stored articles are read in pages (``Store.iter_articles``), never all at once.
        Whatever is written to the live generation meanwhile (the feed poller, an
        ``ingest`` call in this process) is caught up before the swap: first without any
        lock, as often as new articles keep arriving, then once more under the write lock,
        so every article committed before the swap is in the new generation. Writers wait
        only for that last step; questions never wait.
        """
        if not self._rebuild_lock.acquire(blocking=False):
            raise RebuildRunning(self.rebuild_fraction or 0.0)
        started = time.monotonic()
        new_gen: Generation | None = None
        self._cancel.clear()
        try:
            self.rebuild_fraction = 0.0
            old = self._gen
            all_sources = list(dict.fromkeys([*sources, *_remembered_sources(old)]))
            _emit(progress, "loading", 0.0, 0, 0, started, None)
            from index.loaders import load_source

            copied = old.store.max_article_id()  # articles up to here are copied first
            # Progress is an estimate: sources are streamed, not counted first, and mostly
            # hold the stored articles again.
            stored_count = old.store.counts()[0]
            total = max(1, stored_count * (2 if all_sources else 1))
            data_dir = Path(self.settings.data_dir)
            new_gen = Generation.open(new_dir(data_dir), self.embedder.dim,
                                      self.settings.embedding_model)

            def on_batch(articles: int, chunks: int) -> None:
                self._stop_if_cancelled()
                done = min(1.0, (ingestor.seen) / total)
                self.rebuild_fraction = done
                elapsed = time.monotonic() - started
                eta = elapsed / done * (1 - done) if done > 0.02 else None
                _emit(progress, "embedding", done, articles, chunks, started, eta)

            ingestor = Ingestor(new_gen, self.embedder, self.settings, on_batch=on_batch)
            ingestor.add_items(_stored_as_articles(
                old.store.iter_articles(upto=copied, page=STORE_PAGE)))
            ingestor.add_items(item for src in all_sources
                               for item in load_source(src, self.settings))
            ingestor.flush()
            report = ingestor.report
            _emit(progress, "saving", 1.0, report.articles_new, report.chunks_embedded,
                  started, 0.0)
            copied = _catch_up(old, ingestor, copied)
            with self._write_lock:  # in-process writers wait for the last few articles only
                copied = _catch_up(old, ingestor, copied, rounds=1)
                self._stop_if_cancelled()  # the last moment the swap can still be refused
                new_gen.save_vectors()
                problems = new_gen.check()
                if problems:
                    raise RebuildFailed("; ".join(problems))
                articles, _chunks, _ = new_gen.store.counts()
                if articles == 0 and (report.failed or old.store.counts()[0]):
                    raise RebuildFailed(
                        f"no articles could be loaded ({report.failed} sources failed)")
                _remember_sources(new_gen, all_sources)
                new_gen.store.set_meta(COMPLETE_META, "1")  # a fallback if CURRENT is lost
                point_current(data_dir, new_gen.dir)
                self._gen = new_gen
                self._seen_version = new_gen.store.data_version()
                self._retire(old)
            report.seconds = time.monotonic() - started
            _emit(progress, "done", 1.0, articles, new_gen.store.counts()[1], started, 0.0)
            return report
        except BaseException:
            if new_gen is not None and new_gen is not self._gen:
                new_gen.close()
                shutil.rmtree(new_gen.dir, ignore_errors=True)
            raise
        finally:
            self.rebuild_fraction = None
            self._rebuild_lock.release()

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

    def _retire(self, old: Generation, *, delete: bool = True) -> None:
        """Close generations retired earlier; keep ``old`` open for in-flight queries.

        ``delete`` is False when another process made the switch (it deletes its own)."""
        for gen in self._retired:
            gen.close()
            if delete:
                shutil.rmtree(gen.dir, ignore_errors=True)
        self._retired = [old]

    # -- other processes --------------------------------------------------------------------
    def refresh(self) -> None:
        """Pick up what another process did to the same data directory: a ``newsbot ingest``
        (new chunks committed to SQLite → their vectors added from SQLite) or a
        ``newsbot reindex`` (``CURRENT`` names another generation → switch to it).

        Cheap (a pragma and a small file read), so it runs before every question.
        """
        if not self._refresh_lock.acquire(blocking=False):
            return  # another thread is refreshing; this question uses the current state
        try:
            data_dir = Path(self.settings.data_dir)
            live = _pointed(data_dir, quiet=True)
            if live is not None and live != self._gen.dir and live.exists() and \
                    self.rebuild_fraction is None:
                with self._write_lock:
                    gen = Generation.open(live, self.embedder.dim, self.settings.embedding_model)
                    old, self._gen = self._gen, gen
                    self._retire(old, delete=False)
                    self._seen_version = gen.store.data_version()
                log.info("switched to generation %s written by another process", live.name)
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
        return self._retriever.search(self._gen, query, k=k, asked_at=asked_at)

    def answer(
        self, question: str, *, asked_at: dt.date | None = None, limit: int = 10
    ) -> Answer:
        """Up to ``limit`` citations with verbatim quotes; ``found`` False when nothing is
        relevant enough (the bot shows the first few and pages through the rest)."""
        started = time.perf_counter()
        if is_small_talk(question):  # "hello", "thanks", "what can you do?": no search
            return Answer(question, (), (ABOUT,), found=False,
                          seconds=time.perf_counter() - started)
        self.refresh()
        gen = self._gen
        found = self._retriever.retrieve(gen, question, k=max(limit, 10), asked_at=asked_at)
        hits = found.hits
        bar = self.settings.min_relevance
        if found.question_vector is not None and hits and not self._reads_like_news(
                gen, question, found.question_vector, hits, asked_at):
            bar = max(bar, self.settings.offnews_min_relevance)
        answer = compose(question, hits, gen, min_relevance=self.settings.min_relevance,
                         found_relevance=bar, confident=self.settings.confident_relevance,
                         citation_floor=self.settings.citation_floor, limit=limit,
                         same_story=self.settings.same_story_similarity)
        answer = Answer(answer.question, answer.citations, answer.notes, answer.found,
                        time.perf_counter() - started)
        return answer

    def warm_up(self) -> None:
        """Load the model and the newsness weights now (training them once per model and
        data directory), so the first question does not wait for either."""
        self.embedder.load()
        newsness_model(self.embedder, Path(self.settings.data_dir))

    def _reads_like_news(self, gen: Generation, question: str, vector: np.ndarray,
                         hits: list[Hit], asked_at: dt.date | None) -> bool:
        """True when the question reads like one about the news (``index.newsness``), names
        a time ("recently", "this week", "in 2022": trivia has none), or names something the
        best relevant story holds by a rare word. ``gen`` is the generation ``hits`` came
        from (a rebuild may have swapped in another since)."""
        if parse_query_dates(question, asked_at or dt.date.today()) is not None:
            return True
        model = newsness_model(self.embedder, Path(self.settings.data_dir))
        if model.score(vector) >= self.settings.newsness_threshold:
            return True
        top = next((h for h in hits if (h.dense_score or -1.0) >= self.settings.min_relevance),
                   None)
        return top is not None and names_indexed_thing(question, top, gen.store,
                                                        gen.vectors.ntotal)

    def stats(self) -> IndexStats:
        gen = self._gen
        articles, chunks, sources = gen.store.counts()
        return IndexStats(articles, chunks, gen.vectors.ntotal, sources,
                          gen.store.get_meta("last_ingest"), gen.disk_bytes(),
                          self.settings.embedding_model)

    def sources(self) -> list[SourceStats]:
        return self._gen.store.sources()

    def latest(self, topic: str | None = None, *, limit: int = 5) -> list[StoredArticle]:
        """Newest articles, optionally only those matching ``topic``."""
        gen = self._gen
        if not topic or not topic.strip():
            return gen.store.latest(limit)
        hits = self._retriever.search(gen, topic, k=max(30, limit * 5))
        # A topic is a few words, not a question: a story counts when it is about the topic
        # at least as much as a cited story must be, or when its words match the topic.
        floor = self.settings.citation_floor
        ids = [h.article.rowid for h in hits
               if (h.dense_score or 0.0) >= floor or h.keyword_rank is not None]
        return gen.store.latest(limit, ids)

    def article(self, rowid: int) -> StoredArticle | None:
        return self._gen.store.articles([rowid]).get(rowid)

    def check(self) -> list[str]:
        """Integrity problems (empty list = FAISS, SQLite chunks and FTS agree)."""
        return self._gen.check()

    def close(self) -> None:
        with self._write_lock:
            for gen in self._retired:
                gen.close()
            self._retired = []
            self._gen.close()


def _emit(progress: Callable[[RebuildProgress], None] | None, phase: str, fraction: float,
          articles: int, chunks: int, started: float, eta: float | None) -> None:
    if progress is None:
        return
    try:
        progress(RebuildProgress(phase, fraction, articles, chunks,
                                 time.monotonic() - started, eta))
    except Exception:  # a broken progress display must not abort a rebuild
        log.exception("rebuild progress callback failed")


def _reembed(settings: IndexSettings, embedder: Embedder, old_dir: Path,
             changed: ModelChanged) -> Generation:
    """The configured model differs from the one the live index was built with (an upgrade
    changed the default, or the operator switched): re-embed every stored article into a
    new generation and swap it in, as a reindex would. Vectors of two models cannot be
    mixed, and asking the operator to reindex first would leave the bot unable to start.
    The old generation stays live until the new one is complete, so a crash here loses
    nothing; it is deleted only after the swap."""
    from index.store import Store

    data_dir = Path(settings.data_dir)
    old = Store(old_dir / SQLITE_NAME)
    new_gen: Generation | None = None
    try:
        log.warning("%s: re-embedding %d stored articles with %r (one-off)", changed,
                    old.counts()[0], changed.model)
        new_gen = Generation.open(new_dir(data_dir), embedder.dim, settings.embedding_model)
        ingestor = Ingestor(new_gen, embedder, settings)
        ingestor.add_items(_stored_as_articles(old.iter_articles(page=STORE_PAGE)))
        ingestor.flush()
        new_gen.save_vectors()
        raw_sources = old.get_meta("sources")
        if raw_sources:
            new_gen.store.set_meta("sources", raw_sources)
        new_gen.store.set_meta(COMPLETE_META, "1")
        point_current(data_dir, new_gen.dir)
    except BaseException:
        if new_gen is not None:
            new_gen.close()
            shutil.rmtree(new_gen.dir, ignore_errors=True)
        raise
    finally:
        old.close()
    shutil.rmtree(old_dir, ignore_errors=True)
    return new_gen


def _catch_up(old: Generation, ingestor: Ingestor, copied: int, *, rounds: int = 5) -> int:
    """Copy into the rebuild what was committed to ``old`` after article id ``copied``;
    repeat while a round still brings something (at most ``rounds``). Returns the new
    high-water mark.

    A new or updated article gets a higher id — except that SQLite hands the id of a
    deleted newest row to the next insert, so an update of article ``copied`` itself keeps
    its id: the boundary article is read again each round (a duplicate costs a hash)."""
    for _ in range(rounds):
        before = ingestor.report.articles_new + ingestor.report.articles_updated
        high = old.store.max_article_id()
        if high < copied:
            break
        ingestor.add_items(_stored_as_articles(
            old.store.iter_articles(after=copied - 1, upto=high, page=STORE_PAGE)))
        ingestor.flush()
        copied = high
        if ingestor.report.articles_new + ingestor.report.articles_updated == before:
            break
    return copied


def _stored_as_articles(stored: Iterable[StoredArticle]) -> Iterable[Article]:
    for a in stored:
        published = None
        if a.published_at:
            published = (dt.datetime.fromisoformat(a.published_at) if "T" in a.published_at
                         else dt.date.fromisoformat(a.published_at))
        yield Article(a.ext_id, a.title, published, a.source, a.url, a.category, a.body,
                      origin=f"stored article {a.rowid}", key=a.key, note=a.note,
                      link_topics=a.link_topics)


def _remember_sources(gen: Generation, sources: list[str]) -> None:
    import json

    known = _remembered_sources(gen)
    merged = list(dict.fromkeys([*known, *sources]))
    gen.store.set_meta("sources", json.dumps(merged))


def _remembered_sources(gen: Generation) -> list[str]:
    import json

    raw = gen.store.get_meta("sources")
    return list(json.loads(raw)) if raw else []


def _remove_abandoned(data_dir: Path, keep: Path) -> None:
    """Delete generations left by crashed rebuilds (old enough not to be in progress)."""
    now = time.time()
    for path in data_dir.glob("gen-*"):
        if path.is_dir() and path != keep and now - path.stat().st_mtime > STALE_GENERATION_SECONDS:
            shutil.rmtree(path, ignore_errors=True)


def _pointed(data_dir: Path, *, quiet: bool = False) -> Path | None:
    """The generation ``CURRENT`` names, or None when the pointer is absent, unreadable,
    garbage (not a generation name) or names a generation that does not exist."""
    pointer = data_dir / CURRENT
    if not pointer.exists():
        return None
    try:
        directory = current_dir(data_dir)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        if not quiet:
            log.warning("index pointer %s is unreadable (%s)", pointer, exc)
        return None
    name = directory.name if directory is not None else ""
    if directory is None or directory.parent != data_dir or not _GEN_NAME.match(name):
        if not quiet:
            shown = pointer.read_bytes()[:60]
            log.warning("index pointer %s is truncated or garbage (%r)", pointer, shown)
        return None
    if not (directory / SQLITE_NAME).is_file():
        if not quiet:
            log.warning("index pointer %s names %s, which holds no index", pointer, name)
        return None
    return directory


def _live_dir(data_dir: Path) -> Path | None:
    """The live generation; when ``CURRENT`` is missing or damaged, the newest complete
    generation on disk (re-pointed, with a warning) — never silently an empty index while
    a good one sits beside it. None for a data directory with no index yet."""
    directory = _pointed(data_dir)
    if directory is not None:
        return directory
    candidates = []
    for path in data_dir.glob("gen-*"):
        db = path / SQLITE_NAME
        if not path.is_dir() or not _GEN_NAME.match(path.name) or not db.is_file():
            continue
        try:
            with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
                row = conn.execute("SELECT value FROM meta WHERE key = ?",
                                   (COMPLETE_META,)).fetchone()
                articles = conn.execute("SELECT count(*) FROM articles").fetchone()[0]
        except sqlite3.Error as exc:
            log.warning("generation %s is unreadable (%s); not using it", path.name, exc)
            continue
        # Complete generations first (a crashed rebuild's is not), then the newest by
        # name (names start with the creation time); unmarked ones by article count.
        candidates.append(((row is not None, articles if row is None else 0, path.name),
                           path))
    if (data_dir / CURRENT).exists() or candidates:
        if not candidates:
            log.warning("no usable index generation in %s; starting an empty index", data_dir)
            return None
        best = max(candidates)[1]
        log.warning("index pointer %s is missing or damaged: falling back to generation %s "
                    "(the newest complete one) and re-pointing to it", data_dir / CURRENT,
                    best.name)
        point_current(data_dir, best)
        return best
    return None


def _mark_complete(directory: Path) -> None:
    """A generation created empty by ``open`` is live from birth (so complete)."""
    from index.store import Store

    store = Store(directory / SQLITE_NAME)
    try:
        store.set_meta(COMPLETE_META, "1")
    finally:
        store.close()

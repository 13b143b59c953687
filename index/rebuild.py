"""Filling a new generation from the live one's stored articles: the re-embed at open
(model changed), the rebuild's catch-up of what was written meanwhile, and the list of
sources a rebuild reads again. Articles are read in pages, never all at once."""

from __future__ import annotations

import datetime as dt
import json
import logging
import shutil
from collections.abc import Iterable
from pathlib import Path

from index.embed import Embedder
from index.generation import SQLITE_NAME, Generation, ModelChanged
from index.ingest import Ingestor
from index.lifecycle import SOURCES_META, NewGeneration
from index.models import Article, StoredArticle
from index.settings import IndexSettings
from index.store import Store

log = logging.getLogger(__name__)
STORE_PAGE = 500  # stored articles read at a time by a rebuild or re-embed
# Texts per model call in a catch-up: it runs beside the live and the new index, both
# built, where a full rebuild batch's activations would set the rebuild's peak
# (docs/performance.md "Rebuild memory"); it embeds only what arrived meanwhile.
CATCH_UP_MODEL_BATCH = 1


def reembed_stored(settings: IndexSettings, embedder: Embedder, old_dir: Path,
                   changed: ModelChanged, *, progress: bool = False) -> Generation:
    """The configured model differs from the one the live index was built with (an upgrade
    changed the default, or the operator switched): re-embed every stored article into a
    new generation and swap it in, as a reindex would. Vectors of two models cannot be
    mixed. The old generation stays live until the new one is complete, so a crash here
    loses nothing; it is deleted only after the swap. ``progress``: a bar on stderr."""
    old = Store(old_dir / SQLITE_NAME)
    try:
        stored = old.counts()[0]
        log.warning("%s: re-embedding %d stored articles with %r (one-off)", changed,
                    stored, changed.model)
        with NewGeneration(Path(settings.data_dir), embedder.dim,
                           settings.embedding_model) as new:
            new.gen.defer_vectors()  # FAISS and neighbour lists once, at the end
            ingestor = Ingestor(new.gen, embedder, settings,
                                model_batch=settings.rebuild_embed_batch_size)
            with ingestor.progress_bar(progress, total=stored, desc="re-embedding"):
                ingestor.add_items(stored_as_articles(old.iter_articles(page=STORE_PAGE)))
                ingestor.flush()
            new.gen.index_written(
                story_similarity=float(settings.same_story_similarity or 1.0))
            gen = new.publish(old.get_meta(SOURCES_META))
    finally:
        old.close()
    shutil.rmtree(old_dir, ignore_errors=True)
    return gen


def copy_stored(old: Generation, ingestor: Ingestor, *, upto: int) -> None:
    """Feed ``old``'s stored articles up to id ``upto`` into the rebuild, page by page."""
    ingestor.add_items(stored_as_articles(old.store.iter_articles(upto=upto, page=STORE_PAGE)))


def catch_up(old: Generation, ingestor: Ingestor, copied: int, *, rounds: int = 5) -> int:
    """Copy into the rebuild what was committed to ``old`` after article id ``copied``;
    repeat while a round still brings something (at most ``rounds``). Returns the new
    high-water mark.

    A new or updated article gets a higher id — except that SQLite hands the id of a
    deleted newest row to the next insert, so an update of article ``copied`` itself keeps
    its id: the boundary article is read again each round (a duplicate costs a hash).

    The model embeds ``CATCH_UP_MODEL_BATCH`` texts at a time from here on."""
    ingestor.model_batch = CATCH_UP_MODEL_BATCH
    for _ in range(rounds):
        before = ingestor.report.articles_new + ingestor.report.articles_updated
        high = old.store.max_article_id()
        if high < copied:
            break
        ingestor.add_items(stored_as_articles(
            old.store.iter_articles(after=copied - 1, upto=high, page=STORE_PAGE)))
        ingestor.flush()
        copied = high
        if ingestor.report.articles_new + ingestor.report.articles_updated == before:
            break
    return copied


def stored_as_articles(stored: Iterable[StoredArticle]) -> Iterable[Article]:
    for a in stored:
        published = None
        if a.published_at:
            published = (dt.datetime.fromisoformat(a.published_at) if "T" in a.published_at
                         else dt.date.fromisoformat(a.published_at))
        yield Article(a.ext_id, a.title, published, a.source, a.url, a.category, a.body,
                      origin=f"stored article {a.rowid}", key=a.key, note=a.note,
                      link_topics=a.link_topics)


def remember_sources(gen: Generation, sources: list[str]) -> None:
    """Add ``sources`` to those the next rebuild reads again."""
    known = remembered_sources(gen)
    merged = list(dict.fromkeys([*known, *sources]))
    gen.store.set_meta(SOURCES_META, json.dumps(merged))


def remembered_sources(gen: Generation) -> list[str]:
    raw = gen.store.get_meta(SOURCES_META)
    return list(json.loads(raw)) if raw else []

"""Match newly stored articles against subscriptions and enqueue alerts in the outbox.

Runs after articles are committed to the index (after a feed poll, on a timer, at start).
Crash consistency without a cross-database transaction:

* A cursor (generation, last article id) in the state database says which articles were
  matched. For each fresh article, its alerts, its story id, its processed marker and the
  advanced cursor are committed in *one* state transaction. A crash after the article was
  stored but before that commit leaves the cursor behind it, so the next run (at the
  latest at restart) matches it again; a crash after the commit has nothing to redo.
* Several matchers (bot processes on one database) may examine one article at once: the
  processed marker is checked again inside the state transaction, which runs one at a
  time, so the second finds the first's marker and adds nothing.
* Enqueueing is idempotent anyway (``UNIQUE (chat_id, story_id)`` in the outbox), and
  the processed marker is keyed by the body hash, which survives a rebuild; after a
  rebuild (new generation, new article ids) only fresh articles are re-examined and
  those already processed are skipped.

Only fresh news alerts: an article must be published within ``max_age`` of now and on or
after the day the subscription was made, so a backfill of old articles sends nothing.
Articles without a publication date never alert (they cannot be shown to be fresh).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from index.alerts.outbox import NewAlert, Outbox
from index.alerts.processed import ProcessedArticles
from index.alerts.state import StateDatabase, set_meta
from index.alerts.stories import StoryBook, StoryRule, facts
from index.alerts.subscriptions import Subscription, Subscriptions
from index.alerts.topics import Topic, TopicScorer
from index.api import Index
from index.models import ChunkRow, StoredArticle
from index.normalize import body_hash
from index.sentences import split_sentences

log = logging.getLogger(__name__)

CURSOR_KEY = "match_cursor"
BATCH = 200
MAX_QUOTE_SENTENCES = 40  # sentences embedded to pick the quote (two best chunks' worth)


@dataclass(frozen=True, slots=True)
class AlertRules:
    """Settings that decide whether an article alerts (see ``IndexSettings``)."""

    threshold: float
    max_age_seconds: float
    story: StoryRule


@dataclass(slots=True)
class MatchReport:
    articles: int = 0  # articles examined
    alerts: int = 0  # alerts enqueued


@dataclass(frozen=True, slots=True)
class _Match:
    subscription: Subscription
    topic: Topic
    score: float
    sims: np.ndarray  # topic similarity of every chunk


class AlertMatcher:
    def __init__(
        self,
        index: Index,
        db: StateDatabase,
        subscriptions: Subscriptions,
        outbox: Outbox,
        rules: AlertRules,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._index = index
        self._db = db
        self._processed = ProcessedArticles(db)
        self._subscriptions = subscriptions
        self._outbox = outbox
        self._rules = rules
        self._stories = StoryBook(rules.story)
        self._scorer = TopicScorer(index.embedder)
        self._clock = clock
        self._lock = threading.Lock()  # one run at a time (timer, feed poll, start-up)

    def run(self) -> MatchReport:
        """Match every article stored since the last run; safe to call any time."""
        with self._lock:
            report = MatchReport()
            index = self._index
            gen_id = index.generation_id
            cursor = self._cursor()
            if cursor is None or cursor[0] != gen_id:
                # First run, or a rebuild: ids started over. Only fresh articles can alert;
                # the processed markers (by body hash) skip those already handled.
                top = index.max_article_id()
                fresh = [a for a in index.articles_published_since(self._cutoff())
                         if a.rowid <= top]
                self._match_batch(gen_id, fresh, report)
                with self._db.transaction() as cur:
                    set_meta(cur, CURSOR_KEY, f"{gen_id}:{top}")
                cursor = (gen_id, top)
            last = cursor[1]
            while batch := index.articles_after(last, BATCH):
                self._match_batch(gen_id, batch, report)
                last = batch[-1].rowid
                with self._db.transaction() as cur:
                    set_meta(cur, CURSOR_KEY, f"{gen_id}:{last}")
            if report.articles:
                self._prune()
            return report

    # -- one batch ---------------------------------------------------------------------------
    def _match_batch(self, gen_id: str, articles: Sequence[StoredArticle],
                     report: MatchReport) -> None:
        cutoff = self._cutoff()
        subscriptions = self._subscriptions.active()
        for article in articles:
            published = article.published_date
            if published is None or published < cutoff or not subscriptions:
                continue  # cannot alert: no marker needed, the cursor moves past it
            digest = body_hash(article.body)
            if self._processed.seen(digest):
                continue
            report.articles += 1
            report.alerts += self._match_article(gen_id, article, published, digest,
                                                 subscriptions)

    def _match_article(self, gen_id: str, article: StoredArticle, published: dt.date,
                       digest: str, subscriptions: list[Subscription]) -> int:
        chunks, vectors = self._index.article_vectors(article.rowid)
        matches = self._matches(article, published, vectors, subscriptions) if chunks else []
        quotes = self._quotes(article, chunks, matches) if matches else {}
        now = self._clock()
        added = 0
        with self._db.transaction() as cur:
            if ProcessedArticles.marked(cur, digest):
                return 0  # another matcher (process) got here first: its alerts stand
            if matches:
                story = self._stories.assign(cur, published, vectors[0],
                                             facts(article.title, article.body), now)
                for match in matches:
                    added += self._outbox.enqueue(cur, NewAlert(
                        chat_id=match.subscription.chat_id,
                        story_id=story,
                        subscription_id=match.subscription.id,
                        topic=match.topic.text,
                        headline=article.headline,
                        quote=quotes[match.topic.text],
                        source=article.source,
                        url=article.url,
                        published=published.isoformat(),
                        score=round(match.score, 4),
                    ))
            ProcessedArticles.mark(cur, digest, now)
            set_meta(cur, CURSOR_KEY, f"{gen_id}:{article.rowid}")
        if added:
            log.info("article %d (%s) alerts %d chat(s)", article.rowid,
                     article.headline[:60], added)
        return added

    def _matches(self, article: StoredArticle, published: dt.date, vectors: np.ndarray,
                 subscriptions: list[Subscription]) -> list[_Match]:
        """The best-scoring matching subscription of each chat."""
        text = f"{article.title}\n{article.body}"
        best: dict[int, _Match] = {}
        for subscription in subscriptions:
            if published < subscription.created_date:
                continue
            topic = subscription.topic
            if not topic.accepts_text(text):
                continue
            sims = vectors @ self._scorer.vector(topic)
            score = float(sims.max())
            if score < self._rules.threshold:
                continue
            current = best.get(subscription.chat_id)
            if current is None or score > current.score:
                best[subscription.chat_id] = _Match(subscription, topic, score, sims)
        return list(best.values())

    def _quotes(self, article: StoredArticle, chunks: list[ChunkRow],
                matches: list[_Match]) -> dict[str, str]:
        """Per matched topic, the article sentence closest to it in meaning, verbatim
        (from the topic's two best chunks; with a required phrase, a sentence containing
        it if there is one). The candidate sentences are embedded once per article."""
        candidates: dict[int, list[str]] = {}  # chunk index → its sentences
        for match in matches:
            for i in np.argsort(-match.sims)[:2].tolist():
                if i not in candidates:
                    row = chunks[i]
                    candidates[i] = [article.body[row.start + s: row.start + e]
                                     for s, e in split_sentences(row.text)]
        texts = list(dict.fromkeys(t for ts in candidates.values() for t in ts))
        texts = texts[:MAX_QUOTE_SENTENCES]
        vectors = dict(zip(texts, self._index.embedder.encode(texts), strict=True))
        quotes: dict[str, str] = {}
        for match in matches:
            own = [t for i in np.argsort(-match.sims)[:2].tolist()
                   for t in candidates[i] if t in vectors]
            if match.topic.phrases:
                own = [t for t in own if match.topic.accepts_text(t)] or own
            if not own:  # no sentence boundaries found: quote the best chunk
                quotes[match.topic.text] = chunks[int(np.argmax(match.sims))].text.strip()
                continue
            topic = self._scorer.vector(match.topic)
            quotes[match.topic.text] = max(own, key=lambda t: float(vectors[t] @ topic)).strip()
        return quotes

    # -- bookkeeping -------------------------------------------------------------------------
    def _cursor(self) -> tuple[str, int] | None:
        raw = self._db.get_meta(CURSOR_KEY)
        if not raw or ":" not in raw:
            return None
        gen_id, _, last = raw.rpartition(":")
        return (gen_id, int(last)) if last.isdigit() else None

    def _cutoff(self) -> dt.date:
        """The oldest publication day that still counts as fresh news."""
        now = dt.datetime.fromtimestamp(self._clock(), dt.UTC)
        return (now - dt.timedelta(seconds=self._rules.max_age_seconds)).date()

    def _prune(self) -> None:
        """Forget stories and markers too old to matter (they can no longer be fresh)."""
        cutoff = self._cutoff()
        horizon = self._clock() - self._rules.max_age_seconds - 2 * 86400
        with self._db.transaction() as cur:
            StoryBook.prune(cur, cutoff - dt.timedelta(days=self._rules.story.days))
            ProcessedArticles.forget_before(cur, horizon)

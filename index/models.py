"""Plain records passed between the index library's stages and to its callers.

Dataclasses rather than dicts so that every stage agrees on field names and types, and so
the bot (or any other front end) can render an ``Answer`` without knowing how it was made.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal

HEADLINE_CHARS = 90  # a first sentence standing in for a missing headline is cut here


@dataclass(slots=True)
class Article:
    """A normalized news article, as every loader yields it.

    ``published_at`` is a date or datetime (naive = UTC) or None when the source gave none.
    ``origin`` names where it came from (file path and line, URL) for reports and errors.
    ``key`` is a stable identity used to recognise a changed version of the same article
    (canonical URL, or source + external id, or file path); None when there is none.
    """

    id: str
    title: str
    published_at: dt.date | dt.datetime | None
    source: str
    url: str | None
    category: str | None
    body: str
    origin: str = ""
    key: str | None = None
    note: str | None = None  # e.g. "summary only: page fetch failed"
    # Words of the story URLs an HTML body links to (``normalize.link_topics``): embedded
    # and keyword-indexed in place of a missing headline, never shown or quoted.
    link_topics: str = ""


@dataclass(slots=True, frozen=True)
class LoadProblem:
    """A record a loader could not turn into an article.

    ``kind`` is "skipped" for expected non-articles (empty CSV rows, blank files) and
    "failed" for broken input (bad JSON line, unreadable file, dead URL).
    """

    kind: Literal["skipped", "failed"]
    where: str
    reason: str
    count: int = 1  # one record can stand for many alike (e.g. 2,193 empty CSV rows)


LoadItem = Article | LoadProblem


@dataclass(slots=True, frozen=True)
class Chunk:
    """A passage of an article: ``text`` is the quotable article text ``body[start:end]``;
    ``embed_text`` is what the model sees (title, date and source prepended)."""

    ordinal: int
    start: int
    end: int
    text: str
    embed_text: str


@dataclass(slots=True, frozen=True)
class ChunkRow:
    """A stored chunk: its text and where it sits in its article's body."""

    id: int
    article_id: int
    start: int
    end: int
    text: str


@dataclass(slots=True)
class IngestReport:
    """What one ingest run did; printed by ``newsbot ingest`` (``--json`` uses ``as_dict``)."""

    articles_new: int = 0
    articles_updated: int = 0
    duplicates: int = 0
    skipped: int = 0
    failed: int = 0
    chunks_embedded: int = 0
    problems: list[LoadProblem] = field(default_factory=list)
    seconds: float = 0.0

    def as_dict(self) -> dict[str, object]:
        return {
            "articles_new": self.articles_new,
            "articles_updated": self.articles_updated,
            "duplicates": self.duplicates,
            "skipped": self.skipped,
            "failed": self.failed,
            "chunks_embedded": self.chunks_embedded,
            "problems": [
                {"kind": p.kind, "where": p.where, "reason": p.reason, "count": p.count}
                for p in self.problems
            ],
            "seconds": round(self.seconds, 3),
        }

    def add_problem(self, problem: LoadProblem) -> None:
        if problem.kind == "skipped":
            self.skipped += problem.count
        else:
            self.failed += problem.count
        self.problems.append(problem)


@dataclass(slots=True, frozen=True)
class StoredArticle:
    """An article as the store holds it (``rowid`` is the store's own integer id)."""

    rowid: int
    ext_id: str
    title: str
    published_at: str | None  # ISO date or datetime
    source: str
    url: str | None
    category: str | None
    body: str
    key: str | None = None
    note: str | None = None
    link_topics: str = ""

    @property
    def headline(self) -> str:
        """The title, or the article's first sentence when it has none."""
        if self.title.strip():
            return self.title.strip()
        from index.sentences import split_sentences

        spans = split_sentences(self.body)
        first = (self.body[spans[0][0] : spans[0][1]] if spans else self.body).strip()
        if len(first) <= HEADLINE_CHARS:
            return first
        cut = first.rfind(" ", 0, HEADLINE_CHARS)
        return first[: cut if cut > 20 else HEADLINE_CHARS].rstrip(" ,;:-") + " …"

    @property
    def published_date(self) -> dt.date | None:
        """The publication day; None when undated or when the stored date is malformed
        (a reply or an alert must not break on it)."""
        if not self.published_at:
            return None
        try:
            return dt.date.fromisoformat(self.published_at[:10])
        except ValueError:
            return None


@dataclass(slots=True, frozen=True)
class Hit:
    """One article retrieved for a query: its best chunks and fused score."""

    article: StoredArticle
    score: float
    chunk_ids: tuple[int, ...]
    dense_score: float | None = None
    keyword_rank: int | None = None


@dataclass(slots=True, frozen=True)
class Quote:
    """A verbatim sentence from an article: ``text == article.body[start:end]`` always."""

    text: str
    start: int
    end: int
    best: bool = False


@dataclass(slots=True, frozen=True)
class AlsoReported:
    """Another outlet's article on a cited story, listed (and linked) under the citation."""

    source: str
    url: str | None = None
    ext_id: str = ""  # the article's id in its corpus (evaluation matches gold on it)


@dataclass(slots=True, frozen=True)
class Citation:
    """One cited story: quotes from the article and where it came from."""

    article: StoredArticle
    quotes: tuple[Quote, ...]
    score: float
    also: tuple[AlsoReported, ...] = ()  # other outlets that ran the same story

    @property
    def ext_ids(self) -> tuple[str, ...]:
        """The cited article's id and those of the same story's other outlets."""
        return (self.article.ext_id, *(a.ext_id for a in self.also if a.ext_id))

    @property
    def headline(self) -> str:
        return self.article.headline


@dataclass(slots=True, frozen=True)
class Turn:
    """An earlier question of a conversation: the context a follow-up is read in
    (``index.followup``). ``opener`` is the stand-alone question that set the subject,
    ``question`` the latest one (the opener itself, or a follow-up of it); ``story_ids``
    the external ids of the stories cited for it, best first."""

    opener: str
    question: str
    story_ids: tuple[str, ...] = ()
    asked_at: dt.date | None = None


@dataclass(slots=True, frozen=True)
class Answer:
    """What the bot says to a question: rendered by the terminal chat and by Telegram.

    ``context`` is the earlier turn the question was read with when it was taken as a
    follow-up (None: it was answered on its own)."""

    question: str
    citations: tuple[Citation, ...]
    notes: tuple[str, ...] = ()
    found: bool = True
    seconds: float = 0.0
    context: Turn | None = None


@dataclass(slots=True, frozen=True)
class SourceStats:
    """One outlet in the index: how many articles and which dates they span."""

    source: str
    articles: int
    first: str | None
    last: str | None


@dataclass(slots=True, frozen=True)
class IndexStats:
    """Size and freshness of the index, for ``/stats`` and ``newsbot stats``."""

    articles: int
    chunks: int
    vectors: int
    sources: int
    last_ingest: str | None  # ISO datetime (UTC)
    disk_bytes: int
    model: str


@dataclass(slots=True, frozen=True)
class RebuildProgress:
    """Reported during ``Index.rebuild``: ``fraction`` in [0, 1]; ``eta_seconds`` may be None."""

    phase: str  # "loading" | "embedding" | "indexing" | "saving" | "done"
    fraction: float
    articles: int
    chunks: int
    elapsed_seconds: float
    eta_seconds: float | None

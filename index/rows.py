"""One page of a generation's rows exactly as stored, ids included: what ``newsbot copy``
reads from one backend and writes into another (``index.copy``), so nothing is re-embedded,
renumbered or recomputed on the way."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True, slots=True)
class ArticleRecord:
    """Every column of an ``articles`` row."""

    id: int
    ext_id: str
    key: str | None
    body_hash: str
    title: str
    published_at: str | None
    source: str
    url: str | None
    category: str | None
    body: str
    origin: str
    note: str | None
    ingested_at: str
    link_topics: str


ARTICLE_FIELDS = ("id, ext_id, key, body_hash, title, published_at, source, url, category, "
                  "body, origin, note, ingested_at, link_topics")


@dataclass(frozen=True, slots=True)
class ChunkRecord:
    """A ``chunks`` row without its vector (``RowPage.vectors`` holds it, same order)."""

    id: int
    article_id: int
    ordinal: int
    start: int
    end: int
    text: str


@dataclass(slots=True)
class RowPage:
    """Articles (ascending ids), their chunks (ascending ids) with one float32 vector row
    each, and the neighbour lists of those chunks (chunk id, neighbour ids, similarities)."""

    articles: list[ArticleRecord]
    chunks: list[ChunkRecord]
    vectors: np.ndarray
    neighbours: list[tuple[int, np.ndarray, np.ndarray]] = field(default_factory=list)

    @property
    def last_article(self) -> int:
        return self.articles[-1].id if self.articles else 0

"""One article web page: main text and metadata extracted with trafilatura.

A news page is mostly navigation, teasers and comments; trafilatura finds the article
itself. Date guessing is limited to the page's markup (meta tags, ``<time>``, the URL):
scanning the free text would happily take a copyright year or a date mentioned in a story
for the publication date.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import trafilatura

from index.models import Article, LoadItem, LoadProblem
from index.normalize import canonical_url
from index.pubdates import parse_published

_DATE_PARAMS = {"extensive_search": False, "original_date": True}
_MIN_WORDS = 10  # fewer is a menu or a cookie notice, not an article


def load_webpage(data: bytes, url: str) -> Iterator[LoadItem]:
    """Yield the article on the page at ``url`` (whose HTML is ``data``), or a problem."""
    document = trafilatura.bare_extraction(
        data,
        url=url,
        with_metadata=True,
        include_comments=False,
        include_tables=False,
        date_extraction_params=_DATE_PARAMS,
    )
    text = (getattr(document, "text", None) or "").strip() if document is not None else ""
    if len(text.split()) < _MIN_WORDS:
        yield LoadProblem("failed", url, "no article text found")
        return
    title = (getattr(document, "title", None) or "").strip()
    first, _, rest = text.partition("\n")
    if title and first.strip() == title and rest.strip():
        text = rest  # the page's <h1> repeats the title
    host = (urlsplit(url).hostname or url).removeprefix("www.")
    categories = getattr(document, "categories", None) or []
    canonical = canonical_url(url)
    yield Article(
        id=canonical or url,
        title=title,
        published_at=parse_published(getattr(document, "date", None)),
        source=getattr(document, "sitename", None) or host,
        url=url,
        category=categories[0] if categories else None,
        # trafilatura puts one block per line; the article format wants blank lines.
        body=text.replace("\n", "\n\n"),
        origin=url,
        key=canonical,
    )

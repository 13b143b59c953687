"""Turn an ``Answer`` (and a stored article) into Telegram messages.

Telegram rejects a whole message when its HTML does not parse or when it is longer than
4096 UTF-16 code units, so every function here returns text that is well-formed HTML (only
``<b>`` and ``<a>``, with everything from articles and users escaped) and already split
into parts that fit. Lengths are measured on the HTML source, which is never shorter than
the text Telegram counts after parsing, so a part that fits here fits there.

Nothing here talks to Telegram; the handlers send what these functions return.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Sequence
from dataclasses import dataclass

from index.models import AlsoReported, Answer, Citation, Quote, SourceStats, StoredArticle

MESSAGE_LIMIT = 4096  # UTF-16 code units, Telegram's limit for one text message
ELLIPSIS = "…"
NOTHING_FOUND = "I found nothing in the indexed news that answers this."

_QUESTION_UNITS = 200  # the echoed question is a reminder, not a transcript
HEADLINE_UNITS = 300
OUTLET_UNITS = 100
URL_UNITS = 1000  # longer links are dropped rather than allowed to crowd out quotes
ALSO_OUTLETS = 3  # other outlets listed under a citation that ran the same story
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_SENTENCE_END = re.compile(r"[.!?…][\"'”’)\]]*\s")


def utf16_len(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units (an emoji outside the BMP counts 2)."""
    return len(text.encode("utf-16-le")) // 2


def escape(text: str) -> str:
    """Escape text for Telegram HTML (``<``, ``>``, ``&``)."""
    return html.escape(text, quote=False)


def escape_attr(text: str) -> str:
    """Escape an attribute value (also ``"``), for ``href``."""
    return html.escape(text, quote=True)


def format_date(day: dt.date) -> str:
    """``4 Mar 2017``, independent of the process locale."""
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


def truncate(text: str, max_units: int, *, attr: bool = False) -> str:
    """Shorten ``text`` so that its *escaped* form plus "…" fits in ``max_units``.

    Returns raw (unescaped) text; callers escape it. Cuts at the last sentence end, else the
    last space, when that keeps at least half of what fits; otherwise mid-word.
    """
    esc = escape_attr if attr else escape
    if utf16_len(esc(text)) <= max_units:
        return text
    room = max_units - utf16_len(ELLIPSIS)
    if room <= 0:
        return ELLIPSIS if max_units >= 1 else ""
    used = 0
    cut = 0
    for position, char in enumerate(text):
        width = utf16_len(esc(char))
        if used + width > room:
            break
        used += width
        cut = position + 1
    prefix = text[:cut]
    boundary = _boundary(prefix)
    if boundary >= len(prefix) // 2 and boundary > 0:
        prefix = prefix[:boundary]
    return prefix.rstrip() + ELLIPSIS


def _boundary(prefix: str) -> int:
    """Index just after the last sentence end in ``prefix``, else its last space, else 0."""
    ends = [m.end() for m in _SENTENCE_END.finditer(prefix)]
    if ends and ends[-1] >= len(prefix) // 2:
        return ends[-1]
    space = max(prefix.rfind(" "), prefix.rfind("\n"))
    return space if space > 0 else 0


@dataclass(frozen=True, slots=True)
class Page:
    """One screenful of an answer: the HTML messages and which citations they show."""

    messages: tuple[str, ...]
    start: int  # index of the first citation shown
    end: int  # index after the last citation shown
    total: int  # citations in the answer

    @property
    def has_more(self) -> bool:
        return self.end < self.total


FOLLOW_UP_NOTE = "Read as a follow-up to"


def render_answer(
    answer: Answer,
    *,
    start: int = 0,
    count: int = 3,
    limit: int = MESSAGE_LIMIT,
) -> Page:
    """Render citations ``start`` … ``start+count-1`` of ``answer`` as HTML messages.

    The first page opens with the question (and the answer's notes); later pages say
    which results they continue. Messages break only between citations; a citation too long
    for one message on its own has its quotes shortened.
    """
    citations = answer.citations
    if not answer.found or not citations:
        return Page(_nothing_found(answer, limit), 0, 0, 0)
    start = max(0, min(start, len(citations)))
    end = min(len(citations), start + max(1, count))
    header = _header(answer, start, end, len(citations))
    messages = _pack(header, citations, start, end, limit)
    return Page(tuple(messages), start, end, len(citations))


def _nothing_found(answer: Answer, limit: int) -> tuple[str, ...]:
    lines = [note.strip() for note in answer.notes if note.strip()] or [NOTHING_FOUND]
    text = "\n".join(lines)
    return (escape(truncate(text, limit)),)


def _header(answer: Answer, start: int, end: int, total: int) -> str:
    question = " ".join(answer.question.split())
    shown = escape(truncate(question, _QUESTION_UNITS))
    if start == 0:
        lines = [shown] if shown else []
        if answer.context is not None:
            earlier = " ".join(answer.context.question.split())
            lines.append(f"<i>{FOLLOW_UP_NOTE} “{escape(truncate(earlier, _QUESTION_UNITS))}”"
                         "</i>")
        notes = [note for note in answer.notes if note.strip()][:3]
        lines += [f"<i>{escape(truncate(note, 300))}</i>" for note in notes]
        return "\n".join(lines)
    span = f"Results {start + 1}–{end} of {total}"
    return f"{span} for: {shown}" if shown else span


def _pack(
    header: str, citations: Sequence[Citation], start: int, end: int, limit: int
) -> list[str]:
    separator = "\n\n"
    messages: list[str] = []
    current = header if utf16_len(header) < limit // 4 else ""
    has_block = False
    for position in range(start, end):
        number = position + 1
        full = render_citation(number, citations[position])
        if current:
            joined = current + separator + full
            if utf16_len(joined) <= limit:
                current, has_block = joined, True
                continue
            if not has_block:  # keep the header with the first citation, shortened to fit
                room = limit - utf16_len(current) - utf16_len(separator)
                current += separator + render_citation(number, citations[position], room)
                has_block = True
                continue
            messages.append(current)
        current = (
            full
            if utf16_len(full) <= limit
            else render_citation(number, citations[position], limit)
        )
        has_block = True
    if current:
        messages.append(current)
    return messages


def render_citation(number: int, citation: Citation, max_units: int | None = None) -> str:
    """``N. quotes`` then ``— <a href>Headline</a> · Outlet · date``; fits ``max_units``."""
    prefix = f"{number}. "
    footer = "\n   — " + _footer(citation)
    if max_units is None:
        return prefix + _quotes_html(citation, None) + footer
    room = max_units - utf16_len(prefix) - utf16_len(footer)
    if room < 40:  # the footer itself is too big: give it less, keep some quote
        footer = "\n   — " + escape(truncate(citation.article.source, 60))
        room = max_units - utf16_len(prefix) - utf16_len(footer)
    return prefix + _quotes_html(citation, max(room, 1)) + footer


def _footer(citation: Citation) -> str:
    article = citation.article
    headline = escape(truncate(citation.headline or "(untitled)", HEADLINE_UNITS))
    parts = [_linked(headline, article.url)]
    if article.source.strip():
        parts.append(escape(truncate(article.source.strip(), OUTLET_UNITS)))
    day = article.published_date
    if day is not None:
        parts.append(format_date(day))
    text = " · ".join(parts)
    also = [a for a in citation.also if a.source.strip()][:ALSO_OUTLETS]
    if also:
        text += " · also: " + ", ".join(_also_link(a) for a in also)
    return text


def _linked(text_html: str, url: str | None) -> str:
    """``text_html`` as a link to ``url``, or plain when there is none or it is too long."""
    if url and utf16_len(escape_attr(url)) <= URL_UNITS:
        return f'<a href="{escape_attr(url)}">{text_html}</a>'
    return text_html


def _also_link(also: AlsoReported) -> str:
    """Another outlet's name, linked to its article on the same story."""
    return _linked(escape(truncate(also.source.strip(), OUTLET_UNITS)), also.url)


def _quote_pieces(citation: Citation) -> list[tuple[str, bool]]:
    """(text, bold) pieces, in article order, with "…" where the article skips text."""
    quotes: list[Quote] = sorted(citation.quotes, key=lambda q: (q.start, q.end))
    body = citation.article.body
    pieces: list[tuple[str, bool]] = []
    previous: Quote | None = None
    for quote in quotes:
        text = " ".join(quote.text.split())
        if not text:
            continue
        if previous is not None:
            gap = body[previous.end : quote.start] if previous.end <= quote.start else "x"
            pieces.append((" " if not gap.strip() else f" {ELLIPSIS} ", False))
        pieces.append((text, quote.best))
        previous = quote
    return pieces


def _quotes_html(citation: Citation, max_units: int | None) -> str:
    out: list[str] = []
    used = 0
    for text, bold in _quote_pieces(citation):
        rendered = _wrap(escape(text), bold)
        width = utf16_len(rendered)
        if max_units is None or used + width <= max_units:
            out.append(rendered)
            used += width
            continue
        room = max_units - used - (7 if bold else 0)  # "<b>" + "</b>"
        is_separator = not text.strip() or text.strip() == ELLIPSIS
        if not is_separator and (room >= 20 or not out):
            out.append(_wrap(escape(truncate(text, max(room, 1))), bold))
        elif used + 2 <= max_units:
            out.append(" " + ELLIPSIS)
        break
    return "".join(out).strip()


def _wrap(text: str, bold: bool) -> str:
    return f"<b>{text}</b>" if bold and text.strip() else text


def render_article(article: StoredArticle, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Plain-text parts of an article for "Full article N" (send without a parse mode).

    The first part starts with the headline, outlet, date and link; parts break between
    paragraphs, and a paragraph too long for one message breaks between sentences/words.
    """
    head = [article.headline or "(untitled)"]
    meta = [part for part in (article.source.strip(), _date_text(article)) if part]
    if meta:
        head.append(" · ".join(meta))
    if article.url:
        head.append(article.url)
    paragraphs = ["\n".join(head)]
    paragraphs += [p.strip() for p in re.split(r"\n\s*\n", article.body) if p.strip()]
    pieces: list[str] = []
    for paragraph in paragraphs:
        pieces.extend(_split_long(paragraph, limit))
    parts: list[str] = []
    current = ""
    for piece in pieces:
        joined = f"{current}\n\n{piece}" if current else piece
        if utf16_len(joined) <= limit:
            current = joined
        else:
            parts.append(current)
            current = piece
    if current:
        parts.append(current)
    return parts


def _date_text(article: StoredArticle) -> str:
    day = article.published_date
    return format_date(day) if day else ""


def _split_long(text: str, limit: int) -> list[str]:
    """Break one paragraph longer than ``limit`` at sentence/word boundaries."""
    pieces: list[str] = []
    rest = text
    while utf16_len(rest) > limit:
        used = 0
        cut = 0
        for position, char in enumerate(rest):
            used += utf16_len(char)
            if used > limit:
                break
            cut = position + 1
        boundary = _boundary(rest[:cut])
        if boundary < cut // 2:
            boundary = cut
        piece = rest[:boundary].strip()
        if piece:
            pieces.append(piece)
        rest = rest[boundary:].lstrip()
    if rest.strip():
        pieces.append(rest.strip())
    return pieces


def pack_lines(lines: Sequence[str], limit: int = MESSAGE_LIMIT) -> list[str]:
    """Join already-rendered lines into as few messages as fit; over-long lines are cut
    (callers pass lines without markup, or short enough to never need cutting)."""
    messages: list[str] = []
    current = ""
    for line in lines:
        if utf16_len(line) > limit:
            line = truncate(line, limit)
        joined = f"{current}\n{line}" if current else line
        if utf16_len(joined) <= limit:
            current = joined
            continue
        messages.append(current)
        current = line
    if current:
        messages.append(current)
    return messages


def render_latest(articles: Sequence[StoredArticle], topic: str | None) -> list[str]:
    """``/latest``: newest articles, one line each, headline linked."""
    about = f" about “{escape(truncate(topic, _QUESTION_UNITS))}”" if topic else ""
    if not articles:
        return [f"No articles{about} in the index yet."]
    lines = [f"<b>Latest{about}</b>"]
    for number, article in enumerate(articles, 1):
        headline = escape(truncate(article.headline or "(untitled)", HEADLINE_UNITS))
        url = article.url
        if url and utf16_len(escape_attr(url)) <= URL_UNITS:
            headline = f'<a href="{escape_attr(url)}">{headline}</a>'
        meta = [escape(truncate(p, OUTLET_UNITS)) for p in (article.source.strip(),) if p]
        if day := _date_text(article):
            meta.append(day)
        lines.append(f"{number}. " + " · ".join([headline, *meta]))
    return pack_lines(lines)


def render_sources(sources: Sequence[SourceStats]) -> list[str]:
    """``/sources``: each outlet with its article count and date range."""
    if not sources:
        return ["The index is empty: no sources yet."]
    total = sum(s.articles for s in sources)
    lines = [f"<b>{total} articles from {len(sources)} sources</b>"]
    for stats in sources:
        name = escape(truncate(stats.source.strip() or "(unknown)", OUTLET_UNITS))
        span = _span(stats.first, stats.last)
        noun = "article" if stats.articles == 1 else "articles"
        lines.append(f"• {name} — {stats.articles} {noun}" + (f", {span}" if span else ""))
    return pack_lines(lines)


def _span(first: str | None, last: str | None) -> str:
    def day(value: str | None) -> str:
        if not value:
            return ""
        try:
            return format_date(dt.date.fromisoformat(value[:10]))
        except ValueError:
            return ""

    start, end = day(first), day(last)
    if start and end and start != end:
        return f"{start} – {end}"
    return start or end

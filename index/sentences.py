"""Sentence boundaries as character spans, so quotes stay verbatim slices of the article.

A small rule-based splitter: it must not split "U.S.", "Mr. Dar", "3.5" or "Rs. 4", and it
runs on text already repaired by ``index.normalize`` (which inserts the missing space in
"reported.Sources said").
"""

from __future__ import annotations

import re

_ABBREVIATIONS = {
    "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "gen", "col", "lt", "capt", "sgt",
    "gov", "sen", "rep", "rs", "no", "nos", "vs", "etc", "inc", "ltd", "co", "corp", "jan",
    "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "mt", "ft",
    "approx", "dept", "est", "fig", "govt", "pvt", "u.s", "u.k", "u.n", "e.g", "i.e", "a.m",
    "p.m", "ph.d",
}
# A candidate end: terminal punctuation, optional closing quotes/brackets, then whitespace.
_END = re.compile(r"[.!?…]+[\"'”’)\]]*(?=\s+)")
# Scraped text glues sentences at straight quotes: 'five years."Continued strength'.
_GLUED_QUOTE = re.compile(r'[.!?]"(?=[A-Z])')


_PARAGRAPH = re.compile(r"\n\s*\n")


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Return ``(start, end)`` spans of the sentences in ``text`` (whitespace trimmed).

    A paragraph break always ends a sentence, so a heading or dateline line never runs
    into the paragraph below it.
    """
    spans: list[tuple[int, int]] = []
    para_start = 0
    for brk in [*_PARAGRAPH.finditer(text), None]:
        para_end = brk.start() if brk else len(text)
        _split_paragraph(text, para_start, para_end, spans)
        if brk:
            para_start = brk.end()
    return spans


def _split_paragraph(text: str, lo: int, hi: int, spans: list[tuple[int, int]]) -> None:
    ends: list[int] = []
    for match in _END.finditer(text, lo, hi):
        if not _is_false_end(text, match.start(), match.end()):
            ends.append(match.end())
    for match in _GLUED_QUOTE.finditer(text, lo, hi):
        # An odd number of quotes before this one means it closes a quotation: the
        # sentence ends after it; otherwise it opens the next sentence.
        closes = text.count('"', lo, match.start() + 1) % 2 == 1
        ends.append(match.end() if closes else match.start() + 1)
    start = lo
    for end in sorted(set(ends)):
        _append(text, start, end, spans)
        start = end
    _append(text, start, hi, spans)


def _is_false_end(text: str, dot: int, end: int) -> bool:
    if text[dot] != ".":
        return False
    word_start = dot
    while word_start > 0 and not text[word_start - 1].isspace():
        word_start -= 1
    word = text[word_start:dot].lower().lstrip("(\"'“‘")
    if word in _ABBREVIATIONS:
        return True
    if len(word) == 1 and word.isalpha():  # an initial: "J. Smith"
        return True
    following = text[end:].lstrip()
    # Next sentence must open with an uppercase letter, digit, or quote.
    return bool(following) and following[0].islower()


def _append(text: str, start: int, end: int, spans: list[tuple[int, int]]) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        spans.append((start, end))

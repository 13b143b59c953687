"""Sentence boundaries as character spans, so quotes stay verbatim slices of the article.

A small rule-based splitter: it must not split "U.S.", "Mr. Dar", "3.5" or "Rs. 4". It runs
on text already repaired by ``index.normalize`` (which inserts the missing space in
"reported.Sources said"), and also ends a sentence where that repair stays cautious and the
source still runs two together ("at 2:00PM.Traders said", "its rating.S&P said"): the quote
stays a verbatim slice, and the reply joins two quotes with a space.
"""

from __future__ import annotations

import re

from index.text import is_address_like, token_span

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
# A dot with no space after it, between a word of two or more characters and a capitalized
# word ("2:00PM.Traders", "rating.S&P", "said.US"); URLs and initialisms are ruled out below.
_GLUED_DOT = re.compile(r"(?<=[^\W_][^\W_])[.!?](?=[A-Z](?:[a-z]|[A-Z&]))")


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
    for match in _GLUED_DOT.finditer(text, lo, hi):
        if not _is_glued_false_end(text, match.start()):
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


def _is_glued_false_end(text: str, dot: int) -> bool:
    """True for a dot inside a URL, e-mail, domain or initialism ("U.S.Army", "Mr.Dar")."""
    start, end = token_span(text, dot)
    if is_address_like(text[start:end]) or "/" in text[start:end]:
        return True
    word = text[start:dot].lower().lstrip("(\"'“‘")
    last = word.rsplit(".", 1)[-1]
    return word in _ABBREVIATIONS or last in _ABBREVIATIONS or len(last) < 2 or (
        "." in word and len(last) <= 2)


def _append(text: str, start: int, end: int, spans: list[tuple[int, int]]) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        spans.append((start, end))

"""Word-level helpers shared by keyword search and quote selection."""

from __future__ import annotations

import re

_TOKEN = re.compile(r"[^\W_]+(?:['’][^\W_]+)?", re.UNICODE)

STOPWORDS = frozenset(
    """a about above after again against all also am an and any are as at be because been
    before being below between both but by can could did do does doing down during each few
    for from further had has have having he her here hers herself him himself his how i if in
    into is it its itself just me more most my myself no nor not now of off on once only or
    other our ours ourselves out over own same she should so some such than that the their
    theirs them themselves then there these they this those through to too under until up
    very was we were what when where which while who whom why will with would you your yours
    yourself yourselves said says say according new one two also us what's who's that's
    this these which whose name named called known week weeks month months year years day
    days today yesterday tomorrow ago last next recently recent latest""".split()
)


def words(text: str) -> list[str]:
    """Lower-cased word tokens (letters and digits, any script)."""
    return [t.lower().replace("’", "'") for t in _TOKEN.findall(text)]


def stem(word: str) -> str:
    """A deliberately light stemmer: enough to match "delegations"/"delegation"."""
    for suffix in ("'s", "ies", "es", "s", "ing", "ed"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)] + ("y" if suffix == "ies" else "")
    return word


def content_terms(text: str) -> list[str]:
    """Distinct non-stopword tokens, in order of first appearance."""
    seen: dict[str, None] = {}
    for w in words(text):
        if w not in STOPWORDS and (len(w) > 1 or w.isdigit()):
            seen.setdefault(w, None)
    return list(seen)


def token_span(text: str, at: int) -> tuple[int, int]:
    """The whitespace-delimited token around position ``at``, as ``(start, end)``."""
    start = at
    while start > 0 and not text[start - 1].isspace():
        start -= 1
    end = at
    while end < len(text) and not text[end].isspace():
        end += 1
    return start, end


def is_address_like(token: str) -> bool:
    """A URL, ``www.`` name or e-mail address, whose dots end no sentence."""
    token = token.lower()
    return "://" in token or token.startswith("www.") or "@" in token

"""``normalize._clean`` (one regex pass) does exactly what its per-character definition
says, for every Unicode character: the speed-up of the ingest path changed no output."""

from __future__ import annotations

import sys

from index import normalize


def test_clean_matches_the_per_character_rule_everywhere() -> None:
    every = "".join(chr(c) for c in range(sys.maxunicode + 1))
    slow = "".join(normalize._clean_char(ch) for ch in every.translate(normalize._ZERO_WIDTH))
    assert normalize._clean(every) == slow
    assert normalize._clean("a\tb\r\nc\x00d\u200be\u3000f\xa0g") == "a b \ncde f g"
    assert normalize._clean("x\ud83dy\u202ez\u2069") == "x\ufffdyz"

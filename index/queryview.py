"""A question's statement view: the question with its interrogative words taken out.

News passages state facts ("Nadal took the men's singles title…"); readers ask questions
("Which tennis champion won his 21st grand slam title…?"). A sentence embedding of the
question carries its question-ness ("which", "what did", "how many", "?") as well as its
topic, and that part matches other questions and question-like text rather than the
passage that answers. Embedding the question a second time without those words
("tennis champion won his 21st grand slam title at the Australian Open") and averaging the
two vectors keeps the topic and halves the question-ness.

Measured on the dev set with all-mpnet-base-v2 (docs/quality.md): the average of the
two views beats either view alone; the statement view alone loses Hits@1, where the
question's full wording still helps. Taking the question words out of the mean pooling of a
single forward pass (no second embedding) gained nothing: the words shape every other
token's vector through attention, so only a second forward pass removes them.
"""

from __future__ import annotations

import re

_INTERROGATIVE = re.compile(
    r"\b(?:which|what|who|whom|whose|where|when|"
    r"how(?:\s+(?:many|much|long|old|far))?)\b"
    r"(?:\s+(?:of\s+the\s+following|is|was|are|were|did|does|do|has|have|had))?",
    re.IGNORECASE,
)
_SPACES = re.compile(r"\s+")
MIN_WORDS = 3  # fewer words left and the view says too little to embed on its own


def statement_view(question: str) -> str | None:
    """The question without interrogative words, their auxiliary verb and the question
    mark; ``None`` when that changes nothing or leaves fewer than ``MIN_WORDS`` words."""
    stripped = _SPACES.sub(" ", _INTERROGATIVE.sub(" ", question)).strip(" ?")
    if len(stripped.split()) < MIN_WORDS:
        return None
    if stripped == _SPACES.sub(" ", question).strip(" ?"):
        return None
    return stripped

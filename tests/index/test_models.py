from __future__ import annotations

from index.models import HEADLINE_CHARS, StoredArticle


def _stored(title: str, body: str) -> StoredArticle:
    return StoredArticle(1, "x", title, "2017-03-04", "Dawn", None, None, body)


def test_headline_is_the_title_when_there_is_one() -> None:
    assert _stored("  Dar meets Alibaba  ", "Body. More.").headline == "Dar meets Alibaba"


def test_missing_title_falls_back_to_a_short_first_sentence() -> None:
    body = ("ISLAMABAD - Alibaba Group delegation, led by Max Bittner, called on Finance "
            "Minister Senator Ishaq Dar here on Friday. Second sentence.")
    headline = _stored("", body).headline
    assert headline == "ISLAMABAD - Alibaba Group delegation, led by Max Bittner, called on " \
                       "Finance Minister …"
    assert len(headline) <= HEADLINE_CHARS + 2
    assert _stored("", "Short first. Second.").headline == "Short first."

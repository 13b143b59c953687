from __future__ import annotations

from index.sentences import split_sentences


def _split(text: str) -> list[str]:
    return [text[s:e] for s, e in split_sentences(text)]


def test_abbreviations_numbers_and_initials_do_not_split() -> None:
    text = ("The U.S. economy grew 3.5 percent, Mr. Dar said. Rs. 4 was added to petrol. "
            "J. Smith agreed.")
    assert _split(text) == [
        "The U.S. economy grew 3.5 percent, Mr. Dar said.",
        "Rs. 4 was added to petrol.",
        "J. Smith agreed.",
    ]


def test_paragraph_break_ends_a_sentence_and_quotes_stay_attached() -> None:
    text = 'ISLAMABAD - Talks resumed\n\n"We agreed," he said. Next? Yes!'
    assert _split(text) == ["ISLAMABAD - Talks resumed", '"We agreed," he said.', "Next?",
                            "Yes!"]


def test_spans_are_exact_slices_without_surrounding_space() -> None:
    text = "  One here.   Two there.  "
    spans = split_sentences(text)
    assert [text[s:e] for s, e in spans] == ["One here.", "Two there."]


def test_sentences_glued_at_straight_quotes_are_split() -> None:
    text = ('Demand fell over five years."Continued strength is a headwind," Barclays said.'
            ' Prices rose."We expect more," he said.')
    assert _split(text) == [
        "Demand fell over five years.",
        '"Continued strength is a headwind," Barclays said.',
        "Prices rose.",
        '"We expect more," he said.',
    ]


def test_sentences_the_source_ran_together_are_split() -> None:
    text = ("Trading closed at 2:00PM.Traders said volumes were thin. Moody's kept its "
            "rating.S&P said more. See www.Example.com and the U.S.Army, Mr.Dar agreed.")
    assert _split(text) == [
        "Trading closed at 2:00PM.",
        "Traders said volumes were thin.",
        "Moody's kept its rating.",
        "S&P said more.",
        "See www.Example.com and the U.S.Army, Mr.Dar agreed.",
    ]

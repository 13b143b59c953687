from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from index.normalize import (
    body_hash,
    canonical_url,
    html_to_text,
    is_boilerplate,
    looks_like_html,
    normalize_body,
    normalize_text,
    repair_sentences,
)

# --- titles -----------------------------------------------------------------------------


def test_normalize_text_collapses_whitespace_entities_and_zero_width() -> None:
    raw = "  Tom &amp; Jerry\u200b\n\tmeet\u00a0the &#8220;press&#8221;\ufeff  "
    assert normalize_text(raw) == "Tom & Jerry meet the \u201cpress\u201d"


def test_normalize_text_uses_nfc() -> None:
    decomposed = "Cafe\u0301 owners"
    assert normalize_text(decomposed) == "Caf\u00e9 owners"


def test_normalize_text_leaves_legacy_entity_lookalikes_alone() -> None:
    # html.unescape alone would turn "&not" into "¬"; only complete entities are decoded.
    assert normalize_text("R&D &notation AT&T") == "R&D &notation AT&T"


def test_normalize_text_empty_and_none() -> None:
    assert normalize_text(None) == ""
    assert normalize_text(" \u200b \n ") == ""


# --- bodies -----------------------------------------------------------------------------


def test_paragraphs_and_line_endings() -> None:
    raw = "First line\r\nsame paragraph.\r\n\r\n\r\n\r\nSecond   para\t\twith tabs.\rThird line."
    assert normalize_body(raw) == (
        "First line same paragraph.\n\nSecond para with tabs. Third line."
    )


def test_zero_width_and_control_characters_removed() -> None:
    raw = "Pak\u200bistan\u200c \u200dexports\u2060 rose\ufeff.\x07\x00 Again\u00ad."
    assert normalize_body(raw) == "Pakistan exports rose. Again."


def test_body_is_trimmed_and_blank_input_is_empty() -> None:
    assert normalize_body("\n\n   \n") == ""
    assert normalize_body(None) == ""
    assert normalize_body("  \n  Text.  \n\n  ") == "Text."


def test_html_body_is_converted_and_scripts_dropped() -> None:
    raw = (
        "<div><p>Prices &amp; wages <b>rose</b> on Monday.</p>"
        "<script>var secret = 'tracker';</script>"
        "<style>p { color: red }</style>"
        "<p>Second<br>line of the paragraph.</p></div>"
    )
    assert looks_like_html(raw)
    assert normalize_body(raw) == "Prices & wages rose on Monday.\n\nSecond line of the paragraph."


def test_text_with_angle_brackets_is_not_treated_as_html() -> None:
    raw = "Growth was < 3 percent and inflation > 5 percent."
    assert not looks_like_html(raw)
    assert normalize_body(raw) == raw


def test_html_to_text_double_br_makes_paragraph() -> None:
    assert normalize_body(html_to_text("One.<br><br>Two.")) == "One.\n\nTwo."


# --- run-together sentences -------------------------------------------------------------


def test_run_together_sentences_are_repaired() -> None:
    raw = (
        "Geo News reported.Sources said fares fell.Meanwhile, the KTI refused (CNG).Bukhari "
        "said 80%.Next year in 2015.The prices said.US stocks"
    )
    assert repair_sentences(raw) == (
        "Geo News reported. Sources said fares fell. Meanwhile, the KTI refused (CNG). Bukhari "
        "said 80%. Next year in 2015. The prices said. US stocks"
    )


def test_run_together_repair_with_curly_quotes() -> None:
    assert repair_sentences("he said.\u201cWe will\u201d") == "he said. \u201cWe will\u201d"
    assert repair_sentences("it is done.\u201dThen they") == "it is done.\u201d Then they"


def test_run_together_repair_leaves_abbreviations_numbers_and_domains() -> None:
    untouched = [
        "the U.S.President spoke",
        "inflation of 3.5 percent",
        "prices rose to Rs.4 per unit",
        "some goods, e.g.rice and wheat",
        "according to thenews.com.pk today",
        "watch Geo.tv tonight",
        "visit Dawn.Com for more",
        "see https://Example.Org/News.Today now",
        "write to desk@Herald.Info now",
        "the Ph.D thesis",
        "an index at 1,926.44 points",
    ]
    for text in untouched:
        assert repair_sentences(text) == text, text


def test_normalize_body_repairs_run_together_sentences() -> None:
    assert normalize_body("Prices fell.Traders said so.") == "Prices fell. Traders said so."


# --- boilerplate ------------------------------------------------------------------------


def test_boilerplate_lines_are_stripped() -> None:
    lines = [
        "Share this",
        "The budget was passed on Friday.",
        "Follow us on Twitter/Facebook",
        "Advertisement",
        "",
        "Copyright \u00a9 2017 The Daily Example. All rights reserved.",
        "Read more: Budget passes with amendments",
        "",
        "Opposition members walked out.",
        "Click here to subscribe",
        "Subscribe to our newsletter",
        "All rights reserved.",
    ]
    raw = "\n".join(lines)
    expected = "The budget was passed on Friday.\n\nOpposition members walked out."
    assert normalize_body(raw) == expected


def test_boilerplate_words_inside_sentences_are_kept() -> None:
    raw = (
        "Users were told to click here to claim a prize, police said.\n\n"
        "The firm said it would share this data with regulators.\n\n"
        "Copyright lawyers said all rights reserved by the label were void."
    )
    assert normalize_body(raw) == raw


def test_is_boilerplate_only_for_short_lines() -> None:
    assert is_boilerplate("Read more: Other story")
    long_line = "Read more: " + "word " * 60
    assert not is_boilerplate(long_line)
    assert not is_boilerplate("Advertisement revenue fell 12 percent.")


# --- canonical urls ---------------------------------------------------------------------


def test_canonical_url_normalizes() -> None:
    url = "HTTP://Example.COM:80/News/Story/?utm_source=tw&b=2&a=1&fbclid=x&gclid=y#comments"
    assert canonical_url(url) == "http://example.com/News/Story?a=1&b=2"
    assert canonical_url("https://example.com:443/") == "https://example.com/"
    assert canonical_url("https://example.com") == "https://example.com/"
    assert canonical_url("https://example.com:8443/a/") == "https://example.com:8443/a"


def test_canonical_url_rejects_invalid() -> None:
    bad_urls = ("", "   ", None, "not a url", "ftp://example.com/x", "https://", "http://x:99999/")
    for bad in bad_urls:
        assert canonical_url(bad) is None, bad


# --- hashing ----------------------------------------------------------------------------


def test_body_hash_ignores_whitespace_and_case_only() -> None:
    a = body_hash("Prices rose.\n\nTraders  said so.")
    b = body_hash("  prices ROSE. Traders said\nso. ")
    assert a == b
    assert len(a) == 64 and int(a, 16) >= 0
    assert body_hash("Prices rose.") != body_hash("Prices fell.")


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab .\n\tA\u200bB1%)\u201d\u201c<>&;")), max_size=80))
def test_normalize_body_is_idempotent(raw: str) -> None:
    once = normalize_body(raw)
    assert normalize_body(once) == once
    assert "\n\n\n" not in once and "  " not in once
    assert once == once.strip()


def test_inline_links_in_plain_text_keep_paragraphs() -> None:
    raw = 'Fires <a href="https://x.example/a">burned 400 acres</a>.\n\nCrews <em>held</em> lines.'
    assert normalize_body(raw) == "Fires burned 400 acres.\n\nCrews held lines."


def test_full_html_page_drops_head_and_unclosed_elements() -> None:
    raw = (
        "<html><head><title>Page title</title><script>x()</script></head>"
        "<body><p>Only this.</p><embed src='a.swf'><p>And this.</p></body></html>"
    )
    assert normalize_body(raw) == "Only this.\n\nAnd this."

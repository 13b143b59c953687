"""Text clean-up shared by every loader, plus the identities used for deduplication.

Articles arrive from CSV exports, feeds, scraped pages and hand-written files, each with its
own warts: zero-width characters, stray HTML, Windows line endings, share-button lines and
sentences glued together by a careless export ("reported.Sources said"). Everything
downstream (sentence splitting, chunking, quoting, hashing) assumes the one clean shape
produced here: paragraphs separated by exactly one blank line, single spaces inside them.
"""

from __future__ import annotations

import hashlib
import html
import re
import unicodedata
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from index.text import is_address_like, token_span

# Invisible characters that only ever get in the way of matching and quoting. The soft
# hyphen is included because it is invisible too and splits words for search.
_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)
# Bidi embeddings, overrides and isolates (LRE, RLE, PDF, LRO, RLO; LRI, RLI, FSI, PDI).
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
REPLACEMENT = "\ufffd"  # what an unpaired surrogate becomes

# An entity with its terminating semicolon. ``html.unescape`` on its own would also turn
# legacy forms such as "&not" in "&notation" into symbols, which corrupts plain text.
_ENTITY = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")

# Tags that make a body "look like HTML". A known tag name is required so that plain text
# such as "a <b and c> d" or "x < y" is left alone.
_HTML_TAG = re.compile(
    r"</?(?:p|br|div|span|a|b|i|em|strong|u|h[1-6]|ul|ol|li|table|tr|td|th|tbody|thead|"
    r"img|figure|figcaption|blockquote|section|article|header|footer|nav|aside|main|"
    r"script|style|iframe|html|body|head|meta|link|pre|code|hr|small|sup|sub|time|"
    r"noscript|form|input|button|svg|picture|source|video|audio|center|font|dl|dt|dd)"
    r"(?:\s[^<>]*)?/?>",
    re.IGNORECASE,
)
_BLOCK_TAG = re.compile(
    r"<(?:p|br|div|h[1-6]|ul|ol|li|table|tr|blockquote|section|article|pre|hr)\b",
    re.IGNORECASE,
)
_BLOCK_TAGS = frozenset({
    "p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "table", "tr",
    "blockquote", "section", "article", "header", "footer", "figure", "figcaption", "pre",
    "hr", "dl", "dt", "dd", "aside", "main", "nav", "center", "form",
})
# Elements whose content is never article text. Only ones that always have an end tag:
# a void element here (``<embed>``) would swallow the rest of the page.
_DROP_TAGS = frozenset({"script", "style", "noscript", "template", "title", "svg", "iframe",
                        "object", "select", "textarea"})

# Whole lines that are page furniture rather than article text. Each pattern must match
# the entire (short) line, so the same words inside a real sentence are never touched.
_BOILERPLATE = re.compile(
    r"""^(?:
        share\s+(?:this|on\s+\w+)(?:\s+(?:article|story|post|page))?
      | share\s*(?:via|:).{0,60}
      | follow\s+us(?:\s+on\s+[\w ,&/]+)?
      | (?:like|find)\s+us\s+on\s+facebook
      | copyright\s*(?:©|\(c\)|\d{4}).{0,100}
      | ©\s*(?:\d{4}|[A-Z]).{0,100}
      | (?:[\w .,&'-]{0,60}\s)?all\s+rights\s+reserved\.?
      | click\s+here\s+(?:to|for)\b.{0,100}
      | (?:read|see)\s+(?:more|also)\s*:.{0,150}
      | advertisement
      | sponsored(?:\s+content)?
      | subscribe\s+to\s+our\s+(?:newsletter|channel)s?.{0,60}
      | sign\s+up\s+for\s+our\s+newsletters?.{0,60}
    )[.!:]?$""",
    re.IGNORECASE | re.VERBOSE,
)
_BOILERPLATE_MAX_CHARS = 160

# Top-level domains that a capitalized word after a dot most likely is ("Dawn.Com"). "Net",
# "In", "Us" and the like are left out on purpose: "said.Net profit rose" is a sentence.
_DOMAIN_WORDS = frozenset({"com", "org", "pk", "tv", "edu", "gov", "io", "biz", "info"})
_CLOSERS = frozenset(")]}\"'\u201d\u2019%")  # brackets, quotes (straight and curly), %
_CLOSING_QUOTES = "\u201d\u2019"
_OPENING_QUOTES = "\u201c\u2018"
_TRACKING_PARAMS = frozenset({"fbclid", "gclid", "dclid", "msclkid", "mc_eid"})
_DEFAULT_PORTS = {"http": 80, "https": 443}


def normalize_text(s: str | None) -> str:
    """One-line text (titles, sources): entities decoded, invisible characters dropped,
    all whitespace collapsed to single spaces."""
    if not s:
        return ""
    text = s
    for _ in range(3):  # "&amp;amp;" from feeds that escape twice
        decoded = _unescape_entities(text)
        if decoded == text:
            break
        text = decoded
    text = _UNSAFE.sub(lambda m: _CLEAN_TABLE[m.group()], text.translate(_ZERO_WIDTH))
    text = "".join(" " if _is_space_or_control(ch) else ch for ch in text)
    return unicodedata.normalize("NFC", " ".join(text.split()))


def normalize_body(s: str | None) -> str:
    """The canonical article body: plain text, paragraphs separated by exactly "\\n\\n".

    Order matters: HTML goes first (it decides where paragraphs are), boilerplate is
    judged on whole lines before lines are joined, and sentence repair runs last so it
    sees the final spacing.
    """
    if not s:
        return ""
    text = s.replace("\r\n", "\n").replace("\r", "\n")
    text = text.replace("\u2029", "\n\n").replace("\u2028", "\n").replace("\x85", "\n")
    text = unicodedata.normalize("NFC", _to_plain(_clean(text)))

    paragraphs: list[str] = []
    current: list[str] = []
    for raw_line in text.split("\n"):
        line = " ".join(raw_line.split())
        if not line:
            if current:
                paragraphs.append(" ".join(current))
                current = []
            continue
        if is_boilerplate(line):
            continue
        current.append(line)
    if current:
        paragraphs.append(" ".join(current))
    return "\n\n".join(repair_sentences(p) for p in paragraphs)


def _to_plain(text: str) -> str:
    """Strip markup and decode entities until nothing changes.

    Feeds often escape their HTML once more than they should ("&lt;p&gt;"), so markup can
    surface only after one round of decoding; repeating makes the result stable, which
    ``body_hash`` relies on (normalizing a normalized body changes nothing).
    """
    for _ in range(5):
        decoded = html_to_text(text) if looks_like_html(text) else _unescape_entities(text)
        decoded = _clean(decoded)  # entities may decode to zero-width or control chars
        if decoded == text:
            break
        text = decoded
    return text


def looks_like_html(s: str) -> bool:
    """True when ``s`` contains at least one real HTML tag (not just a stray "<")."""
    return _HTML_TAG.search(s) is not None


def html_to_text(s: str) -> str:
    """Visible text of an HTML fragment or page; block elements become paragraph breaks.

    Uses the standard library's tolerant parser: feeds and CMS exports hand us fragments
    that are rarely well-formed, and this parser never raises on them. Text that only has
    inline tags (links in an otherwise plain export) keeps its own line breaks.
    """
    parser = _TextExtractor(keep_newlines=_BLOCK_TAG.search(s) is None)
    parser.feed(s)
    parser.close()
    return parser.text()


def is_boilerplate(line: str) -> bool:
    """True for a whole short line that is page furniture ("Share this", "Advertisement")."""
    stripped = line.strip()
    return len(stripped) <= _BOILERPLATE_MAX_CHARS and bool(_BOILERPLATE.match(stripped))


def repair_sentences(text: str) -> str:
    """Insert the missing space in "reported.Sources said" and similar exports.

    A dot is only treated as a glued sentence end when it follows a lowercase letter,
    digit, closing bracket/quote or "%", and is followed by an uppercase letter and then a
    lowercase one (or by a whole acronym, as in "said.US stocks"). That leaves "U.S.",
    "3.5", "Rs.4", "e.g." and "thenews.com.pk" alone; tokens that are URLs, e-mail
    addresses or end in a domain word are skipped too.
    Curly quotes are unambiguous, so "said.”The" and "said.“We" are repaired as well.
    """
    if "." not in text:
        return text
    out: list[str] = []
    last = 0
    for at in _glued_positions(text):
        out.append(text[last:at])
        out.append(" ")
        last = at
    if not out:
        return text
    out.append(text[last:])
    return "".join(out)


def _glued_positions(text: str) -> list[int]:
    """Where a space is missing: just after the dot, or after a closing curly quote."""
    positions: list[int] = []
    n = len(text)
    for i in range(1, n - 2):
        if text[i] != ".":
            continue
        before = text[i - 1]
        if not (before.islower() or before.isdigit() or before in _CLOSERS):
            continue
        after = i + 1
        if text[after] in _CLOSING_QUOTES and after + 3 <= n:
            after += 1  # "said.”The": the space goes after the closing quote
        elif text[after] in _OPENING_QUOTES and after + 3 <= n:
            if _starts_word(text, after + 1):
                positions.append(after)  # "said.“We": the space goes before the quote
            continue
        if _starts_word(text, after) and not _in_url_like_token(text, i):
            positions.append(after)
    return positions


def _starts_word(text: str, at: int) -> bool:
    """How a sentence starts: an uppercase letter followed by a lowercase one, or a whole
    acronym of two or more capitals ("said.US stocks", "trade.WTI rose")."""
    if not (at + 1 < len(text) and text[at].isupper()):
        return False
    if text[at + 1].islower():
        return True
    end = at
    while end < len(text) and text[end].isupper():
        end += 1
    return end - at >= 2 and (end == len(text) or not text[end].isalnum())


def _in_url_like_token(text: str, dot: int) -> bool:
    start, end = token_span(text, dot)
    if is_address_like(text[start:end]):
        return True
    word_end = dot + 1
    while word_end < len(text) and text[word_end].isalpha():
        word_end += 1
    return text[dot + 1 : word_end].lower() in _DOMAIN_WORDS


def canonical_url(url: str | None) -> str | None:
    """A stable form of ``url`` for recognising the same article twice, or None.

    Lowercases scheme and host, drops default ports, fragments and tracking parameters
    (``utm_*``, ``fbclid``, ``gclid``), sorts the remaining query and strips a trailing
    slash. Only http(s) URLs with a host count; anything else is None.
    """
    if not url or not url.strip():
        return None
    try:
        parts = urlsplit(url.strip())
        scheme = parts.scheme.lower()
        host = (parts.hostname or "").rstrip(".")
        port = parts.port
    except ValueError:
        return None
    if scheme not in _DEFAULT_PORTS or not host or any(ch.isspace() for ch in host):
        return None
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    if parts.username is not None:
        userinfo = parts.username + (f":{parts.password}" if parts.password else "")
        netloc = f"{userinfo}@{netloc}"
    path = parts.path or "/"
    if len(path) > 1:
        path = path.rstrip("/") or "/"
    query = [
        (key, value)
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
        if not key.lower().startswith("utm_") and key.lower() not in _TRACKING_PARAMS
    ]
    return urlunsplit((scheme, netloc, path, urlencode(sorted(query)), ""))


def body_hash(body: str) -> str:
    """sha256 of the normalized body, casefolded, whitespace collapsed: the duplicate key
    that survives re-exports which only changed spacing or capitalization."""
    folded = " ".join(normalize_body(body).casefold().split())
    return hashlib.sha256(folded.encode("utf-8")).hexdigest()


def _unescape_entities(s: str) -> str:
    if "&" not in s:
        return s
    return _ENTITY.sub(lambda m: html.unescape(m.group(0)), s)


def _is_space_or_control(ch: str) -> bool:
    return ch.isspace() or unicodedata.category(ch) in ("Cc", "Zs", "Zl", "Zp")


def _clean(text: str) -> str:
    """Zero-width characters dropped, then ``_clean_char`` applied to every character —
    by one regex pass that stops only at the rare characters that change (a per-character
    generator here made up half the cost of an unchanged re-ingest)."""
    return _CLEAN_RE.sub(lambda m: _CLEAN_TABLE[m.group()], text)


def _clean_char(ch: str) -> str:
    """Newlines survive, other whitespace becomes a space, other control chars and the
    bidi embedding/override/isolate controls vanish (they can make a headline read
    backwards in answers and alerts), and an unpaired UTF-16 surrogate (half an emoji in
    scraped JSON, ``"\\ud83d"``) becomes U+FFFD: it cannot be encoded as UTF-8, so left in
    place it would make hashing, SQLite and Telegram fail on the whole batch."""
    if ch == "\n":
        return ch
    if ch.isspace():
        return " "
    if ch in _BIDI_CONTROLS:
        return ""
    category = unicodedata.category(ch)
    if category == "Cc":
        return ""
    if category == "Cs":
        return REPLACEMENT
    return ch


# Every character ``_clean`` changes: the zero-width ones, and those ``_clean_char`` changes
# (all whitespace lies below U+3001, all control characters below U+0100, the surrogates in
# U+D800–U+DFFF; a test checks the whole Unicode range).
_CLEAN_TABLE: dict[str, str] = {
    **{chr(cp): "" for cp in _ZERO_WIDTH},
    **{chr(cp): _clean_char(chr(cp))
       for cp in [*range(0x3001), *range(0xD800, 0xE000)]
       if _clean_char(chr(cp)) != chr(cp)},
}
# The bidi controls and surrogates alone: one-line text turns other controls into spaces.
_UNSAFE = re.compile("[\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_CLEAN_RE = re.compile("[" + "".join(re.escape(ch) for ch in _CLEAN_TABLE) + "]")


class _TextExtractor(HTMLParser):
    """Collects visible text; script/style contents are dropped, blocks break paragraphs."""

    def __init__(self, *, keep_newlines: bool = False) -> None:
        super().__init__(convert_charrefs=True)
        self._parts: list[str] = []
        self._skip_depth = 0
        self._keep_newlines = keep_newlines

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "body":
            self._skip_depth = 0  # whatever was left unclosed in <head> ends here
        elif tag in _DROP_TAGS:
            self._skip_depth += 1
        elif tag == "br":
            self._parts.append("\n")
        elif tag in _BLOCK_TAGS:
            self._parts.append("\n\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self._parts.append("\n")
        elif tag in _BLOCK_TAGS:
            self._parts.append("\n\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _DROP_TAGS:
            self._skip_depth = max(0, self._skip_depth - 1)
        elif tag in _BLOCK_TAGS:
            self._parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if not self._skip_depth:
            # In real HTML, newlines in the source are just spaces; tags make the breaks.
            self._parts.append(data if self._keep_newlines else data.replace("\n", " "))

    def text(self) -> str:
        return "".join(self._parts)


# -- link topics -------------------------------------------------------------------------------
_HREF = re.compile(r"""<a\s[^<>]{0,500}?href\s*=\s*["']([^"'<>]+)["']""", re.IGNORECASE)
_SLUG_SPLIT = re.compile(r"[-_+]+")
_NOT_A_SLUG = re.compile(r"(?:index|default|story|article|amp)(?:\.\w+)?|\d+|[a-z]{1,3}",
                         re.IGNORECASE)
_EXTENSION = re.compile(r"\.(?:s?html?|php|aspx?|cnn|jsp)$", re.IGNORECASE)
LINK_TOPICS_MAX_CHARS = 300
_SLUG_MIN_WORDS = 2


def link_topics(raw: str | None) -> str:
    """The words of the URL slugs an HTML body links to, " · "-separated, in order.

    News sites name a story's URL after its headline
    (``/2022/05/17/sport/red-bull-paper-wings-airplane-final/index.html``), and a news
    snippet's links point at the stories it retells. So when an article has no headline of
    its own, these words are the nearest thing: they are embedded and keyword-indexed with
    it, as a title is, and never quoted. Only the last meaningful path segment counts (not
    dates, ``index.html`` or two-letter sections), and only when it has two words or more;
    a bare domain or ``/video`` says nothing about the story.
    """
    if not raw or "href" not in raw.lower():
        return ""
    topics: list[str] = []
    for href in _HREF.findall(raw):
        path = urlsplit(html.unescape(href.strip())).path
        segments = [s for s in path.split("/") if s and not _NOT_A_SLUG.fullmatch(s)]
        if not segments:
            continue
        words = [w for w in _SLUG_SPLIT.split(_EXTENSION.sub("", segments[-1]))
                 if w and not w.isdigit()]
        topic = " ".join(words).casefold()
        if len(words) < _SLUG_MIN_WORDS or topic in topics:
            continue
        if len(" · ".join([*topics, topic])) > LINK_TOPICS_MAX_CHARS:
            break
        topics.append(topic)
    return " · ".join(topics)


def search_title(title: str, topics: str) -> str:
    """What is embedded and keyword-indexed as an article's headline: its title or, when it
    has none, its link topics. A real headline is the better summary, and the links of a
    titled article often point at other stories."""
    return title if title.strip() else topics

"""Keyword search on PostgreSQL, ranked as the SQLite side ranks it: FTS5's bm25
(``index.bm25``) over words cut and stemmed as FTS5's ``porter unicode61 remove_diacritics
2`` tokenizer cuts and stems them.

Words. PostgreSQL has no ``unaccent`` here (pgserver lacks it) and its parser knows e-mail
addresses, hosts, hyphenated compounds and decimals, which FTS5 splits into plain tokens. So
text is prepared in Python before it reaches ``to_tsvector`` or ``phraseto_tsquery``, the
same way at write and at query time (``fold``): NFKD with the combining marks dropped
(``Zürich`` → ``zurich``), lower case, and every run of characters that are not letters or
digits one space. The parser then sees only words and numbers, and ``CONFIG`` maps every
token type to ``DICTIONARY``, Snowball's original Porter stemmer without stop words (FTS5's
porter keeps every word; the ``english`` configuration drops "the", "s", ... and stems with
Porter2). docs/postgres.md has the measured difference from FTS5's tokens.

Rows. ``chunks_fts`` holds, per chunk, the tsvector (search title weighted A, text B) under
GIN and the chunk's token count |D|; ``store_state`` keeps N (``chunks``) and the summed
|D| (``tokens``), written in each write's transaction, so avgdl costs no scan.

Ranking, per matching chunk and query phrase p:
- f(p, D), the title hits × ``TITLE_WEIGHT`` + text hits × ``TEXT_WEIGHT``, is
  ``ts_rank_cd`` of the phrase alone with the label weights A and B in that ratio and no
  normalization: for a one-phrase query each cover is one occurrence and adds its label's
  weight, so the rank is exactly the weighted count (scaled by ``_TF_SCALE``). It finds the
  phrase by binary search in the tsvector, where ``unnest(tsv)`` would expand every lexeme;
- n(p), the chunks holding p, a ``count(*)`` on the GIN index per phrase, in the same
  statement (one snapshot) as N and the summed |D|. It costs the phrase's postings, which
  ``index.keywords`` keeps within its budget on large indexes; a kept lexeme → count table
  would add a row update per distinct word of every chunk written, on hot rows shared by
  every writer.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

import psycopg

from index.bm25 import K1, TEXT_WEIGHT, TITLE_WEIGHT, B, idf

CONFIG = "newsbot_words"
DICTIONARY = "newsbot_porter"

_NOT_WORD = re.compile(r"[\W_]+")  # FTS5's unicode61 separates on all but letters and digits
_TF_SCALE = max(TITLE_WEIGHT, TEXT_WEIGHT)  # ts_rank_cd takes weights in [0, 1]
# ts_rank_cd's weights of the labels {D, C, B, A}: text is B, the title A; D and C are unused.
_RANK_WEIGHTS = [0.0, 0.0, TEXT_WEIGHT / _TF_SCALE, TITLE_WEIGHT / _TF_SCALE]


def fold(text: str) -> str:
    """The words of ``text`` as the full-text index stores them: diacritics removed, lower
    case, separated by single spaces (``"Café-owners, Zürich"`` → ``"cafe owners zurich"``)."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(_NOT_WORD.sub(" ", bare.lower()).split())


def text_config_sql(token_types: Sequence[str]) -> list[str]:
    """The statements that create ``DICTIONARY`` and ``CONFIG`` in the current schema, with
    every one of the parser's ``token_types`` mapped to the stemmer (an unmapped type would
    drop its tokens and the token counts would no longer be the words ``fold`` gives)."""
    return [
        f"CREATE TEXT SEARCH DICTIONARY {DICTIONARY} (TEMPLATE = snowball, Language = porter)",
        f"CREATE TEXT SEARCH CONFIGURATION {CONFIG} (PARSER = default)",
        f"ALTER TEXT SEARCH CONFIGURATION {CONFIG} ADD MAPPING FOR "
        f"{', '.join(token_types)} WITH {DICTIONARY}"]


# One row of chunks_fts per chunk: the arrays of ``fts_rows``.
INSERT_ROWS = (
    "INSERT INTO chunks_fts (chunk_id, article_id, tokens, tsv) "
    f"SELECT r.id, r.article_id, r.tokens, setweight(to_tsvector('{CONFIG}', r.title), 'A') "
    f"|| setweight(to_tsvector('{CONFIG}', r.text), 'B') "
    "FROM unnest(%s::bigint[], %s::bigint[], %s::integer[], %s::text[], %s::text[]) "
    "AS r(id, article_id, tokens, title, text)")


def fts_rows(rows: Sequence[tuple[int, int, str, str]]) -> tuple[list[list], int]:
    """``INSERT_ROWS``'s parameters for (chunk id, article id, search title, text) rows, and
    the tokens they add (each chunk's |D| = its folded title's words + its text's)."""
    ids, articles, tokens, titles, texts = [], [], [], [], []
    for chunk_id, article_id, title, text in rows:
        t, x = fold(title), fold(text)
        ids.append(int(chunk_id))
        articles.append(int(article_id))
        tokens.append(len(t.split()) + len(x.split()))
        titles.append(t)
        texts.append(x)
    return [ids, articles, tokens, titles, texts], sum(tokens)


def keyword_search(conn: psycopg.Connection, terms: Sequence[str], limit: int
                   ) -> list[tuple[int, int, float]]:
    """(chunk id, article id, −bm25) of the chunks holding any of the phrases ``terms``,
    best (lowest) first, as FTS5's ``bm25`` scores them; the caller holds the connection.

    Two statements: the first reads N, the summed |D|, each phrase's tsquery and its chunk
    count (one snapshot); the second scores. The tsqueries travel as values, so even a
    generic (prepared) plan does not re-parse a phrase per row."""
    distinct = list(dict.fromkeys(p for p in (fold(t) for t in terms) if p))
    if not distinct:
        return []
    one = f"phraseto_tsquery('{CONFIG}', %s)"
    columns = ", ".join(f"{one}::text, (SELECT count(*) FROM chunks_fts WHERE tsv @@ {one})"
                        for _ in distinct)
    rows, tokens, *found = conn.execute(f"SELECT chunks, tokens, {columns} FROM store_state",
                                        [p for p in distinct for _ in (1, 2)]).fetchone()
    query = dict(zip(distinct, found[0::2], strict=True))
    weight = {p: idf(rows, n) for p, n in zip(distinct, found[1::2], strict=True)}
    # FTS5 scores every phrase of the query, a repeated one each time it appears.
    phrases = [p for p in (fold(t) for t in terms) if query.get(p)]
    if rows == 0 or not phrases:
        return []
    # Per phrase: idf · (1 − K / (f + K)) = idf · f / (f + K), K = k1 · (1 − b + b·|D|/avgdl),
    # evaluated only where the chunk holds the phrase; the sum times (k1 + 1) is bm25.
    k = f"{K1} * (1 - {B} + {B} * tokens / %s::float8)"
    term = (f"CASE WHEN tsv @@ %s::tsquery THEN %s::float8 * (1 - {k} / ({_TF_SCALE} * "
            f"ts_rank_cd(%s::real[], tsv, %s::tsquery, 0) + {k})) ELSE 0 END")
    avgdl = tokens / rows
    params: list = []
    for p in phrases:
        params += [query[p], weight[p], avgdl, _RANK_WEIGHTS, query[p], avgdl]
    anywhere = list(dict.fromkeys(query[p] for p in phrases))
    scored = conn.execute(
        f"SELECT chunk_id, article_id, -{K1 + 1} * ({' + '.join([term] * len(phrases))}) "
        f"AS score FROM chunks_fts WHERE tsv @@ ({' || '.join(['%s::tsquery'] * len(anywhere))}) "
        "ORDER BY score, chunk_id LIMIT %s", (*params, *anywhere, limit)).fetchall()
    return [(r[0], r[1], float(r[2])) for r in scored]


def term_counts(conn: psycopg.Connection, terms: Sequence[str], cap: int) -> dict[str, int]:
    """Chunks holding each term as a phrase, counted up to ``cap`` (a ``LIMIT``-ed match
    reads at most ``cap`` postings); the caller holds the connection."""
    out = {}
    for term in terms:
        phrase = fold(term)
        out[term] = 0 if not phrase else int(conn.execute(
            "SELECT count(*) FROM (SELECT 1 FROM chunks_fts WHERE tsv @@ "
            f"phraseto_tsquery('{CONFIG}', %s) LIMIT %s) AS hits", (phrase, cap)).fetchone()[0])
    return out

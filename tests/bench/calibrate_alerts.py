"""Calibrate the alert thresholds on real articles (the method docs/alerts.md states).

Topic threshold: for a dozen topics a user might subscribe to, every article of the corpus
is labelled by a keyword rule — *clearly about* the topic (its headline names it) or
*clearly not* (no related word anywhere in it); the rest is ambiguous and left out. Each
article's topic score is the one alerts use (best chunk cosine). The script prints both
distributions and, for candidate thresholds, the share of clearly-about articles that would
alert (recall) and of clearly-not articles that would (false alerts).

Same-story check: pairs of articles published within 3 days whose lead chunks are similar
are printed with their fact overlap (numbers and names), to see where a retelling of one
story by another outlet separates from a different story on the same subject.

    .venv/bin/python -m tests.bench.calibrate_alerts ../shared/data/pk_business_2015.jsonl \
        --data-dir /tmp/calibration
"""

from __future__ import annotations

import argparse
import itertools
import re
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from index import Index, IndexSettings  # noqa: E402
from index.alerts.stories import fact_overlap, facts  # noqa: E402
from index.alerts.topics import TopicScorer, parse_topic  # noqa: E402

# topic, headline regex (clearly about), regex of related words (absent = clearly not)
TOPICS: list[tuple[str, str, str]] = [
    ("oil prices", r"\boil\b|crude|brent|opec", r"\boil\b|crude|brent|opec|petrol|fuel|energy"),
    ("IMF loan", r"\bimf\b", r"\bimf\b|monetary fund|loan|tranche|lend"),
    ("Karachi stock exchange", r"\bkse\b|stock exchange|\bpsx\b|share index",
     r"\bkse\b|stock|shares|bourse|equit|\bpsx\b|index"),
    ("petrol price in Pakistan", r"petrol|diesel|\bpol\b",
     r"petrol|diesel|petroleum|fuel|\boil\b|\bpol\b|crude"),
    ("gold prices", r"\bgold\b", r"\bgold\b|bullion|precious|jewel"),
    ("e-commerce", r"e.?commerce|online|paypal|alibaba",
     r"commerce|online|internet|digital|paypal|alibaba|\bweb"),
    ("LNG imports from Qatar", r"\blng\b", r"\blng\b|\bgas\b|qatar|energy"),
    ("electricity tariff", r"tariff|electric|nepra",
     r"tariff|electric|nepra|power|energy|wapda|load.?shed"),
    ("Asian stock markets", r"\basia|tokyo|shanghai|hong kong|nikkei",
     r"\basia|tokyo|shanghai|hong kong|nikkei|stock|share|china|japan"),
    ("PIA privatisation", r"\bpia\b", r"\bpia\b|airline|privati|aviation"),
    ("tax collection by FBR", r"\bfbr\b|\btax", r"\bfbr\b|\btax|revenue"),
    ("rupee dollar exchange rate", r"dollar|rupee|forex|exchange rate",
     r"dollar|rupee|currenc|forex|exchange"),
]
THRESHOLDS = [round(x, 3) for x in np.arange(0.30, 0.625, 0.025)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("corpus", help="corpus JSONL (e.g. pk_business_2015.jsonl)")
    parser.add_argument("--data-dir", required=True, help="index folder (built if empty)")
    args = parser.parse_args()
    index = Index.open(IndexSettings(_env_file=None, data_dir=Path(args.data_dir)))
    if index.stats().articles == 0:
        print("ingesting", args.corpus, file=sys.stderr)
        index.ingest([args.corpus])
    store = index.generation.store
    articles = store.latest(limit=-1)
    vectors = {a.rowid: store.article_vectors(a.rowid)[1] for a in articles}
    topic_report(index, articles, vectors)
    story_report(articles, vectors)
    index.close()
    return 0


def topic_report(index: Index, articles: list, vectors: dict[int, np.ndarray]) -> None:
    scorer = TopicScorer(index.embedder)
    about_all: list[float] = []
    not_all: list[float] = []
    print(f"{'topic':28} {'about':>5} {'p10':>6} {'p25':>6} {'p50':>6} | "
          f"{'not':>5} {'p95':>6} {'p99':>6} {'max':>6}")
    for text, about_re, related_re in TOPICS:
        topic = parse_topic(text)
        about, unrelated = [], []
        for article in articles:
            score = scorer.score(topic, vectors[article.rowid])[0]
            full = f"{article.title}\n{article.body}"
            if re.search(about_re, article.title, re.IGNORECASE):
                about.append(score)
            elif not re.search(related_re, full, re.IGNORECASE):
                unrelated.append(score)
        about_all += about
        not_all += unrelated
        a, n = np.array(about), np.array(unrelated)
        print(f"{text:28} {len(a):5} {_q(a, 10)} {_q(a, 25)} {_q(a, 50)} | "
              f"{len(n):5} {_q(n, 95)} {_q(n, 99)} {_q(n, 100)}")
    a, n = np.array(about_all), np.array(not_all)
    print(f"\nall topics: {len(a)} clearly-about scores, {len(n)} clearly-not scores")
    print(f"{'threshold':>9} {'recall':>7} {'false alerts':>13}")
    for t in THRESHOLDS:
        print(f"{t:9.3f} {np.mean(a >= t):7.1%} {np.mean(n >= t):13.2%}")


def story_report(articles: list, vectors: dict[int, np.ndarray]) -> None:
    dated = [a for a in articles if a.published_date and len(vectors[a.rowid])]
    rows = []
    for a, b in itertools.combinations(dated, 2):
        if abs((a.published_date - b.published_date).days) > 3:
            continue
        lead = float(vectors[a.rowid][0] @ vectors[b.rowid][0])
        if lead >= 0.7:
            overlap = fact_overlap(facts(a.title, a.body), facts(b.title, b.body))
            rows.append((lead, overlap, a.headline[:40], b.headline[:40]))
    print(f"\n{len(rows)} pairs within 3 days with lead-chunk cosine >= 0.7 "
          "(lead, fact overlap, headlines):")
    for lead, overlap, first, second in sorted(rows, key=lambda r: -r[1])[:40]:
        print(f"  {lead:.3f} {overlap:.2f}  {first} | {second}")


def _q(values: np.ndarray, pct: int) -> str:
    return f"{np.percentile(values, pct):6.3f}" if len(values) else "     -"


if __name__ == "__main__":
    sys.exit(main())

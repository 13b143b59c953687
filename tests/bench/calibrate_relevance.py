"""Calibrate the "nothing found" threshold and the citation floor for the configured model.

Two sides are measured through the real search path (``Index.search``, the hits the answer
is composed from):

- answerable: every dev question, asked as of its date; the best hit's cosine must reach
  ``min_relevance`` or the user is wrongly told "I found nothing". The gold article's cosine
  must reach ``citation_floor`` or it is not quoted.
- off-topic: the questions below (written for this script: cooking, DIY, trivia — nothing a
  news archive answers); their best cosine should stay *below* ``min_relevance``.

The rule used for the defaults (docs/quality.md): the highest threshold that still
answers ≥ 99.5 % of the dev questions, checked to reject most off-topic ones; the citation
floor keeps ≥ 99.4 % of gold articles quotable.

    .venv/bin/python tests/bench/calibrate_relevance.py ../shared/data/rtqa_dev_questions.jsonl \
        --data-dir /tmp/evm      # an index built by `newsbot eval --data-dir /tmp/evm ...`
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from index import Index, IndexSettings  # noqa: E402
from index.evaluate import read_questions  # noqa: E402

OFF_TOPIC = [
    "a recipe for chocolate chip cookies", "how do I fix a flat bicycle tyre",
    "what is the best way to learn the guitar", "tips for growing tomatoes on a balcony",
    "how do I reset my router password", "what is the plot of Hamlet",
    "how many legs does a spider have", "how do I boil an egg",
    "what is the square root of 144", "how do I tie a bow tie", "what rhymes with orange",
    "how long should I steep green tea", "how do I remove a red wine stain from carpet",
    "what is the difference between a violin and a viola",
    "best exercises for lower back pain", "how do I knit a scarf", "why is the sky blue",
    "how do I make sourdough starter", "what should I name my cat", "how do I change a car tyre",
    "what is a good bedtime story for kids", "how do I clean a cast iron pan",
    "how to write a haiku", "what temperature should I bake bread at",
    "how do I get rid of hiccups", "how do magnets work", "translate good morning into french",
    "how many cups are in a litre", "what is the capital of australia", "how do I play chess",
]
THRESHOLDS = (0.25, 0.28, 0.30, 0.33, 0.35, 0.37, 0.39, 0.42)


def best_dense(index: Index, question: str, asked_at=None) -> tuple[float, dict[str, float]]:
    hits = index.search(question, k=50, asked_at=asked_at)
    scores = {h.article.ext_id: h.dense_score for h in hits if h.dense_score is not None}
    return (max(scores.values()) if scores else -1.0), scores


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("questions", help="questions JSONL with asked_at and gold_ids")
    parser.add_argument("--data-dir", required=True, help="an index holding their corpus")
    parser.add_argument("--limit", type=int, default=0)
    args = parser.parse_args()

    index = Index.open(IndexSettings(data_dir=Path(args.data_dir)))
    index.embedder.load()
    questions = list(read_questions(Path(args.questions)))
    if args.limit:
        questions = questions[: args.limit]
    tops, golds = [], []
    for q in questions:
        top, scores = best_dense(index, q.question, q.asked_at)
        tops.append(top)
        golds.append(max((scores.get(g, -1.0) for g in q.gold_ids), default=-1.0))
    off = [best_dense(index, q)[0] for q in OFF_TOPIC]
    tops_a, golds_a, off_a = np.array(tops), np.array(golds), np.array(off)
    print(f"model {index.settings.embedding_model}; {len(questions)} dev questions, "
          f"{len(OFF_TOPIC)} off-topic")
    print("threshold  dev answered  gold quotable  off-topic rejected")
    for t in THRESHOLDS:
        print(f"    {t:.2f}       {np.mean(tops_a >= t):6.1%}        {np.mean(golds_a >= t):6.1%}"
              f"          {np.mean(off_a < t):6.1%}")
    print("off-topic best cosines:", " ".join(f"{v:.2f}" for v in sorted(off, reverse=True)))
    index.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

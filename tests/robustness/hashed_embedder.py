"""A stand-in embedder for the kill test: same dimension, model name and tokenizer as the
real one, but vectors are hashed bags of words and no torch is imported, so a subprocess
starts in about a second instead of 6–15 s. Each encode call sleeps a little to stand in
for model time, so kills can land mid-ingest. Storage, FAISS, FTS, reconcile and search
are all the real code; only where the numbers in the vectors come from differs."""

from __future__ import annotations

import hashlib
import re
import sys
import time

import numpy as np

from index.embed import Embedder

ENCODE_SECONDS = 0.12
LEAD_WORDS = 12  # the title prefix, so a title finds its article (bags of words dilute)
_WORD = re.compile(r"\w+")


class HashedEmbedder(Embedder):
    encode_seconds = ENCODE_SECONDS

    def load(self) -> None:
        with self._lock:
            if self._model is None:
                self._model = "hashed"
                print("MODEL-LOADED", file=sys.stderr, flush=True)

    def encode(self, texts: list[str], *, progress: bool = False) -> np.ndarray:
        self.load()
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in _WORD.findall(text.lower())[:LEAD_WORDS]:
                seed = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=8).digest(),
                                      "little")
                out[row] += np.random.default_rng(seed).standard_normal(self.dim)
            norm = np.linalg.norm(out[row])
            if norm:
                out[row] /= norm
        if len(texts) > 1 and self.encode_seconds:
            time.sleep(self.encode_seconds)
        return out

    def encode_query(self, text: str) -> np.ndarray:
        return self.encode([text])[0]

    def encode_queries(self, texts) -> np.ndarray:  # type: ignore[no-untyped-def]
        return np.stack([self.encode_query(t) for t in texts])


def install() -> None:
    """Make ``Index.open`` (and so the CLI) use the stand-in."""
    import index.api

    index.api.Embedder = HashedEmbedder  # type: ignore[misc]

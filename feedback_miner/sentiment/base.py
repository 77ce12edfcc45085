"""What every sentiment head is: three class probabilities per row, and what follows from them.

A head reads the pipeline's sentence embeddings and, when :attr:`SentimentHead.uses_texts`, the texts
they were made from. Scoring code (``score_statements``, the Ray engine, the benchmark) only uses
this interface, so a linear head on the embeddings and a fine-tuned encoder are interchangeable.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from feedback_miner.sentiment.preprocess import CLASSES


class SentimentModelError(RuntimeError):
    """A sentiment head that cannot be used (missing, corrupt, or for other embeddings)."""


def softmax(z: np.ndarray) -> np.ndarray:
    """Row-wise softmax of ``(n, k)`` logits."""
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


class SentimentHead:
    """Base class of sentiment heads: subclasses implement :meth:`logits` over :data:`CLASSES`.

    Attributes every head sets: ``classes_`` (:data:`CLASSES`), ``embedding_model`` (the
    ``Embedder.name`` of the vectors it reads), ``embedder`` (the config name that builds that
    embedder), ``metadata_`` (training data, licence, figures) and :attr:`uses_texts`.
    """

    classes_: np.ndarray = np.array(CLASSES, dtype=object)
    embedding_model: str
    embedder: str
    metadata_: dict
    #: Whether :meth:`predict_proba` needs the raw texts besides the embeddings.
    uses_texts: bool = False

    def logits(self, embeddings: np.ndarray, texts: Sequence[str] | None = None) -> np.ndarray:
        """``(n, 3)`` class logits in :data:`CLASSES` order."""
        raise NotImplementedError

    def predict_proba(self, embeddings: np.ndarray, texts: Sequence[str] | None = None) -> np.ndarray:
        """``(n, 3)`` probabilities in :data:`CLASSES` order (negative, neutral, positive).

        ``texts`` (aligned with ``embeddings``) are required when :attr:`uses_texts`, ignored otherwise.
        """
        return softmax(np.asarray(self.logits(embeddings, texts), dtype=np.float32))

    def predict_scores(self, embeddings: np.ndarray, texts: Sequence[str] | None = None) -> np.ndarray:
        """Sentiment in [-1, 1]: P(positive) - P(negative)."""
        p = self.predict_proba(embeddings, texts)
        return (p[:, 2] - p[:, 0]).astype(np.float64)

    def predict_labels(self, embeddings: np.ndarray, texts: Sequence[str] | None = None) -> np.ndarray:
        """The most probable class per row."""
        return self.classes_[np.argmax(self.predict_proba(embeddings, texts), axis=1)]

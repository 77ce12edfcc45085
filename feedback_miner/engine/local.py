"""``engine: local``: the per-row stages in this process."""

from __future__ import annotations

import numpy as np
import pandas as pd

from feedback_miner.config import PrepareConfig, SentimentConfig
from feedback_miner.embed import Embedder, load_embedder
from feedback_miner.prepare import PrepareResult, prepare_statements
from feedback_miner.sentiment import score_statements


class LocalEngine:
    """Prepare, embed, score and assign in this process (theme assignment in in-process chunks)."""

    name = "local"

    def prepare(self, documents: pd.DataFrame, cfg: PrepareConfig) -> PrepareResult:
        return prepare_statements(documents, cfg)

    def embedder(self, model: str, batch_size: int) -> Embedder:
        return load_embedder(model, batch_size)

    def score(self, statements: pd.DataFrame, vectors: np.ndarray, model, cfg: SentimentConfig) -> pd.DataFrame:
        return score_statements(statements, vectors, model, cfg)

    def assigner(self) -> None:
        return None  # the themes stage's default: nearest centroid in in-process chunks

"""Where the per-row stages run: one seam, chosen once per run by :func:`get_engine`.

An engine has ``prepare(documents, cfg.prepare)``, ``embedder(model, batch_size)``,
``score(statements, vectors, head, cfg.sentiment)`` and ``assigner()`` (the out-of-sample theme
assigner, or None for in-process chunks); both engines give the same outputs.

- ``local`` (:class:`~feedback_miner.engine.local.LocalEngine`): this process;
- ``ray`` (:class:`~feedback_miner.engine.ray.RayEngine`): Ray Data actors on Parquet partitions
  (docs/scaling.md). Importing this package is Ray-free; Ray is imported when a Ray stage runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import numpy as np
import pandas as pd

from feedback_miner.config import PrepareConfig, RunConfig, SentimentConfig


class Engine(Protocol):
    """What the pipeline asks of an engine."""

    name: str

    def prepare(self, documents: pd.DataFrame, cfg: PrepareConfig): ...

    def embedder(self, model: str, batch_size: int): ...

    def score(self, statements: pd.DataFrame, vectors: np.ndarray, model, cfg: SentimentConfig) -> pd.DataFrame: ...

    def assigner(self): ...


def get_engine(run: RunConfig, work_dir: Path | None = None) -> Engine:
    """The engine ``run.engine`` names (``work_dir``: the Ray engine's partitions, ``Config.ray_work_dir``)."""
    if run.engine == "ray":
        from feedback_miner.engine.ray import RayEngine

        if work_dir is None:
            raise ValueError("engine: ray needs a work_dir for its partitions (Config.ray_work_dir)")
        return RayEngine(run.ray, work_dir)
    from feedback_miner.engine.local import LocalEngine

    return LocalEngine()

"""``engine: ray``: the per-row stages on Ray Data (docs/scaling.md).

:class:`RayEngine` is what the pipeline uses (through :func:`feedback_miner.engine.get_engine`):
prepare (:mod:`feedback_miner.engine.ray_prepare`), embedding actors, sentiment actors and
out-of-sample theme assignment; each writes Parquet partitions, runs ``map_batches`` and reads
the result back (:mod:`feedback_miner.engine.ray_io`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from feedback_miner.config import PrepareConfig, RayConfig, SentimentConfig
from feedback_miner.engine.ray_io import (
    ROW,
    ensure_ray,
    map_options,
    read_partitions,
    read_vectors,
    scratch,
    write_partitions,
    write_vector_partitions,
)
from feedback_miner.engine.ray_prepare import prepare_statements_ray
from feedback_miner.prepare import PrepareResult

# ---------------------------------------------------------------- embed


class _EmbedTexts:
    """Loads the embedding model once per actor; batch ``text`` -> ``vector`` (float32 list)."""

    def __init__(self, model: str, batch_size: int):
        from feedback_miner.embed import load_embedder

        self.embedder = load_embedder(model, batch_size)

    def __call__(self, batch: pd.DataFrame) -> pd.DataFrame:
        vectors = self.embedder.encode(batch["text"].tolist()).astype(np.float32)
        return pd.DataFrame({ROW: batch[ROW].to_numpy(), "vector": list(vectors)})


def _probe_embedder(model: str, batch_size: int) -> tuple[str, int]:
    from feedback_miner.embed import load_embedder

    e = load_embedder(model, batch_size)
    return e.name, int(e.dim)


class RayEmbedder:
    """An :class:`feedback_miner.embed.Embedder` whose ``encode`` runs on Ray actors.

    It has the local embedder's ``name`` (so the run store's vector cache is shared by both
    engines) and is used through :func:`feedback_miner.embed.embed_texts`, which only sends the
    texts missing from the cache.
    """

    def __init__(self, model: str, batch_size: int, settings: RayConfig, work_dir: Path):
        self.model, self.batch_size, self.settings, self.work_dir = model, batch_size, settings, Path(work_dir)
        self._meta: tuple[str, int] | None = None

    def _describe(self) -> tuple[str, int]:
        if self._meta is None:
            ensure_ray(self.settings)
            import ray

            self._meta = ray.get(ray.remote(num_cpus=0)(_probe_embedder).remote(self.model, self.batch_size))
        return self._meta

    @property
    def name(self) -> str:
        return self._describe()[0]

    @property
    def dim(self) -> int:
        return self._describe()[1]

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not len(texts):
            return np.zeros((0, self.dim), np.float32)
        with scratch(self.work_dir, "embed") as tmp:
            write_partitions(pd.DataFrame({"text": list(texts)}), tmp / "texts", self.settings.partition_rows)
            embed_dataset(tmp / "texts", tmp / "vectors", self.model, self.batch_size, self.settings)
            return read_vectors(tmp / "vectors", self.dim)


def embed_dataset(texts_dir: Path, out_dir: Path, model: str, batch_size: int, settings: RayConfig) -> Path:
    """Parquet ``ROW, text`` partitions -> Parquet ``ROW, vector`` written by embedding actors."""
    ensure_ray(settings)
    import ray

    ds = ray.data.read_parquet(str(texts_dir)).select_columns([ROW, "text"])
    ds.map_batches(_EmbedTexts, fn_constructor_args=(model, batch_size), **map_options(settings, settings.num_gpus)) \
        .write_parquet(str(out_dir))
    return out_dir


# ---------------------------------------------------------------- sentiment


class _ScoreSentiment:
    """The sentiment head (shipped to each actor once) on a batch of ``vector`` rows."""

    def __init__(self, model, cfg: SentimentConfig):
        self.model, self.cfg = model, cfg

    def __call__(self, batch: pd.DataFrame) -> pd.DataFrame:
        from feedback_miner.sentiment import score_statements

        X = np.vstack(batch["vector"].to_numpy()).astype(np.float32)
        columns = [c for c in ("statement_id", "text") if c in batch.columns]
        scored = score_statements(batch[columns], X, self.model, self.cfg)
        return scored.assign(**{ROW: batch[ROW].to_numpy()})


def score_dataset(vectors_dir: Path, out_dir: Path, model, cfg: SentimentConfig, settings: RayConfig) -> Path:
    """Parquet ``ROW, statement_id, vector`` (+ ``text`` for a head that reads texts) -> ``ROW,
    statement_id, sentiment, sentiment_label``."""
    ensure_ray(settings)
    import ray

    columns = [ROW, "statement_id", "vector"] + (["text"] if getattr(model, "uses_texts", False) else [])
    ds = ray.data.read_parquet(str(vectors_dir)).select_columns(columns)
    ds.map_batches(_ScoreSentiment, fn_constructor_args=(model, cfg), **map_options(settings)) \
        .write_parquet(str(out_dir))
    return out_dir


def score_statements_ray(statements: pd.DataFrame, embeddings: np.ndarray, model, cfg: SentimentConfig,
                         settings: RayConfig, work_dir: Path) -> pd.DataFrame:
    """:func:`feedback_miner.sentiment.score_statements` on Ray actors; same columns and rows."""
    from feedback_miner.sentiment import SentimentModelError

    if len(statements) != len(embeddings):
        raise SentimentModelError(f"{len(statements)} statements but {len(embeddings)} embeddings")
    with scratch(work_dir, "sentiment") as tmp:
        frame = pd.DataFrame({"statement_id": statements["statement_id"].to_numpy(),
                              "vector": list(np.asarray(embeddings, dtype=np.float32))})
        if getattr(model, "uses_texts", False):  # e.g. the research heads' n-grams or tuned encoder
            if "text" not in statements.columns:
                raise SentimentModelError("this sentiment head reads the statement texts: statements need 'text'")
            frame["text"] = statements["text"].to_numpy()
        write_partitions(frame, tmp / "vectors", settings.partition_rows)
        score_dataset(tmp / "vectors", tmp / "scores", model, cfg, settings)
        scored = read_partitions(tmp / "scores")
    return scored.drop(columns=[ROW]).reset_index(drop=True)


# ---------------------------------------------------------------- themes: assign on workers


class _NearestCentroid:
    """:func:`feedback_miner.themes.cluster.nearest_centroid` on a batch of ``ROW, vector`` rows
    (centroids and thresholds shipped to each actor once)."""

    def __init__(self, centroids: np.ndarray, thresholds: np.ndarray):
        self.centroids, self.thresholds = centroids, thresholds

    def __call__(self, batch: pd.DataFrame) -> pd.DataFrame:
        from feedback_miner.themes.cluster import nearest_centroid

        # No normalization here: the driver's rows are used as they are (e.g. language-centred).
        X = np.vstack(batch["vector"].to_numpy()).astype(np.float32, copy=False)
        return pd.DataFrame({ROW: batch[ROW].to_numpy(), "label": nearest_centroid(X, self.centroids, self.thresholds)})


class RayAssigner:
    """An :data:`feedback_miner.themes.cluster.Assigner` that runs on Ray actors.

    ``assigner(X, rows, centroids, thresholds)`` writes ``X[rows]`` as Parquet partitions of
    ``settings.partition_rows`` rows under ``work_dir``, the actors (``map_batches``, batch size and
    concurrency from ``settings``) apply :func:`~feedback_miner.themes.cluster.nearest_centroid`, and
    the driver reads back only the labels (8 bytes per row). Same float32 math as the local
    chunks, so the labels are the same. Pass it to
    :class:`~feedback_miner.themes.cluster.DensityClusterer` or
    :func:`~feedback_miner.themes.build_themes` (``assigner=``).
    """

    def __init__(self, settings: RayConfig, work_dir: Path):
        self.settings, self.work_dir = settings, Path(work_dir)

    def __call__(self, X: np.ndarray, rows: np.ndarray, centroids: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
        rows = np.asarray(rows, dtype=np.int64)
        if not len(rows) or not len(centroids):  # nothing to place: no cluster round trip
            return np.full(len(rows), -1, dtype=np.int64)
        ensure_ray(self.settings)
        import ray

        C = np.ascontiguousarray(centroids, dtype=np.float32)
        thr = np.asarray(thresholds, dtype=np.float32)
        with scratch(self.work_dir, "assign") as tmp:
            write_vector_partitions(X, rows, tmp / "vectors", self.settings.partition_rows)
            ray.data.read_parquet(str(tmp / "vectors")).select_columns([ROW, "vector"]) \
                .map_batches(_NearestCentroid, fn_constructor_args=(C, thr), **map_options(self.settings)) \
                .write_parquet(str(tmp / "labels"))
            out = read_partitions(tmp / "labels", columns=[ROW, "label"])
        if len(out) != len(rows) or not np.array_equal(out[ROW].to_numpy(), np.arange(len(rows))):
            raise RuntimeError(f"theme assignment returned {len(out)} labels for {len(rows)} rows")
        return out["label"].to_numpy(dtype=np.int64)


class RayEngine:
    """The per-row stages on a Ray cluster (``run.ray`` settings; partitions under ``work_dir``)."""

    name = "ray"

    def __init__(self, settings: RayConfig, work_dir: Path):
        self.settings, self.work_dir = settings, Path(work_dir)

    def prepare(self, documents: pd.DataFrame, cfg: PrepareConfig) -> PrepareResult:
        return prepare_statements_ray(documents, cfg, self.settings, self.work_dir)

    def embedder(self, model: str, batch_size: int) -> RayEmbedder:
        return RayEmbedder(model, batch_size, self.settings, self.work_dir)

    def score(self, statements: pd.DataFrame, vectors: np.ndarray, model, cfg: SentimentConfig) -> pd.DataFrame:
        if not len(statements):  # nothing to ship to the workers
            from feedback_miner.sentiment import score_statements

            return score_statements(statements, vectors, model, cfg)
        return score_statements_ray(statements, vectors, model, cfg, self.settings, self.work_dir)

    def assigner(self) -> RayAssigner:
        # The statements outside the fit sample (and filler) go to their nearest theme on the
        # workers; only their labels come back (the driver still holds the vectors, see docs/scaling.md).
        return RayAssigner(self.settings, self.work_dir)

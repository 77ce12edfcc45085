"""The prepare stage's plan (:data:`feedback_miner.prepare.passes.PLAN`) on Ray Data.

Per-document passes run as ``map_batches`` on Parquet partitions (one actor per worker loads its
models once); a reduction's per-batch counts are summed by key on the cluster (a shuffle) and the
driver makes the decision; duplicates are resolved on the workers per bucket of customers (scope
``customer``; one bucket under scope ``all``) from 16-byte hashes and MinHash signatures. The
driver reads back the two frames and the per-statement duplicate marks, never the signatures.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from feedback_miner.config import PrepareConfig, RayConfig
from feedback_miner.engine.ray_io import ROW, ensure_ray, map_options, read_partitions, scratch, write_partitions
from feedback_miner.prepare import PrepareResult, prepare_statements
from feedback_miner.prepare.passes import (
    BUCKET,
    COUNTS,
    COUNTS_FINISH,
    DEDUP_COLUMNS,
    PIECES,
    PLAN,
    SUBJECT,
    Reduction,
    assemble,
    resolve_duplicates,
    statements_of,
)


def prepare_statements_ray(documents: pd.DataFrame, cfg: PrepareConfig, settings: RayConfig,
                           work_dir: Path) -> PrepareResult:
    """:func:`feedback_miner.prepare.prepare_statements` with the passes on Ray workers (same frames)."""
    if not len(documents):  # nothing to distribute (an incremental night with no new documents)
        return prepare_statements(documents, cfg)
    ensure_ray(settings)
    import ray

    opts = map_options(settings)
    docs = documents.reset_index(drop=True)
    with scratch(work_dir, "prepare") as tmp:
        write_partitions(docs, tmp / "documents", settings.partition_rows)
        ds = ray.data.read_parquet(str(tmp / "documents"))
        decided: dict = {}
        for step in PLAN:
            if isinstance(step, Reduction):
                partial = ds.map_batches(step.partial, batch_format="pandas", fn_kwargs={"cfg": cfg})
                decided[step.name] = step.decide(_reduce_counts(partial, list(step.keys)), decided, docs, cfg)
            else:
                ds = ds.map_batches(step.make, fn_constructor_args=(cfg, decided), **opts).materialize()
        # Under scope "customer", statements of different customers never copy each other: hashing
        # customers into buckets lets the workers resolve duplicates bucket by bucket, and the
        # driver never holds the signatures (256 bytes per statement). Scope "all" is one bucket.
        n_buckets = -(-len(docs) // settings.partition_rows) if cfg.dedup_scope == "customer" else 1
        ds.map_batches(statements_of, batch_format="pandas", fn_kwargs={"n_buckets": n_buckets}) \
            .write_parquet(str(tmp / "statements"))
        ray.data.read_parquet(str(tmp / "statements")) \
            .select_columns([ROW, "position", "statement_id", "customer_id", *DEDUP_COLUMNS]) \
            .groupby(BUCKET).map_groups(resolve_duplicates, batch_format="pandas", fn_kwargs={"cfg": cfg}) \
            .write_parquet(str(tmp / "duplicates"))
        ds.drop_columns([PIECES, SUBJECT]).write_parquet(str(tmp / "documents_out"))

        keep = list(documents.columns) + ["language", "language_confidence", "is_non_answer"]
        finished = read_partitions(tmp / "documents_out", columns=[ROW, *keep, COUNTS, COUNTS_FINISH])
        first = next((tmp / "statements").rglob("*.parquet"), None)
        columns = [c for c in pq.read_schema(first).names if c not in DEDUP_COLUMNS] if first else None
        statements = read_partitions(tmp / "statements", columns=columns, sort=(ROW, "position"))
        marks = read_partitions(tmp / "duplicates", sort=(ROW, "position"))
    return assemble(docs, finished, statements, marks, decided, cfg)


def _reduce_counts(ds, by: list[str]) -> pd.DataFrame:
    """Sum column ``n`` of a dataset of partial counts by ``by`` (a shuffle on the cluster)."""
    if ds.count() == 0:
        return pd.DataFrame(columns=[*by, "n"])
    frame = ds.groupby(by).sum("n").to_pandas()
    return frame.rename(columns={"sum(n)": "n"})

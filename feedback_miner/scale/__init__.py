"""Scale-out: the per-row stages on a Ray cluster (``run.engine: ray``; see docs/scaling.md).

Import is cheap and Ray-free; Ray itself is imported when a function runs.
"""

from feedback_miner.scale.ray_engine import (
    RayEmbedder,
    assign_dataset,
    embed_dataset,
    ensure_ray,
    prepare_statements_ray,
    read_partitions,
    read_vectors,
    require_ray,
    score_dataset,
    score_statements_ray,
    work_dir_for,
    write_partitions,
)

__all__ = [
    "RayEmbedder",
    "assign_dataset",
    "embed_dataset",
    "ensure_ray",
    "prepare_statements_ray",
    "read_partitions",
    "read_vectors",
    "require_ray",
    "score_dataset",
    "score_statements_ray",
    "work_dir_for",
    "write_partitions",
]

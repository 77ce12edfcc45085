"""Out-of-sample theme assignment: local chunks vs RayAssigner (labels compared, seconds per step).

Seeded unit vectors (e5-small's 384 dimensions) around ``--themes`` centres; the statements of the
``--rows`` are assigned to the centroids with a per-theme threshold, in this process
(:func:`feedback_miner.themes.cluster.assign_in_chunks`) and on a local Ray cluster of ``--cpus``
CPUs (:class:`feedback_miner.engine.ray.RayAssigner`: Parquet partitions out, labels back).

    .venv/bin/python benchmarks/assign_ray.py --rows 200000 --themes 60
"""

from __future__ import annotations

import argparse
import tempfile
import time

import numpy as np


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--themes", type=int, default=60)
    ap.add_argument("--cpus", type=int, default=2)
    ap.add_argument("--partition-rows", type=int, default=20_000)
    ap.add_argument("--batch-size", type=int, default=512)
    args = ap.parse_args()

    import ray

    from feedback_miner.config import RayConfig
    from feedback_miner.engine.ray import RayAssigner
    from feedback_miner.themes.cluster import assign_in_chunks, member_thresholds, normalize_rows

    rng = np.random.default_rng(0)
    centres = rng.standard_normal((args.themes, 384)).astype(np.float32)
    group = rng.integers(0, args.themes, args.rows)
    X = centres[group]
    X += 2.5 * rng.standard_normal(X.shape, dtype=np.float32)
    X = normalize_rows(X, inplace=True)
    C = normalize_rows(np.vstack([X[group == g].mean(0) for g in range(args.themes)]))
    thr = member_thresholds(X, group, C, 1.0)
    rows = np.arange(args.rows)

    t = time.perf_counter()
    local = assign_in_chunks(X, rows, C, thr)
    t_local = time.perf_counter() - t

    ray.init(num_cpus=args.cpus, include_dashboard=False, log_to_driver=False)
    run = RayConfig(partition_rows=args.partition_rows, batch_size=args.batch_size)
    with tempfile.TemporaryDirectory() as tmp:
        assigner = RayAssigner(run, tmp)
        t = time.perf_counter()
        assigner(X, rows[:1000], C, thr)  # first call: Ray Data start-up
        t_first = time.perf_counter() - t
        t = time.perf_counter()
        remote = assigner(X, rows, C, thr)
        t_ray = time.perf_counter() - t
    ray.shutdown()
    print(f"rows {args.rows:,}  themes {args.themes}  outliers {(local < 0).mean():.1%}")
    print(f"local chunks {t_local:.2f} s ({1e6 * t_local / args.rows:.1f} µs/row)")
    print(f"RayAssigner {t_ray:.2f} s ({1e6 * t_ray / args.rows:.1f} µs/row); first 1,000-row call {t_first:.2f} s")
    print(f"labels identical: {np.array_equal(local, remote)}")


if __name__ == "__main__":
    main()

"""The Ray engine's plumbing: the cluster, Parquet partitions in and out, ``map_batches`` options.

Every Ray stage follows one shape: the driver writes its input as Parquet partitions, a Ray Data
``map_batches`` with a callable class runs the per-row work (each actor loads its model once), the
result is written back as Parquet and read by the driver. Ray is imported lazily: ``engine: local``
needs no Ray installed.
"""

from __future__ import annotations

import logging
import shutil
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute  # noqa: F401 (pa.compute)
import pyarrow.parquet as pq

from feedback_miner.config import RayConfig
from feedback_miner.prepare.passes import ROW  # input row number: the order every output is restored to

# ---------------------------------------------------------------- cluster and files


def require_ray():
    """The ``ray`` module, or an ImportError that says how to install it."""
    try:
        import ray
        import ray.data  # noqa: F401
    except ImportError as e:
        raise ImportError("engine: ray needs Ray Data: pip install 'feedback-miner[ray]' (ray[data]>=2.30)") from e
    return ray


def ensure_ray(settings: RayConfig) -> None:
    """Connect to ``settings.address`` (or start a local cluster) unless this process already did."""
    ray = require_ray()
    if not ray.is_initialized():
        ray.init(address=settings.address, include_dashboard=False, log_to_driver=False)
    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = False
    logging.getLogger("ray.data").setLevel(logging.WARNING)  # per-dataset INFO lines drown the job's log
    ctx.execution_options.preserve_order = True  # outputs are also re-sorted by ROW; this keeps partitions stable


@contextmanager
def scratch(work_dir: Path, name: str) -> Iterator[Path]:
    """A fresh sub-folder of ``work_dir``, removed afterwards."""
    path = Path(work_dir) / f"{name}-{uuid.uuid4().hex[:8]}"
    path.mkdir(parents=True, exist_ok=True)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def write_partitions(frame: pd.DataFrame, folder: Path, rows: int) -> Path:
    """``frame`` as ``part-NNNNN.parquet`` files of at most ``rows`` rows each (plus a ROW column)."""
    folder.mkdir(parents=True, exist_ok=True)
    frame = frame.reset_index(drop=True)
    if ROW not in frame:
        frame = frame.assign(**{ROW: np.arange(len(frame), dtype=np.int64)})
    table = pa.Table.from_pandas(frame, preserve_index=False)
    for k, start in enumerate(range(0, max(len(frame), 1), rows)):
        pq.write_table(table.slice(start, rows), folder / f"part-{k:05d}.parquet")
    return folder


def read_partitions(folder: Path, columns: Sequence[str] | None = None, sort: Sequence[str] = (ROW,)) -> pd.DataFrame:
    """Every Parquet file under ``folder`` as one frame, sorted by ``sort``.

    Concatenated and sorted as Arrow tables, converted to pandas once: a per-file ``to_pandas``,
    ``pd.concat`` and ``sort_values`` held three copies of the frame (~850 MB at a million
    statements). ``promote_options="permissive"`` unifies a partition whose column is all null
    (null type) with the others.
    """
    files = sorted(Path(folder).rglob("*.parquet"))
    tables = [pq.read_table(f, columns=list(columns) if columns else None) for f in files]
    tables = [t for t in tables if t.num_rows] or tables[:1]
    if not tables:
        return pd.DataFrame(columns=list(columns or []))
    if sort and len(tables) > 1:  # files in the order of their first row: often the whole order already
        tables.sort(key=lambda t: tuple(t.column(c)[0].as_py() for c in sort))
    table = pa.concat_tables(tables, promote_options="permissive") if len(tables) > 1 else tables[0]
    del tables
    if table.num_rows and sort and not _is_sorted(table, sort):
        table = _sort_table(table, sort)
    # self_destruct: each Arrow column is released once converted (no second full copy)
    return table.to_pandas(split_blocks=True, self_destruct=True)


def _sort_table(table: pa.Table, by: Sequence[str]) -> pa.Table:
    """``table`` in stable ascending order of ``by``, reordered one column at a time.

    Ray's writers do not keep row order inside a file (at a million statements one file held 74%
    of the rows, out of order), so a sort is the rule; column by column, the driver holds the
    table plus one reordered column instead of two tables (~330 MB more at a million statements).
    """
    if all(pa.types.is_integer(table.schema.field(c).type) for c in by):
        order = pa.array(np.lexsort([table.column(c).to_numpy() for c in reversed(by)]))  # stable
    else:
        order = pa.compute.sort_indices(table, sort_keys=[(c, "ascending") for c in by])  # stable
    schema, out = table.schema, []  # the schema keeps the pandas metadata (dtypes) for to_pandas
    for name in schema.names:
        out.append(table.column(name).take(order))
        table = table.drop_columns([name])  # the unordered column is released here
    return pa.Table.from_arrays(out, schema=schema)


def _is_sorted(table: pa.Table, by: Sequence[str]) -> bool:
    """Whether ``table`` is already in ascending lexicographic order of its numeric columns ``by``."""
    if not all(pa.types.is_integer(table.schema.field(c).type) for c in by):
        return False
    undecided = np.ones(max(table.num_rows - 1, 0), dtype=bool)  # pairs equal on every column so far
    for c in by:
        step = np.sign(np.diff(table.column(c).to_numpy()))
        if (undecided & (step < 0)).any():
            return False
        undecided &= step == 0
    return True


def map_options(settings: RayConfig, gpus: float = 0.0) -> dict:
    ray = require_ray()
    # By default one CPU stays free of actors: the read/write tasks feeding them need one, and a
    # pool holding every CPU deadlocks a small cluster (measured: 2 actors on 2 CPUs never start).
    free = max(ray.cluster_resources().get("CPU", 1) - 1, settings.num_cpus)
    concurrency = settings.concurrency or max(1, int(free // settings.num_cpus))
    opts = {"batch_size": settings.batch_size, "batch_format": "pandas", "concurrency": concurrency,
            "num_cpus": settings.num_cpus}
    if gpus:
        opts["num_gpus"] = gpus
    return opts


def read_vectors(folder: Path, dim: int) -> np.ndarray:
    """(n, dim) float32 from Parquet files of ``ROW, vector`` rows, in ROW order."""
    frame = read_partitions(folder, columns=[ROW, "vector"])
    if not len(frame):
        return np.zeros((0, dim), np.float32)
    return np.vstack(frame["vector"].to_numpy()).astype(np.float32)


def write_vector_partitions(X: np.ndarray, rows: np.ndarray, folder: Path, partition_rows: int) -> Path:
    """``X[rows]`` as :func:`write_partitions` writes it (``ROW, vector`` files of at most
    ``partition_rows`` rows, ROW = position in ``rows``), gathered one partition at a time: the
    whole ``X[rows]`` (or a frame of it) would be a second copy of the vectors on the driver."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = np.asarray(rows, dtype=np.int64)
    for k, start in enumerate(range(0, max(len(rows), 1), partition_rows)):
        part = np.asarray(X[rows[start : start + partition_rows]], dtype=np.float32)
        frame = pd.DataFrame({ROW: np.arange(start, start + len(part), dtype=np.int64), "vector": list(part)})
        pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), folder / f"part-{k:05d}.parquet")
    return folder

"""The run folder: a run's outputs written to a temporary folder, then published atomically.

Outputs go to ``<output_dir>/.tmp-<run_id>/`` and are renamed into place at the end; ``latest`` is
switched only after that, so a failed night leaves the last good outputs.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from pathlib import Path

import numpy as np
import pandas as pd

from feedback_miner.report.spreadsheet import formula_safe


def new_run_id(now: pd.Timestamp) -> str:
    return now.strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:6]


def temp_folder(output_dir: Path, run_id: str) -> Path:
    """Where a run's outputs are written before :func:`move_into_place`."""
    return output_dir / f".tmp-{run_id}"


def remove_temp_folders(output_dir: Path) -> None:
    """Temporary folders left by killed runs."""
    for tmp in output_dir.glob(".tmp-*"):
        shutil.rmtree(tmp, ignore_errors=True)


def jsonable(df: pd.DataFrame) -> pd.DataFrame:
    """Lists/arrays to JSON strings so CSV readers see one cell per value."""
    out = df.copy()
    for c in out.columns:
        if out[c].map(lambda v: isinstance(v, list | tuple | np.ndarray | dict)).any():
            out[c] = out[c].map(lambda v: json.dumps(list(v) if isinstance(v, np.ndarray) else v, ensure_ascii=False,
                                                     default=float)
                                if isinstance(v, list | tuple | np.ndarray | dict) else v)
    return out


def write_outputs(tmp: Path, files: dict[str, object]) -> None:
    """Write every output of a run into the temporary run folder."""
    tmp.mkdir(parents=True, exist_ok=True)
    for name, obj in files.items():
        path = tmp / name
        if name.endswith(".parquet"):
            obj.to_parquet(path, index=False)
        elif name.endswith(".csv"):
            formula_safe(jsonable(obj)).to_csv(path, index=False)  # no cell a spreadsheet would run
        elif name.endswith(".json"):
            # Nested cells (a pain point's quotes) stay JSON arrays here; CSV gets them as JSON text.
            payload = obj if isinstance(obj, dict | list) else json.loads(
                obj.to_json(orient="records", date_format="iso", double_precision=15))
            path.write_text(json.dumps(payload, indent=2, ensure_ascii=False, default=str), encoding="utf-8")
        else:
            path.write_text(str(obj), encoding="utf-8")


def move_into_place(tmp: Path, run_dir: Path) -> None:
    """Rename the finished temporary folder to the run's folder (``latest`` not switched yet)."""
    os.replace(tmp, run_dir)


def point_latest(run_dir: Path) -> None:
    """Switch ``<output_dir>/latest`` to ``run_dir`` atomically (a relative link, so the folder can move)."""
    link = run_dir.parent / "latest"
    staging = run_dir.parent / f".latest-{run_dir.name}"
    staging.unlink(missing_ok=True)
    staging.symlink_to(run_dir.name, target_is_directory=True)
    os.replace(staging, link)


def restore_latest(output_dir: Path, succeeded: list[str], abandoned: list[str]) -> None:
    """After a killed run: remove the folders of ``abandoned`` runs (their store rows were never
    committed) and point ``latest`` at the newest of ``succeeded`` (newest first) whose folder exists."""
    for run_id in abandoned:
        shutil.rmtree(output_dir / run_id, ignore_errors=True)
    for run_id in succeeded:
        if (output_dir / run_id).is_dir():
            if (output_dir / "latest").resolve() != (output_dir / run_id).resolve():
                point_latest(output_dir / run_id)
            return

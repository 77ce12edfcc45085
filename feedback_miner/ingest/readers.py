"""Read CSV, Parquet and JSON Lines files into string-typed frames, remembering each row's number."""

from __future__ import annotations

import glob
import hashlib
import json
from pathlib import Path

import pandas as pd


class InputError(Exception):
    """A user mistake that stops the run (unreadable file, missing column); one line, no traceback."""


ROW = "__row__"  # 1-based data row (CSV/Parquet, header excluded) or line number (JSON Lines)
FILE = "__file__"


def expand(pattern: Path) -> list[Path]:
    """Files matching a path or glob, sorted so runs are reproducible."""
    if any(ch in str(pattern) for ch in "*?["):
        return sorted(Path(p) for p in glob.glob(str(pattern), recursive=True) if Path(p).is_file())
    return [pattern] if pattern.is_file() else []


def file_format(path: Path, declared: str) -> str:
    if declared != "auto":
        return declared
    suffixes = "".join(path.suffixes).lower()
    for fmt, exts in {"csv": (".csv", ".csv.gz", ".tsv"), "parquet": (".parquet", ".pq"),
                      "jsonl": (".jsonl", ".ndjson", ".jsonl.gz", ".json")}.items():
        if suffixes.endswith(exts):
            return fmt
    raise InputError(f"{path}: cannot tell the format from the extension; set 'format' in the config")


def fingerprint(path: Path) -> str:
    """Content hash of an input file, recorded in the run store."""
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()[:16]


def _as_text(df: pd.DataFrame) -> pd.DataFrame:
    # Validation works on text so every format is checked by the same rules; missing -> "".
    out = pd.DataFrame(index=df.index)
    for c in df.columns:
        col = df[c]
        if pd.api.types.is_datetime64_any_dtype(col):
            out[str(c)] = col.dt.strftime("%Y-%m-%dT%H:%M:%S%z").fillna("")
        else:
            out[str(c)] = col.map(lambda v: "" if v is None or (isinstance(v, float) and v != v) else str(v))
    return out


def read_table(path: Path, fmt: str) -> tuple[pd.DataFrame, list[dict]]:
    """Read one file as text columns plus ``__file__``/``__row__``.

    Returns the frame and quarantine records for lines that could not be parsed at all
    (broken JSON lines); a file that cannot be read raises :class:`InputError`.
    """
    bad: list[dict] = []
    try:
        if fmt == "csv":
            sep = "\t" if path.suffix.lower() == ".tsv" else ","
            df = pd.read_csv(path, dtype=str, keep_default_na=False, sep=sep, encoding="utf-8-sig")
            rows = range(1, len(df) + 1)
        elif fmt == "parquet":
            df = _as_text(pd.read_parquet(path))
            rows = range(1, len(df) + 1)
        elif fmt == "jsonl":
            records, rows = [], []
            with path.open(encoding="utf-8") as f:
                for lineno, line in enumerate(f, start=1):
                    if not line.strip():
                        continue
                    try:
                        rec = json.loads(line)
                        if not isinstance(rec, dict):
                            raise ValueError("not a JSON object")
                    except ValueError as e:
                        bad.append({"file": str(path), "row": lineno, "column": "", "reason": f"invalid JSON: {e}",
                                    "value": line.strip()[:200]})
                        continue
                    records.append(rec)
                    rows.append(lineno)
            df = _as_text(pd.DataFrame.from_records(records)) if records else pd.DataFrame()
        else:  # pragma: no cover - guarded by the config's Literal
            raise InputError(f"{path}: unsupported format '{fmt}'")
    except InputError:
        raise
    except (OSError, UnicodeDecodeError, ValueError, pd.errors.ParserError) as e:
        msg = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise InputError(f"{path}: cannot read {fmt} file: {msg}") from None
    except Exception as e:  # pyarrow raises its own error types for corrupt Parquet
        raise InputError(f"{path}: cannot read {fmt} file: {type(e).__name__}: {e}") from None
    df = df.reset_index(drop=True)
    df[FILE] = str(path)
    df[ROW] = list(rows)
    return df, bad

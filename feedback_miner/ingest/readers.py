"""Read CSV/TSV (optionally gzipped), JSON (arrays or lines), Parquet and xlsx files into string-typed
frames, remembering each row's number."""

from __future__ import annotations

import glob
import hashlib
import json
import os
import zipfile
from pathlib import Path

import pandas as pd

from feedback_miner.ingest.csv_rows import parse_csv
from feedback_miner.ingest.errors import InputError
from feedback_miner.ingest.text import decode, parse_json_records

ROW = "__row__"  # 1-based data row (CSV/Parquet/xlsx, header excluded), record (JSON array) or line (JSON Lines)
FILE = "__file__"


def expand(pattern: Path) -> list[Path]:
    """Files matching a path or glob, sorted so runs are reproducible; ``a/../b`` written as ``b``
    (the paths appear in quarantine.csv and the manifest)."""
    pattern = Path(os.path.normpath(pattern))
    if any(ch in str(pattern) for ch in "*?["):
        return sorted(Path(p) for p in glob.glob(str(pattern), recursive=True) if Path(p).is_file())
    return [pattern] if pattern.is_file() else []


_EXTENSIONS = {
    "csv": (".csv", ".csv.gz", ".txt", ".txt.gz"), "tsv": (".tsv", ".tsv.gz", ".tab"),
    "parquet": (".parquet", ".pq"), "json": (".json", ".jsonl", ".ndjson", ".json.gz", ".jsonl.gz", ".ndjson.gz"),
    "xlsx": (".xlsx", ".xlsm"),
}


def file_format(path: Path, declared: str) -> str:
    """The reader for a file: the declared format, else the one its extension names."""
    if declared != "auto":
        return "json" if declared == "jsonl" else declared
    suffixes = "".join(path.suffixes).lower()
    for fmt, exts in _EXTENSIONS.items():
        if suffixes.endswith(exts):
            return fmt
    if suffixes.endswith(".xls"):
        raise InputError(f"{path}: old Excel .xls files are not read; save it as .xlsx or .csv")
    raise InputError(f"{path}: cannot tell the format from the extension; set 'format' in the config")


def fingerprint(path: Path) -> str:
    """Content hash of an input file, recorded in the run store."""
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()[:16]


def _cell_text(v: object) -> str:
    if v is None or (isinstance(v, float) and v != v) or v is pd.NaT:
        return ""
    if isinstance(v, dict | list):
        return json.dumps(v, ensure_ascii=False, default=str)
    return str(v)


def _as_text(df: pd.DataFrame) -> pd.DataFrame:
    # Validation works on text so every format is checked by the same rules; missing -> "".
    out = pd.DataFrame(index=df.index)
    for c in df.columns:
        col = df[c]
        if pd.api.types.is_datetime64_any_dtype(col):
            out[str(c)] = col.dt.strftime("%Y-%m-%dT%H:%M:%S%z").fillna("")
        else:
            out[str(c)] = col.map(_cell_text).astype(object)
    return out


def _read_csv(path: Path, text: str, fmt: str) -> tuple[pd.DataFrame, list[int], list[dict]]:
    parsed = parse_csv(text, delimiter="\t" if fmt == "tsv" else None)
    header = [h.strip() or f"column_{i + 1}" for i, h in enumerate(parsed.header)]
    df = pd.DataFrame(parsed.rows, columns=header, dtype=object) if parsed.header else pd.DataFrame()
    return df, parsed.numbers, [{"file": str(path), **b} for b in parsed.bad]


def _read_json(path: Path, text: str) -> tuple[pd.DataFrame, list[int], list[dict]]:
    records, rows, bad = parse_json_records(text)
    bad = [{"file": str(path), **b} for b in bad]
    if not records:
        return pd.DataFrame(), [], bad
    # Nested objects become dotted columns ("dates.publishedDate"), so a mapping can name them.
    return _as_text(pd.json_normalize(records, sep=".")), rows, bad


def _read_xlsx(path: Path, sheet: str | None) -> pd.DataFrame:
    try:
        return _as_text(pd.read_excel(path, sheet_name=sheet if sheet is not None else 0, dtype=object,
                                      engine="openpyxl"))
    except ValueError as e:
        if "Worksheet" in str(e) or "not found" in str(e):
            names = pd.ExcelFile(path, engine="openpyxl").sheet_names
            raise InputError(f"{path}: no sheet '{sheet}' (sheets: {', '.join(names)})") from None
        raise


def read_table(path: Path, fmt: str, encoding: str = "auto",
               sheet: str | None = None) -> tuple[pd.DataFrame, list[dict]]:
    """Read one file as text columns plus ``__file__``/``__row__``.

    Returns the frame and quarantine records for rows that could not be parsed at all (broken
    JSON records, CSV rows whose quote never closes); a file that cannot be read raises
    :class:`InputError`.
    """
    bad: list[dict] = []
    try:
        if fmt in ("csv", "tsv"):
            df, rows, bad = _read_csv(path, decode(path, encoding), fmt)
        elif fmt == "json":
            df, rows, bad = _read_json(path, decode(path, encoding))
        elif fmt == "parquet":
            df = _as_text(pd.read_parquet(path))
            rows = list(range(1, len(df) + 1))
        elif fmt == "xlsx":
            df = _read_xlsx(path, sheet)
            rows = list(range(1, len(df) + 1))
        else:  # pragma: no cover - guarded by the config's Literal
            raise InputError(f"{path}: unsupported format '{fmt}'")
    except InputError:
        raise
    except (OSError, UnicodeDecodeError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as e:
        msg = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise InputError(f"{path}: cannot read {fmt} file: {msg}") from None
    except Exception as e:  # pyarrow and openpyxl raise their own error types for corrupt files
        raise InputError(f"{path}: cannot read {fmt} file: {type(e).__name__}: {e}") from None
    df = df.reset_index(drop=True)
    df[FILE] = str(path)
    df[ROW] = list(rows)
    return df, bad

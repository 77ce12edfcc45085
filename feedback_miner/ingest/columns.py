"""Map the configured column names onto a file's columns: required ones must exist, optional ones
left at their default name may be absent, and a missing name suggests the closest existing ones."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from pathlib import Path

from pydantic import BaseModel

from feedback_miner.ingest.errors import InputError

# Canonical columns every file of a source must have (the rest are optional, README: Inputs).
REQUIRED = {
    "surveys": ["comment"],
    "tickets": ["body"],
    "customers": ["customer_id", "churned"],
}


def _suggest(name: str, found: list[str]) -> str:
    lowered = {c.lower(): c for c in found}
    close = difflib.get_close_matches(name.lower(), list(lowered), n=3, cutoff=0.5)
    return f"did you mean {' or '.join(repr(lowered[c]) for c in close)}? " if close else ""


def map_columns(path: Path, kind: str, columns: BaseModel, file_columns: Iterable[str]) -> dict[str, str | None]:
    """Canonical name -> the file's column, or None where the column is absent and may be.

    Raises :class:`InputError` for a required column, or one the config names explicitly, that
    the file does not have."""
    found = [c for c in file_columns if not str(c).startswith("__")]
    mapping: dict[str, str | None] = {}
    for key, name in columns.model_dump().items():
        if name is None or name in found:
            mapping[key] = name
            continue
        if key in REQUIRED[kind] or key in columns.model_fields_set:
            label = f"'{name}'" + (f" (for {key})" if name != key else "")
            raise InputError(f"{path}: column {label} not found in {kind} file; {_suggest(name, found)}"
                             f"found: {', '.join(found)}")
        mapping[key] = None
    return mapping

"""Ingest stage: read the configured sources, validate them, quarantine bad rows.

``ingest(cfg) -> IngestResult`` with the ``documents`` and ``customers`` frames described in
docs/architecture.md and a ``quarantine`` frame (source, file, row, column, reason, value).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from feedback_miner.config import Config
from feedback_miner.ingest.readers import InputError, expand, file_format, fingerprint, read_table
from feedback_miner.ingest.sources import QUARANTINE_COLUMNS, Checked, check_customers, check_surveys, check_tickets

__all__ = ["IngestResult", "InputError", "ingest"]

# Canonical columns that must exist in every file of a source (the rest are optional).
REQUIRED = {
    "surveys": ["response_id", "customer_id", "submitted_at", "score", "comment"],
    "tickets": ["ticket_id", "customer_id", "created_at", "body"],
    "customers": ["customer_id", "churned"],
}


@dataclass
class IngestResult:
    documents: pd.DataFrame
    customers: pd.DataFrame | None
    quarantine: pd.DataFrame
    fingerprints: dict[str, str] = field(default_factory=dict)
    counts: dict = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)


def _read_source(cfg: Config, kind: str) -> tuple[pd.DataFrame, list[dict], dict[str, str], dict[str, str]]:
    src = getattr(cfg.sources, kind)
    cols = src.columns.model_dump()
    files = expand(cfg.resolve(src.path))
    if not files:
        raise InputError(f"{cfg.resolve(src.path)}: no {kind} file matches this path")
    frames, bad, prints = [], [], {}
    for path in files:
        df, broken = read_table(path, file_format(path, src.format))
        missing = [f"'{cols[k]}'" + (f" (for {k})" if cols[k] != k else "")
                   for k in REQUIRED[kind] if cols[k] not in df.columns]
        if missing and len(df):
            raise InputError(
                f"{path}: required column {', '.join(missing)} missing from {kind} file "
                f"(found: {', '.join(c for c in df.columns if not c.startswith('__'))})"
            )
        frames.append(df)
        bad.extend({"source": kind, **b} for b in broken)
        prints[str(path)] = fingerprint(path)
    data = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    for c in cols.values():  # optional columns absent from the file: empty text
        if c not in data.columns:
            data[c] = ""
    return data, bad, prints, cols


def ingest(cfg: Config, since: pd.Timestamp | None = None) -> IngestResult:
    """Read every configured source. Raises :class:`InputError` for unreadable files/missing columns."""
    docs: list[pd.DataFrame] = []
    quarantine: list[dict] = []
    prints: dict[str, str] = {}
    skipped: list[str] = []
    counts: dict[str, dict[str, int]] = {}
    customers = None
    checks = {
        "surveys": lambda d, c: check_surveys(d, c, cfg.sources.surveys.score_scale),
        "tickets": lambda d, c: check_tickets(d, c, cfg.sources.tickets.csat_scale),
        "customers": check_customers,
    }
    for kind, check in checks.items():
        if getattr(cfg.sources, kind) is None:
            skipped.append(kind)
            continue
        data, bad, fp, cols = _read_source(cfg, kind)
        prints.update(fp)
        checked: Checked = check(data, cols)
        quarantine.extend(bad + checked.quarantine)
        counts[kind] = {"read": len(data) + len(bad), "valid": len(checked.good),
                        "quarantined": len(bad) + len(checked.quarantine)}
        if kind == "customers":
            customers = checked.good
        else:
            docs.append(checked.good)
    documents = pd.concat(docs, ignore_index=True) if docs else pd.DataFrame(
        columns=["doc_id", "source", "source_id", "customer_id", "created_at", "subject", "text", "score",
                 "score_scale", "attributes", "content_hash"])
    if since is not None and len(documents):
        documents = documents[documents["created_at"] >= since].reset_index(drop=True)
    if customers is not None and "signup_at" in customers:
        ref = documents["created_at"].max() if len(documents) else pd.Timestamp.now(tz="UTC")
        customers["tenure_days"] = (ref - customers["signup_at"]).dt.days
    q = pd.DataFrame(quarantine, columns=QUARANTINE_COLUMNS)
    return IngestResult(documents=documents, customers=customers, quarantine=q, fingerprints=prints,
                        counts=counts, skipped=skipped)

"""Ingest stage: read the configured sources, validate them, quarantine bad rows.

``ingest(cfg) -> IngestResult`` with the ``documents`` and ``customers`` frames described in
docs/architecture.md and a ``quarantine`` frame (source, file, row, column, reason, value, kept).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from feedback_miner.config import Config
from feedback_miner.ingest.columns import map_columns
from feedback_miner.ingest.errors import InputError
from feedback_miner.ingest.readers import expand, file_format, fingerprint, read_table
from feedback_miner.ingest.sources import (
    QUARANTINE_COLUMNS,
    Checked,
    Rules,
    check_customers,
    check_surveys,
    check_tickets,
)
from feedback_miner.ingest.summary import linkage, refusal
from feedback_miner.prepare.pii import redact_texts

__all__ = ["IngestResult", "InputError", "ingest"]

DOCUMENT_COLUMNS = ["doc_id", "source", "source_id", "customer_id", "created_at", "subject", "text", "score",
                    "score_scale", "attributes", "content_hash"]


@dataclass
class IngestResult:
    documents: pd.DataFrame
    customers: pd.DataFrame | None
    quarantine: pd.DataFrame
    fingerprints: dict[str, str] = field(default_factory=dict)
    counts: dict = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    #: feedback customers without a customer record: ``{"count", "of", "examples"}`` (customers configured)
    unlinked: dict | None = None
    #: why the run would stop (too many rows quarantined in a source); empty when it can go on
    refused: list[str] = field(default_factory=list)

    @property
    def n_quarantined(self) -> int:
        """Rows left out (field-level notes on kept rows are not counted)."""
        return int((~self.quarantine["kept"].astype(bool)).sum()) if len(self.quarantine) else 0


def _read_source(cfg: Config, kind: str) -> tuple[pd.DataFrame, list[dict], dict[str, str], dict[str, str | None]]:
    src = getattr(cfg.sources, kind)
    files = expand(cfg.resolve(src.path))
    if not files:
        raise InputError(f"{cfg.resolve(src.path)}: no {kind} file matches this path")
    frames, bad, prints, found = [], [], {}, set()
    for path in files:
        df, broken = read_table(path, file_format(path, src.format), src.encoding, src.sheet)
        if len(df):
            found |= {k for k, v in map_columns(path, kind, src.columns, df.columns).items() if v}
        frames.append(df)
        bad.extend({"source": kind, "kept": False, **b} for b in broken)
        prints[str(path)] = fingerprint(path)
    data = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    cols = {k: (v if k in found else None) for k, v in src.columns.model_dump().items()}
    for c in cols.values():  # a column some files lack: empty text there
        if c is not None:
            data[c] = data[c].fillna("") if c in data else ""
    return data, bad, prints, cols


def _rules(cfg: Config, kind: str) -> Rules:
    src = getattr(cfg.sources, kind)
    return Rules(dayfirst=src.dayfirst, date_format=src.date_format, min_date=cfg.ingest.min_date,
                 future_days=cfg.ingest.future_days, max_chars=cfg.ingest.max_document_chars)


def ingest(cfg: Config, since: pd.Timestamp | None = None, stop_on_refusal: bool = True) -> IngestResult:
    """Read every configured source. Raises :class:`InputError` for unreadable files, missing
    columns, and (``stop_on_refusal``) a source with more than ``ingest.max_reject_share`` of its
    rows quarantined."""
    docs: list[pd.DataFrame] = []
    quarantine: list[dict] = []
    prints: dict[str, str] = {}
    skipped: list[str] = []
    counts: dict[str, dict[str, int]] = {}
    refused: list[str] = []
    customers = None
    checks = {
        "surveys": lambda d, c, r: check_surveys(d, c, cfg.sources.surveys.score_scale, r),
        "tickets": lambda d, c, r: check_tickets(d, c, cfg.sources.tickets.csat_scale, r),
        "customers": check_customers,
    }
    for kind, check in checks.items():
        if getattr(cfg.sources, kind) is None:
            skipped.append(kind)
            continue
        data, bad, fp, cols = _read_source(cfg, kind)
        prints.update(fp)
        checked: Checked = check(data, cols, _rules(cfg, kind))
        records = bad + checked.quarantine
        quarantine.extend(records)
        rejected = sum(not r["kept"] for r in records)
        counts[kind] = {"read": len(data) + len(bad), "valid": len(checked.good), "quarantined": rejected,
                        "fields_emptied": len(records) - rejected,
                        "absent_columns": sorted(k for k, v in cols.items() if v is None)}
        reason = refusal(kind, records, counts[kind]["read"], cfg.ingest.max_reject_share)
        if reason:
            refused.append(reason)
        if kind == "customers":
            customers = checked.good
        else:
            docs.append(checked.good)
    if refused and stop_on_refusal:
        raise InputError(refused[0])
    documents = pd.concat(docs, ignore_index=True) if docs else pd.DataFrame(columns=DOCUMENT_COLUMNS)
    if "resolved_at" in documents:  # only tickets have it: after the concat it would be object, typed again
        documents["resolved_at"] = pd.to_datetime(documents["resolved_at"], utc=True).astype("datetime64[us, UTC]")
    if since is not None and len(documents):  # undated documents cannot be filtered: they stay
        documents = documents[~(documents["created_at"] < since)].reset_index(drop=True)
    if customers is not None and "signup_at" in customers:
        latest = documents["created_at"].max() if len(documents) else pd.NaT
        ref = latest if pd.notna(latest) else pd.Timestamp.now(tz="UTC")
        customers["tenure_days"] = (ref - customers["signup_at"]).dt.days
    q = pd.DataFrame(quarantine, columns=QUARANTINE_COLUMNS)
    if len(q) and cfg.prepare.redact_pii and not cfg.prepare.keep_raw_text:
        # A rejected value or a broken line is raw input: it is redacted like the texts before it is kept.
        q["value"] = redact_texts(q["value"].astype(str).tolist(), names=cfg.prepare.redact_names)
    return IngestResult(documents=documents, customers=customers, quarantine=q, fingerprints=prints,
                        counts=counts, skipped=skipped, unlinked=linkage(documents, customers), refused=refused)

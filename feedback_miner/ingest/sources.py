"""Validate each kind of source and turn it into the normalized frames of docs/architecture.md.

Every rule is vectorized over the whole file; a row that breaks any rule goes to the quarantine
with its file, row number, column and reason, and the good rows go on.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from feedback_miner.ingest.readers import FILE, ROW

QUARANTINE_COLUMNS = ["source", "file", "row", "column", "reason", "value"]


@dataclass
class Checked:
    """Rows that passed (with parsed values) and the quarantine records of the rest."""

    good: pd.DataFrame
    quarantine: list[dict] = field(default_factory=list)


class RowChecker:
    """Accumulates per-row failures over one source's concatenated files."""

    def __init__(self, df: pd.DataFrame, source: str):
        self.df = df
        self.source = source
        self.failed = np.zeros(len(df), dtype=bool)
        self.records: list[dict] = []

    def fail(self, mask: pd.Series | np.ndarray, column: str, reason: str) -> None:
        mask = np.asarray(mask, dtype=bool) & ~self.failed  # one reason per row: the first that applies
        if not mask.any():
            return
        sub = self.df.loc[mask]
        values = sub[column] if column in sub.columns else pd.Series("", index=sub.index)
        self.records.extend(
            {"source": self.source, "file": f, "row": int(r), "column": column, "reason": reason,
             "value": str(v)[:200]}
            for f, r, v in zip(sub[FILE], sub[ROW], values, strict=True)
        )
        self.failed |= mask

    def required_text(self, col: str, reason: str) -> None:
        self.fail(self.df[col].str.strip() == "", col, reason)

    def date(self, col: str, required: bool) -> pd.Series:
        raw = self.df[col].str.strip() if col in self.df else pd.Series("", index=self.df.index)
        parsed = pd.to_datetime(raw.where(raw != ""), errors="coerce", utc=True, format="mixed")
        if required:
            self.fail(raw == "", col, "missing date")
        self.fail((raw != "") & parsed.isna(), col, "unparseable date")
        return parsed

    def number(self, col: str, low: float | None = None, high: float | None = None, label: str = "") -> pd.Series:
        raw = self.df[col].str.strip() if col in self.df else pd.Series("", index=self.df.index)
        num = pd.to_numeric(raw.where(raw != ""), errors="coerce")
        self.fail((raw != "") & num.isna(), col, "not a number")
        if low is not None and high is not None:
            out = num.notna() & ((num < low) | (num > high))
            self.fail(out, col, f"{label or 'value'} out of range {low:g}-{high:g}")
        return num

    def unique_ids(self, col: str) -> None:
        ids = self.df[col].str.strip()
        dup = ids.duplicated(keep="first") & (ids != "")
        if dup.any():
            first = self.df.loc[~ids.duplicated(keep="first")].set_index(ids[~ids.duplicated(keep="first")])
            for i in np.flatnonzero(dup & ~self.failed):
                orig = first.loc[ids.iloc[i]]
                self.fail(
                    np.arange(len(ids)) == i, col,
                    f"duplicate id (first seen in {orig[FILE]} row {orig[ROW]})",
                )

    def result(self, good: pd.DataFrame) -> Checked:
        return Checked(good=good.loc[~self.failed].reset_index(drop=True), quarantine=self.records)


def _attributes(df: pd.DataFrame, used: set[str]) -> pd.Series:
    extra = [c for c in df.columns if c not in used and c not in (FILE, ROW)]
    if not extra:
        return pd.Series("{}", index=df.index)
    return pd.Series(
        [json.dumps({k: v for k, v in zip(extra, vals, strict=True) if v != ""}, ensure_ascii=False)
         for vals in df[extra].itertuples(index=False, name=None)],
        index=df.index,
    )


def _customer_ids(df: pd.DataFrame, col: str) -> pd.Series | None:
    # Anonymous rows keep no customer (None), not an empty string that would look like an id.
    return df[col].str.strip().replace("", None) if col in df else None


def _content_hash(subject: pd.Series, text: pd.Series) -> pd.Series:
    return pd.Series(
        [hashlib.blake2b(f"{s}\x1f{t}".encode(), digest_size=12).hexdigest() for s, t in zip(subject, text,
                                                                                          strict=True)],
        index=text.index,
    )


def check_surveys(df: pd.DataFrame, cols: dict[str, str], scale: str) -> Checked:
    """Survey answers -> documents. ``cols`` maps canonical names to file columns."""
    c = RowChecker(df, "surveys")
    c.required_text(cols["response_id"], "missing id")
    submitted = c.date(cols["submitted_at"], required=True)
    lo, hi = (0, 10) if scale == "nps" else (1, 5)
    score = c.number(cols["score"], lo, hi, label="NPS score" if scale == "nps" else "CSAT score")
    c.required_text(cols["comment"], "empty text")
    c.unique_ids(cols["response_id"])
    ids = df[cols["response_id"]].str.strip()
    docs = pd.DataFrame({
        "doc_id": "survey:" + ids,
        "source": "survey",
        "source_id": ids,
        "customer_id": _customer_ids(df, cols["customer_id"]),
        "created_at": submitted,
        "subject": None,
        "text": df[cols["comment"]],
        "score": score,
        "score_scale": np.where(score.notna(), scale, None),
        "attributes": _attributes(df, set(cols.values())),
    })
    docs["subject"] = docs["subject"].astype(object)
    docs["content_hash"] = _content_hash(pd.Series("", index=df.index), docs["text"])
    return c.result(docs)


def check_tickets(df: pd.DataFrame, cols: dict[str, str], csat_scale: str) -> Checked:
    """Support tickets -> documents (subject kept apart: it becomes a statement of its own)."""
    c = RowChecker(df, "tickets")
    c.required_text(cols["ticket_id"], "missing id")
    created = c.date(cols["created_at"], required=True)
    c.date(cols["resolved_at"], required=False)
    lo, hi = (1, 5) if csat_scale == "csat" else (0, 10)
    csat = c.number(cols["csat"], lo, hi, label="CSAT score" if csat_scale == "csat" else "NPS score")
    subject = df[cols["subject"]] if cols["subject"] in df else pd.Series("", index=df.index)
    body = df[cols["body"]]
    c.fail((subject.str.strip() == "") & (body.str.strip() == ""), cols["body"], "empty text")
    c.unique_ids(cols["ticket_id"])
    ids = df[cols["ticket_id"]].str.strip()
    docs = pd.DataFrame({
        "doc_id": "ticket:" + ids,
        "source": "ticket",
        "source_id": ids,
        "customer_id": _customer_ids(df, cols["customer_id"]),
        "created_at": created,
        "subject": subject.replace("", None),
        "text": body,
        "score": csat,
        "score_scale": np.where(csat.notna(), csat_scale, None),
        "attributes": _attributes(df, {cols[k] for k in ("ticket_id", "customer_id", "created_at", "subject",
                                                          "body", "csat")}),
    })
    docs["content_hash"] = _content_hash(subject, body)
    return c.result(docs)


_TRUE = {"true", "1", "yes", "y", "t", "1.0"}
_FALSE = {"false", "0", "no", "n", "f", "0.0"}


def check_customers(df: pd.DataFrame, cols: dict[str, str]) -> Checked:
    """Customer table with churn outcome and optional controls."""
    c = RowChecker(df, "customers")
    c.required_text(cols["customer_id"], "missing id")
    churn_raw = df[cols["churned"]].str.strip().str.lower()
    c.fail(~churn_raw.isin(_TRUE | _FALSE), cols["churned"], "churned must be true/false")
    churned_at = c.date(cols["churned_at"], required=False)
    signup = c.date(cols["signup_at"], required=False)
    revenue = c.number(cols["revenue"])
    c.fail(revenue < 0, cols["revenue"], "negative revenue")
    c.unique_ids(cols["customer_id"])
    out = pd.DataFrame({
        "customer_id": df[cols["customer_id"]].str.strip(),
        "churned": churn_raw.isin(_TRUE),
        "churned_at": churned_at,
        "segment": df[cols["segment"]].replace("", None) if cols["segment"] in df else None,
        "plan": df[cols["plan"]].replace("", None) if cols["plan"] in df else None,
        "revenue": revenue,
        "signup_at": signup,
    })
    return c.result(out)

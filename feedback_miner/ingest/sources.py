"""Validate each kind of source and turn it into the normalized frames of docs/architecture.md.

Every rule is vectorized over the whole file; a row that breaks any rule goes to the quarantine
with its file, row number, column and reason, and the good rows go on.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from feedback_miner.ingest.readers import FILE, ROW
from feedback_miner.ingest.values import date_range_reasons, normalize_ids, parse_dates, parse_money
from feedback_miner.prepare.pii import pseudonymous_id

# kept: the row went on and only the named field was emptied or cut (a note, not a rejection).
QUARANTINE_COLUMNS = ["source", "file", "row", "column", "reason", "value", "kept"]


@dataclass(frozen=True)
class Rules:
    """How one source's values are read (from its config section and ``ingest``)."""

    dayfirst: bool | None = None
    date_format: str | None = None
    min_date: str = "1990-01-01"
    future_days: float = 1.0
    max_chars: int = 20000


@dataclass
class Checked:
    """Rows that passed (with parsed values) and the quarantine records of the rest."""

    good: pd.DataFrame
    quarantine: list[dict] = field(default_factory=list)


class RowChecker:
    """Accumulates per-row failures over one source's concatenated files."""

    def __init__(self, df: pd.DataFrame, source: str, rules: Rules = Rules()):
        self.df = df
        self.source = source
        self.rules = rules
        self.failed = np.zeros(len(df), dtype=bool)
        self.records: list[dict] = []

    def _record(self, mask: np.ndarray, column: str | None, reason: str | pd.Series, kept: bool) -> None:
        sub = self.df.loc[mask]
        values = sub[column] if column in sub.columns else pd.Series("", index=sub.index)
        reasons = reason[mask] if isinstance(reason, pd.Series) else pd.Series(reason, index=sub.index)
        self.records.extend(
            {"source": self.source, "file": f, "row": int(r), "column": column or "", "reason": why,
             "value": str(v)[:200], "kept": kept}
            for f, r, v, why in zip(sub[FILE], sub[ROW], values, reasons, strict=True)
        )

    def fail(self, mask: pd.Series | np.ndarray, column: str | None, reason: str | pd.Series) -> None:
        """Quarantine the rows of ``mask`` (one reason per row: the first that applies)."""
        mask = np.asarray(mask, dtype=bool) & ~self.failed
        if mask.any():
            self._record(mask, column, reason, kept=False)
            self.failed |= mask

    def note(self, mask: pd.Series | np.ndarray, column: str | None, reason: str | pd.Series) -> None:
        """Record that a field of the rows of ``mask`` was emptied or cut; the rows go on."""
        mask = np.asarray(mask, dtype=bool) & ~self.failed
        if mask.any():
            self._record(mask, column, reason, kept=True)

    def text(self, col: str | None) -> pd.Series:
        """A column's text, or empty text when the column is not mapped."""
        return self.df[col] if col in self.df else pd.Series("", index=self.df.index, dtype=object)

    def required_text(self, col: str, reason: str) -> None:
        self.fail(self.text(col).str.strip() == "", col, reason)

    def capped_text(self, col: str) -> pd.Series:
        """Text cut to ``rules.max_chars`` at a word boundary (noted), so one huge row cannot sink the night."""
        text = self.text(col)
        cap = self.rules.max_chars
        long = text.str.len() > cap
        if long.any():
            why = text[long].str.len().map(lambda n: f"text cut to {cap} characters (was {n})")
            self.note(long, col, why.reindex(text.index, fill_value=""))
            text = text.copy()
            text[long] = [t[:cap].rsplit(None, 1)[0] if " " in t[cap // 2:cap] else t[:cap] for t in text[long]]
        return text

    def date(self, col: str | None, required: bool) -> pd.Series:
        """Dates of a column, read per file (one day/month order each); range-checked."""
        out = pd.Series(pd.NaT, index=self.df.index, dtype="datetime64[us, UTC]")
        if col not in self.df:
            return out
        raw = self.df[col].str.strip()
        if required:
            self.fail(raw == "", col, "missing date")
        reasons = pd.Series("", index=self.df.index, dtype=object)
        for _, rows in self.df.groupby(FILE, sort=False).groups.items():
            parsed, why = parse_dates(raw.loc[rows], self.rules.dayfirst, self.rules.date_format)
            out.loc[rows], reasons.loc[rows] = parsed, why
        self.fail(reasons != "", col, reasons)
        range_reasons = date_range_reasons(out, self.rules.min_date, self.rules.future_days)
        self.fail(range_reasons != "", col, range_reasons)
        return out

    def number(self, col: str | None, low: float | None = None, high: float | None = None, label: str = "",
               whole: bool = False) -> pd.Series:
        raw = self.text(col).str.strip()
        num = pd.to_numeric(raw.where(raw != ""), errors="coerce")
        self.fail((raw != "") & num.isna(), col, "not a number")
        if whole:
            self.fail(num.notna() & (num % 1 != 0), col, f"{label or 'value'} must be a whole number")
        if low is not None and high is not None:
            out = num.notna() & ((num < low) | (num > high))
            self.fail(out, col, f"{label or 'value'} out of range {low:g}-{high:g}")
        return num

    def ids(self, col: str | None, reason: str = "missing id") -> pd.Series:
        """Normalized ids of a mapped id column (missing and NaN-like ones quarantined); without
        the column, a content hash of the row's fields plus its occurrence number."""
        if col in self.df:
            ids = normalize_ids(self.df[col])
            self.fail(ids == "", col, reason)
            return ids
        fields = [c for c in self.df.columns if c not in (FILE, ROW)]
        keys = pd.Series([hashlib.blake2b("\x1f".join(v).encode(), digest_size=8).hexdigest()
                          for v in self.df[fields].itertuples(index=False, name=None)], index=self.df.index)
        nth = keys.groupby(keys).cumcount()
        return keys.where(nth == 0, keys + "-" + (nth + 1).astype(str))

    def unique_ids(self, ids: pd.Series, col: str | None) -> None:
        """Quarantine repeated ids; the first valid row with an id keeps it (an invalid twin does not)."""
        valid = ~self.failed & (ids != "")
        dup = valid & ids.where(valid).duplicated(keep="first")
        if not dup.any():
            return
        first = self.df.loc[valid & ~dup].set_index(ids[valid & ~dup])
        reasons = pd.Series(
            [f"duplicate id (first seen in {Path(first.at[i, FILE]).name} row {first.at[i, ROW]})" for i in ids[dup]],
            index=ids.index[dup])
        self.fail(dup, col, reasons.reindex(ids.index, fill_value=""))

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


def _customer_ids(c: RowChecker, col: str | None) -> pd.Series:
    # Anonymous rows keep no customer (None), not an empty string that would look like an id;
    # NaN-like spellings are anonymous too (they would merge every such row into one customer).
    ids = normalize_ids(c.df[col]) if col in c.df else pd.Series("", index=c.df.index)
    # An id that is an e-mail or a phone is replaced by its hash in every source (linkage kept).
    return ids.replace("", None).astype(object).map(pseudonymous_id, na_action="ignore")


def _content_hash(subject: pd.Series, text: pd.Series) -> pd.Series:
    return pd.Series(
        [hashlib.blake2b(f"{s}\x1f{t}".encode(), digest_size=12).hexdigest() for s, t in zip(subject, text,
                                                                                          strict=True)],
        index=text.index,
    )


def _scale(scale: str) -> tuple[int, int, str]:
    return (0, 10, "NPS score") if scale == "nps" else (1, 5, "CSAT score")


def check_surveys(df: pd.DataFrame, cols: dict[str, str | None], scale: str, rules: Rules = Rules()) -> Checked:
    """Survey answers -> documents. ``cols`` maps canonical names to file columns (None: absent)."""
    c = RowChecker(df, "surveys", rules)
    ids = c.ids(cols["response_id"])
    submitted = c.date(cols["submitted_at"], required=True)
    lo, hi, label = _scale(scale)
    score = c.number(cols["score"], lo, hi, label=label, whole=True)
    c.required_text(cols["comment"], "empty text")
    c.unique_ids(ids, cols["response_id"])
    text = c.capped_text(cols["comment"])
    docs = pd.DataFrame({
        "doc_id": "survey:" + ids,
        "source": "survey",
        "source_id": ids,
        "customer_id": _customer_ids(c, cols["customer_id"]),
        "created_at": submitted,
        "subject": None,
        "text": text,
        "score": score,
        "score_scale": np.where(score.notna(), scale, None),
        "attributes": _attributes(df, {v for v in cols.values() if v}),
    })
    docs["subject"] = docs["subject"].astype(object)
    docs["content_hash"] = _content_hash(pd.Series("", index=df.index), docs["text"])
    return c.result(docs)


def check_tickets(df: pd.DataFrame, cols: dict[str, str | None], csat_scale: str, rules: Rules = Rules()) -> Checked:
    """Support tickets -> documents (subject kept apart: it becomes a statement of its own)."""
    c = RowChecker(df, "tickets", rules)
    ids = c.ids(cols["ticket_id"])
    created = c.date(cols["created_at"], required=True)
    resolved = c.date(cols["resolved_at"], required=False)
    lo, hi, label = _scale("nps" if csat_scale == "nps" else "csat")
    csat = c.number(cols["csat"], lo, hi, label=label, whole=True)
    subject = c.capped_text(cols["subject"])
    body = c.capped_text(cols["body"])
    c.fail((subject.str.strip() == "") & (body.str.strip() == ""), cols["body"], "empty text")
    c.unique_ids(ids, cols["ticket_id"])
    docs = pd.DataFrame({
        "doc_id": "ticket:" + ids,
        "source": "ticket",
        "source_id": ids,
        "customer_id": _customer_ids(c, cols["customer_id"]),
        "created_at": created,
        "subject": subject.replace("", None),
        "text": body,
        "score": csat,
        "score_scale": np.where(csat.notna(), csat_scale, None),
        "resolved_at": resolved,  # time to resolution (outcomes); null while open
        "attributes": _attributes(df, {cols[k] for k in ("ticket_id", "customer_id", "created_at", "subject",
                                                          "body", "csat", "resolved_at") if cols[k]}),
    })
    docs["content_hash"] = _content_hash(subject, body)
    return c.result(docs)


_TRUE = {"true", "1", "yes", "y", "t", "1.0"}
_FALSE = {"false", "0", "no", "n", "f", "0.0"}


def check_customers(df: pd.DataFrame, cols: dict[str, str | None], rules: Rules = Rules()) -> Checked:
    """Customer table with churn outcome and optional controls."""
    c = RowChecker(df, "customers", rules)
    ids = c.ids(cols["customer_id"])
    churn_raw = df[cols["churned"]].str.strip().str.lower()
    c.fail(~churn_raw.isin(_TRUE | _FALSE), cols["churned"], "churned must be true/false")
    churned_at = c.date(cols["churned_at"], required=False)
    signup = c.date(cols["signup_at"], required=False)
    revenue_raw = c.text(cols["revenue"]).str.strip()
    revenue = parse_money(revenue_raw)
    # An unreadable amount must not cost the customer its churn outcome: the field alone is emptied.
    c.note((revenue_raw != "") & revenue.isna(), cols["revenue"], "revenue not read (customer kept, revenue empty)")
    c.note(revenue < 0, cols["revenue"], "negative revenue (customer kept, revenue empty)")
    revenue = revenue.where(revenue >= 0)
    c.unique_ids(ids, cols["customer_id"])
    out = pd.DataFrame({
        "customer_id": ids.map(pseudonymous_id),
        "churned": churn_raw.isin(_TRUE),
        "churned_at": churned_at,
        "segment": c.text(cols["segment"]).replace("", None),
        "plan": c.text(cols["plan"]).replace("", None),
        "revenue": revenue,
        "signup_at": signup,
    })
    return c.result(out)

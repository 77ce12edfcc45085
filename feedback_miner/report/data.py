"""What the report stage receives, and how run tables become what the templates show.

The pipeline hands over the run's tables as a :class:`ReportInput`. Any frame may be empty and
any optional column may be missing (a run without a customer file has no churn columns), and
list- or dict-like cells may come as Python objects, NumPy arrays or JSON strings (CSV/Parquet
round trips): the helpers here normalise all of that once, so templates stay simple.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import pandas as pd

from feedback_miner.outcomes.link import PAIN_POINT_COLUMNS as _OUTCOME_COLUMNS

# The outcomes stage's pain-point columns; missing ones are filled with None for the templates.
PAIN_POINT_COLUMNS = tuple(_OUTCOME_COLUMNS)

# Theme ids that mean "no theme": the themes stage writes 'other'; the rest are read too, as
# other tools name their outliers (a ReportInput may be built from their tables).
OUTLIER_IDS = frozenset({"-1", "other", "outlier", "outliers"})


@dataclass
class ReportInput:
    """Everything one report shows; all frames may be empty.

    Attributes:
        manifest: ``run_id, started_at, finished_at, config_hash, window`` (``{start, end}`` or a
            pair), ``counts`` (``documents, statements, customers, quarantined, languages{},
            redactions{}``), ``skipped_sources`` (list of names or ``{source, reason}``) and
            ``stage_timings`` (``{stage: seconds}``).
        themes: one row per theme and sub-theme (see docs/architecture.md), with sentiment and
            outcome columns where those stages ran.
        pain_points: the ranked outcomes table (``rank`` is null for "insufficient evidence").
        quotes: ``theme_id, text, language, sentiment_label, customer_id``; text already redacted.
        history: ``run_id, run_date, theme_id, n_statements, n_customers, sentiment_mean`` of past runs.
        changes: ``{"emerging": [...], "growing": [...], "fading": [...]}`` theme ids.
        methods: model names and notes: ``embedding_model, clustering, sentiment_model, stats_notes,
            controls_used``, ``notes`` (list of what the stages skipped and why); any other key is
            listed as is.
        statements: the window's statements (``statement_id, doc_id, source, customer_id,
            created_at, language, text, theme_id, subtheme_id, sentiment, sentiment_label``, and
            ``similarity, is_duplicate_of, is_non_answer`` where present): what the page's filters,
            weekly trends and sampled quotes are built from. Empty: a static page.
        documents: ``doc_id, score, score_scale`` (the score band filter).
        customers: ``customer_id``, ``churned`` and categorical attributes (``segment``, ``plan``):
            the attribute filters and the theme x attribute heat maps.
        values: what customers value (the outcomes stage's ``values`` table), listed when present.
    """

    manifest: dict = field(default_factory=dict)
    themes: pd.DataFrame = field(default_factory=pd.DataFrame)
    pain_points: pd.DataFrame = field(default_factory=pd.DataFrame)
    quotes: pd.DataFrame = field(default_factory=pd.DataFrame)
    history: pd.DataFrame = field(default_factory=pd.DataFrame)
    changes: dict = field(default_factory=dict)
    methods: dict = field(default_factory=dict)
    statements: pd.DataFrame = field(default_factory=pd.DataFrame)
    documents: pd.DataFrame = field(default_factory=pd.DataFrame)
    customers: pd.DataFrame = field(default_factory=pd.DataFrame)
    values: pd.DataFrame = field(default_factory=pd.DataFrame)


# ---------------------------------------------------------------- cell normalisation


def num(v: Any) -> float | None:
    """A finite float, or None for missing / NaN / non-numeric values."""
    if v is None or v is pd.NA:
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def text(v: Any) -> str:
    """A string, empty for missing values."""
    if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
        return ""
    return str(v)


def _maybe_json(v: str) -> Any:
    s = v.strip()
    if s[:1] in "[{":
        try:
            return json.loads(s)
        except ValueError:
            return None
    return None


def as_list(v: Any) -> list[str]:
    """List-like cell (list, array, JSON array, or ``a, b; c`` string) as a list of strings."""
    if v is None or v is pd.NA:
        return []
    if isinstance(v, float) and math.isnan(v):
        return []
    if isinstance(v, str):
        parsed = _maybe_json(v)
        if isinstance(parsed, list):
            return [text(x) for x in parsed if text(x)]
        return [p.strip() for p in re.split(r"[;,|]", v) if p.strip()]
    if isinstance(v, Iterable) and not isinstance(v, Mapping):
        return [text(x) for x in v if text(x)]
    return [text(v)]


def as_mapping(v: Any) -> dict[str, float]:
    """Dict-like cell (dict, JSON object, list of pairs, ``en:3, it:2``) as ``{key: number}``."""
    if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
        return {}
    if isinstance(v, str):
        parsed = _maybe_json(v)
        if parsed is not None:
            return as_mapping(parsed)
        out = {}
        for part in re.split(r"[;,]", v):
            k, sep, val = part.partition(":")
            if sep and num(val) is not None:
                out[k.strip()] = num(val)
        return out
    if isinstance(v, Mapping):
        return {str(k): num(x) for k, x in v.items() if num(x) is not None}
    if isinstance(v, Iterable):  # Parquet map columns come back as lists of (key, value) pairs
        out = {}
        for item in v:
            if isinstance(item, Mapping) and "key" in item:
                k, x = item["key"], item.get("value")
            elif isinstance(item, list | tuple) and len(item) == 2:
                k, x = item
            else:
                continue
            if num(x) is not None:
                out[str(k)] = num(x)
        return out
    return {}


def has(df: pd.DataFrame, col: str) -> bool:
    """The frame has the column and at least one value in it."""
    return col in df.columns and bool(df[col].notna().any())


def anchor(theme_id: Any) -> str:
    """An HTML id for a theme's section."""
    return "theme-" + re.sub(r"[^A-Za-z0-9_-]", "-", text(theme_id))


def is_outlier(theme_id: Any) -> bool:
    return text(theme_id).strip().lower() in OUTLIER_IDS


def theme_rows(themes: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """Theme and sub-theme rows by theme id, in table order."""
    rows = {}
    for r in records(themes if themes is not None else pd.DataFrame()):
        tid = text(r.get("theme_id"))
        if tid:
            rows[tid] = r
    return rows


def parent_of(row: dict[str, Any]) -> str:
    """The parent theme id of a sub-theme row; empty for a top-level theme."""
    p = text(row.get("parent_id")).strip()
    return "" if p.lower() in {"", "none", "nan", "null"} or p == text(row.get("theme_id")) else p


def display_name(row: dict[str, Any]) -> str:
    """A theme's name: its short ``name`` where the themes stage gives one, else its label."""
    return text(row.get("name")).strip() or text(row.get("label")).strip() or text(row.get("theme_id"))


def as_datetime(v: Any) -> datetime | None:
    if v is None or v is pd.NA or v == "":
        return None
    if isinstance(v, datetime):
        return v
    if isinstance(v, date):
        return datetime(v.year, v.month, v.day)
    try:
        ts = pd.Timestamp(v)
    except (TypeError, ValueError):
        return None
    return None if pd.isna(ts) else ts.to_pydatetime()


# ---------------------------------------------------------------- formatting (Jinja filters)


def fmt_int(v: Any) -> str:
    f = num(v)
    return "—" if f is None else f"{round(f):,}".replace("-", "−")


def fmt_pct(v: Any, digits: int = 0) -> str:
    f = num(v)
    return "—" if f is None else f"{f * 100:.{digits}f}%"


def fmt_ratio(v: Any) -> str:
    f = num(v)
    if f is None:
        return "—"
    return f"{f:.2f}" if f < 10 else f"{f:.1f}"


def fmt_ci(low: Any, high: Any) -> str:
    lo, hi = num(low), num(high)
    if lo is None or hi is None:
        return ""
    return f"{fmt_ratio(lo)}–{fmt_ratio(hi)}"


def fmt_q(v: Any) -> str:
    f = num(v)
    if f is None:
        return "—"
    if f < 0.001:
        return "<0.001"
    return f"{f:.3f}" if f < 0.1 else f"{f:.2f}"


def fmt_signed(v: Any, digits: int = 2) -> str:
    f = num(v)
    if f is None:
        return "—"
    s = f"{abs(f):.{digits}f}"
    return ("+" if f > 0 else "−" if f < 0 else "±") + s


def fmt_money(v: Any, currency: str = "") -> str:
    f = num(v)
    if f is None:
        return "—"
    if abs(f) >= 1_000_000:
        s = f"{f / 1_000_000:.1f}M"
    elif abs(f) >= 10_000:
        s = f"{f / 1000:.0f}k"
    else:
        s = f"{f:,.0f}"
    return f"{currency}{s}".replace("-", "−")


def fmt_when(v: Any, with_time: bool = True) -> str:
    d = as_datetime(v)
    if d is None:
        return text(v) or "—"
    if with_time and (d.hour or d.minute):
        tz = " UTC" if d.tzinfo is not None and d.utcoffset() is not None and not d.utcoffset() else ""
        return d.strftime("%Y-%m-%d %H:%M") + tz
    return d.strftime("%Y-%m-%d")


def fmt_seconds(v: Any) -> str:
    f = num(v)
    if f is None:
        return "—"
    if f < 60:
        return f"{f:.1f} s"
    return f"{int(f // 60)} min {f % 60:.0f} s"


def evidence_class(v: Any) -> str:
    """CSS class of an evidence badge from the outcomes stage's free-text level."""
    s = text(v).lower()
    for key, cls in (
        ("insufficient", "insufficient"),
        ("strong", "strong"),
        ("high", "strong"),
        ("moderate", "moderate"),
        ("medium", "moderate"),
        ("weak", "weak"),
        ("suggest", "weak"),
        ("limited", "weak"),
        ("low", "weak"),
        ("none", "insufficient"),
    ):
        if key in s:
            return cls
    return "other"


def trend_text(v: Any) -> tuple[str, str]:
    """(text, css class) of a trend cell, numeric (relative growth) or a word."""
    f = num(v)
    if f is not None:
        cls = "up" if f > 0.05 else "down" if f < -0.05 else "flat"
        return f"{'▲' if f > 0.05 else '▼' if f < -0.05 else '▶'} {fmt_signed(f * 100, 0)}%", cls
    s = text(v).strip().lower()
    if not s:
        return "—", "flat"
    if s in {"growing", "rising", "up", "increasing", "emerging", "new"}:
        return f"▲ {s}", "up"
    if s in {"fading", "falling", "down", "decreasing", "shrinking", "faded"}:
        return f"▼ {s}", "down"
    return s, "flat"


def records(df: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as dicts with NaN/NA turned into None (templates test ``is none``)."""
    if df is None or df.empty:
        return []
    out = df.astype(object).where(df.notna(), None)
    return out.to_dict(orient="records")

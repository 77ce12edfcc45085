"""The pain-point table of the report (whole-run statistics) and the sentences that explain a theme's outcomes."""

from __future__ import annotations

from typing import Any

import pandas as pd

from feedback_miner.config import ReportConfig
from feedback_miner.outcomes.rank import OUTCOMES
from feedback_miner.report import brief, charts
from feedback_miner.report.data import (
    PAIN_POINT_COLUMNS,
    ReportInput,
    anchor,
    display_name,
    evidence_class,
    fmt_ci,
    fmt_pct,
    fmt_q,
    fmt_ratio,
    has,
    is_outlier,
    num,
    parent_of,
    records,
    text,
    trend_text,
)


def pain_table(data: ReportInput, cfg: ReportConfig, theme_rows: dict[str, dict], quotes: dict) -> dict[str, Any]:
    pp = data.pain_points if data.pain_points is not None else pd.DataFrame()
    repeat_days = brief.definitions(data.manifest or {})["repeat_window_days"]
    cols = {
        "churn": has(pp, "churn_rr"),
        "churn_rate": has(pp, "churn_rate"),
        "csat": has(pp, "low_csat_rr"),
        "adjusted": has(pp, "adjusted_or"),
        "sentiment": has(pp, "sentiment_mean"),
        "att_churn": has(pp, "attributable_churn"),
        "att_revenue": has(pp, "attributable_revenue"),
        "trend": has(pp, "trend"),
        "evidence": has(pp, "evidence"),
        # ticket metrics of the outcomes stage, where it computes them
        "ttr": has(pp, "ttr_ratio"),
        "repeat": has(pp, "repeat_contact_rr"),
    }
    # "Other" (statements in no theme) is no pain point: its customers are counted apart by the
    # outcomes stage (0 in its table), and the themes table gives its real size.
    rows = [r for r in records(pp) if not is_outlier(r.get("theme_id"))]
    # The axis fits the ranked rows: a tiny unranked theme's huge interval would squash the others.
    bounds = []
    for r in rows:
        if num(r.get("rank")) is not None and evidence_class(r.get("evidence")) != "insufficient":
            bounds += [num(r.get("churn_rr")), num(r.get("churn_rr_low")), num(r.get("churn_rr_high"))]
    scale = charts.LogScale.fit(bounds, width=150)
    ranked, unranked = [], []
    for r in rows:
        tid = text(r.get("theme_id"))
        theme = theme_rows.get(tid, {})
        root = parent_of(theme) or tid
        label = display_name(theme) if theme else text(r.get("label")) or tid
        rr, lo, hi = num(r.get("churn_rr")), num(r.get("churn_rr_low")), num(r.get("churn_rr_high"))
        trend, trend_cls = trend_text(r.get("trend"))
        row = {c: None for c in PAIN_POINT_COLUMNS} | r
        row.update(
            theme_id=tid,
            label=label,
            href="#" + anchor(root),
            rank=num(r.get("rank")),
            trend_text=trend,
            trend_class=trend_cls,
            evidence_text=text(r.get("evidence")) or "—",
            evidence_class=evidence_class(r.get("evidence")),
            churn_ci=fmt_ci(lo, hi),
            churn_bar=charts.interval_bar(
                rr, lo, hi, scale, title=f"{label}: churn risk ratio {fmt_ratio(rr)} (95% CI {fmt_ci(lo, hi)})"
            )
            if rr is not None
            else None,
            csat_ci=fmt_ci(r.get("low_csat_rr_low"), r.get("low_csat_rr_high")),
            adjusted_ci=fmt_ci(r.get("adjusted_or_low"), r.get("adjusted_or_high")),
            # The pain point's own quotes (negative, near its centre); the theme's examples for older runs.
            quotes=brief.quotes_of(r.get("quotes")) or quotes.get(tid) or quotes.get(root) or [],
            effects=brief.effect_lines(r, repeat_days, cfg.currency),
            level_note=brief.level_note(r),
        )
        row["quote"] = (row["quotes"] or [None])[0]
        row["headline"] = headline_effect(r)
        is_ranked = row["rank"] is not None and row["evidence_class"] != "insufficient"
        (ranked if is_ranked else unranked).append(row)
    ranked.sort(key=lambda r: r["rank"])
    unranked.sort(key=lambda r: -(num(r.get("n_customers")) or 0))
    return {
        "cols": cols,
        "any_outcome": any(cols[k] for k in ("churn", "csat", "adjusted")),
        "ranked": ranked,
        "unranked": unranked,
        "top": ranked[:3],
        "axis": charts.interval_axis(scale),
        "currency": cfg.currency,
    }


def _q_phrase(q: Any) -> str:
    s = fmt_q(q)
    return f"q {s[0]} {s[1:]}" if s.startswith("<") else f"q = {s}"


def _lead(src: dict, key: str) -> str:
    """The plain-words rate that opens an outcome's sentence ("" when the rate is not known)."""
    rate = num(src.get(f"{key}_rate"))
    if key == "churn":
        base = num(src.get("baseline_churn_rate"))
        if rate is None or base is None:
            return ""
        return f"Customers who mention it churned at {fmt_pct(rate, 1)} against {fmt_pct(base, 1)} for the others: "
    if key == "ttr":
        hours = num(src.get("ttr_median_hours"))
        return f"Its tickets take a median {hours:.0f} h to resolve: " if hours is not None else ""
    if rate is None:
        return "Low CSAT: " if key == "low_csat" else ""
    return f"{fmt_pct(rate, 0)} of {_RATE_WORDS[key]}: "


# What an outcome's rate is a share of, and how its ratio reads, in a theme's findings.
_RATE_WORDS = {
    "low_csat": "its responses are low CSAT",
    "repeat_contact": "its customers contact support again",
    "reopened": "its tickets are reopened",
}
_RATIO_WORDS = {
    "churn": "risk ratio {r}",
    "low_csat": "risk ratio {r}",
    "ttr": "{r}x the time of other tickets",
    "repeat_contact": "risk ratio of a repeat contact {r}",
    "reopened": "risk ratio of a reopened ticket {r}",
}
# The q-value is said where the ratio is a risk of a customer-level event.
_WITH_Q = {"churn", "low_csat"}


def outcome_sentences(row: dict | None, theme: dict) -> list[str]:
    """Plain-language findings for one theme: one sentence per measured outcome, then the adjusted model."""
    src = {**theme, **(row or {})}
    out = []
    for o in OUTCOMES:
        if num(src.get(o.effect)) is None:
            continue
        ci = fmt_ci(src.get(o.low), src.get(o.high)) or "n/a"
        tail = f", {_q_phrase(src.get(o.q))}." if o.key in _WITH_Q else "."
        ratio = _RATIO_WORDS[o.key].format(r=fmt_ratio(src.get(o.effect)))
        out.append(f"{_lead(src, o.key)}{ratio} (95% CI {ci}){tail}")
    if num(src.get("adjusted_or")) is not None:
        out.append(
            f"Adjusted for the control columns, odds ratio of churn {fmt_ratio(src.get('adjusted_or'))} "
            f"(95% CI {fmt_ci(src.get('adjusted_or_low'), src.get('adjusted_or_high')) or 'n/a'})."
        )
    return out


def evidence_label(ev: str) -> str:
    """Evidence level as a badge in a theme header: "strong evidence", "insufficient evidence"."""
    ev = ev if ev != "—" else ""
    return ev if not ev or "evidence" in ev.lower() else f"{ev} evidence"


# How a top card names each outcome's ratio.
_HEADLINE_NAMES = {
    "churn": "churn risk", "low_csat": "risk of a low score", "ttr": "time to resolution",
    "repeat_contact": "risk of contacting again", "reopened": "risk of a reopened ticket",
}
_OUTCOME_BY_KEY = {o.key: o for o in OUTCOMES}


def headline_effect(r: dict[str, Any]) -> dict[str, str] | None:
    """The effect a pain point is listed for (its main outcome), so a top card never leads with an
    outcome the theme does not worsen (a low-score pain point with churn risk 0.84x, say)."""
    o = _OUTCOME_BY_KEY.get(text(r.get("main_outcome")))
    if o is None or num(r.get(o.effect)) is None:
        return None
    return {"value": fmt_ratio(r.get(o.effect)), "name": _HEADLINE_NAMES.get(o.key, o.name),
            "ci": fmt_ci(r.get(o.low), r.get(o.high))}

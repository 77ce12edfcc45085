"""Plain words for the pain points and "what customers value": the brief's sentences, shared with report.html.

Every sentence is built from the outcomes stage's columns (docs/architecture.md); a missing
column or value leaves its sentence out. Definitions (evidence levels, trend, the pain-point rule)
come from the run's manifest, written by the outcomes stage, or from
:mod:`feedback_miner.outcomes.rank` for runs that predate them.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from feedback_miner.outcomes.rank import EVIDENCE_LEVELS, PAIN_POINT_RULE, trend_definition
from feedback_miner.outcomes.select import outcome_name
from feedback_miner.report.data import _maybe_json, fmt_ci, fmt_int, fmt_money, fmt_pct, fmt_signed, num, records, text

# Runs before issue #20 computed the trend over respondents, recent half of the window vs the earlier half.
_OLD_TREND = "Trend: share of respondents mentioning the theme, recent half of the window against the earlier half."
_SOURCE_WORDS = {"surveys": ("survey answer", "survey answers"), "tickets": ("support ticket", "support tickets")}


def times(v: Any) -> str:
    """A ratio as "2.4×" (two decimals below 2, where the difference is small)."""
    f = num(v)
    if f is None:
        return "—"
    return f"{f:.2f}×" if f < 2 else f"{f:.1f}×"


def hours(v: Any) -> str:
    f = num(v)
    if f is None:
        return "—"
    return f"{f / 24:.1f} days" if f >= 48 else f"{f:.0f} h" if f >= 2 else f"{f * 60:.0f} min"


def source_words(manifest: dict) -> str:
    """What the feedback is, from what is present: "1,807 survey answers and 905 support tickets"."""
    counts = manifest.get("counts") or {}
    inputs = counts.get("inputs") or {}
    parts = []
    for kind, (one, many) in _SOURCE_WORDS.items():
        n = num((inputs.get(kind) or {}).get("valid"))
        if n:
            parts.append(f"{fmt_int(n)} {one if n == 1 else many}")
    if parts:
        return " and ".join(parts)
    n = num(counts.get("documents"))
    return f"{fmt_int(n)} responses" if n is not None else "no responses"


def first_run(history: pd.DataFrame | None, run_id: str) -> bool:
    """No earlier run to compare with: the history holds no run but this one."""
    if history is None or history.empty or "run_id" not in history.columns:
        return True
    return history.loc[history["run_id"].astype(str) != run_id, "run_id"].nunique() == 0


def quotes_of(cell: Any) -> list[dict]:
    """A ``quotes`` cell (list of dicts, or its JSON text after a CSV/store round trip) as a list of dicts."""
    if isinstance(cell, str):
        cell = _maybe_json(cell)
    if cell is None or isinstance(cell, float):
        return []
    out = []
    for q in list(cell):
        if isinstance(q, dict) and text(q.get("text")).strip():
            out.append({"statement_id": text(q.get("statement_id")), "text": text(q.get("text")),
                        "language": text(q.get("language")), "sentiment": "negative"})
    return out


def definitions(manifest: dict) -> dict[str, Any]:
    """Evidence levels, the pain-point rule and the trend arrow, in words."""
    d = manifest.get("outcome_definitions") or {}
    return {
        "evidence": d.get("evidence") or dict(EVIDENCE_LEVELS),
        "pain_point": d.get("pain_point") or PAIN_POINT_RULE,
        "trend": d.get("trend") or (trend_definition(None) if d else _OLD_TREND),
        "repeat_window_days": d.get("repeat_window_days") or 14,
    }


def effect_lines(row: dict, repeat_days: int, currency: str = "") -> list[str]:
    """The adverse effects of one pain point in plain words, with their 95% intervals."""
    basis = text(row.get("evidence_basis"))
    out = []
    if "churn" in basis:
        line = (f"**Churn:** {fmt_pct(row.get('churn_rate'), 1)} of these customers left, against "
                f"{fmt_pct(row.get('baseline_churn_rate'), 1)} of the others: {times(row.get('churn_rr'))} as likely "
                f"(95% CI {fmt_ci(row.get('churn_rr_low'), row.get('churn_rr_high')) or 'n/a'})")
        att = num(row.get("attributable_churn"))
        if att is not None and att >= 1:
            rev = num(row.get("attributable_revenue"))
            line += f"; about {fmt_int(att)} churned customers in excess"
            line += f" ({fmt_money(rev, currency)} revenue)" if rev is not None and rev > 0 else ""
        out.append(line + ".")
    if "low scores" in basis:
        out.append(f"**Low scores:** {fmt_pct(row.get('low_csat_rate'))} of their responses are low, against "
                   f"{fmt_pct(row.get('low_csat_baseline_rate'))} of the others: {times(row.get('low_csat_rr'))} "
                   f"as likely (95% CI {fmt_ci(row.get('low_csat_rr_low'), row.get('low_csat_rr_high')) or 'n/a'}).")
    if "time to resolution" in basis:
        out.append(f"**Time to resolution:** customers wait {times(row.get('ttr_ratio'))} as long as on other "
                   f"tickets (median {hours(row.get('ttr_median_hours'))}; 95% CI "
                   f"{fmt_ci(row.get('ttr_ratio_low'), row.get('ttr_ratio_high')) or 'n/a'}).")
    if "repeat contact" in basis:
        out.append(f"**Repeat contact:** {fmt_pct(row.get('repeat_contact_rate'))} had to contact us again within "
                   f"{repeat_days} days, against {fmt_pct(row.get('repeat_contact_baseline_rate'))} on other themes: "
                   f"{times(row.get('repeat_contact_rr'))} (95% CI "
                   f"{fmt_ci(row.get('repeat_contact_rr_low'), row.get('repeat_contact_rr_high')) or 'n/a'}).")
    if "reopened" in basis:
        out.append(f"**Reopened:** {fmt_pct(row.get('reopened_rate'))} of its tickets were reopened: "
                   f"{times(row.get('reopened_rr'))} the other tickets (95% CI "
                   f"{fmt_ci(row.get('reopened_rr_low'), row.get('reopened_rr_high')) or 'n/a'}).")
    if basis == "sentiment only":
        out.append(f"**No outcome data for this theme;** mean sentiment {fmt_signed(row.get('sentiment_mean'))} "
                   "(−1 to +1).")
    return out


def level_note(row: dict) -> str:
    """Where the pain point sits: a sub-theme listed instead of its parent, or the parent's driving sub-theme."""
    main = outcome_name(text(row.get("main_outcome")))
    parent = text(row.get("parent_label"))
    if text(row.get("replaces")) and parent:
        share = num(row.get("replaces_share"))
        held = f"holds {fmt_pct(share)} of" if share is not None else "carries most of"
        return f"Part of “{parent}”: it {held} that theme's excess {main}, so it is listed instead."
    if text(row.get("level")) == "sub-theme" and parent:
        return f"Part of “{parent}”."
    driver = text(row.get("driver_label"))
    if driver:
        return f"Driven mostly by “{driver}” ({fmt_pct(row.get('driver_share'))} of the excess {main})."
    return ""


def value_rows(values: pd.DataFrame | None) -> list[dict]:
    """What customers value, each with a plain-words reason and its quotes."""
    rows = []
    for r in records(values if values is not None else pd.DataFrame()):
        why = []
        if "fewer low scores" in text(r.get("protective_basis")):
            why.append(f"low scores {times(r.get('low_csat_rr'))} as likely "
                       f"(95% CI {fmt_ci(r.get('low_csat_rr_low'), r.get('low_csat_rr_high'))})")
        if "less churn" in text(r.get("protective_basis")):
            why.append(f"churn {times(r.get('churn_rr'))} as likely "
                       f"(95% CI {fmt_ci(r.get('churn_rr_low'), r.get('churn_rr_high'))})")
        quotes = [dict(q, sentiment="positive") for q in quotes_of(r.get("quotes"))]
        rows.append({**r, "why": "; ".join(why), "quotes": quotes})
    return rows

"""What makes a theme a pain point, how sure we are (evidence), its trend, and the priority score.

Everything a reader is told about these definitions comes from :data:`EVIDENCE_LEVELS`,
:data:`PAIN_POINT_RULE` and :func:`trend_definition`, so the code and the words cannot drift apart.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Outcome:
    """One adverse outcome a theme can go with: its effect columns and its excess count."""

    key: str
    name: str  # plain words, for the evidence basis
    effect: str  # ratio against the rest (> 1 is adverse)
    low: str
    high: str
    q: str
    excess: str  # adverse events (or ticket-equivalents) in excess among the theme's units
    priority_q: str = ""  # q weighting the priority, when not ``q``

    @property
    def weight_q(self) -> str:
        return self.priority_q or self.q


#: The outcomes, in the order the brief lists them.
OUTCOMES = (
    # Churn's priority uses the larger of the raw and adjusted q: a theme that only looks bad
    # because of who mentions it falls back.
    Outcome("churn", "churn", "churn_rr", "churn_rr_low", "churn_rr_high", "churn_q", "attributable_churn",
            "churn_q_eff"),
    Outcome("low_csat", "low scores", "low_csat_rr", "low_csat_rr_low", "low_csat_rr_high", "low_csat_q",
            "attributable_low_csat"),
    Outcome("ttr", "time to resolution", "ttr_ratio", "ttr_ratio_low", "ttr_ratio_high", "ttr_q", "ttr_excess"),
    Outcome("repeat_contact", "repeat contact", "repeat_contact_rr", "repeat_contact_rr_low",
            "repeat_contact_rr_high", "repeat_contact_q", "repeat_contact_excess"),
    Outcome("reopened", "reopened tickets", "reopened_rr", "reopened_rr_low", "reopened_rr_high", "reopened_q",
            "reopened_excess"),
)

#: Evidence levels, strongest first, with the definition shown in the report and the brief.
EVIDENCE_LEVELS = {
    "strong": "an adverse effect (churn, low scores, time to resolution, repeat contact or reopened tickets "
    "above 1) with q below 0.01 and its 95% interval above 1",
    "moderate": "an adverse effect with its 95% interval above 1 and q below outcomes.alpha (0.05 by default), "
    "so that among many themes few are flagged by chance; for churn, the odds ratio adjusted for the customer "
    "controls must stay above 1 too",
    "weak": "no outcome could be measured for the theme; it is strongly negative (mean sentiment at or below "
    "outcomes.negative_sentiment_max) and mentioned by enough customers",
    "none": "no adverse effect found (null or protective): never a pain point",
    "insufficient": "fewer customers than outcomes.min_customers: not judged",
}
#: Which themes are pain points.
PAIN_POINT_RULE = (
    "A pain point is a theme or sub-theme with evidence 'strong', 'moderate' or 'weak'; themes with null or "
    "protective effects never are. A sub-theme replaces its parent when it holds at least half of the parent's "
    "excess on the parent's main outcome."
)
PAIN_LEVELS = ("strong", "moderate", "weak")


def adverse(stats: pd.DataFrame, outcome: Outcome, alpha: float) -> pd.Series:
    """Effect above 1 with its interval above 1 and q below ``alpha``; churn must also survive the
    adjusted model where the theme is in it (adjusted odds ratio with its interval above 1).

    Both interval and q: the interval alone is unadjusted for the number of themes (one in 40 null
    themes has its 95% interval above 1), the q-value alone may disagree with the interval's method.
    The adjusted model confirms the direction once the raw link is a discovery (its own q, over
    many correlated indicators, would ask for the same discovery twice).
    """
    if outcome.effect not in stats:
        return pd.Series(False, index=stats.index)
    hit = (stats[outcome.effect] > 1) & (stats[outcome.low] > 1) & (stats[outcome.q] < alpha)
    if outcome.key == "churn" and "adjusted_or" in stats:
        adjusted = (stats["adjusted_or"] > 1) & (stats["adjusted_or_low"] > 1)
        hit &= stats["adjusted_or"].isna() | adjusted
    return hit.fillna(False)


def evidence_level(
    stats: pd.DataFrame, min_customers: int, alpha: float, negative_sentiment_max: float
) -> tuple[pd.Series, pd.Series]:
    """Evidence level of every theme (:data:`EVIDENCE_LEVELS`) and its basis (the adverse outcomes, comma-joined)."""
    basis = pd.Series("", index=stats.index)
    strong = pd.Series(False, index=stats.index)
    measured = pd.Series(False, index=stats.index)
    for o in OUTCOMES:
        if o.effect not in stats:
            continue
        hit = adverse(stats, o, alpha)
        basis = basis.where(~hit, basis + np.where(basis == "", "", ", ") + o.name)
        strong |= hit & (stats[o.q] < 0.01) & (stats[o.low] > 1)
        measured |= stats[o.effect].notna()
    negative = ~measured & (stats["sentiment_mean"] <= negative_sentiment_max)
    level = np.select([strong, basis != "", negative], ["strong", "moderate", "weak"], "none")
    level = np.where(stats["n_customers"] < min_customers, "insufficient", level)
    basis = basis.where(level != "weak", "sentiment only")
    return pd.Series(level, index=stats.index), basis.where(np.isin(level, PAIN_LEVELS), "")


def trend_definition(days: int | None) -> str:
    """The trend arrow in words, for the report and the brief."""
    if not days:
        return "Trend: not computed (no dates, or all on one day)."
    return (
        f"Trend: share of statements about the theme in the last {days} days against the {days} days before "
        "(▲ +40% = its share grew by 40%; ▶ = within ±5%)."
    )


def trend_by_theme(
    mentions: pd.DataFrame, statement_times: pd.Series | None, theme_ids: list[str], days: int | None = None
) -> tuple[pd.Series, int | None, str | None]:
    """Relative change of each theme's share of statements, this period vs the previous one of the same length.

    The period is the last ``days`` days before the newest statement (default: half of the span
    covered). In each period the share is (statements about the theme + 0.5) / (statements + 1),
    the smoothing keeping a brand-new theme finite; ``trend = share_now / share_before - 1``.
    ``mentions``: ``theme_id, created_at`` (one row per statement and theme);
    ``statement_times``: every statement's ``created_at``. Returns the trend per theme, the period
    in days, and a note when the trend cannot be computed.
    """
    if statement_times is None:
        return pd.Series(np.nan, index=theme_ids), None, "trend not computed: created_at missing or constant"
    t = pd.to_datetime(statement_times, utc=True, errors="coerce").dropna()
    if len(t) < 2 or t.min() == t.max():
        return pd.Series(np.nan, index=theme_ids), None, "trend not computed: created_at missing or constant"
    end = t.max()
    days = days or max(1, math.ceil((end - t.min()) / pd.Timedelta(days=2)))
    cut, start = end - pd.Timedelta(days=days), end - pd.Timedelta(days=2 * days)

    def period(times: pd.Series) -> pd.Series:
        return pd.Series(np.where(times > cut, "now", np.where(times > start, "before", None)), index=times.index)

    n = period(t).value_counts()
    if n.get("before", 0) == 0:
        return pd.Series(np.nan, index=theme_ids), days, f"trend not computed: no statements in the {days} days before"
    mt = pd.to_datetime(mentions["created_at"], utc=True, errors="coerce")
    counts = mentions.assign(period=period(mt)).dropna(subset=["period"]).groupby(["theme_id", "period"]).size()
    counts = counts.unstack(fill_value=0).reindex(index=theme_ids, columns=["before", "now"], fill_value=0)
    share_before = (counts["before"] + 0.5) / (n.get("before", 0) + 1)
    share_now = (counts["now"] + 0.5) / (n.get("now", 0) + 1)
    return share_now / share_before - 1, days, None


def priority_score(stats: pd.DataFrame, totals: dict[str, float]) -> pd.Series:
    """The documented priority formula.

    ``impact = sum over outcomes of max(excess, 0) / total * confidence(q)``: for churn and low
    scores the excess churned customers / low responses among the theme's mentioners over all of
    them; for time to resolution the theme's resolved tickets x (1 - 1 / ttr_ratio) over all
    resolved tickets; for repeat contact and reopened tickets the excess cases over all cases.
    Each share is weighted by ``confidence(q) = clip(log10(q) / log10(0.01), 0, 1)``: 1 at
    q <= 0.01, 0.65 at 0.05, 0.5 at 0.1, 0 at q = 1; a missing outcome contributes 0. Then

    ``priority = 100 * impact * (0.5 + negativity) * (1 + 0.5 * clip(trend, -1, 1))``

    with ``negativity = (1 - sentiment_mean) / 2`` in [0, 1] (0.5 when unknown) and trend 0 when
    unknown. A pain point with no measured outcome (evidence ``weak``) has impact 0 and is ranked
    after the others by ``share of customers x negativity``.
    """
    impact = pd.Series(0.0, index=stats.index)
    for o in OUTCOMES:
        total = totals.get(o.key, 0.0)
        if total <= 0 or o.excess not in stats:
            continue
        share = stats[o.excess].clip(lower=0) / total
        impact += (share * confidence(stats[o.weight_q])).fillna(0.0)
    negativity = ((1 - stats["sentiment_mean"]) / 2).clip(0, 1).fillna(0.5)
    growth = 1 + 0.5 * stats["trend"].clip(-1, 1).fillna(0.0)
    return 100 * impact * (0.5 + negativity) * growth


def outcome_components(stats: pd.DataFrame, totals: dict[str, float]) -> pd.DataFrame:
    """Each outcome's confidence-weighted excess share (the terms of ``impact``), one column per outcome key."""
    out = pd.DataFrame(index=stats.index)
    for o in OUTCOMES:
        total = totals.get(o.key, 0.0)
        ok = total > 0 and o.excess in stats
        out[o.key] = (stats[o.excess].clip(lower=0) / total * confidence(stats[o.weight_q])).fillna(0.0) if ok else 0.0
    return out


def confidence(q: pd.Series) -> pd.Series:
    """Weight of a q-value in the priority: 1 at q <= 0.01 falling log-linearly to 0 at q = 1."""
    with np.errstate(divide="ignore"):
        return (np.log10(q.astype(float)) / np.log10(0.01)).clip(0, 1)

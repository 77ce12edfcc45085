"""Trend, evidence level and the priority score that ranks pain points."""

from __future__ import annotations

import numpy as np
import pandas as pd

EVIDENCE_LEVELS = ("strong", "moderate", "weak", "insufficient")


def trend_by_theme(
    pairs_time: pd.DataFrame, units_time: pd.DataFrame, theme_ids: list[str]
) -> tuple[pd.Series, str | None]:
    """Relative growth of the share of respondents mentioning each theme, recent vs earlier half.

    The window [first, last statement] is cut at its midpoint. In each half the share is
    (mentioning + 0.5) / (active respondents + 1), the 0.5/1 smoothing keeping a brand-new theme
    finite. ``trend = share_recent / share_earlier - 1`` (0.5 = mentioned by 50% more of the
    respondents lately). ``pairs_time``: ``unit, theme_id, created_at`` (one row per statement);
    ``units_time``: ``unit, created_at``. Returns the trend per theme and a note when it cannot be computed.
    """
    t = pd.to_datetime(units_time["created_at"], utc=True, errors="coerce")
    if t.notna().sum() < 2 or t.min() == t.max():
        return pd.Series(np.nan, index=theme_ids), "trend not computed: created_at missing or constant"
    mid = t.min() + (t.max() - t.min()) / 2
    recent_units = units_time.assign(recent=(t >= mid).to_numpy())[t.notna().to_numpy()]
    active = recent_units.drop_duplicates(["unit", "recent"])["recent"].value_counts()
    n_early, n_recent = active.get(False, 0), active.get(True, 0)
    pt = pd.to_datetime(pairs_time["created_at"], utc=True, errors="coerce")
    m = pairs_time.assign(recent=(pt >= mid).to_numpy())[pt.notna().to_numpy()]
    m = m.drop_duplicates(["unit", "theme_id", "recent"])
    counts = m.groupby(["theme_id", "recent"]).size().unstack(fill_value=0)
    counts = counts.reindex(index=theme_ids, columns=[False, True], fill_value=0)
    share_early = (counts[False] + 0.5) / (n_early + 1)
    share_recent = (counts[True] + 0.5) / (n_recent + 1)
    return share_recent / share_early - 1, None


def evidence_level(n: pd.Series, q_harm: pd.Series, min_customers: int, alpha: float) -> pd.Series:
    """``insufficient`` (n < min_customers), ``strong`` (q < 0.01), ``moderate`` (q < alpha), else ``weak``.

    ``q_harm`` is the q-value of the theme's harmful association (NaN when none points to harm).
    """
    level = np.where(q_harm < 0.01, "strong", np.where(q_harm < alpha, "moderate", "weak"))
    return pd.Series(np.where(n < min_customers, "insufficient", level), index=n.index)


def priority_score(stats: pd.DataFrame, total_churned: float, total_low: float) -> pd.Series:
    """The documented priority formula.

    ``impact = max(attributable_churn, 0) / total_churned * confidence(churn_q_eff)
             + max(attributable_low_csat, 0) / total_low * confidence(low_csat_q)``
    (the share of all churn / all low scores in excess among the theme's mentioners, each
    weighted by how sure we are it is not noise; a missing outcome contributes 0), where
    ``confidence(q) = clip(log10(q) / log10(0.01), 0, 1)``: 1 at q <= 0.01, 0.65 at 0.05,
    0.5 at 0.1, 0 at q = 1 (``1 - q`` would hardly discount q = 0.3). Then

    ``priority = 100 * impact * (0.5 + negativity) * (1 + 0.5 * clip(trend, -1, 1))``

    with ``negativity = (1 - sentiment_mean) / 2`` in [0, 1] (0.5 when unknown) and trend 0 when
    unknown: negative themes count up to 1.5x, positive ones down to 0.5x, growing themes up to
    1.5x, fading ones down to 0.5x.
    """

    def part(excess: str, total: float, q: str) -> pd.Series:
        if total <= 0 or excess not in stats:
            return pd.Series(0.0, index=stats.index)
        share = stats[excess].clip(lower=0) / total
        return (share * confidence(stats[q])).fillna(0.0)

    impact = part("attributable_churn", total_churned, "churn_q_eff") + part(
        "attributable_low_csat", total_low, "low_csat_q"
    )
    negativity = ((1 - stats["sentiment_mean"]) / 2).clip(0, 1).fillna(0.5)
    growth = 1 + 0.5 * stats["trend"].clip(-1, 1).fillna(0.0)
    return 100 * impact * (0.5 + negativity) * growth


def confidence(q: pd.Series) -> pd.Series:
    """Weight of a q-value in the priority: 1 at q <= 0.01 falling log-linearly to 0 at q = 1."""
    with np.errstate(divide="ignore"):
        return (np.log10(q.astype(float)) / np.log10(0.01)).clip(0, 1)

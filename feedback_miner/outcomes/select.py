"""From per-theme statistics to the two lists a product team reads: pain points and what customers value.

* **Level.** Pain points are ranked at the most specific level that carries the effect. Each
  pain theme's *main outcome* is the one with the largest term in its priority
  (:func:`~feedback_miner.outcomes.rank.outcome_components`). A pain sub-theme replaces its
  parent when it holds at least :data:`REPLACE_SHARE` of the parent's excess on that outcome
  (``replaces``, ``replaces_share``); otherwise the parent is listed and names its sub-theme with
  the largest share as ``driver_id`` (when that share is at least :data:`DRIVER_SHARE`). A pain
  sub-theme whose parent is not listed, or which is adverse on an outcome its parent is not, is
  listed on its own.
* **What customers value**: broad themes with enough customers, no adverse effect and a clearly
  positive mean sentiment (at least ``positive_sentiment_min``; a theme that merely goes with fewer
  low scores may be neutral, e.g. ticket subjects answered on another scale). Those that also go
  with fewer low scores or less churn (ratio and interval below 1, q below alpha: ``protective_basis``)
  come first, then by customers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from feedback_miner.outcomes.rank import OUTCOMES, PAIN_LEVELS, adverse, outcome_components

#: A sub-theme holding this share of its parent's excess replaces the parent in the list.
REPLACE_SHARE = 0.5
#: A sub-theme holding this share of its parent's excess is named as the parent's driver.
DRIVER_SHARE = 0.25

_EXCESS = {o.key: o.excess for o in OUTCOMES}
_NAME = {o.key: o.name for o in OUTCOMES}

#: Columns of the "what customers value" table.
VALUE_COLUMNS = [
    "theme_id", "label", "parent_id", "n_customers", "sentiment_mean", "protective_basis",
    "low_csat_rr", "low_csat_rr_low", "low_csat_rr_high", "churn_rr", "churn_rr_low", "churn_rr_high", "quotes",
]


def main_outcomes(stats: pd.DataFrame, totals: dict[str, float], alpha: float) -> pd.Series:
    """Per theme, the adverse outcome with the largest priority term ('' when none is adverse)."""
    comp = outcome_components(stats, totals)
    for o in OUTCOMES:
        comp[o.key] = comp[o.key].where(adverse(stats, o, alpha), -1.0)
    best = comp.idxmax(axis=1)
    return best.where(comp.max(axis=1) >= 0, "")


def listed_pain_points(stats: pd.DataFrame, alpha: float) -> pd.DataFrame:
    """The pain points to list, with ``level, replaces, replaces_share, driver_id, driver_share``.

    ``stats`` holds every theme and sub-theme with ``evidence``, ``main_outcome`` and the excess
    columns; indexed by ``theme_id``.
    """
    pain = stats[stats["evidence"].isin(PAIN_LEVELS)]
    adverse_on = {o.key: adverse(stats, o, alpha) for o in OUTCOMES}
    rows = []
    for tid, row in pain[pain["is_broad"]].iterrows():
        kids = stats[stats["parent_id"] == tid]
        share = _shares(row, kids)
        main = row["main_outcome"]
        replacing = [k for k in share.index if share[k] >= REPLACE_SHARE and main and adverse_on[main][k]
                     and kids.loc[k, "evidence"] in PAIN_LEVELS]
        for k in replacing:
            # Other sub-themes may offset part of the parent's excess: a share above 1 reads as "all of it".
            rows.append({"theme_id": k, "level": "sub-theme", "replaces": tid, "replaces_share": min(share[k], 1.0)})
        if not replacing:
            top = share.idxmax() if len(share) and share.max() >= DRIVER_SHARE else None
            rows.append({"theme_id": tid, "level": "theme", "driver_id": top,
                         "driver_share": share[top] if top is not None else np.nan})
    listed = {r["theme_id"] for r in rows} | {r.get("replaces") for r in rows}
    for tid, row in pain[~pain["is_broad"]].iterrows():
        if tid in listed:
            continue
        parent = row["parent_id"]
        parent_listed = parent in listed and parent in pain.index
        own = [k for k in adverse_on if adverse_on[k][tid] and not (parent_listed and adverse_on[k].get(parent, False))]
        if not parent_listed or own:
            rows.append({"theme_id": tid, "level": "sub-theme"})
    cols = ["theme_id", "level", "replaces", "replaces_share", "driver_id", "driver_share"]
    return pd.DataFrame(rows, columns=cols).set_index("theme_id")


def _shares(parent: pd.Series, kids: pd.DataFrame) -> pd.Series:
    """Each sub-theme's share of the parent's excess on the parent's main outcome (NaN when not defined)."""
    main = parent.get("main_outcome")
    col = _EXCESS.get(main) if main else None
    if col is None or not len(kids) or not (parent.get(col, 0) > 0):
        return pd.Series(dtype=float)
    return (kids[col].clip(lower=0) / parent[col]).dropna()


def outcome_name(key: str) -> str:
    return _NAME.get(key, key)


def value_table(stats: pd.DataFrame, min_customers: int, alpha: float, positive_sentiment_min: float) -> pd.DataFrame:
    """What customers value (see the module docstring); columns :data:`VALUE_COLUMNS` except ``quotes``."""
    s = stats[stats["is_broad"] & (stats["n_customers"] >= min_customers) & (stats["evidence"] == "none")]
    s = s[s["sentiment_mean"] >= positive_sentiment_min]
    basis = pd.Series("", index=s.index)
    for effect, name in (("low_csat_rr", "fewer low scores"), ("churn_rr", "less churn")):
        protective = ((s[effect] < 1) & (s[effect + "_high"] < 1) & (s[effect.replace("_rr", "_q")] < alpha))
        basis = basis.where(~protective.fillna(False), (basis + ", " + name).str.lstrip(", "))
    s = s.assign(protective_basis=basis)
    s = s.assign(_p=(s["protective_basis"] != "").astype(int)).sort_values(
        ["_p", "n_customers", "sentiment_mean"], ascending=False)
    return s.reset_index().reindex(columns=[c for c in VALUE_COLUMNS if c != "quotes"])

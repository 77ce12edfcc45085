"""The outcomes stage: which themes go with churn and low scores, and how much they cost."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from feedback_miner.config import OutcomesConfig
from feedback_miner.outcomes.model import control_matrix, fit_adjusted
from feedback_miner.outcomes.rank import evidence_level, priority_score, trend_by_theme
from feedback_miner.outcomes.stats import bh_qvalues, risk_table, welch_difference
from feedback_miner.outcomes.tables import (
    counts_by_theme,
    customer_outcomes,
    indicator_matrix,
    mention_pairs,
    respondent_id,
    response_outcomes,
)

#: The contract columns of ``pain_points.csv`` (docs/architecture.md), in order.
PAIN_POINT_COLUMNS = [
    "rank",
    "theme_id",
    "label",
    "n_customers",
    "churn_rate",
    "baseline_churn_rate",
    "churn_rr",
    "churn_rr_low",
    "churn_rr_high",
    "churn_p",
    "churn_q",
    "low_csat_rate",
    "low_csat_rr",
    "low_csat_rr_low",
    "low_csat_rr_high",
    "low_csat_q",
    "adjusted_or",
    "adjusted_or_low",
    "adjusted_or_high",
    "sentiment_mean",
    "attributable_churn",
    "attributable_revenue",
    "trend",
    "evidence",
]
#: Extra columns appended after the contract ones.
EXTRA_COLUMNS = [
    "churn_rd",
    "churn_rd_low",
    "churn_rd_high",
    "adjusted_p",
    "adjusted_q",
    "n_responses",
    "low_csat_baseline_rate",
    "low_csat_p",
    "attributable_low_csat",
    "score_diff",
    "score_diff_low",
    "score_diff_high",
    "nps_impact",
    "priority_score",
]


@dataclass
class OutcomeResult:
    """What the outcomes stage returns.

    ``pain_points``: broad themes, ranked ones first (by ``priority_score``), then the ones with
    insufficient evidence (``rank`` NaN); columns :data:`PAIN_POINT_COLUMNS` + :data:`EXTRA_COLUMNS`.
    ``theme_stats``: the same statistics for every theme and sub-theme (``parent_id`` added), to be
    merged into ``themes.csv``. ``controls_used``: customer columns the adjusted model used.
    ``notes``: what was skipped and why, for the report.
    """

    pain_points: pd.DataFrame
    theme_stats: pd.DataFrame
    controls_used: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def link_outcomes(
    statements: pd.DataFrame,
    documents: pd.DataFrame,
    customers: pd.DataFrame | None,
    themes: pd.DataFrame,
    cfg: OutcomesConfig,
) -> OutcomeResult:
    """Link themes to churn and low CSAT/NPS and rank the pain points.

    A customer (or, without a customer id, a response) *mentions* a theme when any of its
    statements has it as broad theme or sub-theme. Churn statistics compare the customers who
    wrote feedback and mention the theme with those who wrote feedback and do not; low-score
    statistics compare scored responses the same way. ``attributable_churn`` = (churn_rate -
    baseline_churn_rate) x customers mentioning, with its sign kept (negative: mentioners churn
    less); ``attributable_revenue`` = revenue of the churned mentioners x the attributable fraction
    (churn_rate - baseline) / churn_rate. q-values are Benjamini-Hochberg within two families,
    broad themes and sub-themes, over themes with at least ``cfg.min_customers`` customers.
    The ranking formula is :func:`feedback_miner.outcomes.rank.priority_score`.
    """
    notes: list[str] = []
    th = themes.copy()
    th["theme_id"] = th["theme_id"].astype(str)
    if "parent_id" not in th:
        th["parent_id"] = None
    th["is_broad"] = th["parent_id"].isna()
    th["label"] = th["label"].fillna(th["theme_id"]) if "label" in th else th["theme_id"]
    ids = th["theme_id"].tolist()
    st = statements.reset_index(drop=True)

    unit = respondent_id(st)
    pairs = mention_pairs(st, unit, set(ids))
    out = th[["theme_id", "parent_id", "label", "is_broad"]].copy()
    out["n_customers"] = pairs.groupby("theme_id")["unit"].nunique().reindex(ids).fillna(0).astype(int).to_numpy()
    sufficient = (out["n_customers"] >= cfg.min_customers).to_numpy()
    out["sentiment_mean"] = _sentiment_mean(th, st, ids)

    churn_cols, total_churned, controls_used = _churn(st, customers, pairs, out, sufficient, cfg, notes)
    out = out.assign(**churn_cols)
    csat_cols, total_low = _low_scores(st, documents, out, sufficient, cfg, notes)
    out = out.assign(**csat_cols)

    pairs_time = _pairs_with_time(st, unit, set(ids))
    trend, note = trend_by_theme(pairs_time, pd.DataFrame({"unit": unit, "created_at": st.get("created_at")}), ids)
    out["trend"] = trend.to_numpy()
    if note:
        notes.append(note)

    # Churn evidence must survive the adjustment: use the larger of the raw and adjusted q.
    out["churn_q_eff"] = np.where(out["adjusted_q"].notna(), np.fmax(out["churn_q"], out["adjusted_q"]), out["churn_q"])
    churn_harm = (out["churn_rr"] > 1) & ((out["adjusted_or"] > 1) | out["adjusted_or"].isna())
    q_harm = np.fmin(out["churn_q_eff"].where(churn_harm), out["low_csat_q"].where(out["low_csat_rr"] > 1))
    out["evidence"] = evidence_level(out["n_customers"], q_harm, cfg.min_customers, cfg.alpha)
    out["priority_score"] = priority_score(out, total_churned, total_low)
    out.loc[~sufficient, "priority_score"] = np.nan

    ranked = out[out["is_broad"] & sufficient].sort_values(["priority_score", "theme_id"], ascending=[False, True])
    out["rank"] = pd.Series(np.arange(1, len(ranked) + 1), index=ranked.index).reindex(out.index).astype("Int64")
    columns = PAIN_POINT_COLUMNS + EXTRA_COLUMNS
    theme_stats = out[["parent_id", *columns]].reset_index(drop=True)
    pain = out[out["is_broad"]].sort_values(["rank", "n_customers"], ascending=[True, False], na_position="last")
    if (~sufficient[out["is_broad"].to_numpy()]).any():
        n_ins = int((~sufficient & out["is_broad"].to_numpy()).sum())
        notes.append(
            f"{n_ins} theme(s) with fewer than {cfg.min_customers} customers: insufficient evidence, not ranked"
        )
    return OutcomeResult(pain[columns].reset_index(drop=True), theme_stats, controls_used, notes)


def _sentiment_mean(th: pd.DataFrame, st: pd.DataFrame, ids: list[str]) -> np.ndarray:
    if "sentiment_mean" in th and th["sentiment_mean"].notna().any():
        return th["sentiment_mean"].astype(float).to_numpy()
    if "sentiment" not in st:
        return np.full(len(ids), np.nan)
    parts = [
        st[[col, "sentiment"]].rename(columns={col: "theme_id"}) for col in ("theme_id", "subtheme_id") if col in st
    ]
    s = pd.concat(parts).dropna()
    return s.groupby(s["theme_id"].astype(str))["sentiment"].mean().reindex(ids).to_numpy(float)


def _pairs_with_time(st: pd.DataFrame, unit: pd.Series, ids: set[str]) -> pd.DataFrame:
    if "created_at" not in st:
        return pd.DataFrame(columns=["unit", "theme_id", "created_at"])
    parts = [
        pd.DataFrame({"unit": unit.to_numpy(), "theme_id": st[col].astype("string"), "created_at": st["created_at"]})
        for col in ("theme_id", "subtheme_id")
        if col in st
    ]
    p = pd.concat(parts, ignore_index=True)
    return p[p["theme_id"].isin(ids)]


def _bh_by_family(p: np.ndarray, out: pd.DataFrame, sufficient: np.ndarray) -> np.ndarray:
    """BH q-values within broad themes and within sub-themes, over themes with enough customers."""
    q = np.full(len(p), np.nan)
    for family in (out["is_broad"].to_numpy(), ~out["is_broad"].to_numpy()):
        mask = family & sufficient
        q[mask] = bh_qvalues(p[mask])
    return q



def _risk_columns(rt: pd.DataFrame, prefix: str, baseline: str, extra: tuple[str, ...] = ()) -> dict[str, np.ndarray]:
    """A :func:`risk_table` as ``<prefix>_rate, <baseline>, <prefix>_rr[_low|_high], <prefix>_p`` (+ extra)."""
    out = {f"{prefix}_rate": rt["rate"].to_numpy(), baseline: rt["baseline_rate"].to_numpy()}
    for key in ("rr", "rr_low", "rr_high", "p", *extra):
        out[f"{prefix}_{key}"] = rt[key].to_numpy()
    return out

# The churn columns of the theme table (NaN where a statistic cannot be computed).
CHURN_COLUMNS = (
    "churn_rate", "baseline_churn_rate", "churn_rr", "churn_rr_low", "churn_rr_high", "churn_p", "churn_q",
    "churn_rd", "churn_rd_low", "churn_rd_high", "attributable_churn", "attributable_revenue",
    "adjusted_or", "adjusted_or_low", "adjusted_or_high", "adjusted_p", "adjusted_q",
)


def _churn(
    st: pd.DataFrame,
    customers: pd.DataFrame | None,
    pairs: pd.DataFrame,
    out: pd.DataFrame,
    sufficient: np.ndarray,
    cfg: OutcomesConfig,
    notes: list[str],
) -> tuple[dict[str, np.ndarray], float, list[str]]:
    """Churn columns per theme, the number of churned customers, and the controls used."""
    cols = {c: np.full(len(out), np.nan) for c in CHURN_COLUMNS}
    if customers is None or len(customers) == 0 or "churned" not in customers:
        notes.append("no customers source with a churned column: churn statistics and the adjusted model skipped")
        return cols, 0.0, []
    if "customer_id" not in st or st["customer_id"].isna().all():
        notes.append("statements carry no customer_id: churn statistics skipped")
        return cols, 0.0, []
    cust = customer_outcomes(st, customers)
    if len(cust) == 0 or cust["churned"].nunique() < 2:
        notes.append("no churn variation among customers who gave feedback: churn statistics skipped")
        return cols, float(cust["churned"].sum()) if len(cust) else 0.0, []
    y = cust.set_index("customer_id")["churned"]
    ids = out["theme_id"].tolist()
    n1, a = counts_by_theme(pairs, y, ids)
    total, events = float(len(y)), float(y.sum())
    rt = risk_table(a, n1, events - a, total - n1, cfg.alpha)
    cols.update(_risk_columns(rt, "churn", baseline="baseline_churn_rate",
                              extra=("rd", "rd_low", "rd_high")))
    cols["attributable_churn"] = rt["rd"].to_numpy() * n1
    cols["churn_q"] = _bh_by_family(cols["churn_p"], out, sufficient)
    if "revenue" in cust and cust["revenue"].notna().any():
        rev = cust.set_index("customer_id")["revenue"].astype(float).fillna(0) * y
        _, rev_churned = counts_by_theme(pairs, rev, ids)
        with np.errstate(divide="ignore", invalid="ignore"):
            frac = np.where(rt["rate"] > 0, rt["rd"] / rt["rate"], np.nan)
        cols["attributable_revenue"] = frac * rev_churned
    else:
        notes.append("no revenue column: attributable_revenue not computed")

    # Adjusted model on the broad themes frequent enough to estimate (events and non-events on both sides).
    n0, c = total - n1, events - a
    eligible = out["is_broad"].to_numpy() & sufficient & (a > 0) & (a < n1) & (n0 >= cfg.min_customers) & (c > 0)
    model_ids = [t for t, ok in zip(ids, eligible, strict=True) if ok]
    skipped = int((out["is_broad"].to_numpy() & sufficient & ~eligible).sum())
    if skipped:
        notes.append(
            f"adjusted model: {skipped} broad theme(s) left out (no churner or no non-churner among mentioners)"
        )
    indicators = indicator_matrix(pairs, y.index, model_ids)
    X_controls, controls_used, control_notes = control_matrix(cust, cfg.controls, cfg.min_customers)
    notes.extend(control_notes)
    X_controls.index = y.index
    adj = fit_adjusted(y.to_numpy(), indicators, X_controls, controls_used, cfg.alpha, cfg.bootstrap, cfg.seed)
    notes.extend(adj.notes)
    notes.append(f"adjusted model ({adj.method}) controls: {', '.join(controls_used) or 'none'}")
    table = adj.table.set_index("theme_id").reindex(ids)
    for col in ("adjusted_or", "adjusted_or_low", "adjusted_or_high", "adjusted_p"):
        cols[col] = table[col].to_numpy(float)
    cols["adjusted_q"] = bh_qvalues(cols["adjusted_p"])
    return cols, events, controls_used


def _low_scores(
    st: pd.DataFrame,
    documents: pd.DataFrame | None,
    out: pd.DataFrame,
    sufficient: np.ndarray,
    cfg: OutcomesConfig,
    notes: list[str],
) -> tuple[dict[str, np.ndarray], float]:
    """Low CSAT/NPS columns per theme and the number of low responses."""
    n = len(out)
    cols = {
        c: np.full(n, np.nan)
        for c in (
            "n_responses",
            "low_csat_rate",
            "low_csat_baseline_rate",
            "low_csat_rr",
            "low_csat_rr_low",
            "low_csat_rr_high",
            "low_csat_p",
            "low_csat_q",
            "attributable_low_csat",
            "score_diff",
            "score_diff_low",
            "score_diff_high",
            "nps_impact",
        )
    }
    if documents is None or len(documents) == 0 or not {"score", "score_scale"} <= set(documents.columns):
        notes.append("no documents with scores: low-CSAT statistics skipped")
        return cols, 0.0
    docs = response_outcomes(st, documents, cfg.low_csat_max, cfg.nps_detractor_max)
    if len(docs) == 0:
        notes.append("no scored responses (CSAT or NPS): low-CSAT statistics skipped")
        return cols, 0.0
    ids = out["theme_id"].tolist()
    pairs = mention_pairs(st, st["doc_id"].astype("string"), set(ids))
    d = docs.set_index("doc_id")
    n1, a = counts_by_theme(pairs, d["low"], ids)
    total, events = float(len(d)), float(d["low"].sum())
    cols["n_responses"] = n1
    if 0 < events < total:
        rt = risk_table(a, n1, events - a, total - n1, cfg.alpha)
        cols.update(_risk_columns(rt, "low_csat", baseline="low_csat_baseline_rate"))
        cols["attributable_low_csat"] = rt["rd"].to_numpy() * n1
        cols["low_csat_q"] = _bh_by_family(cols["low_csat_p"], out, sufficient)
    else:
        notes.append("all scored responses are low, or none is: low-CSAT risk ratios skipped")

    # Mean score difference on the scale most responses use (NPS and CSAT do not mix).
    scale = d["score_scale"].value_counts().index[0]
    ds = d[d["score_scale"] == scale]
    if d["score_scale"].nunique() > 1:
        notes.append(f"score_diff uses the {scale} responses only ({len(ds)} of {len(d)})")
    m1, s1 = counts_by_theme(pairs, ds["score"], ids)
    _, q1 = counts_by_theme(pairs, ds["score"] ** 2, ids)
    wd = welch_difference(m1, s1, q1, len(ds), ds["score"].sum(), (ds["score"] ** 2).sum(), cfg.alpha)
    cols.update(
        score_diff=wd["diff"].to_numpy(),
        score_diff_low=wd["diff_low"].to_numpy(),
        score_diff_high=wd["diff_high"].to_numpy(),
    )

    nps = d[d["score_scale"] == "nps"]
    if len(nps):
        # Thematic's impact: NPS points regained if this theme's detractors were passives (<= 0).
        _, det = counts_by_theme(pairs, (nps["score"] <= cfg.nps_detractor_max).astype(float), ids)
        cols["nps_impact"] = -100.0 * det / len(nps)
    return cols, events

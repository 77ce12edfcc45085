"""The outcomes stage: which themes go with churn and low scores, and how much they cost."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from feedback_miner.config import OutcomesConfig
from feedback_miner.outcomes.model import control_matrix, fit_adjusted
from feedback_miner.outcomes.quotes import pick_quotes
from feedback_miner.outcomes.rank import (
    EVIDENCE_LEVELS,
    PAIN_POINT_RULE,
    evidence_level,
    priority_score,
    trend_by_theme,
    trend_definition,
)
from feedback_miner.outcomes.select import VALUE_COLUMNS, listed_pain_points, main_outcomes, value_table
from feedback_miner.outcomes.stats import bh_qvalues, risk_table, welch_difference
from feedback_miner.outcomes.tables import (
    NO_THEME,
    counts_by_theme,
    customer_outcomes,
    indicator_matrix,
    mention_pairs,
    respondent_id,
    response_outcomes,
)
from feedback_miner.outcomes.tickets import TICKET_COLUMNS, ticket_metrics

#: The contract columns of ``pain_points.csv`` (docs/architecture.md), in order.
PAIN_POINT_COLUMNS = [
    "rank",
    "theme_id",
    "label",
    "level",
    "parent_id",
    "parent_label",
    "replaces",
    "driver_id",
    "driver_label",
    "driver_share",
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
    "ttr_median_hours",
    "ttr_ratio",
    "ttr_ratio_low",
    "ttr_ratio_high",
    "repeat_contact_rate",
    "repeat_contact_rr",
    "repeat_contact_rr_low",
    "repeat_contact_rr_high",
    "adjusted_or",
    "adjusted_or_low",
    "adjusted_or_high",
    "sentiment_mean",
    "attributable_churn",
    "attributable_revenue",
    "trend",
    "evidence",
    "evidence_basis",
    "main_outcome",
    "quotes",
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
    "replaces_share",
    *[c for c in TICKET_COLUMNS if c not in PAIN_POINT_COLUMNS],
    "priority_score",
]


@dataclass
class OutcomeResult:
    """What the outcomes stage returns.

    ``pain_points``: the listed pain points, ranked (``rank`` 1..k, by ``priority_score``), then the
    broad themes with insufficient evidence (``rank`` NaN); columns :data:`PAIN_POINT_COLUMNS` +
    :data:`EXTRA_COLUMNS`. ``values``: what customers value (:data:`~feedback_miner.outcomes.select.VALUE_COLUMNS`).
    ``theme_stats``: the statistics of every theme and sub-theme (``rank`` where listed), to be
    merged into ``themes.csv``. ``controls_used``: customer columns the adjusted model used.
    ``notes``: what was skipped and why. ``definitions``: evidence levels, the pain-point rule and
    the trend arrow in words, for the report and the brief.
    """

    pain_points: pd.DataFrame
    theme_stats: pd.DataFrame
    controls_used: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    values: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=VALUE_COLUMNS))
    definitions: dict = field(default_factory=dict)


def link_outcomes(
    statements: pd.DataFrame,
    documents: pd.DataFrame,
    customers: pd.DataFrame | None,
    themes: pd.DataFrame,
    cfg: OutcomesConfig,
) -> OutcomeResult:
    """Link themes to churn, low CSAT/NPS and ticket metrics; list the pain points and what customers value.

    A customer (or, without a customer id, a response) *mentions* a theme when any of its
    statements has it as broad theme or sub-theme. Churn statistics compare the customers who
    wrote feedback and mention the theme with those who wrote feedback and do not; low-score
    statistics compare scored responses the same way; ticket metrics are in
    :mod:`feedback_miner.outcomes.tickets`. ``attributable_churn`` = (churn_rate -
    baseline_churn_rate) x customers mentioning, with its sign kept (negative: mentioners churn
    less); ``attributable_revenue`` = revenue of the churned mentioners x the attributable fraction
    (churn_rate - baseline) / churn_rate. q-values are Benjamini-Hochberg within two families,
    broad themes and sub-themes, over themes with at least ``cfg.min_customers`` customers.
    Evidence and the pain-point rule: :mod:`feedback_miner.outcomes.rank`; level and the value
    list: :mod:`feedback_miner.outcomes.select`; quotes: :mod:`feedback_miner.outcomes.quotes`.
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
    ticket_cols, ticket_totals, ticket_notes = ticket_metrics(st, documents, out, cfg)
    out = out.assign(**ticket_cols)
    notes.extend(ticket_notes)

    trend, trend_days, note = trend_by_theme(_mentions_with_time(st, set(ids)), st.get("created_at"), ids,
                                             cfg.trend_days)
    out["trend"] = trend.to_numpy()
    if note:
        notes.append(note)

    # Churn evidence must survive the adjustment: use the larger of the raw and adjusted q.
    out["churn_q_eff"] = np.where(out["adjusted_q"].notna(), np.fmax(out["churn_q"], out["adjusted_q"]), out["churn_q"])
    totals = {"churn": total_churned, "low_csat": total_low, **ticket_totals}
    out["evidence"], out["evidence_basis"] = evidence_level(out, cfg.min_customers, cfg.alpha,
                                                            cfg.negative_sentiment_max)
    out["priority_score"] = priority_score(out, totals).where(sufficient)
    out["main_outcome"] = main_outcomes(out, totals, cfg.alpha)
    pain, theme_stats = _pain_table(out, unit.nunique(), cfg, notes)
    values = value_table(out.set_index("theme_id"), cfg.min_customers, cfg.alpha, cfg.positive_sentiment_min)
    low_docs = _low_docs(st, documents, cfg)
    neg = pick_quotes(st, low_docs, pain["theme_id"].tolist(), "negative", cfg.quotes_per_theme)
    pos = pick_quotes(st, low_docs, values["theme_id"].tolist(), "positive", cfg.quotes_per_theme)
    pain["quotes"] = pd.Series([neg.get(t, []) for t in pain["theme_id"]], index=pain.index, dtype=object)
    values["quotes"] = pd.Series([pos.get(t, []) for t in values["theme_id"]], index=values.index, dtype=object)
    definitions = {"evidence": dict(EVIDENCE_LEVELS), "pain_point": PAIN_POINT_RULE,
                   "trend": trend_definition(trend_days), "trend_days": trend_days,
                   "repeat_window_days": cfg.repeat_window_days}
    return OutcomeResult(pain, theme_stats, controls_used, notes, values, definitions)


def _pain_table(
    out: pd.DataFrame, n_units: int, cfg: OutcomesConfig, notes: list[str]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The listed pain points ranked (then the insufficient broad themes), and every theme's statistics."""
    by_id = out.set_index("theme_id", drop=False).rename_axis(None)
    listed = listed_pain_points(by_id, cfg.alpha)
    labels = by_id["label"]
    pain = by_id.loc[listed.index].join(listed)
    pain["parent_label"] = pain["parent_id"].map(labels)
    pain["driver_label"] = pain["driver_id"].map(labels)
    # Pain points with no measured outcome come after the measured ones, by share of customers x negativity.
    weak = pain["evidence"] == "weak"
    negativity = ((1 - pain["sentiment_mean"]) / 2).clip(0, 1).fillna(0.5)
    pain.loc[weak, "priority_score"] = 100 * pain["n_customers"] / max(n_units, 1) * negativity
    pain = pain.assign(_weak=weak).sort_values(["_weak", "priority_score", "theme_id"],
                                               ascending=[True, False, True]).drop(columns="_weak")
    pain["rank"] = np.arange(1, len(pain) + 1)
    # "other" (statements in no theme) is no theme: never listed, not even as "not judged".
    insufficient = by_id[by_id["is_broad"] & (by_id["evidence"] == "insufficient") & ~by_id["theme_id"].isin(NO_THEME)]
    if len(insufficient):
        notes.append(f"{len(insufficient)} theme(s) with fewer than {cfg.min_customers} customers: "
                     "insufficient evidence, not judged")
    pain = pd.concat([pain, insufficient.sort_values("n_customers", ascending=False)], ignore_index=True)
    pain["rank"] = pain["rank"].astype("Int64")
    pain["quotes"] = None
    columns = PAIN_POINT_COLUMNS + EXTRA_COLUMNS
    stats = by_id.drop(columns=["rank"], errors="ignore").join(pain.set_index("theme_id")["rank"].dropna())
    theme_stats = stats.reindex(columns=[c for c in columns if c != "quotes"]).reset_index(drop=True)
    return pain.reindex(columns=columns).reset_index(drop=True), theme_stats


def _low_docs(st: pd.DataFrame, documents: pd.DataFrame | None, cfg: OutcomesConfig) -> set[str]:
    """doc_ids of the low-score responses (CSAT <= low_csat_max, NPS <= nps_detractor_max)."""
    if documents is None or not len(documents) or not {"score", "score_scale"} <= set(documents.columns):
        return set()
    docs = response_outcomes(st, documents, cfg.low_csat_max, cfg.nps_detractor_max)
    return set(docs.loc[docs["low"] == 1, "doc_id"])


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


def _mentions_with_time(st: pd.DataFrame, ids: set[str]) -> pd.DataFrame:
    """``theme_id, created_at``: one row per statement and theme it carries (broad or sub-theme)."""
    if "created_at" not in st:
        return pd.DataFrame(columns=["theme_id", "created_at"])
    parts = [
        pd.DataFrame({"theme_id": st[col].astype("string"), "created_at": st["created_at"]})
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

    # Adjusted models, one over the broad themes and one over the sub-themes (a sub-theme's raw link
    # must survive the same adjustment as a broad theme's), on the themes frequent enough to estimate
    # (churners and non-churners on both sides).
    n0, c = total - n1, events - a
    X_controls, controls_used, control_notes = control_matrix(cust, cfg.controls, cfg.min_customers)
    notes.extend(control_notes)
    X_controls.index = y.index
    is_broad = out["is_broad"].to_numpy()
    for family, name in ((is_broad, "broad theme"), (~is_broad, "sub-theme")):
        eligible = family & sufficient & (a > 0) & (a < n1) & (n0 >= cfg.min_customers) & (c > 0)
        model_ids = [t for t, ok in zip(ids, eligible, strict=True) if ok]
        skipped = int((family & sufficient & ~eligible).sum())
        if skipped:
            notes.append(
                f"adjusted model: {skipped} {name}(s) left out (no churner or no non-churner among mentioners)"
            )
        if not model_ids:
            continue
        indicators = indicator_matrix(pairs, y.index, model_ids)
        adj = fit_adjusted(y.to_numpy(), indicators, X_controls, controls_used, cfg.alpha, cfg.bootstrap, cfg.seed)
        notes.extend(adj.notes)
        notes.append(f"adjusted model of the {name}s ({adj.method}) controls: {', '.join(controls_used) or 'none'}")
        table = adj.table.set_index("theme_id").reindex(ids)
        for col in ("adjusted_or", "adjusted_or_low", "adjusted_or_high", "adjusted_p"):
            cols[col] = np.where(family, table[col].to_numpy(float), cols[col])
        cols["adjusted_q"] = np.where(family, bh_qvalues(np.where(family, cols["adjusted_p"], np.nan)),
                                      cols["adjusted_q"])
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

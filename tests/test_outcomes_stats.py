"""The outcomes statistics against scipy / statsmodels and hand-computed values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.contingency_tables import Table2x2
from statsmodels.stats.multitest import multipletests

from feedback_miner.config import OutcomesConfig
from feedback_miner.outcomes import link_outcomes
from feedback_miner.outcomes.rank import confidence, priority_score, trend_by_theme
from feedback_miner.outcomes.stats import bh_qvalues, risk_table, welch_difference


def _one(a: int, n1: int, c: int, n0: int) -> pd.Series:
    return risk_table(np.array([a]), np.array([n1]), np.array([c]), np.array([n0])).iloc[0]


def test_risk_ratio_ci_and_chi2_match_statsmodels_and_scipy():
    # mentioners: 30 of 100 churned; others: 45 of 400.
    row = _one(30, 100, 45, 400)
    table = np.array([[30, 70], [45, 355]])
    ref = Table2x2(table)
    assert row["rr"] == pytest.approx(ref.riskratio)
    assert (row["rr_low"], row["rr_high"]) == pytest.approx(ref.riskratio_confint())
    assert row["rr"] == pytest.approx((30 / 100) / (45 / 400))
    assert row["test"] == "chi2"
    assert row["p"] == pytest.approx(stats.chi2_contingency(table, correction=False).pvalue)
    assert row["rd"] == pytest.approx(0.3 - 0.1125)
    assert row["rd_low"] < row["rd"] < row["rd_high"]


def test_small_table_uses_fisher_exact():
    row = _one(3, 10, 2, 42)
    assert row["test"] == "fisher"
    assert row["p"] == pytest.approx(stats.fisher_exact([[3, 7], [2, 40]]).pvalue)


def test_zero_cell_gets_haldane_correction():
    row = _one(0, 20, 10, 100)
    ref = Table2x2(np.array([[0, 20], [10, 90]]) + 0.5, shift_zeros=False)
    assert row["rate"] == 0.0
    assert row["rr"] == pytest.approx(ref.riskratio)
    assert (row["rr_low"], row["rr_high"]) == pytest.approx(ref.riskratio_confint())
    assert row["p"] == pytest.approx(stats.fisher_exact([[0, 20], [10, 90]]).pvalue)


def test_degenerate_tables_are_nan():
    rt = risk_table(np.array([0, 5]), np.array([0, 10]), np.array([5, 0]), np.array([10, 0]))
    assert rt[["rr", "rr_low", "p"]].isna().all().all()


def test_bh_qvalues_hand_computed_and_statsmodels():
    p = np.array([0.01, 0.04, 0.03, 0.2, np.nan])
    q = bh_qvalues(p)
    assert q[:4] == pytest.approx([0.04, 0.04 * 4 / 3, 0.04 * 4 / 3, 0.2])
    assert np.isnan(q[4])
    assert q[:4] == pytest.approx(multipletests(p[:4], method="fdr_bh")[1])


def test_welch_difference_matches_scipy():
    rng = np.random.default_rng(1)
    x1, x0 = rng.normal(3.0, 1.0, 40), rng.normal(3.6, 1.5, 300)
    allx = np.r_[x1, x0]
    wd = welch_difference(
        np.array([len(x1)]),
        np.array([x1.sum()]),
        np.array([(x1**2).sum()]),
        len(allx),
        allx.sum(),
        (allx**2).sum(),
    ).iloc[0]
    ref = stats.ttest_ind(x1, x0, equal_var=False).confidence_interval(0.95)
    assert wd["diff"] == pytest.approx(x1.mean() - x0.mean())
    assert (wd["diff_low"], wd["diff_high"]) == pytest.approx((ref.low, ref.high))


def test_nps_impact_and_low_score_flags_by_hand():
    # 10 NPS responses, one customer each; theme A is in 4 of them, 2 of which are detractors (<= 6).
    scores = [2, 5, 9, 10, 3, 8, 9, 10, 7, 9]
    theme = ["A", "A", "A", "A", "B", "B", "B", "B", "B", "B"]
    docs = pd.DataFrame({"doc_id": [f"d{i}" for i in range(10)], "score": scores, "score_scale": "nps"})
    st = pd.DataFrame(
        {
            "statement_id": [f"d{i}#0" for i in range(10)],
            "doc_id": docs["doc_id"],
            "customer_id": [f"c{i}" for i in range(10)],
            "theme_id": theme,
        }
    )
    themes = pd.DataFrame({"theme_id": ["A", "B"], "parent_id": None, "label": ["a", "b"]})
    res = link_outcomes(st, docs, None, themes, OutcomesConfig(min_customers=1))
    a = res.theme_stats.set_index("theme_id").loc["A"]
    assert a["nps_impact"] == pytest.approx(-100 * 2 / 10)
    assert a["low_csat_rate"] == pytest.approx(2 / 4)  # detractors among A's responses
    assert a["low_csat_rr"] == pytest.approx((2 / 4) / (1 / 6))
    assert a["score_diff"] == pytest.approx(np.mean([2, 5, 9, 10]) - np.mean([3, 8, 9, 10, 7, 9]))


def test_trend_is_growth_of_smoothed_share_between_halves():
    t_early, t_recent = pd.Timestamp("2025-01-01", tz="UTC"), pd.Timestamp("2025-03-01", tz="UTC")
    units = pd.DataFrame({"unit": [f"u{i}" for i in range(8)], "created_at": [t_early] * 4 + [t_recent] * 4})
    # theme A: 1 of 4 respondents early, 3 of 4 lately.
    mentions = pd.DataFrame({"theme_id": "A", "created_at": [t_early, t_recent, t_recent, t_recent]})
    # Default period: half the span (59 days -> 30): the early statements are the period before.
    trend, days, note = trend_by_theme(mentions, units["created_at"], ["A", "B"])
    assert note is None and days == 30
    assert trend["A"] == pytest.approx(((3 + 0.5) / 5) / ((1 + 0.5) / 5) - 1)
    assert trend["B"] == pytest.approx(0.0)  # never mentioned: no growth


def test_priority_formula_by_hand():
    base = {
        "attributable_churn": 10.0,
        "churn_q_eff": 0.001,
        "attributable_low_csat": np.nan,
        "low_csat_q": np.nan,
        "sentiment_mean": 0.0,
        "trend": 0.0,
    }
    rows = pd.DataFrame(
        [
            base,
            {**base, "sentiment_mean": -1.0},
            {**base, "trend": 3.0},
            {**base, "churn_q_eff": 0.1},
            {**base, "attributable_churn": -5.0},
        ]
    )
    score = priority_score(rows, {"churn": 100, "low_csat": 0})
    # 100 * (10/100 * 1) * (0.5 + 0.5) * 1 = 10; negativity 1 -> x1.5; trend clipped to 1 -> x1.5;
    # q = 0.1 -> confidence 0.5; negative excess -> 0.
    assert score.tolist() == pytest.approx([10.0, 15.0, 15.0, 5.0, 0.0])
    assert confidence(pd.Series([0.001, 0.01, 0.1, 1.0])).tolist() == pytest.approx([1, 1, 0.5, 0])

"""Two-group statistics used by the outcomes stage, vectorized over themes.

Every function takes arrays with one element per theme, so one call covers all themes.
The formulas are the textbook ones; ``tests/test_outcomes_stats.py`` checks them against
scipy and statsmodels.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import confint_proportions_2indep

#: Below this expected cell count the chi-square approximation is poor: use Fisher's exact test.
MIN_EXPECTED = 5.0


def risk_table(
    events_1: np.ndarray, n_1: np.ndarray, events_0: np.ndarray, n_0: np.ndarray, alpha: float = 0.05
) -> pd.DataFrame:
    """Risk ratio, risk difference and test of a 2x2 table per element.

    Group 1 is "mentions the theme", group 0 "does not". Returns one row per element with
    ``rate, baseline_rate`` (raw proportions), ``rr, rr_low, rr_high`` (log-RR Wald / Katz
    interval; when any cell is zero, 0.5 is added to all four cells (Haldane-Anscombe), so ``rr``
    may then differ from ``rate / baseline_rate``), ``rd, rd_low, rd_high`` (Newcombe hybrid score
    interval, well-behaved with zero cells), ``p`` (two-sided; Fisher exact when any expected
    count is below 5, Pearson chi-square without continuity correction otherwise) and ``test``.
    Elements with an empty group or no variation in the outcome get NaN.
    """
    a = np.asarray(events_1, float)
    n1 = np.asarray(n_1, float)
    c = np.asarray(events_0, float)
    n0 = np.asarray(n_0, float)
    b, d = n1 - a, n0 - c
    z = stats.norm.ppf(1 - alpha / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = a / n1
        base = c / n0
        # Haldane-Anscombe correction only where a cell is zero.
        shift = np.where((a == 0) | (b == 0) | (c == 0) | (d == 0), 0.5, 0.0)
        a_, b_, c_, d_ = a + shift, b + shift, c + shift, d + shift
        log_rr = np.log(a_ / (a_ + b_)) - np.log(c_ / (c_ + d_))
        se = np.sqrt(1 / a_ - 1 / (a_ + b_) + 1 / c_ - 1 / (c_ + d_))
    valid = (n1 > 0) & (n0 > 0) & ((a + c) > 0) & ((b + d) > 0)
    out = pd.DataFrame(
        {
            "rate": rate,
            "baseline_rate": base,
            "rr": np.exp(log_rr),
            "rr_low": np.exp(log_rr - z * se),
            "rr_high": np.exp(log_rr + z * se),
            "rd": rate - base,
        }
    )
    rd_low = np.full(len(a), np.nan)
    rd_high = np.full(len(a), np.nan)
    if valid.any():
        lo, hi = confint_proportions_2indep(
            a[valid], n1[valid], c[valid], n0[valid], method="newcomb", compare="diff", alpha=alpha
        )
        rd_low[valid], rd_high[valid] = lo, hi
    out["rd_low"], out["rd_high"] = rd_low, rd_high
    p, test = two_by_two_pvalue(a, n1, c, n0)
    out["p"], out["test"] = p, test
    cols = ["rr", "rr_low", "rr_high", "rd", "p"]
    out.loc[~valid, cols] = np.nan
    out.loc[~valid, "test"] = None
    return out


def two_by_two_pvalue(a: np.ndarray, n1: np.ndarray, c: np.ndarray, n0: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Two-sided p-value of independence per 2x2 table: Fisher exact for small expected counts."""
    b, d = n1 - a, n0 - c
    n = n1 + n0
    events = a + c
    with np.errstate(divide="ignore", invalid="ignore"):
        expected = np.stack([n1 * events / n, n1 * (n - events) / n, n0 * events / n, n0 * (n - events) / n])
        chi2 = n * (a * d - b * c) ** 2 / (n1 * n0 * events * (n - events))
    p = stats.chi2.sf(chi2, df=1)
    small = np.nanmin(expected, axis=0) < MIN_EXPECTED
    test = np.where(small, "fisher", "chi2").astype(object)
    for i in np.flatnonzero(small & np.isfinite(chi2)):
        table = np.array([[a[i], b[i]], [c[i], d[i]]], dtype=np.int64)
        p[i] = stats.fisher_exact(table).pvalue
    return p, test


def bh_qvalues(p: np.ndarray | pd.Series) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (q); NaN p-values stay NaN and are not counted."""
    p = np.asarray(p, float)
    q = np.full(len(p), np.nan)
    ok = np.isfinite(p)
    if ok.any():
        q[ok] = multipletests(p[ok], method="fdr_bh")[1]
    return q


def welch_difference(
    n_1: np.ndarray,
    sum_1: np.ndarray,
    sumsq_1: np.ndarray,
    n_total: float,
    sum_total: float,
    sumsq_total: float,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Mean difference (group 1 minus the rest) with a Welch t interval, from sufficient statistics.

    Group 0 is the complement of group 1 within the totals. Returns ``diff, diff_low, diff_high``.
    """
    n1 = np.asarray(n_1, float)
    s1 = np.asarray(sum_1, float)
    q1 = np.asarray(sumsq_1, float)
    n0 = n_total - n1
    s0, q0 = sum_total - s1, sumsq_total - q1
    with np.errstate(divide="ignore", invalid="ignore"):
        m1, m0 = s1 / n1, s0 / n0
        v1 = np.clip((q1 - n1 * m1**2) / (n1 - 1), 0, None)
        v0 = np.clip((q0 - n0 * m0**2) / (n0 - 1), 0, None)
        se2 = v1 / n1 + v0 / n0
        dof = se2**2 / ((v1 / n1) ** 2 / (n1 - 1) + (v0 / n0) ** 2 / (n0 - 1))
        half = stats.t.ppf(1 - alpha / 2, dof) * np.sqrt(se2)
    diff = m1 - m0
    bad = (n1 < 2) | (n0 < 2)
    out = pd.DataFrame({"diff": diff, "diff_low": diff - half, "diff_high": diff + half})
    out.loc[bad, ["diff_low", "diff_high"]] = np.nan
    return out


#: Draws from each group's bootstrap distribution of the median (cheap: no resampling is done).
MEDIAN_DRAWS = 4000


def bootstrap_medians(values: np.ndarray, n_draws: int, rng: np.random.Generator) -> np.ndarray:
    """Draws from the exact bootstrap distribution of a sample's (lower) median.

    The median of a resample of size n is its k-th order statistic, k = ceil(n / 2); it is at
    most the j-th smallest value x_(j) exactly when at least k resampled values are, so
    ``P(median* <= x_(j)) = P(Binomial(n, j / n) >= k)`` (Efron 1982). Drawing from that CDF gives
    the same distribution as resampling ``n_draws`` times, at O(n) instead of O(n x n_draws).
    """
    x = np.sort(np.asarray(values, float))
    n = len(x)
    k = (n + 1) // 2
    cdf = stats.binom.sf(k - 1, n, np.arange(1, n + 1) / n)
    return x[np.minimum(np.searchsorted(cdf, rng.random(n_draws)), n - 1)]


def median_ratio(all_values: np.ndarray, members: list[np.ndarray], alpha: float = 0.05, seed: int = 0) -> pd.DataFrame:
    """Ratio of medians, group 1 over the rest, with a percentile bootstrap interval, per element.

    ``all_values``: one strictly positive value per unit (e.g. hours to resolve a ticket); ``members[i]``:
    the indices of element i's units (group 1); group 0 is every other unit. The interval is the
    percentile interval of the ratio of two independent bootstrap medians (:func:`bootstrap_medians`),
    ``p`` is the two-sided Mann-Whitney U test of group 1 against group 0. Returns ``median_1,
    median_0, ratio, ratio_low, ratio_high, p``; NaN where a group has fewer than 2 units.
    """
    v = np.asarray(all_values, float)
    rng = np.random.default_rng(seed)
    rows = []
    for idx in members:
        inside = np.zeros(len(v), dtype=bool)
        inside[idx] = True
        x1, x0 = v[inside], v[~inside]
        if len(x1) < 2 or len(x0) < 2:
            rows.append((np.nan,) * 6)
            continue
        m1, m0 = float(np.median(x1)), float(np.median(x0))
        draws = np.log(bootstrap_medians(x1, MEDIAN_DRAWS, rng)) - np.log(bootstrap_medians(x0, MEDIAN_DRAWS, rng))
        lo, hi = np.exp(np.quantile(draws, [alpha / 2, 1 - alpha / 2]))
        p = stats.mannwhitneyu(x1, x0, alternative="two-sided", method="asymptotic").pvalue
        rows.append((m1, m0, m1 / m0 if m0 > 0 else np.nan, lo, hi, p))
    return pd.DataFrame(rows, columns=["median_1", "median_0", "ratio", "ratio_low", "ratio_high", "p"])

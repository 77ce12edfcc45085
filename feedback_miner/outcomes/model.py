"""Multivariable churn model: theme indicators plus customer controls, adjusted odds ratios."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_limits

#: Controls looked for in the customers table, in this order.
KNOWN_CONTROLS = ("segment", "plan", "revenue", "tenure_days")
_CATEGORICAL = {"segment", "plan"}
# A control missing for more than this share of customers is dropped rather than imputed.
_MAX_MISSING = 0.5
# Coefficients this large (odds ratio > 3e6) only come from (quasi-)separation.
_MAX_ABS_COEF = 15.0


@dataclass
class AdjustedResult:
    """Adjusted odds ratios of the theme indicators.

    ``table`` columns: ``theme_id, adjusted_or, adjusted_or_low, adjusted_or_high, adjusted_p``.
    """

    table: pd.DataFrame
    controls_used: list[str]
    method: str  # "logit-mle", "l2-bootstrap", "l2" or "none"
    notes: list[str] = field(default_factory=list)


def control_matrix(
    customers: pd.DataFrame, controls: list[str] | None, min_level: int
) -> tuple[pd.DataFrame, list[str], list[str]]:
    """Design columns for the controls present.

    Categorical controls (segment, plan) become dummies, the most frequent level being the
    reference and levels with fewer than ``min_level`` customers pooled into "other";
    ``revenue`` enters as log(1 + revenue); ``tenure_days`` as years. Missing numeric values
    are imputed with the median. Returns ``(X, controls_used, notes)``.
    """
    wanted = list(KNOWN_CONTROLS) if controls is None else list(controls)
    notes: list[str] = []
    cols: list[pd.DataFrame] = []
    used: list[str] = []
    for name in wanted:
        if name not in customers:
            if controls is not None:
                notes.append(f"control '{name}' requested but not in the customers table")
            continue
        s = customers[name]
        missing = s.isna().mean()
        if missing > _MAX_MISSING:
            notes.append(f"control '{name}' dropped: {missing:.0%} missing")
            continue
        if name in _CATEGORICAL or not pd.api.types.is_numeric_dtype(s):
            s = s.astype("string").fillna("unknown")
            counts = s.value_counts()
            s = s.where(s.isin(counts[counts >= min_level].index), "other")
            if s.nunique() < 2:
                notes.append(f"control '{name}' dropped: a single level")
                continue
            ref = s.value_counts().index[0]
            dummies = pd.get_dummies(s, prefix=name, dtype=float).drop(columns=f"{name}_{ref}")
            cols.append(dummies)
        else:
            x = s.astype(float)
            if name == "revenue":
                x = np.log1p(x.clip(lower=0))
            elif name == "tenure_days":
                x = x / 365.25
            if missing > 0:
                notes.append(f"control '{name}': {missing:.0%} missing, imputed with the median")
            x = x.fillna(x.median())
            if x.std() == 0:
                notes.append(f"control '{name}' dropped: constant")
                continue
            cols.append(x.rename(name).to_frame())
        used.append(name)
    X = pd.concat(cols, axis=1) if cols else pd.DataFrame(index=customers.index)
    return X.set_axis(customers.index), used, notes


def fit_adjusted(*args, **kwargs) -> AdjustedResult:
    """See :func:`_fit_adjusted`; runs with single-threaded BLAS.

    The design matrices are small (customers x ~100 columns): on a loaded machine multithreaded
    BLAS spends more time contending than computing (measured 35x slower on 2 busy cores).
    """
    with threadpool_limits(limits=1, user_api="blas"):
        return _fit_adjusted(*args, **kwargs)


def _fit_adjusted(
    y: np.ndarray,
    themes: pd.DataFrame,
    controls: pd.DataFrame,
    controls_used: list[str],
    alpha: float = 0.05,
    bootstrap: int = 200,
    seed: int = 0,
) -> AdjustedResult:
    """Logistic regression of churn on theme indicators (0/1 columns) plus controls.

    Maximum likelihood (statsmodels ``Logit``) first; when it fails to converge, hits
    (quasi-)separation or a singular information matrix, an L2-penalized fit (scikit-learn)
    with percentile bootstrap CIs over customers (``bootstrap`` resamples; 0: no CIs) instead.
    """
    theme_ids = list(themes.columns)
    notes: list[str] = []
    empty = pd.DataFrame(
        {
            "theme_id": theme_ids,
            "adjusted_or": np.nan,
            "adjusted_or_low": np.nan,
            "adjusted_or_high": np.nan,
            "adjusted_p": np.nan,
        }
    )
    if not theme_ids or y.sum() == 0 or y.sum() == len(y):
        return AdjustedResult(empty, controls_used, "none", ["adjusted model skipped: no theme or no churn variation"])
    controls, merged = _drop_separated_dummies(y, controls)
    if merged:
        notes.append(
            "adjusted model: control level(s) without churn variation merged into the reference: " + ", ".join(merged)
        )
    X = pd.concat([themes.astype(float), controls.astype(float)], axis=1)
    X = sm.add_constant(X, has_constant="add")
    k = len(theme_ids)
    res = _fit_mle(y, X)
    if res is not None:
        z = stats.norm.ppf(1 - alpha / 2)
        beta, se = res.params.to_numpy()[1 : k + 1], res.bse.to_numpy()[1 : k + 1]
        table = empty.assign(
            adjusted_or=np.exp(beta),
            adjusted_or_low=np.exp(beta - z * se),
            adjusted_or_high=np.exp(beta + z * se),
            adjusted_p=res.pvalues.to_numpy()[1 : k + 1],
        )
        return AdjustedResult(table, controls_used, "logit-mle", notes)

    notes.append(
        "adjusted model: maximum likelihood failed (separation or non-convergence); "
        "used an L2-penalized logistic regression"
    )
    Xv = X.to_numpy()[:, 1:]
    beta = _fit_l2(y, Xv)[:k]
    table = empty.assign(adjusted_or=np.exp(beta))
    if bootstrap <= 0:
        notes.append("adjusted model: no bootstrap requested, adjusted OR intervals are NaN")
        return AdjustedResult(table, controls_used, "l2", notes)
    rng = np.random.default_rng(seed)
    draws = np.full((bootstrap, k), np.nan)
    for i in range(bootstrap):
        idx = rng.integers(0, len(y), len(y))
        if 0 < y[idx].sum() < len(idx):
            draws[i] = _fit_l2(y[idx], Xv[idx])[:k]
    lo, hi = np.nanquantile(draws, [alpha / 2, 1 - alpha / 2], axis=0)
    # Two-sided percentile-bootstrap p-value of "coefficient = 0".
    p = np.clip(2 * np.minimum(np.nanmean(draws <= 0, axis=0), np.nanmean(draws >= 0, axis=0)), 0, 1)
    table = table.assign(adjusted_or_low=np.exp(lo), adjusted_or_high=np.exp(hi), adjusted_p=p)
    notes.append(f"adjusted model: CIs from {bootstrap} bootstrap resamples of customers")
    return AdjustedResult(table, controls_used, "l2-bootstrap", notes)


def _drop_separated_dummies(y: np.ndarray, controls: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Drop 0/1 control columns whose customers all churned or none did.

    Such a level separates the data (its coefficient runs to infinity); dropping the dummy merges
    the level into the reference, which keeps maximum likelihood usable for the themes.
    """
    merged = []
    for col in controls.columns:
        x = controls[col].to_numpy()
        if set(np.unique(x)) <= {0.0, 1.0}:
            ys = y[x == 1]
            if len(ys) and (ys.min() == ys.max()):
                merged.append(col)
    return controls.drop(columns=merged), merged


def _fit_mle(y: np.ndarray, X: pd.DataFrame):
    """statsmodels Logit, or None when the estimates cannot be trusted."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            # Newton converges in < 10 steps when the MLE exists; more only chases a diverging coefficient.
            res = sm.Logit(y, X).fit(method="newton", maxiter=35, disp=0)
        except (np.linalg.LinAlgError, ValueError, OverflowError):
            return None
        bse = res.bse.to_numpy()
    if (
        not res.mle_retvals.get("converged", False)
        or not np.all(np.isfinite(bse))
        or np.any(np.abs(res.params.to_numpy()) > _MAX_ABS_COEF)
    ):
        return None
    return res


def _fit_l2(y: np.ndarray, X: np.ndarray) -> np.ndarray:
    # C=1 on 0/1 indicators and O(1)-scaled controls: a mild prior (sd ~ 1 on the log-odds scale).
    model = LogisticRegression(C=1.0, solver="newton-cholesky", max_iter=100)
    model.fit(X, y)
    return model.coef_[0]

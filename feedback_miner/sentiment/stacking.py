"""Stacking an embedding model and an n-gram model into one linear map.

The meta model reads the base models' logits, ``z_e = x W_e + b_e`` and ``z_t = t W_t + b_t``, and is
linear in them: ``z_e A_e + z_t A_t + c``. So the stacked head is still one linear map,
``x (W_e A_e) + t (W_t A_t) + (b_e A_e + b_t A_t + c)``, and is saved like a joint one.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import sparse


def _linear(clf) -> tuple[np.ndarray, np.ndarray]:
    """One logit column per class (sklearn keeps a single one for binary problems)."""
    w, b = clf.coef_.T, clf.intercept_
    if w.shape[1] == 1:
        w, b = np.hstack([-w / 2, w / 2]), np.concatenate([-b / 2, b / 2])
    return w, b


def fit_stacked(
    x: np.ndarray,
    text_x: sparse.csr_matrix,
    y: np.ndarray,
    weight: np.ndarray,
    groups: Sequence[str] | None,
    C: float,
    text_C: float,
    stack_folds: int,
    random_state: int,
) -> tuple[np.ndarray, np.ndarray, dict]:
    """The folded ``[embedding | n-grams] x classes`` map, its bias, and the stacking info.

    One logistic regression on ``x`` (``C``), one on ``text_x`` (``text_C``), and a meta logistic
    regression (C=1) on their ``stack_folds``-fold out-of-fold logits, folds stratified by label
    (within ``groups`` when given).
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold

    def lr(c: float) -> LogisticRegression:
        return LogisticRegression(C=c, max_iter=5000, random_state=random_state)

    k = len(np.unique(y))
    strata = y.astype(str) if groups is None else np.char.add(np.asarray(groups, dtype=str), y.astype(str))
    folds = min(stack_folds, int(np.unique(strata, return_counts=True)[1].min()))
    if folds < 2:
        raise ValueError(f"stacking needs at least 2 examples of every label (per group); stack_folds={folds}")
    blocks = [(x, C), (text_x, text_C)]
    z = np.zeros((len(y), k * len(blocks)))
    split = StratifiedKFold(folds, shuffle=True, random_state=random_state).split(x, strata)
    for fit_idx, oof_idx in split:
        for j, (f, c) in enumerate(blocks):
            w, b = _linear(lr(c).fit(f[fit_idx], y[fit_idx], sample_weight=weight[fit_idx]))
            z[oof_idx, j * k : (j + 1) * k] = f[oof_idx] @ w + b
    a, c_meta = _linear(lr(1.0).fit(z, y, sample_weight=weight))
    w_all, b_all = [], c_meta.astype(np.float64)
    for j, (f, c) in enumerate(blocks):
        w, b = _linear(lr(c).fit(f, y, sample_weight=weight))
        a_j = a[j * k : (j + 1) * k]
        w_all.append(w @ a_j)
        b_all = b_all + b @ a_j
    return np.vstack(w_all), b_all, {"folds": folds, "meta_coef": np.round(a, 4).tolist()}

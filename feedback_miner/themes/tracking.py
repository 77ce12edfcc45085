"""Theme identity across runs: tonight's themes are matched one-to-one to last run's.

First by the statements they share (when last run's assignments are known), then, for themes
with no such match, by centroid similarity.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment


def match_centroids(new: np.ndarray, old: np.ndarray, threshold: float) -> list[int | None]:
    """For each new centroid, the index of its matched old centroid, or None.

    Hungarian assignment maximising the total cosine similarity; a pair below ``threshold`` is
    no match, so a theme that truly vanished is not forced onto a newcomer.
    """
    out: list[int | None] = [None] * len(new)
    if len(new) == 0 or len(old) == 0:
        return out
    S = np.asarray(new, dtype=np.float64) @ np.asarray(old, dtype=np.float64).T
    rows, cols = linear_sum_assignment(-S)
    for r, c in zip(rows, cols, strict=True):
        if S[r, c] >= threshold:
            out[r] = int(c)
    return out


def match_by_overlap(
    new: Sequence[int], old: Sequence[object], min_overlap: float
) -> dict[int, str]:
    """Map tonight's group index -> last run's theme id by shared statements.

    ``new`` and ``old`` are, for each statement present in both runs, its group tonight (-1:
    none) and its theme id last run (None: none). Hungarian assignment on the contingency table
    maximises the number of statements that keep their id; a pair is a match when the shared
    statements are at least ``min_overlap`` of the larger of the two (on common statements), so a
    stray statement does not carry an id over.
    """
    df = pd.DataFrame({"new": np.asarray(new, dtype=np.int64), "old": pd.Series(list(old), dtype=object)})
    df = df[(df["new"] >= 0) & df["old"].notna()]
    if df.empty:
        return {}
    table = pd.crosstab(df["new"], df["old"].astype(str))
    M = table.to_numpy(dtype=np.float64)
    rows, cols = linear_sum_assignment(-M)
    n_new, n_old = M.sum(axis=1), M.sum(axis=0)
    out = {}
    for r, c in zip(rows, cols, strict=True):
        if M[r, c] > 0 and M[r, c] >= min_overlap * max(n_new[r], n_old[c]):
            out[int(table.index[r])] = str(table.columns[c])
    return out


def next_theme_number(ids: Iterable[object]) -> int:
    """First free number n for a new ``T{n:04d}`` id, above every broad ``T`` id in ``ids``."""
    nums = [int(m.group(1)) for x in ids if isinstance(x, str) and (m := re.fullmatch(r"T(\d+)", x))]
    return max(nums, default=0) + 1


def next_subtheme_number(parent: str, ids: Iterable[object]) -> int:
    """First free number n for a new ``<parent>.n`` sub-theme id."""
    pat = re.compile(re.escape(parent) + r"\.(\d+)")
    nums = [int(m.group(1)) for x in ids if isinstance(x, str) and (m := pat.fullmatch(x))]
    return max(nums, default=0) + 1


def centroid_matrix(centroids: Sequence[object], dim: int) -> np.ndarray:
    """Stack a column of list-like centroids into an (n, dim) array (missing ones: zeros)."""
    rows = []
    for c in centroids:
        v = np.asarray(c, dtype=np.float32) if c is not None and not (np.isscalar(c)) else None
        rows.append(v if v is not None and v.shape == (dim,) else np.zeros(dim, np.float32))
    return np.vstack(rows) if rows else np.zeros((0, dim), np.float32)

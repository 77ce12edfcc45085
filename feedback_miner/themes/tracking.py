"""Theme identity across runs: tonight's centroids are matched one-to-one to last run's."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import numpy as np
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

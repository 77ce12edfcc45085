"""Theme identity across runs: tonight's themes are matched one-to-one to last run's.

First by the statements they share (when last run's assignments are known), then, for themes
with no such match, by centroid similarity; statements that still fit their theme of last run
stay in it (:func:`stick`); new themes take the next free number (:class:`IdSequence`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment

from feedback_miner.themes.cluster import OUTLIER, member_thresholds

BROAD_ID = r"^T\d+$"


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


def match_by_overlap(new: Sequence[int], old: Sequence[object], min_overlap: float) -> dict[int, str]:
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
    # distinct ids first: callers pass a theme id per statement of the window (hundreds of thousands)
    nums = [int(m.group(1)) for x in set(ids) if isinstance(x, str) and (m := re.fullmatch(r"T(\d+)", x))]
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


class IdSequence:
    """New theme ids in order: ``T{n:04d}`` (``parent`` None) or ``<parent>.n``, from ``start`` on."""

    def __init__(self, start: int, parent: str | None = None):
        self.start = start
        self.parent = parent

    def __call__(self) -> str:
        n = self.start
        self.start += 1
        return f"T{n:04d}" if self.parent is None else f"{self.parent}.{n}"


def previous_of_rows(st: pd.DataFrame, previous_assignments: pd.DataFrame | None) -> tuple[np.ndarray, np.ndarray]:
    """Last run's theme id and sub-theme id of each statement (None where unknown)."""
    n = len(st)
    if previous_assignments is None or len(previous_assignments) == 0:
        return np.full(n, None, dtype=object), np.full(n, None, dtype=object)
    pa = previous_assignments.drop_duplicates("statement_id").set_index("statement_id")
    sid = st["statement_id"]

    def col(name: str) -> np.ndarray:
        if name not in pa:
            return np.full(n, None, dtype=object)
        v = sid.map(pa[name]).astype(object)
        return v.where(v.notna(), None).to_numpy(dtype=object)

    return col("theme_id"), col("subtheme_id")


def broad_only(ids: np.ndarray) -> np.ndarray:
    """``ids`` with everything but broad ``T`` ids (sub-themes, seeds, 'other') set to None."""
    return np.array([x if x is not None and re.match(BROAD_ID, str(x)) else None for x in ids], dtype=object)


def name_groups(
    labels: np.ndarray,
    centroids: np.ndarray,
    prev_of_row: np.ndarray,
    candidates: pd.DataFrame,
    min_overlap: float,
    min_similarity: float,
    new_id: Callable[[], str],
    fixed: dict[int, str] | None = None,
) -> tuple[list[str], list[bool]]:
    """An id per group: ``fixed`` ones, last run's by shared statements, by centroid, else a new one.

    ``labels``: group index per row (-1: none); ``prev_of_row``: last run's id per row (None);
    ``candidates``: last run's themes that may be matched (``theme_id``, ``_c``). Returns the ids
    and, per group, whether it kept an id of last run.
    """
    k = len(centroids)
    fixed = fixed or {}
    allowed = set(candidates["theme_id"].astype(str)) if len(candidates) else set()
    allowed |= {str(x) for x in prev_of_row if x is not None}
    allowed -= set(fixed.values())
    prev_ok = np.array([x is not None and str(x) in allowed for x in prev_of_row], dtype=bool)
    free = prev_ok & ~np.isin(labels, list(fixed))
    by_overlap = match_by_overlap(labels[free], prev_of_row[free], min_overlap)
    ids: list[str | None] = [fixed.get(g, by_overlap.get(g)) for g in range(k)]
    taken = {x for x in ids if x is not None}
    rest = [g for g in range(k) if ids[g] is None]
    pool = candidates[~candidates["theme_id"].astype(str).isin(taken)] if len(candidates) else candidates
    if rest and len(pool):
        match = match_centroids(centroids[rest], np.vstack(pool["_c"]), min_similarity)
        for g, m in zip(rest, match, strict=True):
            if m is not None:
                ids[g] = str(pool["theme_id"].iloc[m])
    matched = [x is not None for x in ids]
    return [x if x is not None else new_id() for x in ids], matched


def inherited_parents(fine: np.ndarray, prev_of_row: np.ndarray, n_fine: int) -> list[str | None]:
    """Last run's broad id of each fine cluster: the id held by a majority of its members, where at
    least half of its members were themed last run; else None (a new group of statements)."""
    out: list[str | None] = [None] * n_fine
    df = pd.DataFrame({"f": fine, "p": pd.Series(list(prev_of_row), dtype=object)})
    df = df[df["f"] >= 0]
    for f, g in df.groupby("f"):
        known = g["p"].dropna()
        if len(known) * 2 >= len(g) and len(known):
            top = known.value_counts()
            if top.iloc[0] * 2 > len(known):
                out[int(f)] = str(top.index[0])
    return out


def stick(
    X: np.ndarray, rows: np.ndarray, labels: np.ndarray, prev_index: np.ndarray, C: np.ndarray, z: float
) -> np.ndarray:
    """Rows whose last-run group still exists and still fits (within ``z`` sd) go back to it."""
    thr = member_thresholds(X, labels, C, z)
    r = rows[(prev_index[rows] >= 0) & (prev_index[rows] != labels[rows])]
    if len(r):
        p = prev_index[r]
        ok = np.einsum("ij,ij->i", X[r], C[p]) >= thr[p]
        labels = labels.copy()
        labels[r[ok]] = p[ok]
    return labels


def index_of(ids: Sequence[str], values: np.ndarray) -> np.ndarray:
    """Position of each of ``values`` in ``ids`` (-1: None or not there)."""
    index = {x: j for j, x in enumerate(ids)}
    return np.array([index.get(x, OUTLIER) if x is not None else OUTLIER for x in values])

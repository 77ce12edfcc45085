"""Two levels an analyst can read: fine clusters grouped under broad themes and merged into sub-themes."""

from __future__ import annotations

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage
from sklearn.metrics import silhouette_score

from feedback_miner.themes.cluster import normalize_rows


def _order_by_size(labels: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """Renumber groups 0..m-1 by decreasing weight (ties by first occurrence)."""
    w = np.ones(len(labels)) if weights is None else np.asarray(weights, dtype=np.float64)
    ids, first = np.unique(labels, return_index=True)
    size = np.array([w[labels == i].sum() for i in ids])
    order = ids[np.lexsort((first, -size))]
    remap = {int(o): i for i, o in enumerate(order)}
    return np.array([remap[int(x)] for x in labels], dtype=np.int64)


def group_fine_clusters(
    centroids: np.ndarray, min_groups: int = 1, max_groups: int | None = None, sizes: np.ndarray | None = None
) -> np.ndarray:
    """Broad parent (0..m-1, by decreasing size) of each fine cluster.

    Ward agglomeration of the fine centroids (unit vectors, so Euclidean ranks like cosine;
    Ward keeps groups balanced where average linkage chains everything into one). The number
    of parents is the cut with the best silhouette between sqrt(k)/2 and 2 sqrt(k) for k fine
    clusters, kept within [min_groups, max_groups]: a report reads well with 8-25 broad themes.
    """
    k = len(centroids)
    if k < 4:
        return np.arange(k)
    Z = linkage(centroids.astype(np.float64), method="ward")
    D = np.clip(1.0 - centroids @ centroids.T, 0.0, 2.0)
    np.fill_diagonal(D, 0.0)
    hi = min(k - 1, int(np.ceil(2 * np.sqrt(k))), max_groups or k)
    lo = min(hi, max(2, round(np.sqrt(k) / 2), min_groups))
    best, best_score = None, -np.inf
    for m in range(lo, hi + 1):
        lab = fcluster(Z, m, criterion="maxclust") - 1
        n_groups = len(set(lab))
        if n_groups < 2 or n_groups >= k:
            continue
        score = silhouette_score(D, lab, metric="precomputed")
        if score > best_score + 1e-9:
            best, best_score = lab, score
    if best is None:
        best = fcluster(Z, max(hi, 1), criterion="maxclust") - 1
    return _order_by_size(best, sizes)


def merge_siblings(centroids: np.ndarray, sizes: np.ndarray, max_groups: int, min_size: int) -> np.ndarray:
    """Sub-theme (0..m-1) of each fine cluster of one broad theme.

    Ward cut into at most ``max_groups``; then a group smaller than ``min_size`` statements joins
    its most similar sibling, until every group is big enough. One group left: no sub-themes.
    """
    k = len(centroids)
    if k == 0:
        return np.zeros(0, dtype=np.int64)
    if k == 1 or max_groups <= 1:
        return np.zeros(k, dtype=np.int64)
    lab = (
        fcluster(linkage(centroids.astype(np.float64), method="ward"), max_groups, criterion="maxclust") - 1
        if k > max_groups
        else np.arange(k)
    )
    sizes = np.asarray(sizes, dtype=np.float64)
    while True:
        ids = np.unique(lab)
        if len(ids) <= 1:
            break
        tot = np.array([sizes[lab == i].sum() for i in ids])
        if tot.min() >= min_size:
            break
        small = ids[int(np.argmin(tot))]
        C = normalize_rows(np.vstack([(centroids[lab == i] * sizes[lab == i, None]).sum(0) for i in ids]))
        sims = C @ C[ids == small][0]
        sims[ids == small] = -np.inf
        lab[lab == small] = ids[int(np.argmax(sims))]
    return _order_by_size(np.unique(lab, return_inverse=True)[1], sizes)


def split_crowded_parents(
    centroids: np.ndarray, sizes: np.ndarray, parent: np.ndarray, max_children: int, min_size: int, max_groups: int
) -> np.ndarray:
    """Split broad themes that would need their fine clusters merged, while there is room.

    A parent whose fine clusters make more than ``max_children`` sub-themes (after small ones
    join a sibling, as :func:`merge_siblings` does) is cut in two along its Ward tree, the
    most crowded first, until none is crowded or there are ``max_groups`` parents. Merging
    distinct fine clusters to respect the cap costs more (banking77 has 77 intents: 20 broad
    themes x 8 leaves merged real intents) than one more broad theme. Returns parents 0..m-1
    by decreasing size.
    """
    parent = np.asarray(parent, dtype=np.int64).copy()
    if max_children < 1 or not len(parent):
        return parent
    sizes = np.asarray(sizes)

    def n_subs(children: np.ndarray) -> int:
        return int(merge_siblings(centroids[children], sizes[children], len(children), min_size).max()) + 1

    while int(parent.max()) + 1 < max_groups:
        crowd = [(n_subs(np.flatnonzero(parent == b)), -b) for b in range(int(parent.max()) + 1)]
        n, neg_b = max(crowd)  # the most crowded parent, the lowest number among equals
        if n <= max_children:
            break
        children = np.flatnonzero(parent == -neg_b)
        two = fcluster(linkage(centroids[children].astype(np.float64), method="ward"), 2, criterion="maxclust") - 1
        parent[children[two == 1]] = int(parent.max()) + 1
    return _order_by_size(parent, sizes)


def broad_coherence(
    X: np.ndarray, fine: np.ndarray, parent: np.ndarray, fine_c: np.ndarray, sizes: np.ndarray
) -> np.ndarray:
    """Per broad theme: the share of its statements closer to its own centroid than to any other
    broad theme's (1.0: every member is nearest its own theme; a grab-bag of unrelated sub-themes
    scores low). ``X``: statement vectors, ``fine``: their fine cluster (-1: none), ``parent``: the
    broad theme of each fine cluster; a broad centroid is its fine centroids weighted by size."""
    n_broad = int(parent.max()) + 1 if len(parent) else 0
    member = fine >= 0
    if n_broad < 2 or not member.any():
        return np.ones(n_broad)
    weighted = fine_c * np.asarray(sizes, dtype=np.float64)[:, None]
    B = normalize_rows(np.vstack([weighted[parent == b].sum(0) for b in range(n_broad)]).astype(np.float32))
    own = parent[fine[member]]
    nearest = (X[member] @ B.T).argmax(axis=1)
    hits = np.bincount(own, weights=(nearest == own).astype(np.float64), minlength=n_broad)
    return hits / np.maximum(np.bincount(own, minlength=n_broad), 1)


def split_incoherent_parents(
    X: np.ndarray,
    fine: np.ndarray,
    fine_c: np.ndarray,
    sizes: np.ndarray,
    parent: np.ndarray,
    min_coherence: float,
    reorder: bool = True,
) -> np.ndarray:
    """Split broad themes that are not about one thing, until each is coherent or a single fine theme.

    The least coherent broad theme (:func:`broad_coherence` below ``min_coherence``) with two fine
    themes or more is cut in two along its Ward tree; repeat. The number of broad themes follows
    the data, not a cap. Returns parents 0..m-1 by decreasing size (``reorder`` False: the
    existing parents keep their numbers, new ones come after them).
    """
    parent = np.asarray(parent, dtype=np.int64).copy()
    if not len(parent) or min_coherence <= 0:
        return parent
    for _ in range(len(parent)):
        coherence = broad_coherence(X, fine, parent, fine_c, sizes)
        n_children = np.bincount(parent, minlength=len(coherence))
        weak = np.flatnonzero((coherence < min_coherence) & (n_children >= 2))
        if not len(weak):
            break
        b = int(weak[np.argmin(coherence[weak])])
        children = np.flatnonzero(parent == b)
        two = fcluster(linkage(fine_c[children].astype(np.float64), method="ward"), 2, criterion="maxclust") - 1
        parent[children[two == 1]] = int(parent.max()) + 1
    return _order_by_size(parent, sizes) if reorder else parent


def merge_duplicate_parents(
    X: np.ndarray,
    fine: np.ndarray,
    fine_c: np.ndarray,
    sizes: np.ndarray,
    parent: np.ndarray,
    min_confusion: float,
    max_children: int,
) -> np.ndarray:
    """Merge broad themes that say the same thing: two whose statements are each nearer the other's
    centroid than their own at least ``min_confusion`` of the time (a theme cut in two by the Ward
    tree, e.g. "charged twice" / "double charge"), when their fine themes fit under one parent
    (``max_children``). The most confused pair first; repeat. Parents keep their numbers; the
    emptied ones are renumbered away (0..m-1, order kept)."""
    parent = np.asarray(parent, dtype=np.int64).copy()
    member = fine >= 0
    if min_confusion <= 0 or not member.any() or not len(parent):
        return parent
    for _ in range(len(parent)):
        ids = np.unique(parent)
        if len(ids) < 2:
            break
        weighted = fine_c * np.asarray(sizes, dtype=np.float64)[:, None]
        B = normalize_rows(np.vstack([weighted[parent == b].sum(0) for b in ids]).astype(np.float32))
        own = np.searchsorted(ids, parent[fine[member]])
        nearest = (X[member] @ B.T).argmax(axis=1)
        M = np.zeros((len(ids), len(ids)))
        np.add.at(M, (own, nearest), 1.0)
        M /= np.maximum(M.sum(axis=1, keepdims=True), 1.0)
        mutual = np.minimum(M, M.T)
        np.fill_diagonal(mutual, 0.0)
        n_children = np.bincount(np.searchsorted(ids, parent), minlength=len(ids))
        mutual[(n_children[:, None] + n_children[None, :]) > max(max_children, 1)] = 0.0
        a, b = np.unravel_index(int(np.argmax(mutual)), mutual.shape)
        if mutual[a, b] < min_confusion:
            break
        parent[parent == ids[max(a, b)]] = ids[min(a, b)]
    return np.unique(parent, return_inverse=True)[1].astype(np.int64)

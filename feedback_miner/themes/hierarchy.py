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


def merge_siblings_by_part(
    centroids: np.ndarray, sizes: np.ndarray, parts: np.ndarray, max_groups: int, min_size: int
) -> np.ndarray:
    """:func:`merge_siblings` within each part of one broad theme (the broad themes a name merge
    joined), the parts' sub-themes numbered on. Cutting the joined fine themes to ``max_groups``
    again merged distinct ones: the parts of a crowded theme that :func:`split_crowded_parents` set
    apart have alike names (banking77's top-up intents: fine NMI 0.786 -> 0.780)."""
    g, offset = np.zeros(len(centroids), dtype=np.int64), 0
    for p in np.unique(parts):
        at = parts == p
        g[at] = offset + merge_siblings(centroids[at], np.asarray(sizes)[at], max_groups, min_size)
        offset = int(g.max()) + 1
    return g


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


def _pair_weights(sizes: np.ndarray) -> np.ndarray:
    """Weights of the pairs of distinct fine themes: the product of their sizes (diagonal 0)."""
    w = np.asarray(sizes, dtype=np.float64)
    W = np.outer(w, w)
    np.fill_diagonal(W, 0.0)
    return W


def _pairs(fine_c: np.ndarray, sizes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cosines between the fine themes' centroids and the pairs' weights (:func:`_pair_weights`)."""
    C = fine_c.astype(np.float64)
    return C @ C.T, _pair_weights(sizes)


def _coherence(S: np.ndarray, W: np.ndarray, parent: np.ndarray) -> np.ndarray:
    n_broad = int(parent.max()) + 1 if len(parent) else 0
    out = np.ones(n_broad)
    for b in range(n_broad):
        kids = np.flatnonzero(parent == b)
        w = W[np.ix_(kids, kids)]
        if w.sum() > 0:
            out[b] = float((S[np.ix_(kids, kids)] * w).sum() / w.sum())
    return out


def _floor(S: np.ndarray, W: np.ndarray, quantile: float) -> float:
    k = len(S)
    if k < 2:
        return -np.inf
    iu = np.triu_indices(k, 1)
    sims, w = S[iu], W[iu]
    order = np.argsort(sims, kind="stable")
    cum = np.cumsum(w[order]) / max(w.sum(), 1e-12)
    return float(sims[order][min(int(np.searchsorted(cum, quantile)), k * (k - 1) // 2 - 1)])


def broad_coherence(fine_c: np.ndarray, sizes: np.ndarray, parent: np.ndarray) -> np.ndarray:
    """Per broad theme: the mean cosine between the centroids of its distinct fine themes, each pair
    weighted by the product of their sizes (1.0 for a broad theme of one fine theme). A grab-bag of
    unrelated complaints scores what two fine themes drawn at random score; a theme about one thing,
    far more. ``parent``: the broad theme (0..m-1) of each fine theme."""
    return _coherence(*_pairs(fine_c, sizes), parent)


def coherence_floor(fine_c: np.ndarray, sizes: np.ndarray, quantile: float) -> float:
    """The ``quantile`` of the cosines between all pairs of distinct fine themes (weighted by the
    product of their sizes): what "more alike than most pairs" means in this corpus and model
    (e5 centroids sit around 0.3-0.6 of each other after language centring, MiniLM's lower)."""
    return _floor(*_pairs(fine_c, sizes), quantile)


def broad_centroids(fine_c: np.ndarray, sizes: np.ndarray, parent: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """Unit centroids (float32) of the broad themes ``ids``: the size-weighted sum of the centroids
    of their fine themes (``parent``: the broad theme of each fine theme)."""
    weighted = fine_c.astype(np.float64) * np.asarray(sizes, dtype=np.float64)[:, None]
    return normalize_rows(np.vstack([weighted[parent == b].sum(0) for b in ids]).astype(np.float32))


def split_incoherent_parents(
    fine_c: np.ndarray, sizes: np.ndarray, parent: np.ndarray, min_coherence: float, n_kept: int = 0
) -> np.ndarray:
    """Split broad themes that are not about one thing, until each is coherent or a single fine theme.

    A broad theme is coherent when its :func:`broad_coherence` reaches the ``min_coherence``
    quantile of all fine-theme pairs (:func:`coherence_floor`): its fine themes are more alike than
    that share of all pairs. The least coherent one with two fine themes or more is cut in two
    along its Ward tree; repeat. The number of broad themes follows the data, not a cap. Returns
    parents 0..m-1 by decreasing size. ``n_kept``: parents 0..n_kept-1 are last night's broad themes,
    kept (ids stable across nights): they are not split, every parent keeps its number and new ones
    come after them.
    """
    parent = np.asarray(parent, dtype=np.int64).copy()
    if not len(parent) or min_coherence <= 0:
        return parent
    S, W = _pairs(fine_c, sizes)  # the fine themes do not change, only their parents
    floor = _floor(S, W, min_coherence)
    for _ in range(len(parent)):
        coherence = _coherence(S, W, parent)
        n_children = np.bincount(parent, minlength=len(coherence))
        weak = np.flatnonzero((coherence < floor) & (n_children >= 2) & (np.arange(len(coherence)) >= n_kept))
        if not len(weak):
            break
        b = int(weak[np.argmin(coherence[weak])])
        children = np.flatnonzero(parent == b)
        two = fcluster(linkage(fine_c[children].astype(np.float64), method="ward"), 2, criterion="maxclust") - 1
        parent[children[two == 1]] = int(parent.max()) + 1
    return _order_by_size(parent, sizes) if not n_kept else parent


def merge_similar_parents(fine_c: np.ndarray, sizes: np.ndarray, parent: np.ndarray, quantile: float) -> np.ndarray:
    """Merge broad themes that say the same thing in other words: two that are each other's most
    similar broad theme, whose centroids are more alike than the ``quantile`` of all fine-theme
    pairs (:func:`coherence_floor`; the demo's "taken twice" and "payment duplicated" at 0.63, the
    0.99 quantile 0.47). The most similar pair first; repeat. Parents renumbered 0..m-1 by
    decreasing size.

    However many fine themes the two hold together, they merge: :func:`merge_siblings` then cuts
    the merged parent's fine themes into at most ``max_subthemes`` sub-themes along their Ward
    tree. Refusing the merge when the raw fine clusters exceeded the cap (9 + 7 > 8) left the
    demo with three double-charge broad themes side by side."""
    parent = np.asarray(parent, dtype=np.int64).copy()
    if not len(parent) or quantile <= 0 or int(parent.max()) < 1:
        return parent
    floor = coherence_floor(fine_c, sizes, quantile)
    for _ in range(len(parent)):
        ids = np.unique(parent)
        B = broad_centroids(fine_c, sizes, parent, ids)
        S = (B @ B.T).astype(np.float64)
        np.fill_diagonal(S, -np.inf)
        nearest = S.argmax(axis=1)
        mutual = nearest[nearest] == np.arange(len(ids))
        best = np.where(mutual, S[np.arange(len(ids)), nearest], -np.inf)
        a = int(np.argmax(best))
        if best[a] < floor - 1e-6:  # (float32 centroids)
            break
        b = int(nearest[a])
        parent[parent == ids[max(a, b)]] = ids[min(a, b)]
    return _order_by_size(np.unique(parent, return_inverse=True)[1], sizes)


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
        B = broad_centroids(fine_c, sizes, parent, ids)
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


def neighbour_shares(X: np.ndarray, own: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    """``S[a, b]``: the share of theme a's statements (rows of ``X``, theme ``own``) whose nearest
    centroid other than their own is b's. A theme cut in two sends most of its statements to its
    other half; a distinct one spreads them over several neighbours."""
    m = len(centroids)
    out = np.zeros((m, m))
    if not len(X) or m < 2:
        return out
    sims = X @ centroids.T
    sims[np.arange(len(X)), own] = -np.inf
    np.add.at(out, (own, sims.argmax(axis=1)), 1.0)
    return out / np.maximum(np.bincount(own, minlength=m)[:, None], 1.0)


def merge_named_duplicates(
    parent: np.ndarray,
    sizes: np.ndarray,
    centroids: np.ndarray,
    name_vectors: np.ndarray,
    shares: np.ndarray,
    min_name_similarity: float,
    min_share: float,
    strong_share: float,
    agreement: float = 0.0,
) -> np.ndarray:
    """Merge broad themes that say the same thing, when two signals agree: their names (embedded in
    the centroids' space) have a cosine of at least ``min_name_similarity``, each sends at least
    ``min_share`` of its statements' nearest other theme to the other (:func:`neighbour_shares`), and
    the two add up to ``agreement`` (the stronger one, the less the other needs: "Excellent service
    and ease of use" / "Great banking service", names 0.48, shares 0.27); or,
    whatever their names, the statements alone agree strongly (``strong_share`` each way) and the two
    are each other's most similar centroid. Centroid cosine alone missed the duplicates a reader sees
    ("Got billed two times" / "Charged twice": 0.23; "pas d'internet" / "pas internet": 0.17, names
    0.63 and 0.84) and, lowered, joined distinct topics that sit close; a brand's auto-reply in two
    themes has unlike names but sends 87% of its statements' next choice to its twin. Pairs join
    transitively, the most agreeing pair first. ``parent``: the broad theme (0..m-1) of each fine
    theme, ``sizes`` theirs; ``centroids``, ``name_vectors`` and ``shares`` are the m broad themes'.
    Returns parents 0..k-1 by decreasing size."""
    parent = np.asarray(parent, dtype=np.int64)
    m = len(centroids)
    if m < 3:  # with two themes every statement's other theme is the other one
        return parent
    C = np.asarray(centroids, dtype=np.float64) @ np.asarray(centroids, dtype=np.float64).T
    np.fill_diagonal(C, -np.inf)
    nearest = C.argmax(axis=1)
    mutual_nearest = np.zeros((m, m), dtype=bool)
    mutual_nearest[np.arange(m), nearest] = nearest[nearest] == np.arange(m)
    same_name = np.asarray(name_vectors, dtype=np.float64) @ np.asarray(name_vectors, dtype=np.float64).T
    share = np.minimum(shares, shares.T)
    named = (same_name >= min_name_similarity) & (share >= min_share) & (same_name + share >= agreement)
    ok = named | ((share >= strong_share) & mutual_nearest)
    np.fill_diagonal(ok, False)
    group = np.arange(m)

    def root(i: int) -> int:
        while group[i] != i:
            i = int(group[i])
        return i

    a_idx, b_idx = np.nonzero(np.triu(ok | ok.T))
    strength = same_name[a_idx, b_idx] + share[a_idx, b_idx]
    for i in np.argsort(-strength, kind="stable"):
        ra, rb = root(int(a_idx[i])), root(int(b_idx[i]))
        if ra != rb:
            group[max(ra, rb)] = min(ra, rb)
    roots = np.array([root(i) for i in range(m)])
    return _order_by_size(roots[parent], sizes)


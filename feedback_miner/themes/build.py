"""The themes stage: statements + vectors (+ last run's themes) -> assignments and a themes table.

Steps: seeded themes first (optional taxonomy), density clustering of the rest into fine themes,
fine themes grouped under broad parents (two levels), ids matched to last run's, then labels,
counts and representative statements.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.cluster.hierarchy import fcluster, linkage
from sklearn.metrics import silhouette_score

from feedback_miner.config import ThemesConfig
from feedback_miner.themes.cluster import OUTLIER, DensityClusterer, centroids_of, normalize_rows
from feedback_miner.themes.labels import (
    class_tfidf_keywords,
    label_from_keywords,
    language_summary,
    lemma_tokens,
    representative_examples,
)
from feedback_miner.themes.taxonomy import SeedTheme, match_seeds
from feedback_miner.themes.tracking import (
    centroid_matrix,
    match_centroids,
    next_subtheme_number,
    next_theme_number,
)

OTHER = "other"
THEME_COLUMNS = [
    "theme_id", "parent_id", "label", "keywords", "n_statements", "n_customers", "share", "languages",
    "examples", "example_ids", "status", "centroid",
]  # fmt: skip


@dataclass
class ThemeResult:
    """Output of :func:`build_themes`.

    ``assignments``: one row per input statement: ``statement_id``, ``theme_id`` (``T0003``,
    ``S:<seed>``, ``other`` for outliers, None for non-answers), ``subtheme_id`` (``T0003.2`` or
    None), ``similarity`` (cosine to the theme centroid).

    ``themes``: one row per broad theme, sub-theme (``parent_id`` set), ``other`` bucket and faded
    theme of the previous run: ``theme_id, parent_id, label, keywords, n_statements, n_customers,
    share, languages, examples, example_ids, status, centroid`` (+ ``label_language``).
    """

    assignments: pd.DataFrame
    themes: pd.DataFrame


# ------------------------------------------------------------------ hierarchy


def group_fine_clusters(centroids: np.ndarray) -> np.ndarray:
    """Broad parent (0..m-1, by decreasing number of children) of each fine cluster.

    Ward agglomeration of the fine centroids (unit vectors, so Euclidean ranks like cosine;
    Ward keeps groups balanced where average linkage chains everything into one). The number
    of parents is the cut with the best silhouette between sqrt(k)/2 and 2 sqrt(k) for k fine
    clusters: a report reads well with about ten broad themes over a hundred fine ones.
    """
    k = len(centroids)
    if k < 4:
        return np.arange(k)
    Z = linkage(centroids.astype(np.float64), method="ward")
    D = np.clip(1.0 - centroids @ centroids.T, 0.0, 2.0)
    np.fill_diagonal(D, 0.0)
    best, best_score = np.arange(k), -np.inf
    lo, hi = max(2, round(np.sqrt(k) / 2)), min(k - 1, int(np.ceil(2 * np.sqrt(k))))
    for m in range(lo, hi + 1):
        lab = fcluster(Z, m, criterion="maxclust") - 1
        n_groups = len(set(lab))
        if n_groups < 2 or n_groups >= k:
            continue
        score = silhouette_score(D, lab, metric="precomputed")
        if score > best_score + 1e-9:
            best, best_score = lab, score
    ids, first, counts = np.unique(best, return_index=True, return_counts=True)
    order = ids[np.lexsort((first, -counts))]
    remap = {int(o): i for i, o in enumerate(order)}
    return np.array([remap[int(x)] for x in best])


# ------------------------------------------------------------------ helpers


def _previous_rows(previous: pd.DataFrame | None, dim: int) -> pd.DataFrame:
    if previous is None or len(previous) == 0:
        return pd.DataFrame(columns=THEME_COLUMNS)
    prev = previous.copy()
    prev["_c"] = list(centroid_matrix(prev["centroid"].tolist(), dim)) if "centroid" in prev else None
    return prev


def _statement_flags(statements: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    non_answer = statements.get("is_non_answer", pd.Series(False, index=statements.index))
    themed = ~non_answer.fillna(False).astype(bool).to_numpy()
    dup_of = statements.get("is_duplicate_of", pd.Series(None, index=statements.index))
    is_dup = dup_of.notna().to_numpy() & themed
    return themed, is_dup


def _assign_ids(
    broad_c: np.ndarray,
    fine_parent: np.ndarray,
    fine_c: np.ndarray,
    prev: pd.DataFrame,
    threshold: float,
) -> tuple[list[str], list[str], list[bool], list[bool]]:
    """Ids for broad themes and fine clusters, matched to the previous run's where possible."""
    is_prev_broad = prev["theme_id"].astype(str).str.match(r"^T\d+$") if len(prev) else pd.Series([], dtype=bool)
    prev_broad = prev[is_prev_broad] if len(prev) else prev
    match = match_centroids(broad_c, np.vstack(prev_broad["_c"]) if len(prev_broad) else broad_c[:0], threshold)
    next_n = next_theme_number(prev["theme_id"]) if len(prev) else 1
    broad_ids, broad_matched = [], []
    for m in match:
        if m is None:
            broad_ids.append(f"T{next_n:04d}")
            next_n += 1
            broad_matched.append(False)
        else:
            broad_ids.append(str(prev_broad["theme_id"].iloc[m]))
            broad_matched.append(True)
    fine_ids: list[str] = [""] * len(fine_parent)
    fine_matched = [False] * len(fine_parent)
    for b, bid in enumerate(broad_ids):
        children = np.flatnonzero(fine_parent == b)
        if len(children) < 2:
            continue  # a broad theme of one fine cluster has no sub-themes
        prev_sub = prev[prev["parent_id"] == bid] if len(prev) else prev
        sub_match = match_centroids(
            fine_c[children], np.vstack(prev_sub["_c"]) if len(prev_sub) else fine_c[:0], threshold
        )
        nxt = next_subtheme_number(bid, prev_sub["theme_id"]) if len(prev_sub) else 1
        for child, m in zip(children, sub_match, strict=True):
            if m is None:
                fine_ids[child] = f"{bid}.{nxt}"
                nxt += 1
            else:
                fine_ids[child] = str(prev_sub["theme_id"].iloc[m])
                fine_matched[child] = True
    return broad_ids, fine_ids, broad_matched, fine_matched


# ------------------------------------------------------------------ entry point


def build_themes(
    statements: pd.DataFrame,
    embeddings: np.ndarray,
    cfg: ThemesConfig,
    previous: pd.DataFrame | None = None,
    taxonomy: Sequence[SeedTheme] | None = None,
) -> ThemeResult:
    """Group statements into two-level themes with stable ids.

    ``statements`` follows docs/architecture.md; row i of ``embeddings`` (L2-normalized) belongs
    to row i. Non-answers are not themed (theme_id None); duplicates take their first copy's
    theme and do not weigh the fit. ``previous`` is last run's ``themes`` frame (with
    ``centroid``): matched themes keep id and label, new ones are ``emerging``, unmatched old
    ones come back as ``faded`` rows with no statements. ``taxonomy`` is the seeded themes
    (see :func:`feedback_miner.themes.taxonomy.load_taxonomy`, from ``cfg.taxonomy``).
    """
    st = statements.reset_index(drop=True)
    X = normalize_rows(np.asarray(embeddings))
    if len(st) != len(X):
        raise ValueError(f"build_themes: {len(st)} statements but {len(X)} embedding rows")
    n, dim = X.shape
    themed, is_dup = _statement_flags(st)
    fit_rows = np.flatnonzero(themed & ~is_dup)
    prev = _previous_rows(previous, dim)

    # 1. seeded themes take the statements near their examples
    seeds = list(taxonomy or [])
    seed_of, _ = match_seeds(X[fit_rows], seeds, cfg.taxonomy_similarity)
    free_rows = fit_rows[seed_of < 0]

    # 2. fine themes by density clustering of the rest
    clusterer = DensityClusterer(
        reducer=cfg.reducer, reduce_to=cfg.reduce_to, n_neighbors=cfg.n_neighbors,
        min_cluster_size=cfg.min_cluster_size, min_samples=cfg.min_samples,
        cluster_selection=cfg.cluster_selection, outlier_similarity=cfg.outlier_similarity,
        outlier_z=cfg.outlier_z, fit_sample_size=cfg.fit_sample_size, seed=cfg.seed,
    ).fit(X[free_rows])  # fmt: skip
    fine = clusterer.labels_
    n_fine = int(fine.max()) + 1 if len(fine) and fine.max() >= 0 else 0
    fine_c = clusterer.centroids_[:n_fine]

    # 3. broad parents of the fine themes
    parent = group_fine_clusters(fine_c) if cfg.subthemes else np.arange(n_fine)
    n_broad = int(parent.max()) + 1 if n_fine else 0
    broad_of_row = np.where(fine >= 0, parent[np.maximum(fine, 0)] if n_fine else -1, OUTLIER)
    broad_c = centroids_of(X[free_rows], broad_of_row, n_broad)

    # 4. ids, matched to last run's
    broad_ids, fine_ids, broad_matched, fine_matched = _assign_ids(broad_c, parent, fine_c, prev, cfg.match_similarity)

    theme = np.full(n, None, dtype=object)
    sub = np.full(n, None, dtype=object)
    for i, s in zip(fit_rows[seed_of >= 0], seed_of[seed_of >= 0], strict=True):
        theme[i] = seeds[s].theme_id
    for i, f in zip(free_rows, fine, strict=True):
        theme[i] = OTHER if f < 0 else broad_ids[parent[f]]
        sub[i] = (fine_ids[f] or None) if f >= 0 else None

    # 5. duplicates follow their first copy; orphans go to the nearest theme
    ids = st["statement_id"].astype(str).to_numpy()
    pos = {sid: i for i, sid in enumerate(ids)}
    for i in np.flatnonzero(is_dup):
        j = pos.get(str(st.at[i, "is_duplicate_of"]))
        if j is not None and theme[j] is not None:
            theme[i], sub[i] = theme[j], sub[j]
    all_c = {bid: broad_c[b] for b, bid in enumerate(broad_ids)}
    for s in seeds:
        members = np.flatnonzero(theme == s.theme_id)
        all_c[s.theme_id] = (
            normalize_rows(X[members].sum(0, keepdims=True))[0]
            if len(members)
            else (normalize_rows(s.vectors.sum(0, keepdims=True))[0])
        )
    names = list(all_c)
    C = np.vstack([all_c[k] for k in names]) if names else np.zeros((0, dim), np.float32)
    orphans = np.flatnonzero(is_dup & (theme == None))  # noqa: E711 (element-wise on an object array)
    if len(orphans) and len(names):
        theme[orphans] = [names[j] for j in (X[orphans] @ C.T).argmax(1)]

    similarity = np.full(n, np.nan, dtype=np.float32)
    if len(names):
        S = X @ C.T
        col = {k: j for j, k in enumerate(names)}
        for i in np.flatnonzero(themed):
            similarity[i] = S[i, col[theme[i]]] if theme[i] in col else S[i].max()
    assignments = pd.DataFrame(
        {"statement_id": st["statement_id"], "theme_id": theme, "subtheme_id": sub, "similarity": similarity}
    )

    # 6. table of themes with labels and examples
    fine_c_by_id = {fid: fine_c[f] for f, fid in enumerate(fine_ids) if fid}
    status = {bid: ("stable" if m else "emerging") for bid, m in zip(broad_ids, broad_matched, strict=True)}
    status.update({fid: ("stable" if m else "emerging") for fid, m in zip(fine_ids, fine_matched, strict=True) if fid})
    prev_ids = set(prev["theme_id"].astype(str)) if len(prev) else set()
    status.update({s.theme_id: ("stable" if s.theme_id in prev_ids else "emerging") for s in seeds})
    themes = _theme_table(st, X, themed, theme, sub, all_c, fine_c_by_id, seeds, status, prev, cfg)
    return ThemeResult(assignments=assignments, themes=themes)


def _theme_table(
    st: pd.DataFrame,
    X: np.ndarray,
    themed: np.ndarray,
    theme: np.ndarray,
    sub: np.ndarray,
    broad_c: dict[str, np.ndarray],
    fine_c: dict[str, np.ndarray],
    seeds: Sequence[SeedTheme],
    status: dict[str, str],
    prev: pd.DataFrame,
    cfg: ThemesConfig,
) -> pd.DataFrame:
    langs = st.get("language", pd.Series("und", index=st.index)).fillna("und").astype(str).to_numpy()
    customers = st.get("customer_id", pd.Series(None, index=st.index)).to_numpy(dtype=object)
    texts = st["text"].astype(str).to_numpy()
    rows_themed = np.flatnonzero(themed)
    n_themed = max(len(rows_themed), 1)

    # Lemmas once per language; keywords per language among broad themes, and among siblings.
    tokens: dict[int, list[str]] = {}
    for lang in sorted(set(langs[rows_themed])):
        rows = rows_themed[langs[rows_themed] == lang]
        tokens.update(zip(rows.tolist(), lemma_tokens(texts[rows].tolist(), lang), strict=True))

    def keywords_by_lang(rows: np.ndarray, keys: np.ndarray) -> dict[str, dict[str, list[str]]]:
        out: dict[str, dict[str, list[str]]] = {}
        for lang in sorted(set(langs[rows])):
            r = rows[langs[rows] == lang]
            for k, kw in class_tfidf_keywords([tokens[i] for i in r], keys[r].tolist(), cfg.n_keywords).items():
                out.setdefault(k, {})[lang] = kw
        return out

    broad_kw = keywords_by_lang(rows_themed, theme)
    sub_rows = rows_themed[sub[rows_themed] != None]  # noqa: E711
    sub_kw: dict[str, dict[str, list[str]]] = {}
    for p in sorted(set(theme[sub_rows])):
        sub_kw.update(keywords_by_lang(sub_rows[theme[sub_rows] == p], sub))

    prev_label = dict(zip(prev["theme_id"].astype(str), prev["label"], strict=True)) if len(prev) else {}
    seed_name = {s.theme_id: s.name for s in seeds}
    records = []

    def record(tid: str, parent: str | None, members: np.ndarray, centroid: np.ndarray | None, kw: dict) -> None:
        main, share_main, lang_str = language_summary(langs[members])
        lang_used = main
        if share_main < cfg.mixed_language_share and "en" in kw:
            lang_used = "en"  # mixed theme: English keywords are the common ground
        keywords = kw.get(lang_used, [])
        if tid in seed_name:
            label = seed_name[tid]
        elif tid == OTHER:
            label = "Other"
        elif tid in prev_label and status.get(tid) == "stable":
            label = prev_label[tid]  # a matched theme keeps the name analysts know
        else:
            label = label_from_keywords(keywords)
        if centroid is not None and len(members):
            picks = representative_examples(X[members], centroid, customers[members], cfg.n_examples)
        else:
            picks = []
        records.append(
            {
                "theme_id": tid,
                "parent_id": parent,
                "label": label,
                "keywords": keywords,
                "n_statements": len(members),
                "n_customers": int(pd.Series(customers[members]).dropna().nunique()),
                "share": len(members) / n_themed,
                "languages": lang_str,
                "examples": [texts[members[p]] for p in picks],
                "example_ids": [str(st.at[members[p], "statement_id"]) for p in picks],
                "status": status.get(tid, "stable"),
                "centroid": None if centroid is None else [float(x) for x in centroid],
                "label_language": lang_used,
            }
        )

    for tid in broad_c:
        members = np.flatnonzero(theme == tid)
        record(tid, None, members, broad_c[tid], broad_kw.get(tid, {}))
        for fid in sorted({s for s in sub[members] if s is not None}, key=lambda x: int(x.rsplit(".", 1)[1])):
            record(fid, tid, np.flatnonzero(sub == fid), fine_c[fid], sub_kw.get(fid, {}))
    others = np.flatnonzero(theme == OTHER)
    if len(others):
        record(OTHER, None, others, None, broad_kw.get(OTHER, {}))

    table = pd.DataFrame.from_records(records, columns=[*THEME_COLUMNS, "label_language"])
    if len(prev):
        gone = prev[~prev["theme_id"].astype(str).isin(set(table["theme_id"])) & (prev["theme_id"] != OTHER)]
        if len(gone):
            faded = gone.drop(columns=["_c"]).copy()
            faded["status"] = "faded"
            for col in ("n_statements", "n_customers", "share"):
                faded[col] = 0
            faded["examples"] = [[] for _ in range(len(faded))]
            faded["example_ids"] = [[] for _ in range(len(faded))]
            table = pd.concat([table, faded.reindex(columns=table.columns)], ignore_index=True)
    return table

"""Assignment nights: last run's themes stay as they are and tonight's new statements join them.

No refit: a statement that already has a theme keeps it; a new one goes to the nearest theme (or
sub-theme) centroid of last run when it fits (the outlier rule of :func:`build_themes`, in the same
language-centred space), else to ``other``. Themes keep id, label, keywords and centroid; counts,
shares, languages and examples are recomputed on tonight's statements. When many new statements
fit poorly (``cfg.emerging_z``), just those are clustered: dense groups become ``emerging`` themes.
Cost is linear in the statements (one product with the centroid matrix).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from feedback_miner.config import ThemesConfig
from feedback_miner.themes.build import (
    OTHER,
    THEME_COLUMNS,
    ThemeResult,
    _assignments,
    _previous_of_rows,
    _statement_flags,
)
from feedback_miner.themes.cluster import (
    OUTLIER,
    DensityClusterer,
    centroids_of,
    member_thresholds,
    normalize_rows,
)
from feedback_miner.themes.labels import (
    class_tfidf_keywords,
    keyword_rows,
    label_from_keywords,
    language_summary,
    lemma_tokens,
    representative_examples,
)
from feedback_miner.themes.space import (
    LANGUAGE_MEAN_COLUMNS,
    apply_language_means,
    filler_mask,
    fit_language_means,
)
from feedback_miner.themes.taxonomy import SeedTheme, match_seeds
from feedback_miner.themes.tracking import centroid_matrix, next_theme_number

_MIN_MEMBERS_FOR_THRESHOLD = 3  # fewer kept members than this: the threshold comes from the nearest rows too


def _leaf_thresholds(
    X: np.ndarray, kept_leaf: np.ndarray, near_leaf: np.ndarray, C: np.ndarray, z: float
) -> np.ndarray:
    """Per leaf: members' mean similarity minus ``z`` sd, from tonight's statements that kept it.

    A leaf with too few kept members (its statements aged out of the window, or no assignments
    were passed) takes the figure from the rows nearest to it; a leaf with no rows at all, the
    median of the others.
    """
    thr = member_thresholds(X, kept_leaf, C, z)
    counts = np.bincount(kept_leaf[kept_leaf >= 0], minlength=len(C))
    weak = counts < _MIN_MEMBERS_FOR_THRESHOLD
    if weak.any():
        lab = np.where(kept_leaf >= 0, kept_leaf, near_leaf)
        thr[weak] = member_thresholds(X, lab, C, z)[weak]
    finite = np.isfinite(thr)
    if finite.any() and not finite.all():
        thr[~finite] = np.median(thr[finite])
    return thr


def _emerging_groups(X: np.ndarray, cfg: ThemesConfig) -> np.ndarray:
    """Dense groups among the new statements that fit no theme (-1: still ``other``)."""
    clusterer = DensityClusterer(
        reducer=cfg.reducer, reduce_to=cfg.reduce_to, n_neighbors=cfg.n_neighbors, umap_init=cfg.umap_init,
        min_cluster_size=cfg.min_cluster_size, min_samples=cfg.min_samples,
        cluster_selection=cfg.cluster_selection, outlier_similarity=cfg.outlier_similarity,
        outlier_z=None, fit_sample_size=cfg.fit_sample_size, seed=cfg.seed, single_fallback=False,
    ).fit(X)  # fmt: skip
    return clusterer.labels_


def assign_themes(
    statements: pd.DataFrame,
    embeddings: np.ndarray,
    cfg: ThemesConfig,
    previous: pd.DataFrame,
    previous_assignments: pd.DataFrame | None = None,
    taxonomy: Sequence[SeedTheme] | None = None,
    language_means: pd.DataFrame | None = None,
    copy: bool = True,
) -> ThemeResult:
    """Assign statements to last run's themes without refitting them.

    ``statements``/``embeddings`` as for :func:`build_themes`. ``previous`` is last run's themes
    frame (``theme_id, parent_id, label, keywords, status, centroid``, faded rows included).
    ``previous_assignments`` (``statement_id, theme_id, subtheme_id``): a statement found there
    keeps its theme and sub-theme while that theme exists; every other statement is new. A new
    statement near a seed of ``taxonomy`` takes the seed (as in :func:`build_themes`); otherwise it
    joins the nearest centroid among sub-themes and broad themes without sub-themes when its
    similarity reaches that theme's members' mean minus ``cfg.outlier_z`` sd (always when None;
    ``cfg.filler_z`` for filler statements, ``cfg.outlier_similarity`` when set), else ``other``. A faded theme whose
    centroid is nearest comes back ``stable``. ``language_means`` (``ThemeResult.language_means``
    of the run that fitted the centroids) puts the vectors in the centroids' space; without it,
    tonight's per-language means are used. New statements below their nearest theme's mean minus
    ``cfg.emerging_z`` sd are clustered (when there are at least ``2 * cfg.min_cluster_size`` of them
    and more than ``cfg.emerging_min_share`` of the new statements); a dense group unlike every
    theme of last run (centroid similarity below ``cfg.match_similarity``) becomes a new
    ``emerging`` theme of the statements nearer to it than to any old theme, when it is as tight
    as the looser quarter of last run's themes.

    Returns a :class:`ThemeResult` with the same columns as :func:`build_themes`; its
    ``language_means`` are the ones used, so the next assignment night stays in the same space.
    ``copy=False`` lets the language centring overwrite ``embeddings`` (as in :func:`build_themes`).
    """
    st = statements.reset_index(drop=True)
    X_raw = normalize_rows(np.asarray(embeddings))
    if len(st) != len(X_raw):
        raise ValueError(f"assign_themes: {len(st)} statements but {len(X_raw)} embedding rows")
    if previous is None or len(previous) == 0:
        raise ValueError("assign_themes: no previous themes to assign to; use build_themes")
    n, dim = X_raw.shape
    langs = st.get("language", pd.Series("und", index=st.index)).fillna("und").astype(str).to_numpy()
    seeds = list(taxonomy or [])
    seed_all, _ = match_seeds(X_raw, seeds, cfg.taxonomy_similarity)  # raw vectors: seeds have no language
    means = None
    if cfg.center_languages:
        given = language_means is not None and len(language_means) > 0
        means = language_means if given else fit_language_means(X_raw, langs)
        X = apply_language_means(X_raw, langs, means, copy=copy)
    else:
        X = X_raw
    del X_raw  # with copy=False it now holds the centred vectors
    themed, is_dup = _statement_flags(st)

    prev = previous.reset_index(drop=True).copy()
    prev["theme_id"] = prev["theme_id"].astype(str)
    parent_of = prev["parent_id"].astype(object).where(prev["parent_id"].notna(), None)
    prev["parent_id"] = parent_of
    C_all = centroid_matrix(prev["centroid"].tolist() if "centroid" in prev else [None] * len(prev), dim)
    has_c = np.linalg.norm(C_all, axis=1) > 0
    broad_rows = np.flatnonzero((prev["parent_id"].isna() & (prev["theme_id"] != OTHER)).to_numpy())
    broad_ids = prev["theme_id"].iloc[broad_rows].tolist()
    sub_rows = np.flatnonzero(prev["parent_id"].isin(broad_ids).to_numpy())
    seed_ids = {s.theme_id for s in seeds}

    # Leaves: sub-themes, and broad themes without sub-themes; seeded themes are reached by
    # their examples when the taxonomy is given.
    with_subs = set(prev["parent_id"].iloc[sub_rows])
    leaf_rows = [r for r in sub_rows if has_c[r]]
    leaf_rows += [r for r in broad_rows if has_c[r] and prev.at[r, "theme_id"] not in with_subs
                  and prev.at[r, "theme_id"] not in seed_ids]  # fmt: skip
    leaf_rows = sorted(leaf_rows)
    leaf_id = prev["theme_id"].iloc[leaf_rows].to_numpy(dtype=object)
    leaf_parent = np.array([p if p is not None else t for t, p in zip(leaf_id, prev["parent_id"].iloc[leaf_rows],
                                                                        strict=True)], dtype=object)  # fmt: skip
    C_leaf = C_all[leaf_rows]
    C_broad = {prev.at[r, "theme_id"]: C_all[r] for r in broad_rows if has_c[r]}

    # 1. statements seen last run keep their theme while it still exists
    prev_theme, prev_sub = _previous_of_rows(st, previous_assignments)
    known_ids = set(prev["theme_id"]) | {OTHER} | seed_ids
    keep = themed & pd.Series(prev_theme, dtype=object).astype(str).isin(known_ids).to_numpy()
    theme = np.full(n, None, dtype=object)
    sub = np.full(n, None, dtype=object)
    theme[keep] = prev_theme[keep]
    sub_ok = keep & pd.Series(prev_sub, dtype=object).astype(str).isin(set(prev["theme_id"])).to_numpy()
    sub[sub_ok] = prev_sub[sub_ok]

    # 2. new statements: seeds, then the nearest leaf when close enough (filler: stricter)
    leaf_index = {t: j for j, t in enumerate(leaf_id)}
    kept_leaf = np.array([leaf_index.get(s if s is not None else t, OUTLIER) for t, s in zip(theme, sub, strict=True)],
                         dtype=np.int64)  # fmt: skip
    new_rows = np.flatnonzero(themed & ~keep & ~is_dup)
    seed_of = seed_all[new_rows]
    for i, s in zip(new_rows[seed_of >= 0], seed_of[seed_of >= 0], strict=True):
        theme[i] = seeds[s].theme_id
    free = new_rows[seed_of < 0]
    filler = filler_mask(st, cfg.filler_max_chars, cfg.filler_min_customers)[free]
    best = np.zeros(len(free), dtype=np.int64)
    best_sim = np.full(len(free), -np.inf, dtype=np.float32)
    ok = np.zeros(len(free), dtype=bool)
    poor = ~filler
    if len(C_leaf):
        S = X[free] @ C_leaf.T
        best = S.argmax(axis=1)
        best_sim = S[np.arange(len(free)), best]
        near = np.full(n, OUTLIER, dtype=np.int64)
        near[free] = best
        if cfg.outlier_similarity is not None or cfg.outlier_z is None:
            thr = cfg.outlier_similarity if cfg.outlier_similarity is not None else -np.inf
            thr_content = np.full(len(C_leaf), thr, dtype=np.float32)
        else:
            thr_content = _leaf_thresholds(X, kept_leaf, near, C_leaf, cfg.outlier_z)
        thr_filler = _leaf_thresholds(X, kept_leaf, near, C_leaf, cfg.filler_z)
        ok = best_sim >= np.where(filler, thr_filler[best], thr_content[best])
        if cfg.emerging_z is not None:
            poor &= best_sim < _leaf_thresholds(X, kept_leaf, near, C_leaf, cfg.emerging_z)[best]

    # 3. emerging themes: dense groups among the new statements that fit last run's themes poorly
    status: dict[str, str] = {}
    extra_c: dict[str, np.ndarray] = {}
    emerging = np.full(len(free), None, dtype=object)
    cand = np.flatnonzero(poor)
    if (
        cfg.emerging_z is not None
        and len(cand) >= 2 * cfg.min_cluster_size
        and len(cand) > cfg.emerging_min_share * max(len(new_rows), 1)
    ):
        groups = _emerging_groups(X[free[cand]], cfg)
        k = int(groups.max()) + 1 if len(groups) and groups.max() >= 0 else 0
        C_new = centroids_of(X[free[cand]], groups, k)
        closer = (X[free[cand]] @ C_new.T) > best_sim[cand, None]  # nearer the new group than any old theme
        # a group that is only the tail of a theme of last run (centroids alike) is not new
        distinct = (C_new @ C_leaf.T).max(axis=1) < cfg.match_similarity if len(C_leaf) else np.ones(k, dtype=bool)
        nxt = next_theme_number([*prev["theme_id"], *(x for x in prev_theme if x is not None)])
        # ...and a loose one (poor fits that share nothing) is no theme: it must be as tight as
        # the looser quarter of last run's themes
        leaf_means = member_thresholds(X, kept_leaf, C_leaf, 0.0) if len(C_leaf) else np.zeros(0)
        leaf_means = leaf_means[np.isfinite(leaf_means)]
        floor = float(np.percentile(leaf_means, 25)) if len(leaf_means) else -np.inf
        for g in np.flatnonzero(distinct):
            members = cand[(groups == g) & closer[:, g]]
            if len(members) < cfg.min_cluster_size:
                continue
            c = normalize_rows(X[free[members]].sum(0, keepdims=True))[0]
            if float((X[free[members]] @ c).mean()) < floor:
                continue
            tid = f"T{nxt:04d}"
            nxt += 1
            emerging[members] = tid
            status[tid] = "emerging"
            extra_c[tid] = c
    is_em = emerging != None  # noqa: E711 (element-wise on an object array)
    theme[free[is_em]] = emerging[is_em]
    fit = ok & ~is_em
    theme[free[fit]] = leaf_parent[best[fit]] if len(C_leaf) else []
    sub[free[fit]] = np.where(leaf_parent[best[fit]] != leaf_id[best[fit]], leaf_id[best[fit]], None) if len(
        C_leaf) else []  # fmt: skip
    theme[free[~ok & ~is_em]] = OTHER

    # 4. duplicates follow their first copy (unless they kept their own theme); orphans: nearest
    ids = st["statement_id"].astype(str).to_numpy()
    pos = {sid: i for i, sid in enumerate(ids)}
    for i in np.flatnonzero(is_dup & ~keep):
        j = pos.get(str(st.at[i, "is_duplicate_of"]))
        if j is not None and theme[j] is not None:
            theme[i], sub[i] = theme[j], sub[j]
    for s in seeds:
        members = np.flatnonzero(theme == s.theme_id)
        if s.theme_id not in C_broad or len(members):
            extra_c[s.theme_id] = (
                normalize_rows(X[members].sum(0, keepdims=True))[0] if len(members)
                else normalize_rows(s.vectors.sum(0, keepdims=True))[0]
            )  # fmt: skip
            if s.theme_id not in set(prev["theme_id"]):
                status[s.theme_id] = "emerging"
    all_c = {**C_broad, **extra_c}
    assignments = _assignments(st, X, themed, is_dup, theme, sub, all_c)
    themes = _assigned_table(st, X, themed, theme, sub, prev, C_all, extra_c, status, seeds, cfg)
    return ThemeResult(
        assignments=assignments,
        themes=themes,
        language_means=means if means is not None else pd.DataFrame(columns=LANGUAGE_MEAN_COLUMNS),
    )


def _assigned_table(
    st: pd.DataFrame,
    X: np.ndarray,
    themed: np.ndarray,
    theme: np.ndarray,
    sub: np.ndarray,
    prev: pd.DataFrame,
    C_prev: np.ndarray,
    new_c: dict[str, np.ndarray],
    status: dict[str, str],
    seeds: Sequence[SeedTheme],
    cfg: ThemesConfig,
) -> pd.DataFrame:
    """Themes table: last run's rows with tonight's counts and examples, new rows labelled afresh."""
    langs = st.get("language", pd.Series("und", index=st.index)).fillna("und").astype(str).to_numpy()
    customers = st.get("customer_id", pd.Series(None, index=st.index)).to_numpy(dtype=object)
    texts = st["text"].astype(str).to_numpy()
    sids = st["statement_id"].astype(str).to_numpy()
    n_themed = max(int(themed.sum()), 1)
    member_of: dict[str, np.ndarray] = {}
    for key in (theme, sub):
        s = pd.Series(np.arange(len(key)))[pd.notna(key)]
        member_of.update({str(k): v.to_numpy() for k, v in s.groupby(key[s.to_numpy()]) if len(v)})

    # Keywords only for the new themes (spaCy lemmas of their statements; all others are kept).
    new_ids = [t for t in new_c if t not in set(prev["theme_id"])]
    keywords: dict[str, list[str]] = {}
    if new_ids:
        rows = np.flatnonzero(np.isin(theme, [*new_ids, OTHER]))
        main = language_summary(langs[rows])[0]
        rows = keyword_rows(rows[langs[rows] == main], theme, langs, cfg.keyword_sample, cfg.seed)
        toks = lemma_tokens(texts[rows].tolist(), main)
        keywords = class_tfidf_keywords(toks, theme[rows].astype(str).tolist(), cfg.n_keywords)
    seed_name = {s.theme_id: s.name for s in seeds}

    def record(tid: str, base: dict, centroid: np.ndarray | None) -> dict:
        members = member_of.get(tid, np.zeros(0, dtype=np.int64))
        out = dict(base)
        _, _, lang_str = language_summary(langs[members])
        picks = representative_examples(X[members], centroid, customers[members], cfg.n_examples) if (
            centroid is not None and len(members)) else []  # fmt: skip
        out.update(
            n_statements=len(members),
            n_customers=int(pd.Series(customers[members]).dropna().nunique()),
            share=len(members) / n_themed,
            languages=lang_str,
            examples=[texts[members[p]] for p in picks],
            example_ids=[sids[members[p]] for p in picks],
        )
        if tid != OTHER:
            # a theme of last run with no statements tonight fades; one that has them again is stable
            out["status"] = status.get(tid) or ("stable" if len(members) else "faded")
        return out

    live, faded = [], []
    for r, row in enumerate(prev.to_dict("records")):
        tid = row["theme_id"]
        if tid == OTHER:
            continue
        c = new_c.get(tid, C_prev[r] if np.linalg.norm(C_prev[r]) > 0 else None)
        base = {k: row.get(k) for k in [*THEME_COLUMNS, "label_language"]}
        base["centroid"] = None if c is None else [float(x) for x in c]
        rec = record(tid, base, c)
        (faded if rec["status"] == "faded" else live).append(rec)
    for tid in new_ids:
        members = member_of.get(tid, np.zeros(0, dtype=np.int64))
        main, _, _ = language_summary(langs[members])
        kw = keywords.get(tid, [])
        base = {"theme_id": tid, "parent_id": None, "label": seed_name.get(tid) or label_from_keywords(kw),
                "keywords": kw, "status": status.get(tid, "emerging"),
                "centroid": [float(x) for x in new_c[tid]], "label_language": main}  # fmt: skip
        live.append(record(tid, base, new_c[tid]))
    if OTHER in member_of:
        old = prev[prev["theme_id"] == OTHER]
        base = {"theme_id": OTHER, "parent_id": None, "label": "Other", "status": "stable", "centroid": None,
                "keywords": list(old["keywords"].iloc[0]) if len(old) and isinstance(old["keywords"].iloc[0],
                                                                                     list | tuple | np.ndarray)
                else [], "label_language": old["label_language"].iloc[0] if len(old) and "label_language" in old
                else None}  # fmt: skip
        live.append(record(OTHER, base, None))
    for rec in faded:
        rec["examples"], rec["example_ids"] = [], []
    # Order as build_themes: last run's themes (sub-themes after their parent), new ones, other, faded.
    return pd.DataFrame.from_records([*live, *faded], columns=[*THEME_COLUMNS, "label_language"])

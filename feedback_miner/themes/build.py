"""The themes stage: statements + vectors (+ last run's themes) -> assignments and a themes table.

Steps: vectors centred per language, seeded themes first (optional taxonomy), density clustering
of the statements with content into fine themes, fine themes grouped under broad parents and
merged into a readable number of sub-themes (two levels), filler statements joined where they fit,
ids matched to last run's (shared statements, then centroids; statements stay where they still
fit), then labels, counts and representative statements.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from feedback_miner.config import ThemesConfig
from feedback_miner.themes.cluster import (
    OUTLIER,
    Assigner,
    DensityClusterer,
    assign_in_chunks,
    centroid_similarity,
    centroids_of,
    member_thresholds,
    normalize_rows,
)
from feedback_miner.themes.hierarchy import group_fine_clusters, merge_siblings, split_crowded_parents
from feedback_miner.themes.labels import (
    class_tfidf_keywords,
    keyword_rows,
    label_from_keywords,
    language_summary,
    lemma_tokens,
    representative_examples,
)
from feedback_miner.themes.space import LANGUAGE_MEAN_COLUMNS, apply_language_means, filler_mask, fit_language_means
from feedback_miner.themes.taxonomy import SeedTheme, match_seeds
from feedback_miner.themes.tracking import (
    centroid_matrix,
    match_by_overlap,
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

    ``language_means``: ``language, mean, n_statements``: the per-language mean vectors that were
    subtracted before clustering (empty when ``center_languages`` is off); centroids live in that
    space, so :func:`feedback_miner.themes.assign_themes` needs them to place new statements.
    """

    assignments: pd.DataFrame
    themes: pd.DataFrame
    language_means: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=LANGUAGE_MEAN_COLUMNS))


# ------------------------------------------------------------------ helpers

_BROAD_ID = r"^T\d+$"


def _previous_rows(previous: pd.DataFrame | None, dim: int) -> pd.DataFrame:
    if previous is None or len(previous) == 0:
        return pd.DataFrame(columns=[*THEME_COLUMNS, "_c"])
    # Faded rows stay: their ids are never reused, and a theme that returns can take its id back.
    prev = previous.copy()
    prev["_c"] = list(centroid_matrix(prev["centroid"].tolist(), dim)) if "centroid" in prev else None
    return prev.reset_index(drop=True)


def _statement_flags(statements: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    non_answer = statements.get("is_non_answer", pd.Series(False, index=statements.index))
    themed = ~non_answer.fillna(False).astype(bool).to_numpy()
    dup_of = statements.get("is_duplicate_of", pd.Series(None, index=statements.index))
    is_dup = dup_of.notna().to_numpy() & themed
    return themed, is_dup


def _strata(st: pd.DataFrame, rows: np.ndarray, columns: Sequence[str]) -> np.ndarray | None:
    """One stratum code per row of ``rows``: its combination of ``columns`` values (missing values
    make a stratum of their own); None when none of the columns is there."""
    cols = [c for c in columns if c in st]
    if not cols:
        return None
    return st[cols].iloc[rows].groupby(cols, dropna=False, sort=False).ngroup().to_numpy()


def _previous_of_rows(st: pd.DataFrame, previous_assignments: pd.DataFrame | None) -> tuple[np.ndarray, np.ndarray]:
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


def _name_groups(
    labels: np.ndarray,
    centroids: np.ndarray,
    prev_of_row: np.ndarray,
    candidates: pd.DataFrame,
    cfg: ThemesConfig,
    new_id: Callable[[], str],
    fixed: dict[int, str] | None = None,
) -> tuple[list[str], list[bool]]:
    """An id per group: ``fixed`` ones, last run's by shared statements, by centroid, else a new one.

    ``labels``: group index per row (-1: none); ``prev_of_row``: last run's id per row (None);
    ``candidates``: last run's themes that may be matched (``theme_id``, ``_c``).
    """
    k = len(centroids)
    fixed = fixed or {}
    allowed = set(candidates["theme_id"].astype(str)) if len(candidates) else set()
    allowed |= {str(x) for x in prev_of_row if x is not None}
    allowed -= set(fixed.values())
    prev_ok = np.array([x is not None and str(x) in allowed for x in prev_of_row], dtype=bool)
    free = prev_ok & ~np.isin(labels, list(fixed))
    by_overlap = match_by_overlap(labels[free], prev_of_row[free], cfg.match_min_overlap)
    ids: list[str | None] = [fixed.get(g, by_overlap.get(g)) for g in range(k)]
    taken = {x for x in ids if x is not None}
    rest = [g for g in range(k) if ids[g] is None]
    pool = candidates[~candidates["theme_id"].astype(str).isin(taken)] if len(candidates) else candidates
    if rest and len(pool):
        match = match_centroids(centroids[rest], np.vstack(pool["_c"]), cfg.match_similarity)
        for g, m in zip(rest, match, strict=True):
            if m is not None:
                ids[g] = str(pool["theme_id"].iloc[m])
    matched = [x is not None for x in ids]
    return [x if x is not None else new_id() for x in ids], matched


def _inherited_parents(fine: np.ndarray, prev_of_row: np.ndarray, n_fine: int) -> list[str | None]:
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


def _stick(
    X: np.ndarray,
    rows: np.ndarray,
    labels: np.ndarray,
    prev_index: np.ndarray,
    C: np.ndarray,
    z: float,
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


# ------------------------------------------------------------------ entry point


def build_themes(
    statements: pd.DataFrame,
    embeddings: np.ndarray,
    cfg: ThemesConfig,
    previous: pd.DataFrame | None = None,
    taxonomy: Sequence[SeedTheme] | None = None,
    previous_assignments: pd.DataFrame | None = None,
    copy: bool = True,
    assigner: Assigner | None = None,
) -> ThemeResult:
    """Group statements into two-level themes with stable ids.

    ``statements`` follows docs/architecture.md; row i of ``embeddings`` (L2-normalized) belongs
    to row i. Non-answers are not themed (theme_id None); duplicates take their first copy's
    theme and do not weigh the fit; filler statements (see
    :func:`feedback_miner.themes.space.filler_mask`) do not shape themes and join one only when
    close to it. ``previous`` is last run's ``themes`` frame (with ``centroid``): matched themes
    keep id and label, new ones are ``emerging``, unmatched old ones come back as ``faded`` rows
    with no statements. ``previous_assignments`` (``statement_id, theme_id, subtheme_id`` of last
    run) lets themes be matched by the statements they share and statements keep their theme
    while it still fits (``cfg.sticky_z``). ``taxonomy`` is the seeded themes (see
    :func:`feedback_miner.themes.taxonomy.load_taxonomy`, from ``cfg.taxonomy``). ``copy=False``
    lets the language centring overwrite ``embeddings`` (float32, unit rows) instead of copying
    them: for a caller that no longer needs the raw vectors (a copy is 0.5 GB at 340k statements).
    ``assigner`` places the statements the density fit did not take (rows outside
    ``cfg.fit_sample_size``, remaining outliers, filler) on their nearest theme: None in this
    process (:func:`~feedback_miner.themes.cluster.assign_in_chunks`), or e.g.
    ``feedback_miner.scale.RayAssigner`` on Ray workers; the labels are the same.
    """
    st = statements.reset_index(drop=True)
    X_raw = normalize_rows(np.asarray(embeddings))
    if len(st) != len(X_raw):
        raise ValueError(f"build_themes: {len(st)} statements but {len(X_raw)} embedding rows")
    n, dim = X_raw.shape
    langs = st.get("language", pd.Series("und", index=st.index)).fillna("und").astype(str).to_numpy()
    # 1. seeded themes take the statements near their examples (raw vectors: seeds have no language)
    seeds = list(taxonomy or [])
    seed_all, _ = match_seeds(X_raw, seeds, cfg.taxonomy_similarity)
    means = fit_language_means(X_raw, langs) if cfg.center_languages and n else None
    X = apply_language_means(X_raw, langs, means, copy=copy) if means is not None else X_raw
    del X_raw  # with copy=False it now holds the centred vectors
    themed, is_dup = _statement_flags(st)
    fit_rows = np.flatnonzero(themed & ~is_dup)
    prev = _previous_rows(previous, dim)
    prev_theme, prev_sub = _previous_of_rows(st, previous_assignments)
    seed_of = seed_all[fit_rows]
    free_rows = fit_rows[seed_of < 0]
    filler = filler_mask(st, cfg.filler_max_chars, cfg.filler_min_customers)
    core_rows = free_rows[~filler[free_rows]]
    if len(core_rows) < 2 * cfg.min_cluster_size:
        core_rows = free_rows  # (almost) nothing but filler: cluster it all

    # 2. fine themes by density clustering of the statements with content
    clusterer = DensityClusterer(
        reducer=cfg.reducer, reduce_to=cfg.reduce_to, n_neighbors=cfg.n_neighbors, umap_init=cfg.umap_init,
        min_cluster_size=cfg.min_cluster_size, min_samples=cfg.min_samples,
        cluster_selection=cfg.cluster_selection, outlier_similarity=cfg.outlier_similarity,
        outlier_z=cfg.outlier_z, outlier_neighbors=cfg.outlier_neighbors, fit_sample_size=cfg.fit_sample_size,
        seed=cfg.seed, assigner=assigner,
    ).fit(X, rows=core_rows, strata=_strata(st, core_rows, cfg.fit_strata))  # fmt: skip
    fine = clusterer.labels_
    n_fine = int(fine.max()) + 1 if len(fine) and fine.max() >= 0 else 0
    fine_c = clusterer.centroids_[:n_fine]
    sizes = np.bincount(fine[fine >= 0], minlength=n_fine)

    # 3. broad parents of the fine themes, and sub-themes: siblings merged to a readable number
    # With last run's assignments, a fine theme whose statements mostly sat in one broad theme
    # stays under it (the broad cut is not redrawn each night); the others are grouped afresh.
    prev_theme_b = np.array([x if x is not None and re.match(_BROAD_ID, str(x)) else None for x in prev_theme],
                            dtype=object)  # fmt: skip
    inherited = _inherited_parents(fine, prev_theme_b[core_rows], n_fine)
    kept_ids = list(dict.fromkeys(x for x in inherited if x is not None))
    parent = np.full(n_fine, OUTLIER, dtype=np.int64)
    for j, pid in enumerate(kept_ids):
        parent[np.array([x == pid for x in inherited], dtype=bool)] = j
    fresh = np.flatnonzero(parent < 0)
    min_sub = max(cfg.min_cluster_size, int(np.ceil(cfg.min_subtheme_share * len(free_rows))))
    if len(fresh):
        room = max(1, cfg.max_themes - len(kept_ids))
        if cfg.subthemes:
            grouped = group_fine_clusters(fine_c[fresh], cfg.min_themes if not kept_ids else 1, room, sizes[fresh])
            if cfg.max_subthemes >= 2:
                grouped = split_crowded_parents(fine_c[fresh], sizes[fresh], grouped, cfg.max_subthemes, min_sub, room)
        else:
            grouped = np.arange(len(fresh))
        parent[fresh] = len(kept_ids) + grouped
    n_broad = int(parent.max()) + 1 if n_fine else 0
    sub_of_fine = np.full(n_fine, OUTLIER, dtype=np.int64)
    sub_parent: list[int] = []
    for b in range(n_broad):
        children = np.flatnonzero(parent == b)
        if not cfg.subthemes or cfg.max_subthemes < 2:
            break
        g = merge_siblings(fine_c[children], sizes[children], cfg.max_subthemes, min_sub)
        if g.max() >= 1:  # a broad theme of one group has no sub-themes
            sub_of_fine[children] = len(sub_parent) + g
            sub_parent.extend([b] * (int(g.max()) + 1))
    sub_parent_a = np.asarray(sub_parent, dtype=np.int64)
    broad_lab = np.full(n, OUTLIER, dtype=np.int64)
    sub_lab = np.full(n, OUTLIER, dtype=np.int64)
    if n_fine:
        broad_lab[core_rows] = np.where(fine >= 0, parent[np.maximum(fine, 0)], OUTLIER)
        sub_lab[core_rows] = np.where(fine >= 0, sub_of_fine[np.maximum(fine, 0)], OUTLIER)
    broad_c = centroids_of(X, broad_lab, n_broad)
    sub_c = centroids_of(X, sub_lab, len(sub_parent))

    def nearest_sub(rows: np.ndarray) -> None:
        # a row of a broad theme with sub-themes joins the nearest of them
        for b in np.unique(broad_lab[rows]):
            r = rows[broad_lab[rows] == b]
            kids = np.flatnonzero(sub_parent_a == b)
            sub_lab[r] = kids[(X[r] @ sub_c[kids].T).argmax(axis=1)] if len(kids) else OUTLIER

    # 3b. filler joins a theme only when it is as close to it as a typical member
    fill_rows = np.setdiff1d(free_rows, core_rows)
    if len(fill_rows) and n_broad:
        thr = member_thresholds(X, broad_lab, broad_c, cfg.filler_z)
        joined = (assigner or assign_in_chunks)(X, fill_rows, broad_c, thr)  # nearest theme, -1: below thr
        ok = joined >= 0
        broad_lab[fill_rows[ok]] = joined[ok]
        nearest_sub(fill_rows[ok])

    # 4. ids: last run's by shared statements, then by centroid; statements that still fit stay
    next_n = max(next_theme_number(prev["theme_id"]), next_theme_number(prev_theme))

    def new_broad_id() -> str:
        nonlocal next_n
        next_n += 1
        return f"T{next_n - 1:04d}"

    is_prev_broad = prev["theme_id"].astype(str).str.match(_BROAD_ID) if len(prev) else pd.Series([], dtype=bool)
    prev_broad = prev[is_prev_broad.to_numpy(dtype=bool)] if len(prev) else prev
    broad_ids, broad_matched = _name_groups(
        broad_lab, broad_c, prev_theme_b, prev_broad, cfg, new_broad_id, fixed=dict(enumerate(kept_ids))
    )
    sticky = cfg.sticky_z is not None and previous_assignments is not None
    if sticky:
        index = {bid: b for b, bid in enumerate(broad_ids)}
        prev_idx = np.array([index.get(x, OUTLIER) if x is not None else OUTLIER for x in prev_theme_b])
        moved = _stick(X, free_rows, broad_lab, prev_idx, broad_c, cfg.sticky_z)
        changed = np.flatnonzero(moved != broad_lab)
        broad_lab = moved
        nearest_sub(changed)
        broad_c = centroids_of(X, broad_lab, n_broad)
        sub_c = centroids_of(X, sub_lab, len(sub_parent))
    sub_ids: list[str] = [""] * len(sub_parent)
    sub_matched = [False] * len(sub_parent)
    for b, bid in enumerate(broad_ids):
        kids = np.flatnonzero(sub_parent_a == b)
        if not len(kids):
            continue
        local = np.full(n, OUTLIER, dtype=np.int64)
        for j, kid in enumerate(kids):
            local[sub_lab == kid] = j
        prev_sub_b = np.array([x if x is not None and str(x).startswith(bid + ".") else None for x in prev_sub],
                              dtype=object)  # fmt: skip
        cands = prev[prev["parent_id"] == bid] if len(prev) else prev
        nxt = max(next_subtheme_number(bid, cands["theme_id"]) if len(cands) else 1,
                  next_subtheme_number(bid, prev_sub_b))  # fmt: skip

        def new_sub_id(bid: str = bid) -> str:
            nonlocal nxt
            nxt += 1
            return f"{bid}.{nxt - 1}"

        names, matched = _name_groups(local, sub_c[kids], prev_sub_b, cands, cfg, new_sub_id)
        if sticky:
            index = {sid: j for j, sid in enumerate(names)}
            prev_idx = np.array([index.get(x, OUTLIER) if x is not None else OUTLIER for x in prev_sub_b])
            rows = np.flatnonzero(broad_lab == b)
            local = _stick(X, rows, local, prev_idx, sub_c[kids], cfg.sticky_z)
            sub_lab[rows] = np.where(local[rows] >= 0, kids[np.maximum(local[rows], 0)], sub_lab[rows])
        for j, kid in enumerate(kids):
            sub_ids[kid], sub_matched[kid] = names[j], matched[j]
    broad_c = centroids_of(X, broad_lab, n_broad)
    sub_c = centroids_of(X, sub_lab, len(sub_parent))

    theme = np.full(n, None, dtype=object)
    sub = np.full(n, None, dtype=object)
    for i, s in zip(fit_rows[seed_of >= 0], seed_of[seed_of >= 0], strict=True):
        theme[i] = seeds[s].theme_id
    bl, sl = broad_lab[free_rows], sub_lab[free_rows]
    theme[free_rows] = np.where(bl < 0, OTHER, np.array([*broad_ids, OTHER], dtype=object)[bl])
    sub[free_rows] = np.where((bl >= 0) & (sl >= 0), np.array([*sub_ids, None], dtype=object)[sl], None)

    # 5. duplicates follow their first copy; orphans go to the nearest theme
    ids = st["statement_id"].astype(str).to_numpy()
    pos = {sid: i for i, sid in enumerate(ids)}
    for i in np.flatnonzero(is_dup):
        j = pos.get(str(st.at[i, "is_duplicate_of"]))
        if j is not None and theme[j] is not None:
            theme[i], sub[i] = theme[j], sub[j]
    all_c = {bid: broad_c[b] for b, bid in enumerate(broad_ids) if (broad_lab == b).any()}
    for s in seeds:
        members = np.flatnonzero(theme == s.theme_id)
        all_c[s.theme_id] = (
            normalize_rows(X[members].sum(0, keepdims=True))[0]
            if len(members)
            else (normalize_rows(s.vectors.sum(0, keepdims=True))[0])
        )
    assignments = _assignments(st, X, themed, is_dup, theme, sub, all_c)

    # 6. table of themes with labels and examples
    fine_c_by_id = {sid: sub_c[j] for j, sid in enumerate(sub_ids) if sid and (sub_lab == j).any()}
    status = {bid: ("stable" if m else "emerging") for bid, m in zip(broad_ids, broad_matched, strict=True)}
    status.update({sid: ("stable" if m else "emerging") for sid, m in zip(sub_ids, sub_matched, strict=True) if sid})
    prev_ids = set(prev["theme_id"].astype(str)) if len(prev) else set()
    status.update({s.theme_id: ("stable" if s.theme_id in prev_ids else "emerging") for s in seeds})
    themes = _theme_table(st, X, themed, theme, sub, all_c, fine_c_by_id, seeds, status, prev, cfg)
    return ThemeResult(
        assignments=assignments,
        themes=themes,
        language_means=means if means is not None else pd.DataFrame(columns=LANGUAGE_MEAN_COLUMNS),
    )


def _assignments(
    st: pd.DataFrame,
    X: np.ndarray,
    themed: np.ndarray,
    is_dup: np.ndarray,
    theme: np.ndarray,
    sub: np.ndarray,
    centroids: dict[str, np.ndarray],
) -> pd.DataFrame:
    """The assignments frame (``statement_id, theme_id, subtheme_id, similarity``) of a run.

    Duplicates whose first copy has no theme go to the nearest of ``centroids`` (written into
    ``theme``); similarity is the cosine to the statement's theme centroid, to the nearest one for
    'other', NaN for non-answers.
    """
    names = list(centroids)
    similarity = np.full(len(st), np.nan, dtype=np.float32)
    if names:
        C = np.vstack([centroids[k] for k in names])
        orphans = np.flatnonzero(is_dup & (theme == None))  # noqa: E711 (element-wise on an object array)
        if len(orphans):
            theme[orphans] = [names[j] for j in (X[orphans] @ C.T).argmax(1)]
        col = {k: j for j, k in enumerate(names)}
        # -1: 'other' (nearest centroid), -2: non-answers (no similarity)
        j = np.array([col.get(t, -1) for t in theme], dtype=np.int64)
        j[~themed] = -2
        similarity = centroid_similarity(X, C, j, nearest=True)
    return pd.DataFrame(
        {"statement_id": st["statement_id"], "theme_id": theme, "subtheme_id": sub, "similarity": similarity}
    )


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

    # Lemmas once per language, of a bounded sample per (sub-)theme; keywords per language among
    # broad themes, and among siblings.
    leaf = np.where(pd.notna(sub), sub, theme)
    sampled = np.zeros(len(st), dtype=bool)
    sampled[keyword_rows(rows_themed, leaf, langs, cfg.keyword_sample, cfg.seed)] = True
    tokens: dict[int, list[str]] = {}
    for lang in sorted(set(langs[rows_themed])):
        rows = rows_themed[(langs[rows_themed] == lang) & sampled[rows_themed]]
        tokens.update(zip(rows.tolist(), lemma_tokens(texts[rows].tolist(), lang), strict=True))

    def keywords_by_lang(rows: np.ndarray, keys: np.ndarray) -> dict[str, dict[str, list[str]]]:
        out: dict[str, dict[str, list[str]]] = {}
        rows = rows[sampled[rows]]
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
        was_faded = prev["status"].eq("faded") if "status" in prev else pd.Series(False, index=prev.index)
        gone = prev[
            ~prev["theme_id"].astype(str).isin(set(table["theme_id"])) & (prev["theme_id"] != OTHER) & ~was_faded
        ]
        if len(gone):
            faded = gone.drop(columns=["_c"]).copy()
            faded["status"] = "faded"
            for col in ("n_statements", "n_customers", "share"):
                faded[col] = 0
            faded["examples"] = [[] for _ in range(len(faded))]
            faded["example_ids"] = [[] for _ in range(len(faded))]
            table = pd.concat([table, faded.reindex(columns=table.columns)], ignore_index=True)
    return table

"""Assignment nights: last run's themes stay as they are and tonight's new statements join them.

No refit: a statement that already has a theme keeps it; a new one goes to the nearest theme (or
sub-theme) centroid of last run when it fits (the outlier rule of a refit night, in the same
language-centred space), else to ``other``. Themes keep id, label, keywords and centroid; counts,
shares, languages and examples are recomputed on tonight's statements. When many new statements
fit poorly (``cfg.emerging_z``), just those are clustered: dense groups become ``emerging`` themes.
Cost is linear in the statements (one product with the centroid matrix).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from feedback_miner.config import ThemesConfig
from feedback_miner.themes.cluster import OUTLIER, centroids_of, member_thresholds, normalize_rows
from feedback_miner.themes.core import (
    OTHER,
    Night,
    ThemeResult,
    assignments_frame,
    density_clusterer,
    follow_duplicates,
    prepare_night,
    seed_centroid,
)
from feedback_miner.themes.kinds import KIND_LABELS, TOPIC
from feedback_miner.themes.labels import label_from_keywords
from feedback_miner.themes.names import Embed, name_language
from feedback_miner.themes.table import ThemeTable, main_language_keywords, theme_names
from feedback_miner.themes.taxonomy import SeedTheme
from feedback_miner.themes.tracking import IdSequence, centroid_matrix, next_theme_number

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
    # (one emerging topic stays one group: no re-clustering of a big one)
    clusterer = density_clusterer(cfg, outlier_z=None, outlier_neighbors=0, single_fallback=False,
                                  max_cluster_share=0.0)  # fmt: skip
    return clusterer.fit(X).labels_


@dataclass
class _Leaves:
    """Last run's themes as assignment targets: leaves are sub-themes and broad themes without
    sub-themes (seeded themes are reached by their examples when the taxonomy is given).

    ``prev``: last run's table (string ids, None parents); ``C_all``: its centroids (zeros where
    missing); ``ids`` / ``parent`` / ``C``: per leaf, its id, its broad theme (itself for a broad
    leaf) and centroid; ``C_broad``: broad theme id -> centroid.
    """

    prev: pd.DataFrame
    C_all: np.ndarray
    ids: np.ndarray
    parent: np.ndarray
    C: np.ndarray
    C_broad: dict[str, np.ndarray]

    @classmethod
    def of(cls, previous: pd.DataFrame, dim: int, seed_ids: set[str]) -> _Leaves:
        """The leaves of ``previous`` (last run's themes frame) in a ``dim``-dimensional space."""
        prev = previous.reset_index(drop=True).copy()
        prev["theme_id"] = prev["theme_id"].astype(str)
        prev["parent_id"] = prev["parent_id"].astype(object).where(prev["parent_id"].notna(), None)
        C_all = centroid_matrix(prev["centroid"].tolist() if "centroid" in prev else [None] * len(prev), dim)
        has_c = np.linalg.norm(C_all, axis=1) > 0
        broad_rows = np.flatnonzero((prev["parent_id"].isna() & (prev["theme_id"] != OTHER)).to_numpy())
        broad_ids = prev["theme_id"].iloc[broad_rows].tolist()
        sub_rows = np.flatnonzero(prev["parent_id"].isin(broad_ids).to_numpy())
        with_subs = set(prev["parent_id"].iloc[sub_rows])
        leaf_rows = [r for r in sub_rows if has_c[r]]
        leaf_rows += [r for r in broad_rows if has_c[r] and prev.at[r, "theme_id"] not in with_subs
                      and prev.at[r, "theme_id"] not in seed_ids]  # fmt: skip
        leaf_rows = sorted(leaf_rows)
        ids = prev["theme_id"].iloc[leaf_rows].to_numpy(dtype=object)
        parent = np.array([p if p is not None else t for t, p in zip(ids, prev["parent_id"].iloc[leaf_rows],
                                                                     strict=True)], dtype=object)  # fmt: skip
        C_broad = {prev.at[r, "theme_id"]: C_all[r] for r in broad_rows if has_c[r]}
        return cls(prev, C_all, ids, parent, C_all[leaf_rows], C_broad)


@dataclass
class _Fit:
    """How tonight's new statements (``free``: not kept, not a duplicate, no seed) fit the leaves:
    nearest leaf, its similarity, whether it is close enough (``ok``), and whether it fits poorly
    enough to be looked at for emerging themes (``poor``)."""

    free: np.ndarray
    best: np.ndarray
    best_sim: np.ndarray
    ok: np.ndarray
    poor: np.ndarray


class ThemeAssigner:
    """Assigns one night's statements to last run's themes without refitting (see :func:`assign_themes`).

    After :meth:`fit`: ``assignments_``, ``themes_`` and ``language_means_`` (the frames of
    :class:`~feedback_miner.themes.core.ThemeResult`).
    """

    def __init__(
        self,
        cfg: ThemesConfig,
        taxonomy: Sequence[SeedTheme] | None = None,
        language_means: pd.DataFrame | None = None,
        copy: bool = True,
        name_language: str = "en",
        languages: Sequence[str] | None = None,
        embed: Embed | None = None,
    ):
        self.cfg = cfg
        self.taxonomy = taxonomy
        self.language_means = language_means
        self.copy = copy
        self.name_language = name_language
        self.languages = languages
        self.embed = embed

    def fit(
        self,
        statements: pd.DataFrame,
        embeddings: np.ndarray,
        previous: pd.DataFrame,
        previous_assignments: pd.DataFrame | None = None,
    ) -> ThemeAssigner:
        """Assign ``statements`` (row i of ``embeddings`` belongs to row i); see :func:`assign_themes`."""
        cfg, seeds = self.cfg, list(self.taxonomy or [])
        night = prepare_night(statements, embeddings, cfg, seeds, previous_assignments, self.language_means,
                              copy=self.copy, caller="assign_themes", languages=self.languages)  # fmt: skip
        if previous is None or len(previous) == 0:
            raise ValueError("assign_themes: no previous themes to assign to; use build_themes")
        X, n = night.X, len(night.st)
        seed_ids = {s.theme_id for s in seeds}
        leaves = _Leaves.of(previous, X.shape[1], seed_ids)

        # 1. statements seen last run keep their theme while it still exists
        known_ids = set(leaves.prev["theme_id"]) | {OTHER} | seed_ids
        keep = night.themed & pd.Series(night.prev_theme, dtype=object).astype(str).isin(known_ids).to_numpy()
        theme = np.full(n, None, dtype=object)
        sub = np.full(n, None, dtype=object)
        theme[keep] = night.prev_theme[keep]
        known_subs = set(leaves.prev["theme_id"])
        sub_ok = keep & pd.Series(night.prev_sub, dtype=object).astype(str).isin(known_subs).to_numpy()
        sub[sub_ok] = night.prev_sub[sub_ok]
        leaf_index = {t: j for j, t in enumerate(leaves.ids)}
        kept_leaf = np.array([leaf_index.get(s if s is not None else t, OUTLIER)
                              for t, s in zip(theme, sub, strict=True)], dtype=np.int64)  # fmt: skip

        # 2. new statements: seeds, then the nearest leaf when close enough (filler: stricter)
        # ...statements with no topic go to their kind's bucket
        no_topic = np.flatnonzero(night.themed & ~keep & (night.kind != TOPIC))
        theme[no_topic] = night.kind[no_topic]
        new_rows = np.flatnonzero(night.topical & ~keep & ~night.is_dup)
        seed_of = night.seed_of[new_rows]
        for i, s in zip(new_rows[seed_of >= 0], seed_of[seed_of >= 0], strict=True):
            theme[i] = seeds[s].theme_id
        fit = self._nearest_leaves(night, leaves, kept_leaf, new_rows[seed_of < 0])

        # 3. emerging themes: dense groups among the new statements that fit last run's themes poorly
        status: dict[str, str] = {}
        extra_c: dict[str, np.ndarray] = {}
        emerging = self._emerging(night, leaves, kept_leaf, fit, len(new_rows), status, extra_c)
        free, best, ok = fit.free, fit.best, fit.ok
        is_em = emerging != None  # noqa: E711 (element-wise on an object array)
        theme[free[is_em]] = emerging[is_em]
        fits = ok & ~is_em
        theme[free[fits]] = leaves.parent[best[fits]] if len(leaves.C) else []
        sub[free[fits]] = np.where(leaves.parent[best[fits]] != leaves.ids[best[fits]], leaves.ids[best[fits]],
                                   None) if len(leaves.C) else []  # fmt: skip
        theme[free[~ok & ~is_em]] = OTHER
        loose = free[~ok & ~is_em & night.filler[free]]  # repeated short lines that fit no theme: filler
        theme[loose], night.kind[loose] = "filler", "filler"

        # 4. duplicates follow their first copy (unless they kept their own theme); orphans: nearest
        follow_duplicates(night, theme, sub, np.flatnonzero(night.is_dup & ~keep & night.topical))
        for s in seeds:
            members = np.flatnonzero(theme == s.theme_id)
            if s.theme_id not in leaves.C_broad or len(members):
                extra_c[s.theme_id] = seed_centroid(X, members, s)
                if s.theme_id not in set(leaves.prev["theme_id"]):
                    status[s.theme_id] = "emerging"
        assignments = assignments_frame(night, theme, sub, {**leaves.C_broad, **extra_c})
        themes = self._table(night, theme, sub, leaves, extra_c, status)
        result = night.result(assignments, themes)
        self.assignments_, self.themes_, self.language_means_ = result.assignments, result.themes, result.language_means
        return self

    def result(self) -> ThemeResult:
        """The assigned night as a :class:`~feedback_miner.themes.core.ThemeResult`."""
        return ThemeResult(assignments=self.assignments_, themes=self.themes_, language_means=self.language_means_)

    # ------------------------------------------------------------ steps

    def _nearest_leaves(self, night: Night, leaves: _Leaves, kept_leaf: np.ndarray, free: np.ndarray) -> _Fit:
        """Nearest leaf of each new statement and whether it is close enough to join it."""
        cfg, X = self.cfg, night.X
        filler = night.filler[free]
        best = np.zeros(len(free), dtype=np.int64)
        best_sim = np.full(len(free), -np.inf, dtype=np.float32)
        ok = np.zeros(len(free), dtype=bool)
        poor = ~filler
        if len(leaves.C):
            S = X[free] @ leaves.C.T
            best = S.argmax(axis=1)
            best_sim = S[np.arange(len(free)), best]
            near = np.full(len(night.st), OUTLIER, dtype=np.int64)
            near[free] = best
            if cfg.outlier_similarity is not None or cfg.outlier_z is None:
                thr = cfg.outlier_similarity if cfg.outlier_similarity is not None else -np.inf
                thr_content = np.full(len(leaves.C), thr, dtype=np.float32)
            else:
                thr_content = _leaf_thresholds(X, kept_leaf, near, leaves.C, cfg.outlier_z)
            thr_filler = _leaf_thresholds(X, kept_leaf, near, leaves.C, cfg.filler_z)
            ok = best_sim >= np.where(filler, thr_filler[best], thr_content[best])
            if cfg.emerging_z is not None:
                poor &= best_sim < _leaf_thresholds(X, kept_leaf, near, leaves.C, cfg.emerging_z)[best]
        return _Fit(free, best, best_sim, ok, poor)

    def _emerging(
        self,
        night: Night,
        leaves: _Leaves,
        kept_leaf: np.ndarray,
        fit: _Fit,
        n_new: int,
        status: dict[str, str],
        centroids: dict[str, np.ndarray],
    ) -> np.ndarray:
        """New theme id of each new statement that joins an emerging theme (None: does not);
        the new themes' status and centroid are written into ``status`` and ``centroids``."""
        cfg, X, C_leaf = self.cfg, night.X, leaves.C
        emerging = np.full(len(fit.free), None, dtype=object)
        cand = np.flatnonzero(fit.poor)
        if not (cfg.emerging_z is not None and len(cand) >= 2 * cfg.min_cluster_size
                and len(cand) > cfg.emerging_min_share * max(n_new, 1)):  # fmt: skip
            return emerging
        Xc = X[fit.free[cand]]
        groups = _emerging_groups(Xc, cfg)
        k = int(groups.max()) + 1 if len(groups) and groups.max() >= 0 else 0
        C_new = centroids_of(Xc, groups, k)
        closer = (Xc @ C_new.T) > fit.best_sim[cand, None]  # nearer the new group than any old theme
        # a group that is only the tail of a theme of last run (centroids alike) is not new
        distinct = (C_new @ C_leaf.T).max(axis=1) < cfg.match_similarity if len(C_leaf) else np.ones(k, dtype=bool)
        known = [*leaves.prev["theme_id"], *(x for x in night.prev_theme if x is not None)]
        new_id = IdSequence(next_theme_number(known))
        # ...and a loose one (poor fits that share nothing) is no theme: it must be as tight as
        # the looser quarter of last run's themes
        leaf_means = member_thresholds(X, kept_leaf, C_leaf, 0.0) if len(C_leaf) else np.zeros(0)
        leaf_means = leaf_means[np.isfinite(leaf_means)]
        floor = float(np.percentile(leaf_means, 25)) if len(leaf_means) else -np.inf
        for g in np.flatnonzero(distinct):
            members = cand[(groups == g) & closer[:, g]]
            if len(members) < cfg.min_cluster_size:
                continue
            c = normalize_rows(X[fit.free[members]].sum(0, keepdims=True))[0]
            if float((X[fit.free[members]] @ c).mean()) < floor:
                continue
            tid = new_id()
            emerging[members] = tid
            status[tid] = "emerging"
            centroids[tid] = c
        return emerging

    def _table(
        self,
        night: Night,
        theme: np.ndarray,
        sub: np.ndarray,
        leaves: _Leaves,
        new_c: dict[str, np.ndarray],
        status: dict[str, str],
    ) -> pd.DataFrame:
        """Themes table: last run's rows with tonight's counts and examples, new rows labelled afresh.

        Order as a refit night: last run's themes (sub-themes after their parent), new ones,
        other, faded.
        """
        prev, table = leaves.prev, ThemeTable(night, self.cfg)
        member_of: dict[str, np.ndarray] = {}
        for key in (theme, sub):
            s = pd.Series(np.arange(len(key)))[pd.notna(key)]
            member_of.update({str(k): v.to_numpy() for k, v in s.groupby(key[s.to_numpy()]) if len(v)})
        none = np.zeros(0, dtype=np.int64)
        # Keywords only for the new themes (all others are kept).
        new_ids = [t for t in new_c if t not in set(prev["theme_id"])]
        keywords = main_language_keywords(night, theme, new_ids, self.cfg)
        seed_name = {s.theme_id: s.name for s in self.taxonomy or []}

        live, faded = [], []
        for r, old in enumerate(prev.to_dict("records")):
            tid = old["theme_id"]
            if tid == OTHER:
                continue
            if tid in KIND_LABELS:
                if tid in member_of:
                    live.append(table.kind_row(tid, member_of[tid], status="stable"))
                else:
                    faded.append(table.row(tid, none, None, parent_id=None, label=old.get("label"), keywords=[],
                                           status="faded", label_language=None, kind=tid))  # fmt: skip
                continue
            c = new_c.get(tid, leaves.C_all[r] if np.linalg.norm(leaves.C_all[r]) > 0 else None)
            members = member_of.get(tid, none)
            # a theme of last run with no statements tonight fades; one that has them again is stable
            rec = table.row(tid, members, c, parent_id=old.get("parent_id"), label=old.get("label"),
                            keywords=old.get("keywords"), label_language=old.get("label_language"),
                            status=status.get(tid) or ("stable" if len(members) else "faded"))  # fmt: skip
            (faded if rec["status"] == "faded" else live).append(rec)
        lang_of = {t: name_language(Counter(night.langs[member_of.get(t, none)].tolist()), self.name_language)
                   for t in new_ids}  # fmt: skip
        names = theme_names(night, np.flatnonzero(np.isin(theme, [*new_ids, OTHER])), theme, new_c, lang_of,
                            taken=[str(x) for x in prev["label"]], embed=self.embed)  # fmt: skip
        for tid in new_ids:
            members = member_of.get(tid, none)
            kw = keywords.get(tid, [])
            name = names.get(tid) or label_from_keywords(kw)
            live.append(table.row(tid, members, new_c[tid], parent_id=None,
                                  label=seed_name.get(tid) or (name if lang_of[tid] == self.name_language
                                                               else f"{name} ({lang_of[tid]})"),
                                  keywords=kw, status=status.get(tid, "emerging"),
                                  label_language=lang_of[tid]))  # fmt: skip
        known = set(prev["theme_id"])
        live.extend(table.kind_row(k, member_of[k], status="emerging") for k in KIND_LABELS
                    if k in member_of and k not in known)  # fmt: skip
        if OTHER in member_of:
            old = prev[prev["theme_id"] == OTHER]
            kept_kw = len(old) and isinstance(old["keywords"].iloc[0], list | tuple | np.ndarray)
            live.append(table.row(OTHER, member_of[OTHER], None, parent_id=None, label="Other",
                                  keywords=list(old["keywords"].iloc[0]) if kept_kw else [], status="stable",
                                  label_language=old["label_language"].iloc[0] if len(old) and "label_language" in old
                                  else None))  # fmt: skip
        return ThemeTable.frame([*live, *faded])


def assign_themes(
    statements: pd.DataFrame,
    embeddings: np.ndarray,
    cfg: ThemesConfig,
    previous: pd.DataFrame,
    previous_assignments: pd.DataFrame | None = None,
    taxonomy: Sequence[SeedTheme] | None = None,
    language_means: pd.DataFrame | None = None,
    copy: bool = True,
    name_language: str = "en",
    languages: Sequence[str] | None = None,
    embed: Embed | None = None,
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
    New themes are named, and statements with no topic go to their kind's bucket, as in
    :func:`build_themes` (``name_language``, ``languages``, ``embed``).
    """
    assigner = ThemeAssigner(cfg, taxonomy=taxonomy, language_means=language_means, copy=copy,
                             name_language=name_language, languages=languages, embed=embed)  # fmt: skip
    return assigner.fit(statements, embeddings, previous, previous_assignments).result()

"""Refit nights: statements + vectors (+ last run's themes) -> assignments and a themes table.

Steps: the shared start (:func:`~feedback_miner.themes.core.prepare_night`: vectors centred per
language, seeded themes first), density clustering of the statements with content into fine
themes, fine themes grouped under broad parents and merged into a readable number of sub-themes
(two levels), filler statements joined where they fit, ids matched to last run's (shared
statements, then centroids; statements stay where they still fit), then labels, counts and
representative statements.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from feedback_miner.config import ThemesConfig
from feedback_miner.themes.cluster import OUTLIER, Assigner, assign_in_chunks, centroids_of, member_thresholds
from feedback_miner.themes.core import (
    OTHER,
    THEME_COLUMNS,
    Night,
    ThemeResult,
    assignments_frame,
    density_clusterer,
    follow_duplicates,
    kind_buckets,
    prepare_night,
    seed_centroid,
)
from feedback_miner.themes.hierarchy import (
    group_fine_clusters,
    merge_duplicate_parents,
    merge_siblings_by_part,
    merge_similar_parents,
    split_crowded_parents,
    split_incoherent_parents,
)
from feedback_miner.themes.kinds import KIND_LABELS
from feedback_miner.themes.labels import is_keyword_label, label_from_keywords, language_summary
from feedback_miner.themes.named_merge import merge_by_names
from feedback_miner.themes.names import Embed, name_language
from feedback_miner.themes.table import LanguageKeywords, ThemeTable, newly_faded, theme_names
from feedback_miner.themes.taxonomy import SeedTheme
from feedback_miner.themes.tracking import (
    BROAD_ID,
    IdSequence,
    broad_only,
    centroid_matrix,
    index_of,
    inherited_parents,
    name_groups,
    next_subtheme_number,
    next_theme_number,
    stick,
)


def _previous_rows(previous: pd.DataFrame | None, dim: int) -> pd.DataFrame:
    """Last run's themes with their centroids as vectors (``_c``); an empty frame without them."""
    if previous is None or len(previous) == 0:
        return pd.DataFrame(columns=[*THEME_COLUMNS, "_c"])
    # Faded rows stay: their ids are never reused, and a theme that returns can take its id back.
    prev = previous.copy()
    prev["_c"] = list(centroid_matrix(prev["centroid"].tolist(), dim)) if "centroid" in prev else None
    return prev.reset_index(drop=True)


def _strata(st: pd.DataFrame, rows: np.ndarray, columns: Sequence[str]) -> np.ndarray | None:
    """One stratum code per row of ``rows``: its combination of ``columns`` values (missing values
    make a stratum of their own); None when none of the columns is there."""
    cols = [c for c in columns if c in st]
    if not cols:
        return None
    return st[cols].iloc[rows].groupby(cols, dropna=False, sort=False).ngroup().to_numpy()


@dataclass
class _Levels:
    """Broad theme and sub-theme index of every statement (-1: none), each sub-theme's broad
    parent, and the centroids ids are matched by (drawn before filler and sticky statements move,
    and once more after the broad sticky step); rows join sub-themes by :meth:`nearest_sub`."""

    broad: np.ndarray
    sub: np.ndarray
    sub_parent: np.ndarray
    n_broad: int
    broad_c: np.ndarray | None = None
    sub_c: np.ndarray | None = None

    def centroids(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Broad and sub-theme centroids of the current labels."""
        return centroids_of(X, self.broad, self.n_broad), centroids_of(X, self.sub, len(self.sub_parent))

    def nearest_sub(self, X: np.ndarray, rows: np.ndarray) -> None:
        """A row of a broad theme with sub-themes joins the nearest of them."""
        for b in np.unique(self.broad[rows]):
            r = rows[self.broad[rows] == b]
            kids = np.flatnonzero(self.sub_parent == b)
            self.sub[r] = kids[(X[r] @ self.sub_c[kids].T).argmax(axis=1)] if len(kids) else OUTLIER


class ThemeRefitter:
    """Fits two-level themes with stable ids on one night's statements (see :func:`build_themes`).

    After :meth:`fit`: ``assignments_``, ``themes_`` and ``language_means_`` (the frames of
    :class:`~feedback_miner.themes.core.ThemeResult`).
    """

    def __init__(
        self,
        cfg: ThemesConfig,
        taxonomy: Sequence[SeedTheme] | None = None,
        assigner: Assigner | None = None,
        copy: bool = True,
        name_language: str = "en",
        languages: Sequence[str] | None = None,
        embed: Embed | None = None,
    ):
        self.cfg = cfg
        self.taxonomy = taxonomy
        self.assigner = assigner
        self.copy = copy
        self.name_language = name_language
        self.languages = languages
        self.embed = embed

    def fit(
        self,
        statements: pd.DataFrame,
        embeddings: np.ndarray,
        previous: pd.DataFrame | None = None,
        previous_assignments: pd.DataFrame | None = None,
    ) -> ThemeRefitter:
        """Theme ``statements`` (row i of ``embeddings`` belongs to row i); see :func:`build_themes`."""
        cfg, seeds = self.cfg, list(self.taxonomy or [])
        night = prepare_night(statements, embeddings, cfg, seeds, previous_assignments, copy=self.copy,
                              caller="build_themes", languages=self.languages)  # fmt: skip
        X, n = night.X, len(night.st)
        prev = _previous_rows(previous, X.shape[1])
        fit_rows = np.flatnonzero(night.topical & ~night.is_dup)
        seed_of = night.seed_of[fit_rows]
        free_rows = fit_rows[seed_of < 0]
        core_rows = free_rows[~night.filler[free_rows]]
        if len(core_rows) < 2 * cfg.min_cluster_size:
            core_rows = free_rows  # (almost) nothing but filler: cluster it all

        levels, kept_ids = self._levels(night, core_rows, len(free_rows))
        self._join_filler(X, levels, np.setdiff1d(free_rows, core_rows))
        broad_ids, broad_matched = self._broad_ids(night, levels, prev, kept_ids, free_rows,
                                                   sticky=previous_assignments is not None)  # fmt: skip
        sub_ids, sub_matched = self._sub_ids(night, levels, prev, broad_ids, sticky=previous_assignments is not None)
        broad_c, sub_c = levels.centroids(X)

        theme = np.full(n, None, dtype=object)
        sub = np.full(n, None, dtype=object)
        for i, s in zip(fit_rows[seed_of >= 0], seed_of[seed_of >= 0], strict=True):
            theme[i] = seeds[s].theme_id
        bl, sl = levels.broad[free_rows], levels.sub[free_rows]
        theme[free_rows] = np.where(bl < 0, OTHER, np.array([*broad_ids, OTHER], dtype=object)[bl])
        sub[free_rows] = np.where((bl >= 0) & (sl >= 0), np.array([*sub_ids, None], dtype=object)[sl], None)
        # short lines repeated word for word that fit no theme are filler, not topics left over
        night.kind[free_rows[(bl < 0) & night.filler[free_rows]]] = "filler"

        # statements with no topic go to their kind's bucket; duplicates follow their first copy;
        # orphans go to the nearest theme
        kind_buckets(night, theme)
        follow_duplicates(night, theme, sub, np.flatnonzero(night.is_dup & night.topical))
        all_c = {bid: broad_c[b] for b, bid in enumerate(broad_ids) if (levels.broad == b).any()}
        for s in seeds:
            all_c[s.theme_id] = seed_centroid(X, np.flatnonzero(theme == s.theme_id), s)
        assignments = assignments_frame(night, theme, sub, all_c)

        fine_c_by_id = {sid: sub_c[j] for j, sid in enumerate(sub_ids) if sid and (levels.sub == j).any()}
        # A first night has nothing to compare with: its themes are new, not emerging.
        unmatched = "emerging" if len(prev) or previous_assignments is not None else "new"
        status = {bid: ("stable" if m else unmatched) for bid, m in zip(broad_ids, broad_matched, strict=True)}
        status.update({sid: ("stable" if m else unmatched)
                       for sid, m in zip(sub_ids, sub_matched, strict=True) if sid})  # fmt: skip
        prev_ids = set(prev["theme_id"].astype(str)) if len(prev) else set()
        status.update({s.theme_id: ("stable" if s.theme_id in prev_ids else unmatched) for s in seeds})
        themes = self._table(night, theme, sub, all_c, fine_c_by_id, status, prev)
        result = night.result(assignments, themes)
        self.assignments_, self.themes_, self.language_means_ = result.assignments, result.themes, result.language_means
        return self

    def result(self) -> ThemeResult:
        """The fitted night as a :class:`~feedback_miner.themes.core.ThemeResult`."""
        return ThemeResult(assignments=self.assignments_, themes=self.themes_, language_means=self.language_means_)

    # ------------------------------------------------------------ steps

    def _levels(self, night: Night, core_rows: np.ndarray, n_free: int) -> tuple[_Levels, list[str]]:
        """Fine themes by density clustering of ``core_rows``, grouped into broad themes with sub-themes.

        With last run's assignments, a fine theme whose statements mostly sat in one broad theme
        stays under it (the broad cut is not redrawn each night; those ids are returned); the
        others are grouped afresh.
        """
        cfg, X, n = self.cfg, night.X, len(night.st)
        clusterer = density_clusterer(cfg, assigner=self.assigner).fit(
            X, rows=core_rows, strata=_strata(night.st, core_rows, cfg.fit_strata)
        )
        fine = clusterer.labels_
        n_fine = int(fine.max()) + 1 if len(fine) and fine.max() >= 0 else 0
        fine_c = clusterer.centroids_[:n_fine]
        sizes = np.bincount(fine[fine >= 0], minlength=n_fine)

        inherited = inherited_parents(fine, broad_only(night.prev_theme)[core_rows], n_fine)
        kept_ids = list(dict.fromkeys(x for x in inherited if x is not None))
        parent = np.full(n_fine, OUTLIER, dtype=np.int64)
        for j, pid in enumerate(kept_ids):
            parent[np.array([x == pid for x in inherited], dtype=bool)] = j
        fresh = np.flatnonzero(parent < 0)
        min_sub = max(cfg.min_cluster_size, int(np.ceil(cfg.min_subtheme_share * n_free)))
        parts = None  # the broad themes before the name merge
        if len(fresh):
            room = max(1, cfg.max_themes - len(kept_ids))
            if cfg.subthemes:
                grouped = group_fine_clusters(fine_c[fresh], cfg.min_themes if not kept_ids else 1, room, sizes[fresh])
                if cfg.max_subthemes >= 2:
                    grouped = split_crowded_parents(fine_c[fresh], sizes[fresh], grouped, cfg.max_subthemes, min_sub,
                                                    room)  # fmt: skip
            else:
                grouped = np.arange(len(fresh))
            parent[fresh] = len(kept_ids) + grouped
        if n_fine and cfg.subthemes:
            fitted = core_rows[clusterer.fitted_on_]  # the fit sample: bounded cost at any corpus size
            if not kept_ids:  # (merging would renumber the broad themes kept from last night)
                parent = merge_duplicate_parents(X[fitted], fine[clusterer.fitted_on_], fine_c, sizes, parent,
                                                 cfg.duplicate_confusion, cfg.max_subthemes)  # fmt: skip
            parent = split_incoherent_parents(fine_c, sizes, parent, cfg.min_coherence, n_kept=len(kept_ids))
            if not kept_ids:
                parent = merge_similar_parents(fine_c, sizes, parent, cfg.duplicate_similarity)
                if self.embed is not None:
                    parts = parent
                    parent = merge_by_names(night, core_rows[fine >= 0], fine[fine >= 0], fine_c, sizes, parent, cfg,
                                            self.embed, self.name_language, self.languages)  # fmt: skip
        n_broad = int(parent.max()) + 1 if n_fine else 0
        sub_of_fine, sub_parent = self._subthemes(parent, n_broad, fine_c, sizes, min_sub, parts)
        broad_lab = np.full(n, OUTLIER, dtype=np.int64)
        sub_lab = np.full(n, OUTLIER, dtype=np.int64)
        if n_fine:
            broad_lab[core_rows] = np.where(fine >= 0, parent[np.maximum(fine, 0)], OUTLIER)
            sub_lab[core_rows] = np.where(fine >= 0, sub_of_fine[np.maximum(fine, 0)], OUTLIER)
        levels = _Levels(broad_lab, sub_lab, sub_parent, n_broad)
        levels.broad_c, levels.sub_c = levels.centroids(X)
        return levels, kept_ids

    def _subthemes(
        self, parent: np.ndarray, n_broad: int, fine_c: np.ndarray, sizes: np.ndarray, min_sub: int,
        parts: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Sub-theme of each fine theme (siblings merged to a readable number, each of ``parts`` apart;
        -1: its broad theme has none) and the broad parent of each sub-theme."""
        cfg = self.cfg
        sub_of_fine = np.full(len(parent), OUTLIER, dtype=np.int64)
        sub_parent: list[int] = []
        for b in range(n_broad):
            children = np.flatnonzero(parent == b)
            if not cfg.subthemes or cfg.max_subthemes < 2:
                break
            split = parts[children] if parts is not None else np.zeros(len(children), dtype=np.int64)
            g = merge_siblings_by_part(fine_c[children], sizes[children], split, cfg.max_subthemes, min_sub)
            if g.max() >= 1:  # a broad theme of one group has no sub-themes
                sub_of_fine[children] = len(sub_parent) + g
                sub_parent.extend([b] * (int(g.max()) + 1))
        return sub_of_fine, np.asarray(sub_parent, dtype=np.int64)

    def _join_filler(self, X: np.ndarray, levels: _Levels, fill_rows: np.ndarray) -> None:
        """Filler joins a theme only when it is as close to it as a typical member."""
        if not len(fill_rows) or not levels.n_broad:
            return
        thr = member_thresholds(X, levels.broad, levels.broad_c, self.cfg.filler_z)
        joined = (self.assigner or assign_in_chunks)(X, fill_rows, levels.broad_c, thr)  # nearest theme, -1: below thr
        ok = joined >= 0
        levels.broad[fill_rows[ok]] = joined[ok]
        levels.nearest_sub(X, fill_rows[ok])

    def _broad_ids(
        self,
        night: Night,
        levels: _Levels,
        prev: pd.DataFrame,
        kept_ids: list[str],
        free_rows: np.ndarray,
        sticky: bool,
    ) -> tuple[list[str], list[bool]]:
        """Broad ids: last run's by shared statements, then by centroid; statements that still fit stay."""
        cfg, X = self.cfg, night.X
        prev_theme_b = broad_only(night.prev_theme)
        new_id = IdSequence(max(next_theme_number(prev["theme_id"]), next_theme_number(night.prev_theme)))
        is_prev_broad = prev["theme_id"].astype(str).str.match(BROAD_ID) if len(prev) else pd.Series([], dtype=bool)
        prev_broad = prev[is_prev_broad.to_numpy(dtype=bool)] if len(prev) else prev
        broad_c = levels.broad_c
        broad_ids, matched = name_groups(levels.broad, broad_c, prev_theme_b, prev_broad, cfg.match_min_overlap,
                                         cfg.match_similarity, new_id, fixed=dict(enumerate(kept_ids)))  # fmt: skip
        if sticky and cfg.sticky_z is not None:
            moved = stick(X, free_rows, levels.broad, index_of(broad_ids, prev_theme_b), broad_c, cfg.sticky_z)
            changed = np.flatnonzero(moved != levels.broad)
            levels.broad = moved
            levels.nearest_sub(X, changed)
            levels.broad_c, levels.sub_c = levels.centroids(X)
        return broad_ids, matched

    def _sub_ids(
        self, night: Night, levels: _Levels, prev: pd.DataFrame, broad_ids: list[str], sticky: bool
    ) -> tuple[list[str], list[bool]]:
        """Sub-theme ids within each broad theme, matched as the broad ones; statements that still fit stay."""
        cfg, X, n = self.cfg, night.X, len(night.st)
        sticky = sticky and cfg.sticky_z is not None
        sub_c = levels.sub_c
        sub_ids: list[str] = [""] * len(levels.sub_parent)
        sub_matched = [False] * len(levels.sub_parent)
        for b, bid in enumerate(broad_ids):
            kids = np.flatnonzero(levels.sub_parent == b)
            if not len(kids):
                continue
            local = np.full(n, OUTLIER, dtype=np.int64)
            for j, kid in enumerate(kids):
                local[levels.sub == kid] = j
            prev_sub_b = np.array([x if x is not None and str(x).startswith(bid + ".") else None
                                   for x in night.prev_sub], dtype=object)  # fmt: skip
            cands = prev[prev["parent_id"] == bid] if len(prev) else prev
            new_id = IdSequence(max(next_subtheme_number(bid, cands["theme_id"]) if len(cands) else 1,
                                    next_subtheme_number(bid, prev_sub_b)), parent=bid)  # fmt: skip
            names, matched = name_groups(local, sub_c[kids], prev_sub_b, cands, cfg.match_min_overlap,
                                         cfg.match_similarity, new_id)  # fmt: skip
            if sticky:
                rows = np.flatnonzero(levels.broad == b)
                local = stick(X, rows, local, index_of(names, prev_sub_b), sub_c[kids], cfg.sticky_z)
                levels.sub[rows] = np.where(local[rows] >= 0, kids[np.maximum(local[rows], 0)], levels.sub[rows])
            for j, kid in enumerate(kids):
                sub_ids[kid], sub_matched[kid] = names[j], matched[j]
        return sub_ids, sub_matched

    def _table(
        self,
        night: Night,
        theme: np.ndarray,
        sub: np.ndarray,
        broad_c: dict[str, np.ndarray],
        fine_c: dict[str, np.ndarray],
        status: dict[str, str],
        prev: pd.DataFrame,
    ) -> pd.DataFrame:
        """Themes table: every theme named in its customers' words (:mod:`~feedback_miner.themes.names`,
        in ``name_language`` where it has statements in it) with its keywords (per language: among
        broad themes, and among siblings); a matched theme keeps last run's name; then newly faded themes."""
        cfg, langs = self.cfg, night.langs
        rows_themed = np.flatnonzero(night.topical)
        keywords = LanguageKeywords(night, rows_themed, np.where(pd.notna(sub), sub, theme), cfg)
        broad_kw = keywords.by_language(rows_themed, theme)
        sub_rows = rows_themed[sub[rows_themed] != None]  # noqa: E711 (element-wise on an object array)
        sub_kw: dict[str, dict[str, list[str]]] = {}
        for p in sorted(set(theme[sub_rows])):
            sub_kw.update(keywords.by_language(sub_rows[theme[sub_rows] == p], sub))
        lang_of = {tid: name_language(Counter(langs[theme == tid].tolist()), self.name_language) for tid in broad_c}
        lang_of.update({fid: name_language(Counter(langs[sub == fid].tolist()), self.name_language) for fid in fine_c})
        sampled = rows_themed[keywords.sampled[rows_themed]]
        names = theme_names(night, sampled, theme, broad_c, {t: lang_of[t] for t in broad_c}, embed=self.embed,
                            languages=self.languages)  # fmt: skip
        names.update(theme_names(night, sampled[sub[sampled] != None], sub, fine_c,  # noqa: E711
                                 {t: lang_of[t] for t in fine_c}, taken=list(names.values()),
                                 embed=self.embed, languages=self.languages))  # fmt: skip
        prev_label = dict(zip(prev["theme_id"].astype(str), prev["label"], strict=True)) if len(prev) else {}
        seed_name = {s.theme_id: s.name for s in self.taxonomy or []}
        table = ThemeTable(night, cfg)

        def label_of(tid: str, lang: str) -> str:
            if tid in seed_name:
                return seed_name[tid]
            if tid == OTHER:
                return "Other"
            old = prev_label.get(tid)
            if isinstance(old, str) and old and status.get(tid) == "stable" and not is_keyword_label(old):
                return old  # the name analysts know (labels made of stems before names existed are redone)
            name = names.get(tid)
            if name is None:
                return label_from_keywords(broad_kw.get(tid, sub_kw.get(tid, {})).get(lang, []))
            return name if lang == self.name_language else f"{name} ({lang})"

        def row(tid: str, parent: str | None, members: np.ndarray, centroid: np.ndarray | None, kw: dict) -> dict:
            main = language_summary(langs[members])[0]
            lang_used = lang_of.get(tid, main)
            kw_lang = lang_used if lang_used in kw else main
            return table.row(tid, members, centroid, parent_id=parent, label=label_of(tid, lang_used),
                             keywords=kw.get(kw_lang, []), status=status.get(tid, "stable"),
                             label_language=lang_used)  # fmt: skip

        rows = []
        for tid in broad_c:
            members = np.flatnonzero(theme == tid)
            rows.append(row(tid, None, members, broad_c[tid], broad_kw.get(tid, {})))
            for fid in sorted({s for s in sub[members] if s is not None}, key=lambda x: int(x.rsplit(".", 1)[1])):
                rows.append(row(fid, tid, np.flatnonzero(sub == fid), fine_c[fid], sub_kw.get(fid, {})))
        others = np.flatnonzero(theme == OTHER)
        if len(others):
            rows.append(row(OTHER, None, others, None, broad_kw.get(OTHER, {})))
        for kind in KIND_LABELS:
            members = np.flatnonzero(theme == kind)
            if len(members):
                rows.append(table.kind_row(kind, members, status="stable" if len(prev) else "new"))
        return ThemeTable.frame(rows, newly_faded(prev, {r["theme_id"] for r in rows}))


def build_themes(
    statements: pd.DataFrame,
    embeddings: np.ndarray,
    cfg: ThemesConfig,
    previous: pd.DataFrame | None = None,
    taxonomy: Sequence[SeedTheme] | None = None,
    previous_assignments: pd.DataFrame | None = None,
    copy: bool = True,
    assigner: Assigner | None = None,
    name_language: str = "en",
    languages: Sequence[str] | None = None,
    embed: Embed | None = None,
) -> ThemeResult:
    """Group statements into two-level themes with stable ids (a refit night: :class:`ThemeRefitter`).

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
    ``feedback_miner.engine.ray.RayAssigner`` on Ray workers; the labels are the same. Themes are named
    in ``name_language`` (``report.language``) where they have statements in it, else in their
    main language, shown after the name ("consegna in ritardo (it)"). Statements that are no topic
    (:mod:`~feedback_miner.themes.kinds`: generic praise or complaints, filler, text outside
    ``languages``, the configured ones; None: all) are not clustered: each kind is a bucket of its own.
    ``embed`` (texts -> raw embeddings from the model of ``embeddings``; None: names by words alone)
    lets a theme's name be the candidate phrase closest to its centroid (:mod:`~feedback_miner.themes.names`).
    """
    refitter = ThemeRefitter(cfg, taxonomy=taxonomy, assigner=assigner, copy=copy, name_language=name_language,
                             languages=languages, embed=embed)  # fmt: skip
    return refitter.fit(statements, embeddings, previous, previous_assignments).result()

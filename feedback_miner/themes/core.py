"""What refit and assignment nights share: the night's input in the themes' space, the density
clusterer built from the config, duplicates following their first copy, seed centroids, and the
assignments frame.

Both nights start alike (:func:`prepare_night`): vectors L2-normalized, seeds matched on the raw
vectors (seeds have no language), then the vectors centred per language
(:class:`~feedback_miner.themes.space.LanguageCentering`), non-answers and duplicates flagged,
filler found, and last run's theme of each statement looked up.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from feedback_miner.config import ThemesConfig
from feedback_miner.themes.cluster import Assigner, DensityClusterer, centroid_similarity, normalize_rows
from feedback_miner.themes.kinds import TOPIC, statement_kinds
from feedback_miner.themes.space import LANGUAGE_MEAN_COLUMNS, LanguageCentering, filler_mask
from feedback_miner.themes.taxonomy import SeedTheme, match_seeds
from feedback_miner.themes.tracking import previous_of_rows

OTHER = "other"
THEME_COLUMNS = [
    "theme_id", "parent_id", "label", "keywords", "n_statements", "n_customers", "share", "languages",
    "examples", "example_ids", "status", "centroid",
]  # fmt: skip
TABLE_COLUMNS = [*THEME_COLUMNS, "label_language", "kind"]


@dataclass
class ThemeResult:
    """Output of a themes night (:func:`~feedback_miner.themes.build_themes` or
    :func:`~feedback_miner.themes.assign_themes`).

    ``assignments``: one row per input statement: ``statement_id``, ``theme_id`` (``T0003``,
    ``S:<seed>``, ``other`` for outliers, a kind such as ``generic_praise`` for statements that
    are no topic, None for non-answers), ``subtheme_id`` (``T0003.2`` or None), ``similarity``
    (cosine to the theme centroid), ``kind`` (:mod:`~feedback_miner.themes.kinds`; None for non-answers).

    ``themes``: one row per broad theme, sub-theme (``parent_id`` set), ``other`` bucket and faded
    theme of the previous run: ``theme_id, parent_id, label, keywords, n_statements, n_customers,
    share, languages, examples, example_ids, status, centroid`` (+ ``label_language``, ``kind``:
    ``topic`` or the kind of a bucket of statements that are no topic).

    ``language_means``: ``language, mean, n_statements``: the per-language mean vectors that were
    subtracted before clustering (empty when ``center_languages`` is off); centroids live in that
    space, so an assignment night needs them to place new statements.
    """

    assignments: pd.DataFrame
    themes: pd.DataFrame
    language_means: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=LANGUAGE_MEAN_COLUMNS))


@dataclass
class Night:
    """One night's statements ready for theming (row i of every array is statement i).

    ``X``: language-centred unit vectors; ``seed_of``: index of the matched seed (-1: none);
    ``themed``: not a non-answer; ``is_dup``: a themed duplicate; ``filler``: see
    :func:`~feedback_miner.themes.space.filler_mask`; ``prev_theme`` / ``prev_sub``: last run's
    theme and sub-theme id (None where unknown); ``means``: the language means used (None: no centring);
    ``kind``: each statement's kind (:func:`~feedback_miner.themes.kinds.statement_kinds`).
    """

    st: pd.DataFrame
    X: np.ndarray
    langs: np.ndarray
    seed_of: np.ndarray
    themed: np.ndarray
    is_dup: np.ndarray
    filler: np.ndarray
    prev_theme: np.ndarray
    prev_sub: np.ndarray
    means: pd.DataFrame | None
    kind: np.ndarray

    @property
    def topical(self) -> np.ndarray:
        """Themed statements with a topic (the ones clustered and assigned to themes)."""
        return self.themed & (self.kind == TOPIC)

    def result(self, assignments: pd.DataFrame, themes: pd.DataFrame) -> ThemeResult:
        """The night's :class:`ThemeResult` (its language means: the ones used)."""
        means = self.means if self.means is not None else pd.DataFrame(columns=LANGUAGE_MEAN_COLUMNS)
        return ThemeResult(assignments=assignments, themes=themes, language_means=means)


def statement_flags(statements: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(themed, is_dup): not a non-answer; a themed statement that duplicates another."""
    non_answer = statements.get("is_non_answer", pd.Series(False, index=statements.index))
    themed = ~non_answer.fillna(False).astype(bool).to_numpy()
    dup_of = statements.get("is_duplicate_of", pd.Series(None, index=statements.index))
    is_dup = dup_of.notna().to_numpy() & themed
    return themed, is_dup


def prepare_night(
    statements: pd.DataFrame,
    embeddings: np.ndarray,
    cfg: ThemesConfig,
    seeds: Sequence[SeedTheme],
    previous_assignments: pd.DataFrame | None,
    language_means: pd.DataFrame | None = None,
    copy: bool = True,
    caller: str = "themes",
    languages: Sequence[str] | None = None,
) -> Night:
    """The shared start of both nights (see the module docstring).

    ``language_means`` (non-empty): put the vectors in that space (an assignment night reuses the
    fit night's means); else tonight's means are fitted when ``cfg.center_languages``. ``copy=False``
    lets the centring overwrite ``embeddings`` (float32, unit rows) instead of copying them.
    ``languages``: the configured languages, for the ``other_language`` kind (None: all are read).
    """
    st = statements.reset_index(drop=True)
    X_raw = normalize_rows(np.asarray(embeddings))
    if len(st) != len(X_raw):
        raise ValueError(f"{caller}: {len(st)} statements but {len(X_raw)} embedding rows")
    langs = st.get("language", pd.Series("und", index=st.index)).fillna("und").astype(str).to_numpy()
    seed_of, _ = match_seeds(X_raw, list(seeds), cfg.taxonomy_similarity)  # raw vectors: seeds have no language
    centring = LanguageCentering(enabled=cfg.center_languages, means=language_means)
    X = centring.fit(X_raw, langs).transform(X_raw, langs, copy=copy)
    del X_raw  # with copy=False it now holds the centred vectors
    themed, is_dup = statement_flags(st)
    prev_theme, prev_sub = previous_of_rows(st, previous_assignments)
    return Night(
        st=st, X=X, langs=langs, seed_of=seed_of, themed=themed, is_dup=is_dup,
        filler=filler_mask(st, cfg.filler_max_chars, cfg.filler_min_customers),
        prev_theme=prev_theme, prev_sub=prev_sub, means=centring.means_,
        kind=np.where(themed, statement_kinds(st, languages), None),
    )  # fmt: skip


def density_clusterer(cfg: ThemesConfig, assigner: Assigner | None = None, **overrides: object) -> DensityClusterer:
    """The :class:`DensityClusterer` the config describes (``overrides`` replace its parameters)."""
    params: dict[str, object] = dict(
        reducer=cfg.reducer, reduce_to=cfg.reduce_to, n_neighbors=cfg.n_neighbors, umap_init=cfg.umap_init,
        min_cluster_size=cfg.min_cluster_size, min_samples=cfg.min_samples,
        cluster_selection=cfg.cluster_selection, outlier_similarity=cfg.outlier_similarity,
        outlier_z=cfg.outlier_z, outlier_neighbors=cfg.outlier_neighbors, fit_sample_size=cfg.fit_sample_size,
        seed=cfg.seed, assigner=assigner, max_cluster_share=cfg.max_cluster_share,
    )  # fmt: skip
    params.update(overrides)
    return DensityClusterer(**params)  # type: ignore[arg-type]


def follow_duplicates(night: Night, theme: np.ndarray, sub: np.ndarray, rows: np.ndarray) -> None:
    """Duplicates at ``rows`` take their first copy's theme and sub-theme (in place), where it has one."""
    ids = night.st["statement_id"].astype(str).to_numpy()
    pos = {sid: i for i, sid in enumerate(ids)}
    for i in rows:
        j = pos.get(str(night.st.at[i, "is_duplicate_of"]))
        if j is not None and theme[j] is not None:
            theme[i], sub[i] = theme[j], sub[j]


def seed_centroid(X: np.ndarray, members: np.ndarray, seed: SeedTheme) -> np.ndarray:
    """A seeded theme's centroid: its members' mean, or its examples' mean when it has none."""
    vectors = X[members] if len(members) else seed.vectors
    return normalize_rows(vectors.sum(0, keepdims=True))[0]


def assignments_frame(
    night: Night, theme: np.ndarray, sub: np.ndarray, centroids: dict[str, np.ndarray]
) -> pd.DataFrame:
    """The assignments frame (``statement_id, theme_id, subtheme_id, similarity``) of a night.

    Duplicates whose first copy has no theme go to the nearest of ``centroids`` (written into
    ``theme``); similarity is the cosine to the statement's theme centroid, to the nearest one for
    'other', NaN for non-answers.
    """
    X, st = night.X, night.st
    names = list(centroids)
    similarity = np.full(len(st), np.nan, dtype=np.float32)
    if names:
        C = np.vstack([centroids[k] for k in names])
        orphans = np.flatnonzero(night.is_dup & (theme == None))  # noqa: E711 (element-wise on an object array)
        if len(orphans):
            theme[orphans] = [names[j] for j in (X[orphans] @ C.T).argmax(1)]
        col = {k: j for j, k in enumerate(names)}
        # -1: 'other' (nearest centroid), -2: non-answers (no similarity)
        j = np.array([col.get(t, -1) for t in theme], dtype=np.int64)
        j[~night.themed] = -2
        similarity = centroid_similarity(X, C, j, nearest=True)
    return pd.DataFrame({"statement_id": st["statement_id"], "theme_id": theme, "subtheme_id": sub,
                         "similarity": similarity, "kind": night.kind})  # fmt: skip


def kind_buckets(night: Night, theme: np.ndarray) -> None:
    """Themed statements that are no topic go to the bucket of their kind (in place; duplicates too:
    a copy of a greeting is a greeting)."""
    rows = np.flatnonzero(night.themed & (night.kind != TOPIC))
    theme[rows] = night.kind[rows]

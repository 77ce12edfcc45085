"""Near-duplicate broad themes merged by what a reader sees: their names.

Centroid cosine alone missed duplicates a reader sees at once ("Got billed two times" beside
"Charged twice", centroid cosine 0.23 under the 0.99 quantile's 0.47), and lowered it joined distinct
topics that sit close. Here every broad theme is named as the report names it, the names are
embedded with the night's model, and :func:`~feedback_miner.themes.hierarchy.merge_named_duplicates`
merges the pairs whose names and statements agree. The merged theme is named again with the others.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np

from feedback_miner.config import ThemesConfig
from feedback_miner.themes.core import Night
from feedback_miner.themes.hierarchy import broad_centroids, merge_named_duplicates, neighbour_shares
from feedback_miner.themes.names import Embed, name_language
from feedback_miner.themes.table import in_space, theme_names


def merge_by_names(
    night: Night,
    rows: np.ndarray,
    fine: np.ndarray,
    fine_c: np.ndarray,
    sizes: np.ndarray,
    parent: np.ndarray,
    cfg: ThemesConfig,
    embed: Embed,
    name_language_: str = "en",
    languages: Sequence[str] | None = None,
) -> np.ndarray:
    """Parents (0..k-1 by decreasing size) of the fine themes once the broad themes that say the same
    thing are merged. ``rows``: the clustered statements, ``fine`` their fine theme; ``parent``: the
    broad theme of each fine theme (``fine_c`` and ``sizes`` theirs). Each broad theme is named from at
    most ``cfg.keyword_sample`` of its statements (a seeded sample, as the table's names) in
    ``name_language_`` where it has statements in it; ``embed`` and ``languages`` as for the
    names."""
    n_broad = int(parent.max()) + 1 if len(parent) else 0
    if n_broad < 3 or not len(rows):
        return parent
    B = broad_centroids(fine_c, sizes, parent, np.arange(n_broad))
    own = parent[fine]
    rng = np.random.default_rng(cfg.seed)
    sample = np.sort(np.concatenate([rng.permutation(np.flatnonzero(own == b))[: cfg.keyword_sample]
                                     for b in range(n_broad)]))  # fmt: skip
    N = np.zeros_like(B)
    if cfg.duplicate_name_similarity <= 1:  # (above 1 no pair merges by name: no need to name them)
        keys = np.full(len(night.st), None, dtype=object)
        keys[rows] = own.astype(str)
        lang_of = {str(b): name_language(Counter(night.langs[rows[own == b]].tolist()), name_language_)
                   for b in range(n_broad)}  # fmt: skip
        names = theme_names(night, rows[sample], keys, {str(b): B[b] for b in range(n_broad)}, lang_of, embed=embed,
                            languages=languages)  # fmt: skip
        for lang in sorted(set(lang_of.values())):
            bs = [b for b in range(n_broad) if lang_of[str(b)] == lang and str(b) in names]
            if bs:
                N[bs] = in_space(embed, night, lang)([names[str(b)] for b in bs])
    shares = neighbour_shares(night.X[rows[sample]], own[sample], B)
    return merge_named_duplicates(parent, sizes, B, N, shares, cfg.duplicate_name_similarity, cfg.duplicate_share,
                                  cfg.duplicate_strong_share, cfg.duplicate_agreement)  # fmt: skip

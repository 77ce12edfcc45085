"""themes stage: two-level themes with readable labels and identity that holds across runs.

Entry points: :func:`build_themes` (a refit night: :class:`ThemeRefitter` fits themes on the
window) and :func:`assign_themes` (an assignment night: :class:`ThemeAssigner` keeps last run's
themes and assigns new statements to them); both share :mod:`feedback_miner.themes.core` and
return a :class:`ThemeResult`. See docs/architecture.md for the frames they return.
"""

from feedback_miner.themes.assign import ThemeAssigner, assign_themes
from feedback_miner.themes.build import ThemeRefitter, build_themes
from feedback_miner.themes.cluster import Assigner, DensityClusterer, stratified_sample
from feedback_miner.themes.core import ThemeResult
from feedback_miner.themes.hierarchy import group_fine_clusters
from feedback_miner.themes.taxonomy import SeedTheme, load_taxonomy, parse_taxonomy

__all__ = [
    "Assigner",
    "DensityClusterer",
    "SeedTheme",
    "ThemeAssigner",
    "ThemeRefitter",
    "ThemeResult",
    "assign_themes",
    "build_themes",
    "group_fine_clusters",
    "load_taxonomy",
    "parse_taxonomy",
    "stratified_sample",
]

"""themes stage: two-level themes with readable labels and identity that holds across runs.

Entry points: :func:`build_themes` (fit themes on the window) and :func:`assign_themes` (keep last
run's themes, assign new statements to them); see docs/architecture.md for the frames they return.
"""

from feedback_miner.themes.assign import assign_themes
from feedback_miner.themes.build import ThemeResult, build_themes, group_fine_clusters
from feedback_miner.themes.cluster import DensityClusterer, stratified_sample
from feedback_miner.themes.taxonomy import SeedTheme, load_taxonomy, parse_taxonomy

__all__ = [
    "DensityClusterer",
    "SeedTheme",
    "ThemeResult",
    "assign_themes",
    "build_themes",
    "group_fine_clusters",
    "load_taxonomy",
    "parse_taxonomy",
    "stratified_sample",
]

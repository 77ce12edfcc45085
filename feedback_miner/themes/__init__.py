"""themes stage: two-level themes with readable labels and identity that holds across runs.

Entry point: :func:`build_themes` (see docs/architecture.md for the frames it returns).
"""

from feedback_miner.themes.build import ThemeResult, build_themes, group_fine_clusters
from feedback_miner.themes.cluster import DensityClusterer
from feedback_miner.themes.taxonomy import SeedTheme, load_taxonomy, parse_taxonomy

__all__ = [
    "DensityClusterer",
    "SeedTheme",
    "ThemeResult",
    "build_themes",
    "group_fine_clusters",
    "load_taxonomy",
    "parse_taxonomy",
]

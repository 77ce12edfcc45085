"""What an ordinary night may skip (``run.refit: auto``): reuse, assign or refit, and why.

- inputs and config unchanged since the last succeeded night: its outputs are reused (no stage after
  ingest runs);
- otherwise, with earlier themes: new statements are assigned to them, unless ``refit_every_days``
  have passed since the last refit, or the assignment shows the themes no longer fit (the share of
  new statements that fit no theme rose by more than ``refit_unassigned_rise`` over last night's
  ``other`` share, or the themes' centroids drifted by more than ``refit_centroid_drift``), in which
  case the night refits.

The decision is recorded in the manifest as ``themes_decision``: ``mode`` (reused / assign / refit),
``why`` (one sentence) and ``last_refit_at``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from feedback_miner.config import RunConfig, ThemesConfig
from feedback_miner.ids import among
from feedback_miner.themes.cluster import normalize_rows
from feedback_miner.themes.space import LanguageCentering


@dataclass
class ThemesDecision:
    """How tonight's themes are made (``mode``: reused, assign or refit) and why."""

    mode: str
    why: str
    last_refit_at: str | None = None

    def as_dict(self) -> dict:
        return {"mode": self.mode, "why": self.why, "last_refit_at": self.last_refit_at}


def last_refit_at(previous_manifest: dict | None) -> pd.Timestamp | None:
    """When the themes of the night before were last refitted (from its manifest)."""
    if not previous_manifest:
        return None
    decision = previous_manifest.get("themes_decision") or {}
    # Nights written before run.refit: auto refitted unless their themes stage says "assign".
    if decision.get("last_refit_at"):
        return pd.Timestamp(decision["last_refit_at"])
    if (previous_manifest.get("stages", {}).get("themes", {}).get("mode", "refit")) == "refit":
        return pd.Timestamp(previous_manifest["started_at"])
    return None


def before_themes(run: RunConfig, has_previous: bool, refitted_at: pd.Timestamp | None,
                  now: pd.Timestamp) -> ThemesDecision:
    """The decision that can be made before the themes stage: refit or try an assignment night."""
    if run.refit == "always":
        return ThemesDecision("refit", "run.refit is 'always'")
    if not has_previous:
        return ThemesDecision("refit", "no earlier succeeded night to assign to")
    if run.refit == "assign":
        return ThemesDecision("assign", "run.refit is 'assign'", _iso(refitted_at))
    if refitted_at is None:
        return ThemesDecision("refit", "no refit night on record")
    age_days = (now - refitted_at).total_seconds() / 86400
    if age_days >= run.refit_every_days:
        return ThemesDecision("refit", f"last refit {age_days:.1f} days ago (run.refit_every_days: "
                                       f"{run.refit_every_days})")
    return ThemesDecision("assign", f"last refit {age_days:.1f} days ago; inputs changed", _iso(refitted_at))


def after_assignment(run: RunConfig, decision: ThemesDecision, unassigned_rise: float,
                     drift: float) -> ThemesDecision:
    """Keep the assignment night, or refit when its themes no longer fit the statements (auto only)."""
    if run.refit != "auto":
        return decision
    if unassigned_rise > run.refit_unassigned_rise:
        return ThemesDecision("refit", f"new statements fitting no theme rose by {unassigned_rise:.1%} over "
                                       f"last night's 'other' share (run.refit_unassigned_rise: "
                                       f"{run.refit_unassigned_rise})")
    if drift > run.refit_centroid_drift:
        return ThemesDecision("refit", f"theme centroids drifted by {drift:.3f} (run.refit_centroid_drift: "
                                       f"{run.refit_centroid_drift})")
    return ThemesDecision("assign", f"{decision.why}; new statements fitting no theme +{unassigned_rise:.1%}, "
                                    f"centroid drift {drift:.3f}", decision.last_refit_at)


def unassigned_rise(assignments: pd.DataFrame, previous_assignments: pd.DataFrame | None,
                    previous_themes: pd.DataFrame) -> float:
    """Share of tonight's new themed statements in ``other`` minus last night's ``other`` share."""
    themed = assignments[assignments["theme_id"].notna()]
    if previous_assignments is not None:
        themed = themed[~among(themed["statement_id"], previous_assignments["statement_id"])]
    if not len(themed):
        return 0.0
    other = previous_themes.loc[previous_themes["theme_id"] == "other", "share"]
    before = float(other.iloc[0]) if len(other) and pd.notna(other.iloc[0]) else 0.0
    return float((themed["theme_id"] == "other").mean()) - before


def centroid_drift(statements: pd.DataFrame, vectors: np.ndarray, assignments: pd.DataFrame,
                   previous_themes: pd.DataFrame, language_means: pd.DataFrame, themes: ThemesConfig) -> float:
    """Member-weighted mean of ``1 - cos(last night's centroid, tonight's members' mean)`` over the broad
    themes, in the centroids' (language-centred) space; 0 when no theme has both."""
    old = previous_themes[previous_themes["parent_id"].isna() & previous_themes["centroid"].notna()
                          & (previous_themes["theme_id"] != "other")].set_index("theme_id")["centroid"]
    if not len(old):
        return 0.0
    langs = statements["language"].fillna("und").astype(str).to_numpy()
    centring = LanguageCentering(enabled=themes.center_languages, means=language_means)
    X = normalize_rows(np.asarray(vectors, dtype=np.float32))
    X = centring.fit(X, langs).transform(X, langs, copy=False)
    theme_of = statements[["statement_id"]].merge(assignments[["statement_id", "theme_id"]], how="left")["theme_id"]
    drifts, weights = [], []
    for theme_id, centroid in old.items():
        members = np.flatnonzero((theme_of == theme_id).to_numpy())
        if not len(members):
            continue
        now = normalize_rows(X[members].sum(0, keepdims=True))[0]
        before = np.asarray(centroid, dtype=np.float32)
        drifts.append(1.0 - float(now @ before / (np.linalg.norm(before) or 1.0)))
        weights.append(len(members))
    return float(np.average(drifts, weights=weights)) if drifts else 0.0


def _iso(ts: pd.Timestamp | None) -> str | None:
    return ts.isoformat() if ts is not None else None

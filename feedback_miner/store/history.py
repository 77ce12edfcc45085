"""Themes across nights: last night's themes (identity matching) and each theme's volume over time."""

from __future__ import annotations

import numpy as np
import pandas as pd

from feedback_miner.store.database import Database
from feedback_miner.store.runs import RunLog

HISTORY_COLUMNS = ["run_id", "run_date", "theme_id", "n_statements", "n_customers", "sentiment_mean"]


def as_list(v: object) -> list | None:
    """A list cell read back from DuckDB (array, list or missing) as a plain list or None."""
    if isinstance(v, list | tuple | np.ndarray):
        return list(v)
    return None


class ThemeHistory:
    """Reads of the ``run_themes`` table."""

    def __init__(self, db: Database, run_log: RunLog):
        self.db, self.run_log = db, run_log

    def previous_themes(self, night: str | None = None) -> pd.DataFrame | None:
        """Themes of the last succeeded earlier night (with centroids) for identity matching."""
        previous = self.run_log.previous_night(night)
        if previous is None:
            return None
        df = self.db.con.execute("SELECT * EXCLUDE (run_id) FROM run_themes WHERE run_id = ?", [previous]).df()
        if not len(df):
            return None
        # Faded rows stay: their ids are never reused, and a theme that comes back takes its old id.
        for col in ("keywords", "examples", "example_ids", "centroid"):
            if col in df:
                df[col] = df[col].map(as_list)
        return df

    def theme_history(self, night: str | None = None) -> pd.DataFrame:
        """``HISTORY_COLUMNS`` of every theme of the succeeded nights before ``night``, oldest first."""
        earlier = self.run_log.earlier_nights(night)
        if not earlier:
            return pd.DataFrame(columns=HISTORY_COLUMNS)
        with self.db.registered("_earlier", pd.DataFrame({"run_id": earlier})):
            return self.db.con.execute(
                """SELECT t.run_id, r.started_at AS run_date, t.theme_id, t.n_statements, t.n_customers,
                          t.sentiment_mean
                   FROM run_themes t JOIN runs r USING (run_id) JOIN _earlier USING (run_id)
                   ORDER BY r.started_at"""
            ).df()

"""The run store: one embedded DuckDB file holding runs, the last night's data, caches and theme history.

Every SQL statement of the project lives in this package; callers use named methods, grouped by
concern on the parts of :class:`RunStore`:

- ``store.run_log`` (:class:`RunLog`): runs' lifecycle, ``previous_night()``;
- ``store.cache`` (:class:`Caches`): embedding and sentiment caches keyed by content;
- ``store.nights`` (:class:`NightData`): ``reusable_preparation()``, ``previous_assignments()``,
  ``previous_language_means()``, ``save_night()``;
- ``store.themes`` (:class:`ThemeHistory`): ``previous_themes()``, ``theme_history()``.

Tables are declared in :mod:`feedback_miner.store.schema`. A night's writes happen in one
transaction at its end (:meth:`NightData.save_night`), so a run that dies leaves the store as it
was (except the ``runs`` row, which records the failure); only succeeded runs are read back.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from feedback_miner.store.caches import Caches
from feedback_miner.store.database import Database
from feedback_miner.store.history import HISTORY_COLUMNS, ThemeHistory, as_list
from feedback_miner.store.nights import NightData, NightRecord, stored_themes
from feedback_miner.store.runs import RunLog, night_key

__all__ = ["HISTORY_COLUMNS", "Caches", "NightData", "NightRecord", "RunLog", "RunStore", "ThemeHistory",
           "as_list", "night_key", "stored_themes"]


class RunStore:
    """Open with ``RunStore(path)``; use as a context manager. Its parts hold the named reads and writes."""

    def __init__(self, path: str | Path, read_only: bool = False, memory_limit: str = "1GB"):
        self.db = Database(path, read_only=read_only, memory_limit=memory_limit)
        self.path, self.con = self.db.path, self.db.con
        self.run_log = RunLog(self.db)
        self.cache = Caches(self.db)
        self.nights = NightData(self.db, self.run_log)
        self.themes = ThemeHistory(self.db, self.run_log)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> RunStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def runs(self) -> pd.DataFrame:
        """Every run, oldest first."""
        return self.run_log.all()

    def has_table(self, name: str) -> bool:
        return self.db.has_table(name)

    def read_table(self, name: str, where: str = "", params: Sequence | None = None) -> pd.DataFrame:
        """Rows of a table (all, or those of a ``WHERE ...`` clause); empty if it does not exist."""
        return self.db.read_table(name, where, params)

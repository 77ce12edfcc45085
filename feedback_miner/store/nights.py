"""A night's data: what an incremental night reuses, and everything a succeeded night leaves behind."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from feedback_miner.store.database import Database
from feedback_miner.store.runs import RunLog


@dataclass
class NightRecord:
    """What a succeeded night wrote: the store's side of it (the run folder holds the rest)."""

    run_id: str
    documents: pd.DataFrame
    statements: pd.DataFrame
    themes: pd.DataFrame
    language_means: pd.DataFrame | None
    pain_points: pd.DataFrame
    manifest: dict


class NightData:
    """Prepared documents and statements, assignments, language means, pain points and manifests."""

    def __init__(self, db: Database, run_log: RunLog):
        self.db, self.run_log = db, run_log

    def reusable_preparation(self, documents: pd.DataFrame, prepare_hash: str, statement_columns: Sequence[str],
                             ) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
        """Stored prepared documents (and their ``statement_columns``) whose content and preparation
        settings are unchanged; ``(None, None)`` when there are none."""
        if not len(documents) or not (self.db.has_table("documents") and self.db.has_table("statements")):
            return None, None
        if "prepare_hash" not in self.db.columns("documents"):
            return None, None
        keys = documents[["doc_id", "content_hash"]].assign(prepare_hash=prepare_hash)
        with self.db.registered("_keys", keys):
            docs = self.db.frame("SELECT d.* FROM documents d JOIN _keys k USING (doc_id, content_hash, prepare_hash)")
        if not len(docs):
            return None, None
        # Statements of exactly the reused documents (the join above is not repeated).
        with self.db.registered("_reused", docs[["doc_id"]]):
            stmt_cols = ", ".join(f's."{c}"' for c in statement_columns)
            stmts = self.db.frame(f"SELECT {stmt_cols} FROM statements s JOIN _reused USING (doc_id)")
        return docs, stmts

    def previous_assignments(self, night: str | None = None) -> pd.DataFrame | None:
        """Statement -> theme assignments of the last succeeded earlier night (for stable theme identity)."""
        previous = self.run_log.previous_night(night)
        if previous is None:
            return None
        df = self.db.read_table("run_assignments", "WHERE run_id = ?", [previous]).drop(columns=["run_id"])
        return df if len(df) else None

    def previous_language_means(self, night: str | None = None) -> pd.DataFrame | None:
        """Per-language mean vectors last night's centroids were fitted with (the space to assign in)."""
        previous = self.run_log.previous_night(night)
        if previous is None:
            return None
        df = self.db.read_table("run_language_means", "WHERE run_id = ?", [previous]).drop(columns=["run_id"])
        if not len(df):
            return None
        df["mean"] = df["mean"].map(lambda v: np.asarray(v, dtype=np.float32))
        return df

    def save_night(self, night: NightRecord, jsonable, finish: dict | None = None) -> None:
        """Write a finished night in one transaction (``jsonable``: list cells to JSON text, as in the run
        folder); ``finish``: :meth:`RunLog.finish_run` arguments, so the run is marked succeeded in the
        same transaction (a kill leaves either the whole night or none of it)."""
        run_id = night.run_id
        with self.db.transaction():
            if finish is not None:
                self.run_log.finish_run(run_id, "succeeded", **finish)
            self.db.replace_table("documents", night.documents)
            self.db.replace_table("statements", night.statements)
            self.db.append_table("run_themes", stored_themes(night.themes, run_id))
            if night.language_means is not None and len(night.language_means):
                means = night.language_means.assign(
                    mean=lambda d: d["mean"].map(lambda v: [float(x) for x in v]), run_id=run_id)
                self.db.append_table("run_language_means", means)
            self.db.append_table("run_assignments", night.statements.reindex(
                columns=["statement_id", "theme_id", "subtheme_id"]).assign(run_id=run_id))
            self._prune_assignments()
            self.db.append_table("run_pain_points", jsonable(night.pain_points).assign(run_id=run_id))
            self.db.append_table("run_manifests", pd.DataFrame({
                "run_id": [run_id], "manifest": [json.dumps(night.manifest, default=str)]}))

    def copy_night(self, source_run_id: str, run_id: str, manifest: dict, finish: dict) -> None:
        """Record ``run_id`` as a night whose outputs are ``source_run_id``'s (inputs unchanged): its
        per-run rows copied under the new id and the run marked succeeded, in one transaction."""
        with self.db.transaction():
            self.run_log.finish_run(run_id, "succeeded", **finish)
            for table in ("run_themes", "run_language_means", "run_assignments", "run_pain_points"):
                if self.db.has_table(table):
                    cols = ", ".join(f'"{c}"' for c in self.db.columns(table) if c != "run_id")
                    self.db.con.execute(f'INSERT INTO "{table}" BY NAME SELECT {cols}, ? AS run_id '
                                        f'FROM "{table}" WHERE run_id = ?', [run_id, source_run_id])
            self.db.append_table("run_manifests", pd.DataFrame({
                "run_id": [run_id], "manifest": [json.dumps(manifest, default=str)]}))
            self._prune_assignments()

    def discard_runs(self, run_ids: Sequence[str]) -> None:
        """Remove every per-run row of runs that did not succeed (a store written by an older
        version could keep a killed night's rows)."""
        if not run_ids:
            return
        with self.db.transaction():
            for table in ("run_themes", "run_language_means", "run_assignments", "run_pain_points", "run_manifests"):
                if self.db.has_table(table):
                    with self.db.registered("_gone", pd.DataFrame({"run_id": list(run_ids)})):
                        self.db.con.execute(f'DELETE FROM "{table}" WHERE run_id IN (SELECT run_id FROM _gone)')

    def _prune_assignments(self, keep: int = 3) -> None:
        # Assignments are only needed for the next night's matching: keep the last few succeeded runs.
        self.db.con.execute(
            """DELETE FROM run_assignments WHERE run_id NOT IN (
                   SELECT run_id FROM runs WHERE status = 'succeeded' ORDER BY finished_at DESC LIMIT ?)
               AND run_id NOT IN (SELECT run_id FROM runs WHERE status = 'running')""",
            [keep],
        )

    def manifest(self, run_id: str | None) -> dict | None:
        """The stored manifest of a run (None when there is none)."""
        if run_id is None:
            return None
        rows = self.db.read_table("run_manifests", "WHERE run_id = ?", [run_id])
        return json.loads(rows["manifest"].iloc[0]) if len(rows) else None

    def night_tables(self, run_id: str) -> tuple[dict, pd.DataFrame, pd.DataFrame]:
        """Manifest, stored themes and pain points of a succeeded night (for rebuilding its report)."""
        manifest = json.loads(self.db.read_table("run_manifests", "WHERE run_id = ?", [run_id])["manifest"].iloc[0])
        themes = self.db.read_table("run_themes", "WHERE run_id = ?", [run_id]).drop(columns=["run_id"])
        pains = self.db.read_table("run_pain_points", "WHERE run_id = ?", [run_id]).drop(columns=["run_id"])
        return manifest, themes, pains

    def statements(self) -> pd.DataFrame:
        """The last succeeded night's statements."""
        return self.db.read_table("statements")

    def documents(self) -> pd.DataFrame:
        """The last succeeded night's prepared documents."""
        return self.db.read_table("documents")


def stored_themes(themes: pd.DataFrame, run_id: str) -> pd.DataFrame:
    """``themes`` in the columns and plain types of the ``run_themes`` table."""
    keep = ["theme_id", "parent_id", "label", "keywords", "n_statements", "n_customers", "share", "languages",
            "examples", "example_ids", "status", "centroid", "sentiment_mean"]
    df = themes.reindex(columns=keep).copy()
    for col in ("keywords", "examples", "example_ids"):
        df[col] = df[col].map(lambda v: [str(x) for x in v] if isinstance(v, list | tuple | np.ndarray) else
                              ([] if v is None or (isinstance(v, float) and np.isnan(v)) else [str(v)]))
    df["centroid"] = df["centroid"].map(lambda v: [float(x) for x in v] if v is not None and not
                                        (isinstance(v, float) and np.isnan(v)) else None)
    for col in ("theme_id", "parent_id", "label", "languages", "status"):
        df[col] = df[col].astype(object).where(df[col].notna(), None).map(lambda v: None if v is None else str(v))
    for col in ("n_statements", "n_customers", "share", "sentiment_mean"):
        df[col] = pd.to_numeric(df[col], errors="coerce").astype(float)
    df.insert(0, "run_id", run_id)
    return df

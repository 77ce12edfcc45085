"""Operator recovery of the run store: ``feedback-miner store check`` and ``store rebuild``.

``rebuild`` keeps the old file aside (``<store>.broken-<time>``) and writes a fresh store from the run
folders it finds in the output folder: each run's ``runs`` row, manifest, themes (for theme history;
centroids are not in the run folder, so the next night refits) and pain points, and the newest run's
documents and statements (so its preparation is reused). Caches start empty: the next night embeds
and scores again.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd

from feedback_miner.store.database import Database
from feedback_miner.store.nights import stored_themes
from feedback_miner.store.schema import SCHEMA


def check_store(path: Path) -> dict[str, int]:
    """Row count of every table of a readable store (raises :class:`StoreUnreadable` / :class:`StoreBusy`)."""
    db = Database(path, read_only=True)
    try:
        tables = [r[0] for r in db.con.execute(
            "SELECT table_name FROM information_schema.tables ORDER BY table_name").fetchall()]
        return {t: int(db.con.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0]) for t in tables}
    finally:
        db.close()


def rebuild_store(path: Path, output_dir: Path) -> tuple[Path | None, list[str]]:
    """Move ``path`` aside and rebuild it from the run folders of ``output_dir``; returns the old
    file's new name (None when there was none) and the run ids recovered, oldest first."""
    aside = None
    if path.exists():
        aside = path.with_name(f"{path.name}.broken-{pd.Timestamp.now(tz='UTC'):%Y%m%dT%H%M%SZ}")
        os.replace(path, aside)
    wal = path.with_name(path.name + ".wal")
    if wal.exists():
        os.replace(wal, aside.with_name(aside.name + ".wal") if aside else wal.with_suffix(".wal.broken"))
    folders = sorted(p.parent for p in output_dir.glob("*/manifest.json")
                     if not p.parent.name.startswith(".") and p.parent.name != "latest")
    db = Database(path)
    recovered = []
    try:
        db.con.execute(SCHEMA)
        with db.transaction():
            for folder in folders:
                manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
                _recover_run(db, folder, manifest)
                recovered.append(folder.name)
            if folders:
                newest = folders[-1]
                for table, name in (("documents", "documents.parquet"), ("statements", "statements.parquet")):
                    if (newest / name).exists():
                        db.replace_table(table, pd.read_parquet(newest / name))
    finally:
        db.close()
    return aside, recovered


def _recover_run(db: Database, folder: Path, manifest: dict) -> None:
    run_id = folder.name
    decision = {**(manifest.get("themes_decision") or {}), "last_refit_at": None}  # no centroids: refit next
    manifest = {**manifest, "themes_decision": decision}
    db.con.execute(
        "INSERT INTO runs (run_id, started_at, finished_at, status, config_hash, input_fingerprints, counts, "
        "versions, output_dir) VALUES (?, ?, ?, 'succeeded', ?, ?, ?, ?, ?)",
        [run_id, pd.Timestamp(manifest["started_at"]).to_pydatetime(),
         pd.Timestamp(manifest.get("finished_at") or manifest["started_at"]).to_pydatetime(),
         manifest.get("config_hash"), json.dumps(manifest.get("input_fingerprints") or {}),
         json.dumps(manifest.get("counts") or {}, default=str), json.dumps(manifest.get("versions") or {}),
         str(folder)])
    db.append_table("run_manifests", pd.DataFrame({"run_id": [run_id], "manifest": [json.dumps(manifest)]}))
    if (folder / "themes.parquet").exists():
        themes = pd.read_parquet(folder / "themes.parquet")
        for col in ("keywords", "examples", "example_ids"):
            if col in themes:
                themes[col] = themes[col].map(_json_list)
        db.append_table("run_themes", stored_themes(themes.assign(centroid=None), run_id))
    if (folder / "pain_points.csv").exists() and (folder / "pain_points.csv").stat().st_size > 1:
        pains = pd.read_csv(folder / "pain_points.csv")
        if len(pains.columns):
            db.append_table("run_pain_points", pains.assign(run_id=run_id))


def _json_list(v: object) -> object:
    if isinstance(v, str) and v.startswith("["):
        try:
            return json.loads(v)
        except ValueError:
            return v
    return v

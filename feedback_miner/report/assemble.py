"""What a report shows, assembled from a run's tables; and ``report --run``, rebuilt from the run store."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from feedback_miner.config import Config
from feedback_miner.report.data import ReportInput
from feedback_miner.report.render import render_brief, render_report
from feedback_miner.store import HISTORY_COLUMNS, RunStore, as_list


def with_this_run(history: pd.DataFrame, themes: pd.DataFrame | None = None, run_id: str | None = None,
                  run_date: pd.Timestamp | None = None) -> pd.DataFrame:
    """Theme history of earlier nights (:meth:`ThemeHistory.theme_history`) plus this run's themes."""
    if themes is not None and len(themes):
        cur = themes.reindex(columns=HISTORY_COLUMNS[2:]).assign(run_id=run_id, run_date=run_date)[HISTORY_COLUMNS]
        history = pd.concat([history, cur], ignore_index=True) if len(history) else cur
    # The store keeps naive UTC timestamps; this run's are aware.
    history["run_date"] = pd.to_datetime(history["run_date"], utc=True)
    return history


def theme_changes(themes: pd.DataFrame, history: pd.DataFrame) -> dict:
    """Broad themes that are emerging, growing (by customers since the previous night) or fading."""
    broad = themes[themes["parent_id"].isna()] if len(themes) else themes
    out = {"emerging": [], "growing": [], "fading": []}
    if not len(broad):
        return out
    out["emerging"] = broad.loc[broad["status"] == "emerging", "theme_id"].tolist()
    out["fading"] = broad.loc[broad["status"] == "faded", "theme_id"].tolist()
    if len(history) and history["run_id"].nunique() > 1:
        runs = history.drop_duplicates("run_id").sort_values("run_date")["run_id"].tolist()
        prev, cur = runs[-2], runs[-1]
        pivot = history[history["run_id"].isin([prev, cur])].pivot_table(
            index="theme_id", columns="run_id", values="n_customers", aggfunc="sum")
        if prev in pivot and cur in pivot:
            grow = pivot[(pivot[cur] >= 1.25 * pivot[prev]) & (pivot[cur] - pivot[prev] >= 5)].index
            out["growing"] = [t for t in grow if t in set(broad["theme_id"])]
    return out


def _quotes(themes: pd.DataFrame, statements: pd.DataFrame) -> pd.DataFrame:
    """The example statements of each theme, with what the report shows beside them."""
    quotes = pd.DataFrame(columns=["theme_id", "text", "language", "sentiment_label", "customer_id"])
    if not len(themes) or "example_ids" not in themes:
        return quotes
    by_id = statements.set_index("statement_id")
    rows = []
    for tid, ids in zip(themes["theme_id"], themes["example_ids"], strict=True):
        for sid in list(ids) if isinstance(ids, list | tuple | np.ndarray) else []:
            if sid in by_id.index:
                s = by_id.loc[sid]
                rows.append({"theme_id": tid, "text": s["text"], "language": s["language"],
                             "sentiment_label": s.get("sentiment_label"), "customer_id": s["customer_id"]})
    return pd.DataFrame(rows) if rows else quotes


def build_report_input(manifest: dict, themes: pd.DataFrame, pain_points: pd.DataFrame,
                       statements: pd.DataFrame, history: pd.DataFrame, documents: pd.DataFrame | None = None,
                       customers: pd.DataFrame | None = None, values: pd.DataFrame | None = None) -> ReportInput:
    """Collect what the report shows from the run's tables (documents and customers feed the
    page's score and customer-attribute filters and its heat maps; values: what customers value)."""
    methods = {
        "embedding_model": manifest.get("embedding_model"),
        "sentiment_model": manifest.get("sentiment_model"),
        "controls_used": manifest.get("controls_used", []),
        "notes": manifest.get("input_notes", []) + manifest.get("outcome_notes", []),
        "config_hash": manifest.get("config_hash"),
    }
    return ReportInput(manifest=manifest, themes=themes.drop(columns=["centroid"], errors="ignore"),
                       pain_points=pain_points, quotes=_quotes(themes, statements), history=history,
                       changes=theme_changes(themes, history), methods=methods, statements=statements,
                       documents=pd.DataFrame() if documents is None else documents,
                       customers=pd.DataFrame() if customers is None else customers,
                       values=pd.DataFrame() if values is None else values)


def rebuild_report(cfg: Config, run_id: str = "latest", store: RunStore | None = None) -> Path:
    """Re-render report.html and pain_points.md of a stored run, without recomputing any stage, into
    ``<the config's output_dir>/<run_id>/`` (not the folder the store recorded: a copied store must
    not write into the original's folder). ``store``: an open store (else opened read-only here)."""
    if store is None:
        with RunStore(cfg.store_path, read_only=True) as opened:
            return rebuild_report(cfg, run_id, opened)
    row = store.run_log.succeeded_run(run_id)
    manifest, themes, pains = store.nights.night_tables(row["run_id"])
    history = with_this_run(store.themes.theme_history())
    history = history[history["run_date"] <= pd.Timestamp(row["started_at"], tz="UTC")]
    statements = store.nights.statements()
    documents = store.nights.documents()
    for col in ("keywords", "examples", "example_ids"):
        themes[col] = themes[col].map(lambda v: as_list(v) or [])
    # Rich theme columns (sentiment CI, outcome statistics) are in the run folder's themes.parquet.
    run_dir = cfg.output_dir / str(row["run_id"])
    if (run_dir / "themes.parquet").exists():
        full = pd.read_parquet(run_dir / "themes.parquet")
        extra = [c for c in full.columns if c not in themes.columns]
        themes = themes.merge(full[["theme_id", *extra]], on="theme_id", how="left")
    values = pd.read_json(run_dir / "values.json") if (run_dir / "values.json").exists() else None
    # The night's own statements, documents and customers (the store keeps only the latest window;
    # customers only the run folder keeps): the filters, heat maps and quotes the night showed.
    saved = {n: run_dir / f"{n}.parquet" for n in ("statements", "documents", "customers")}
    if saved["statements"].exists() and saved["documents"].exists():
        statements, documents = pd.read_parquet(saved["statements"]), pd.read_parquet(saved["documents"])
    customers = pd.read_parquet(saved["customers"]) if saved["customers"].exists() else None
    report_input = build_report_input(manifest, themes, pains, statements, history, documents=documents,
                                      customers=customers, values=values)
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "report.html").write_text(render_report(report_input, cfg.report), encoding="utf-8")
    (run_dir / "pain_points.md").write_text(render_brief(report_input, cfg.report), encoding="utf-8")
    return run_dir / "report.html"

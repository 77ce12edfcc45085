"""The whole job on a slice of the bundled sample: outputs, idempotence, crash safety, incremental runs.

These tests run real models (multilingual embeddings, the shipped sentiment head) on ~450 documents;
the embedding cache in the run store keeps the later runs of the module cheap.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap

import pandas as pd
import pytest
import yaml

from feedback_miner.config import load_config
from feedback_miner.pipeline import STAGES, run_job
from feedback_miner.store import RunStore
from feedback_miner.themes.kinds import statement_kinds

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def job(tmp_path_factory, sample_slice):
    """One finished run of the slice; later tests reuse its store and inputs. ``refit: always``: every
    night runs every stage (``auto`` would reuse an unchanged night: tested on a copy below)."""
    folder = tmp_path_factory.mktemp("job")
    sample_slice.write_inputs(folder / "inputs")
    cfg = load_config(sample_slice.write_config(folder, refit="always"))
    first = run_job(cfg)
    return folder, cfg, first


def test_no_raw_pii_anywhere_in_outputs(job, sample_slice):
    _, _, first = job
    for path in first.run_dir.iterdir():
        blob = path.read_bytes()
        for planted in (sample_slice.email, sample_slice.phone, sample_slice.name):
            assert planted.encode() not in blob, (path.name, planted)
    # The answer itself is kept, with typed placeholders where its personal data was.
    st = pd.read_parquet(first.run_dir / "statements.parquet")
    answer = " ".join(st.loc[st["doc_id"] == f"survey:{sample_slice.pii_response_id}", "text"])
    assert "The app crashes every time I log in" in answer
    for placeholder in ("<EMAIL>", "<PHONE>", "<PERSON>"):
        assert placeholder in answer, answer


def test_same_night_twice_gives_identical_outputs(job):
    """The rerun is a fresh process, as the scheduler's next night is (UMAP's default spectral start
    gave other themes in another process: its eigensolver keeps a seed between calls)."""
    folder, cfg, first = job
    proc = subprocess.run([sys.executable, "-m", "feedback_miner", "run", "--config", str(folder / "config.yaml")],
                          env={**os.environ, "HF_HUB_OFFLINE": "1"}, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    second = (cfg.output_dir / "latest").resolve()
    assert second != first.run_dir.resolve()
    manifest = json.loads((second / "manifest.json").read_text())
    assert manifest["stages"]["embed"]["embedded"] == 0  # everything came from the caches
    assert manifest["stages"]["sentiment"]["scored"] == 0
    for name in ("themes.csv", "pain_points.csv"):
        a = (first.run_dir / name).read_text()
        b = (second / name).read_text()
        assert a == b, name


def test_unchanged_night_reuses_the_last_outputs(job, tmp_path, sample_slice):
    """run.refit: auto (the default): same inputs and config as the last succeeded night -> its outputs."""
    folder, cfg, _ = job
    shutil.copytree(folder / "inputs", tmp_path / "inputs")
    shutil.copytree(cfg.output_dir, tmp_path / "out", symlinks=True)
    cfg = load_config(sample_slice.write_config(tmp_path))  # the default refit: auto, another config hash
    first = run_job(cfg)  # a night of this config: assigned to the copied night's themes
    assert first.manifest["themes_decision"]["mode"] == "assign", first.manifest["themes_decision"]
    last = (cfg.output_dir / "latest").resolve()
    res = run_job(cfg)
    assert res.manifest["themes_decision"]["mode"] == "reused" and res.manifest["reused_from"] == last.name
    assert set(res.manifest["stages"]) == {"ingest", "reuse"}
    for name in ("themes.csv", "pain_points.csv"):
        assert (res.run_dir / name).read_bytes() == (last / name).read_bytes(), name
    with RunStore(cfg.store_path, read_only=True) as store:
        assert len(store.read_table("run_themes", "WHERE run_id = ?", [res.run_id])) == len(res.themes)
        assert store.run_log.is_succeeded(res.run_id)


def test_report_writes_under_the_configs_output_folder(job, tmp_path):
    """A copied store and run folders: 'report' writes into the copy, never the folder the store recorded."""
    folder, cfg, _ = job
    copy = tmp_path / "copy"
    shutil.copytree(cfg.output_dir, copy / "out", symlinks=True)
    config = copy / "config.yaml"
    config.write_text(yaml.safe_dump({**yaml.safe_load((folder / "config.yaml").read_text()),
                                      "run": {"output_dir": str(copy / "out")}}))
    latest = (cfg.output_dir / "latest").resolve()
    before = (latest / "report.html").stat().st_mtime_ns
    proc = subprocess.run([sys.executable, "-m", "feedback_miner", "report", "--config", str(config)],
                          env={**os.environ, "HF_HUB_OFFLINE": "1"}, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert str(copy / "out") in proc.stdout
    assert (latest / "report.html").stat().st_mtime_ns == before


KILLER = textwrap.dedent("""
    import os, signal, sys
    from feedback_miner.config import load_config
    from feedback_miner.pipeline import run_job
    stage = sys.argv[2]
    def on_stage(name):
        if name == stage:
            os.kill(os.getpid(), signal.SIGKILL)
    cfg = load_config(sys.argv[1])
    cfg.run.refit = "always"  # every stage runs (auto would reuse the unchanged night)
    run_job(cfg, on_stage=on_stage)
""")


# Killed as each stage begins, before publishing, and between the folder's rename and the store's commit.
@pytest.mark.parametrize("stage", [*STAGES, "publish", "finish"])
def test_kill_at_stage_boundary_then_rerun(job, stage):
    folder, cfg, _ = job
    before = (cfg.output_dir / "latest").resolve()
    before_themes = (before / "themes.csv").read_text()
    proc = subprocess.run([sys.executable, "-c", KILLER, str(folder / "config.yaml"), stage],
                          env={**os.environ, "HF_HUB_OFFLINE": "1"}, capture_output=True, text=True, timeout=600)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    # The morning after: yesterday's outputs untouched.
    assert (cfg.output_dir / "latest").resolve() == before
    assert (before / "themes.csv").read_text() == before_themes
    # The next run recovers the lock and the interrupted run, and finishes the work.
    rerun = run_job(cfg)
    with RunStore(cfg.store_path, read_only=True) as store:
        runs = store.runs().set_index("run_id")
        assert not (runs["status"] == "running").any()
        assert "interrupted" in set(runs["error"].dropna())
        assert store.read_table("statements")["statement_id"].is_unique
        succeeded = set(runs.index[runs["status"] == "succeeded"])
        # One set of rows per night: none of a killed run, each succeeded run's once.
        for table in ("run_themes", "run_pain_points", "run_manifests"):
            rows = store.read_table(table)
            assert set(rows["run_id"]) <= succeeded, table
        manifests = store.read_table("run_manifests")
        assert manifests["run_id"].is_unique
    # 'latest' names a succeeded run's folder; no folder of a killed run is left.
    assert (cfg.output_dir / "latest").resolve().name in succeeded
    folders = {p.name for p in cfg.output_dir.iterdir() if p.is_dir() and not p.is_symlink()
               and not p.name.startswith(".")}
    assert folders <= succeeded, folders - succeeded
    assert not list(cfg.output_dir.glob(".tmp-*"))
    assert (rerun.run_dir / "themes.csv").read_text() == before_themes


def test_incremental_run_embeds_only_new_statements(job, tmp_path, sample_slice):
    folder, cfg, first = job
    inc = tmp_path / "inc"
    shutil.copytree(folder / "inputs", inc / "inputs")
    shutil.copytree(cfg.output_dir, inc / "out", symlinks=True)
    sample_slice.write_inputs(inc / "inputs", extra_surveys=25)
    cfg2 = load_config(sample_slice.write_config(inc))
    res = run_job(cfg2)
    emb = res.manifest["stages"]["embed"]
    new_docs = pd.read_csv(inc / "inputs" / "surveys.csv", dtype=str).iloc[300:325]
    assert 0 < emb["embedded"] <= 4 * len(new_docs)
    assert emb["reused"] > 10 * emb["embedded"]
    sent = res.manifest["stages"]["sentiment"]
    assert 0 < sent["scored"] <= emb["embedded"] and sent["reused"] > 10 * sent["scored"]
    # Kinds come from the store's cache but for the new statements, and equal a fresh reading.
    themes = res.manifest["stages"]["themes"]
    assert 0 < themes["kinds_read"] <= emb["embedded"] and themes["kinds_reused"] > 10 * themes["kinds_read"]
    st = pd.read_parquet(res.run_dir / "statements.parquet")
    fresh = statement_kinds(st.drop(columns=["kind"]), cfg2.prepare.languages)
    themed = ~st["is_non_answer"].fillna(False).astype(bool).to_numpy()
    assert (st["kind"].to_numpy(dtype=object)[themed] == fresh[themed]).all()
    # Reused rows (DuckDB's Etc/UTC) and new rows (UTC) stay one time-stamp column, not objects.
    assert isinstance(st["created_at"].dtype, pd.DatetimeTZDtype)
    prev = pd.read_csv(first.run_dir / "themes.csv")
    cur = pd.read_csv(res.run_dir / "themes.csv")
    broad_prev = set(prev.loc[prev["parent_id"].isna(), "theme_id"])
    broad_cur = set(cur.loc[cur["parent_id"].isna() & (cur["status"] != "faded"), "theme_id"])
    # Most themes keep their identity when 8% of the input is new.
    assert len(broad_prev & broad_cur) >= 0.7 * len(broad_prev)


def test_another_embedder_never_reads_the_other_ones_vectors_or_scores(job, tmp_path, sample_slice):
    """fp32 and int8 e5 vectors differ slightly: switching embedding.model on the same store embeds
    and scores every statement again (both caches are keyed by the embedder), nothing is mixed."""
    folder, cfg, _ = job
    shutil.copytree(folder / "inputs", tmp_path / "inputs")
    shutil.copytree(cfg.output_dir, tmp_path / "out", symlinks=True)
    path = sample_slice.write_config(tmp_path, refit="always")
    other = "e5-small" if cfg.embedding.model == "e5-small-int8" else "e5-small-int8"
    path.write_text(yaml.safe_dump({**yaml.safe_load(path.read_text()), "embedding": {"model": other}}))
    res = run_job(load_config(path))
    st = pd.read_parquet(res.run_dir / "statements.parquet")
    distinct = st["text"].fillna("").astype(str).nunique()
    assert res.manifest["stages"]["embed"]["embedded"] == distinct
    assert res.manifest["stages"]["sentiment"]["scored"] == distinct
    assert res.manifest["embedding_model"].startswith(f"{other}:onnx-")


def test_store_written_by_an_older_version_takes_new_columns(tmp_path):
    # A run of a newer version writes pain points with columns an older store's table lacks.
    with RunStore(tmp_path / "s.duckdb") as store:
        store.db.append_table("run_pain_points", pd.DataFrame({"run_id": ["r1"], "rank": [1]}))
        store.db.append_table("run_pain_points", pd.DataFrame({"run_id": ["r2"], "rank": [2], "level": ["theme"]}))
        rows = store.read_table("run_pain_points")
    assert rows["run_id"].tolist() == ["r1", "r2"]
    assert rows["level"].isna().tolist() == [True, False] and rows["level"].iloc[1] == "theme"

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

from feedback_miner.config import load_config
from feedback_miner.pipeline import STAGES, run_job
from feedback_miner.store import RunStore

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def job(tmp_path_factory, sample_slice):
    """One finished run of the slice; later tests reuse its store and inputs."""
    folder = tmp_path_factory.mktemp("job")
    sample_slice.write_inputs(folder / "inputs")
    cfg = load_config(sample_slice.write_config(folder))
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


KILLER = textwrap.dedent("""
    import os, signal, sys
    from feedback_miner.config import load_config
    from feedback_miner.pipeline import run_job
    stage = sys.argv[2]
    def on_stage(name):
        if name == stage:
            os.kill(os.getpid(), signal.SIGKILL)
    run_job(load_config(sys.argv[1]), on_stage=on_stage)
""")


@pytest.mark.parametrize("stage", [*STAGES, "publish"])  # killed as each stage begins, and before publishing
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
    prev = pd.read_csv(first.run_dir / "themes.csv")
    cur = pd.read_csv(res.run_dir / "themes.csv")
    broad_prev = set(prev.loc[prev["parent_id"].isna(), "theme_id"])
    broad_cur = set(cur.loc[cur["parent_id"].isna() & (cur["status"] != "faded"), "theme_id"])
    # Most themes keep their identity when 8% of the input is new.
    assert len(broad_prev & broad_cur) >= 0.7 * len(broad_prev)


def test_store_written_by_an_older_version_takes_new_columns(tmp_path):
    # A run of a newer version writes pain points with columns an older store's table lacks.
    with RunStore(tmp_path / "s.duckdb") as store:
        store.db.append_table("run_pain_points", pd.DataFrame({"run_id": ["r1"], "rank": [1]}))
        store.db.append_table("run_pain_points", pd.DataFrame({"run_id": ["r2"], "rank": [2], "level": ["theme"]}))
        rows = store.read_table("run_pain_points")
    assert rows["run_id"].tolist() == ["r1", "r2"]
    assert rows["level"].isna().tolist() == [True, False] and rows["level"].iloc[1] == "theme"

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
from pathlib import Path

import pandas as pd
import pytest
import yaml

from feedback_miner.config import load_config
from feedback_miner.pipeline import STAGES, run_job
from feedback_miner.store import RunStore

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"
PLANTED_EMAIL = "giulia.bianchi77@example.org"
PLANTED_PHONE = "+39 347 555 0199"


def make_inputs(folder: Path, n_surveys: int = 300, n_tickets: int = 150, extra_surveys: int = 0) -> None:
    """A slice of the sample (+ one answer with planted PII), written as the sample's own formats."""
    folder.mkdir(parents=True, exist_ok=True)
    surveys = pd.read_csv(SAMPLE / "surveys.csv", dtype=str, keep_default_na=False)
    part = surveys.iloc[: n_surveys + extra_surveys].copy()
    pii = part.iloc[[0]].copy()
    pii["response_id"] = "R-PII-1"
    pii["comment"] = (f"The app crashes every time I log in. Write to me at {PLANTED_EMAIL} "
                      f"or call {PLANTED_PHONE}, my name is Giulia Bianchi.")
    pd.concat([part, pii]).to_csv(folder / "surveys.csv", index=False)
    tickets = pd.read_json(SAMPLE / "tickets.jsonl", lines=True, dtype=False)
    tickets.iloc[:n_tickets].to_json(folder / "tickets.jsonl", orient="records", lines=True, force_ascii=False)
    shutil.copy(SAMPLE / "customers.parquet", folder / "customers.parquet")


def make_config(folder: Path, **run) -> Path:
    cfg = {
        "run": {"output_dir": "out", **run},
        "sources": {
            "surveys": {"path": "inputs/surveys.csv", "score_scale": "nps"},
            "tickets": {"path": "inputs/tickets.jsonl"},
            "customers": {"path": "inputs/customers.parquet"},
        },
        "themes": {"min_cluster_size": 8},
        "outcomes": {"min_customers": 5, "bootstrap": 50},
    }
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


@pytest.fixture(scope="module")
def job(tmp_path_factory):
    """One finished run of the slice; later tests reuse its store and inputs."""
    folder = tmp_path_factory.mktemp("job")
    make_inputs(folder / "inputs")
    cfg = load_config(make_config(folder))
    first = run_job(cfg)
    return folder, cfg, first


def test_run_writes_every_output(job):
    folder, cfg, first = job
    run_dir = first.run_dir
    for name in ("manifest.json", "quarantine.csv", "documents.parquet", "statements.parquet", "themes.csv",
                 "themes.parquet", "pain_points.csv", "pain_points.json", "pain_points.md", "report.html"):
        assert (run_dir / name).is_file(), name
    assert (cfg.output_dir / "latest").resolve() == run_dir.resolve()
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert list(manifest["stages"]) == list(STAGES)
    assert manifest["counts"]["documents"] == pd.read_parquet(run_dir / "documents.parquet").shape[0]
    st = pd.read_parquet(run_dir / "statements.parquet")
    for col in ("statement_id", "doc_id", "source", "customer_id", "created_at", "language", "text",
                "is_duplicate_of", "theme_id", "sentiment", "sentiment_label"):
        assert col in st.columns, col
    themed = st[~st["is_non_answer"]]
    assert themed["theme_id"].notna().all()
    assert st["sentiment"].between(-1, 1).all()
    assert set(st["language"]) >= {"en", "it", "fr", "ro"}
    themes = pd.read_csv(run_dir / "themes.csv")
    for col in ("theme_id", "parent_id", "label", "keywords", "n_statements", "n_customers", "share", "languages",
                "examples", "status", "sentiment_mean", "churn_rr"):
        assert col in themes.columns, col
    with RunStore(cfg.store_path, read_only=True) as store:
        runs = store.runs()
        assert runs["status"].tolist() == ["succeeded"]
        assert store.read_table("statements").shape[0] == len(st)


def test_no_raw_pii_anywhere_in_outputs(job):
    _, _, first = job
    for path in first.run_dir.iterdir():
        blob = path.read_bytes()
        assert PLANTED_EMAIL.encode() not in blob, path.name
        assert PLANTED_PHONE.encode() not in blob, path.name
        assert b"Giulia Bianchi" not in blob, path.name
    html = (first.run_dir / "report.html").read_text()
    assert "<EMAIL>" in html or "&lt;EMAIL&gt;" in html or PLANTED_EMAIL not in html


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


def test_incremental_run_embeds_only_new_statements(job, tmp_path):
    folder, cfg, first = job
    inc = tmp_path / "inc"
    shutil.copytree(folder / "inputs", inc / "inputs")
    shutil.copytree(cfg.output_dir, inc / "out", symlinks=True)
    make_inputs(inc / "inputs", extra_surveys=25)
    cfg2 = load_config(make_config(inc))
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


@pytest.mark.browser
def test_report_of_the_run_renders_offline_in_chromium(job):
    from test_report_browser import ARTIFACTS, check_report_in_browser

    _, _, first = job
    html = first.run_dir / "report.html"
    assert html.stat().st_size < 5 * 1024 * 1024
    res = check_report_in_browser(html, screenshot=ARTIFACTS / "demo-slice-report.png")
    assert res["external_requests"] == []
    assert res["svg_nonempty"] > 0 and res["treemap_rects"] > 0
    assert res["pain_rows"] > 0
    assert res["quotes_in_first_theme"] > 0
    assert res["load_s"] < 2.0

"""A finished run of configs/demo.yaml (the session's ``demo_run``): every output with its documented
columns, no personal data of the inputs in any output, and the report rebuilt from the run store."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from feedback_miner.pipeline import STAGES
from feedback_miner.store import RunStore

pytestmark = pytest.mark.slow

OUTPUTS = ("manifest.json", "quarantine.csv", "documents.parquet", "statements.parquet", "themes.csv",
           "themes.parquet", "pain_points.csv", "pain_points.json", "pain_points.md", "report.html",
           "customers.parquet")
EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}")
# The night's report is rendered before its own stage ends; one rebuilt later also lists that stage's time.
STAGE_TIMINGS = re.compile(rb"<dt>Stage timings</dt><dd>.*?</dd>")


def test_run_writes_every_output(demo_run):
    cfg, run_dir = demo_run.config, demo_run.run_dir
    for name in OUTPUTS:
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
    assert st.loc[st["is_non_answer"], "theme_id"].isna().all()
    # Every statement is scored, and its label is the head's most probable class: positive ones
    # score above 0 (P(positive) > P(negative)), negative ones below.
    assert st["sentiment"].notna().all()
    assert (st.loc[st["sentiment_label"] == "positive", "sentiment"] > 0).all()
    assert (st.loc[st["sentiment_label"] == "negative", "sentiment"] < 0).all()
    assert set(st["language"]) >= {"en", "it", "fr", "ro"}
    themes = pd.read_csv(run_dir / "themes.csv")
    for col in ("theme_id", "parent_id", "label", "keywords", "n_statements", "n_customers", "share", "languages",
                "examples", "status", "sentiment_mean", "churn_rr"):
        assert col in themes.columns, col
    # Every statement's theme is a row of themes.csv.
    assert set(themed["theme_id"]) <= set(themes["theme_id"])
    with RunStore(cfg.store_path, read_only=True) as store:
        assert store.runs()["status"].tolist() == ["succeeded"]
        assert store.read_table("statements").shape[0] == len(st)


def test_no_email_of_the_inputs_in_any_output(demo_run):
    """The sample's tickets and answers hold real-looking e-mail addresses: none reaches an output."""
    sources = demo_run.config.sources
    raw = "\n".join(Path(s.path).read_text(encoding="utf-8") for s in (sources.surveys, sources.tickets))
    emails = set(EMAIL_RE.findall(raw))
    assert len(emails) >= 10
    for path in demo_run.run_dir.iterdir():
        blob = path.read_bytes()
        leaked = sorted(e for e in emails if e.encode() in blob)
        assert not leaked, (path.name, leaked[:5])


def test_report_rebuilt_from_the_store_is_the_nights_own(demo_run):
    """``feedback-miner report --run latest`` re-renders report.html and pain_points.md from the run
    store and the run folder's tables, without recomputing: what the night wrote, but for the
    report stage's own timing."""
    written = {name: (demo_run.run_dir / name).read_bytes() for name in ("report.html", "pain_points.md")}
    cmd = [sys.executable, "-m", "feedback_miner", "report", "--config", str(demo_run.config_path), "--run", "latest"]
    try:
        proc = subprocess.run(cmd, env={**os.environ, "HF_HUB_OFFLINE": "1"}, capture_output=True, text=True,
                              timeout=300)
        assert proc.returncode == 0, proc.stderr
        assert (demo_run.run_dir / "pain_points.md").read_bytes() == written["pain_points.md"]
        rebuilt = (demo_run.run_dir / "report.html").read_bytes()
        assert STAGE_TIMINGS.search(rebuilt) and STAGE_TIMINGS.search(written["report.html"])
        assert STAGE_TIMINGS.sub(b"", rebuilt) == STAGE_TIMINGS.sub(b"", written["report.html"])
    finally:  # the run is shared: leave it as the night wrote it
        for name, blob in written.items():
            (demo_run.run_dir / name).write_bytes(blob)

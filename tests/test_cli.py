"""The command line as a scheduler sees it: exit codes, one-line errors, the run lock, the run store."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from feedback_miner.lock import RunLock, RunLocked
from feedback_miner.store import RunStore

INPUTS = Path(__file__).parent / "data" / "inputs"


def cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    return subprocess.run([sys.executable, "-m", "feedback_miner", *args], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=300)


def test_version():
    res = cli("--version")
    assert res.returncode == 0 and res.stdout.startswith("feedback-miner ")


def test_bad_config_exit_2_one_line(tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("themes:\n  nope: 1\n")
    res = cli("validate", "--config", str(cfg))
    assert res.returncode == 2
    assert res.stderr.strip().count("\n") == 0, res.stderr
    assert "unknown key 'themes.nope'" in res.stderr and str(cfg) in res.stderr
    assert "Traceback" not in res.stderr


def test_missing_column_exit_2_and_run_recorded_failed(tmp_path):
    (tmp_path / "s.csv").write_text("response_id,customer_id,submitted_at,score\nR1,C1,2026-01-01,5\n")
    cfg = tmp_path / "c.yaml"
    cfg.write_text(yaml.safe_dump({"run": {"output_dir": "out"}, "sources": {"surveys": {"path": "s.csv"}}}))
    res = cli("run", "--config", str(cfg))
    assert res.returncode == 2, res.stderr
    assert res.stderr.strip().splitlines()[-1].startswith("error: ")
    assert "column 'comment' not found" in res.stderr
    assert "Traceback" not in res.stderr
    with RunStore(tmp_path / "out" / "feedback_miner.duckdb", read_only=True) as store:
        runs = store.runs()
    assert runs["status"].tolist() == ["failed"]
    assert "comment" in runs["error"].iloc[0]
    assert not (tmp_path / "out" / "latest").exists()
    assert not list((tmp_path / "out").glob(".tmp-*"))


def test_validate_lists_quarantine(tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text(yaml.safe_dump({"sources": {"tickets": {"path": str(INPUTS / "tickets.jsonl")}}}))
    res = cli("validate", "--config", str(cfg))
    # 3 of 4 rows quarantined: over ingest.max_reject_share, the run would refuse -> exit 2
    assert res.returncode == 2, res.stderr
    assert "tickets: 4 rows read, 1 valid, 3 quarantined" in res.stdout
    assert "tickets.jsonl:3 [body] empty text" in res.stdout
    assert "1  empty text [body] (e.g. tickets.jsonl:3)" in res.stdout
    assert res.stderr.count("\n") == 1 and "max_reject_share" in res.stderr


def test_second_run_is_refused_with_exit_3(tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text(yaml.safe_dump({"run": {"output_dir": "out"}}))
    # A live process (this test) holds the lock.
    with RunLock(tmp_path / "out" / ".lock"):
        res = cli("run", "--config", str(cfg))
    assert res.returncode == 3, res.stderr
    assert "another run holds" in res.stderr


def test_stale_lock_is_taken_over(tmp_path):
    lock = tmp_path / ".lock"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    import socket

    lock.write_text(json.dumps({"pid": int(dead.stdout), "host": socket.gethostname(), "since": "x"}))
    with RunLock(lock):
        assert json.loads(lock.read_text())["pid"] == os.getpid()
    assert not lock.exists()


def test_live_lock_refuses():
    import tempfile

    with tempfile.TemporaryDirectory() as d, RunLock(Path(d) / ".lock"), pytest.raises(RunLocked):
        RunLock(Path(d) / ".lock").acquire()

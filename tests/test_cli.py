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


def _one_line_error(res: subprocess.CompletedProcess) -> str:
    assert "Traceback" not in res.stderr, res.stderr
    assert res.stderr.strip().count("\n") == 0, res.stderr
    return res.stderr


def _store_config(tmp_path: Path) -> tuple[Path, Path]:
    cfg = tmp_path / "c.yaml"
    cfg.write_text(yaml.safe_dump({"run": {"output_dir": "out"}}))
    return cfg, tmp_path / "out" / "feedback_miner.duckdb"


@pytest.mark.parametrize("damage", ["garbage", "truncated"])
def test_unreadable_store_one_line_exit_2_then_rebuild(tmp_path, damage):
    cfg, store_path = _store_config(tmp_path)
    with RunStore(store_path) as store:
        store.con.execute("CREATE TABLE filler AS SELECT range AS i, repeat('x', 50) AS s FROM range(200000)")
    data = store_path.read_bytes()
    damaged = b"not a database " * 100 if damage == "garbage" else data[: len(data) // 3]
    store_path.write_bytes(damaged)
    for command in ("runs", "report", "run"):
        res = cli(command, "--config", str(cfg))
        assert res.returncode == 2, (command, res.stderr)
        err = _one_line_error(res)
        assert str(store_path) in err and "feedback-miner store rebuild" in err, err
    check = cli("store", "check", "--config", str(cfg))
    assert check.returncode == 2 and "store rebuild" in _one_line_error(check)
    rebuilt = cli("store", "rebuild", "--config", str(cfg))
    assert rebuilt.returncode == 0, rebuilt.stderr
    aside = list(store_path.parent.glob("feedback_miner.duckdb.broken-*"))
    assert len(aside) == 1 and aside[0].read_bytes() == damaged  # the old file is kept aside, as it was
    assert "0 runs recovered" in rebuilt.stdout
    check = cli("store", "check", "--config", str(cfg))
    assert check.returncode == 0 and "ok" in check.stdout, check.stderr


def test_readers_during_a_run_say_a_run_is_in_progress_exit_3(tmp_path):
    cfg, store_path = _store_config(tmp_path)
    with RunStore(store_path):  # this process writes the store, as a running job does
        for command in (("runs",), ("report",), ("runs", "--wait", "1")):
            res = cli(*command, "--config", str(cfg))
            assert res.returncode == 3, (command, res.stderr)
            assert "a run is in progress" in _one_line_error(res)


def test_runs_prints_no_nan(tmp_path):
    import pandas as pd

    cfg, store_path = _store_config(tmp_path)
    with RunStore(store_path) as store:
        now = pd.Timestamp.now(tz="UTC")
        store.run_log.start_run("R1", now, "h", {})
        store.run_log.finish_run("R1", "succeeded", finished_at=now, counts={"documents": 3})
        store.run_log.start_run("R2", now + pd.Timedelta(seconds=1), "h", {})
        store.run_log.finish_run("R2", "failed", finished_at=now, error="ValueError: boom")
    res = cli("runs", "--config", str(cfg))
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert len(lines) == 2 and "nan" not in res.stdout.lower(), res.stdout
    assert lines[0].endswith("docs=3") and lines[1].endswith("ValueError: boom")


def test_lock_of_a_reused_pid_is_stale(tmp_path):
    import socket

    lock = tmp_path / ".lock"
    # This live process's pid, but another start time: the pid was reused after the holder died.
    lock.write_text(json.dumps({"pid": os.getpid(), "pid_start": "1", "host": socket.gethostname(), "since": "x"}))
    with RunLock(lock):
        assert json.loads(lock.read_text())["pid_start"] != "1"


def test_lock_from_another_host_is_stale_without_heartbeat(tmp_path):
    import time

    from feedback_miner.lock import FOREIGN_STALE_S

    lock = tmp_path / ".lock"
    lock.write_text(json.dumps({"pid": 1, "host": "elsewhere.example", "since": "x"}))
    with pytest.raises(RunLocked):  # its holder refreshed the file just now
        RunLock(lock).acquire()
    old = time.time() - FOREIGN_STALE_S - 60
    os.utime(lock, (old, old))
    with RunLock(lock):
        assert json.loads(lock.read_text())["host"] != "elsewhere.example"

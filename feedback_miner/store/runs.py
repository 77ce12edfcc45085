"""The ``runs`` table: each run's lifecycle, and which earlier nights a run may build on."""

from __future__ import annotations

import json

import pandas as pd

from feedback_miner.store.database import Database


def night_key(config_hash: str, fingerprints: dict) -> str:
    """Identity of a night's input: a rerun with the same key replaces that night, it is not a new one."""
    return config_hash + ":" + json.dumps(fingerprints, sort_keys=True)


class RunLog:
    """Start, finish and list runs; find the succeeded night before this one."""

    def __init__(self, db: Database):
        self.db = db

    def start_run(self, run_id: str, started_at: pd.Timestamp, config_hash: str, versions: dict) -> None:
        self.db.con.execute(
            "INSERT INTO runs (run_id, started_at, status, config_hash, versions) VALUES (?, ?, 'running', ?, ?)",
            [run_id, started_at.to_pydatetime(), config_hash, json.dumps(versions)],
        )

    def finish_run(self, run_id: str, status: str, *, finished_at: pd.Timestamp, error: str | None = None,
                   input_fingerprints: dict | None = None, counts: dict | None = None,
                   output_dir: str | None = None) -> None:
        self.db.con.execute(
            """UPDATE runs SET status = ?, finished_at = ?, error = ?,
                   input_fingerprints = coalesce(?, input_fingerprints),
                   counts = coalesce(?, counts), output_dir = coalesce(?, output_dir)
               WHERE run_id = ?""",
            [
                status,
                finished_at.to_pydatetime(),
                error,
                json.dumps(input_fingerprints) if input_fingerprints is not None else None,
                json.dumps(counts, default=str) if counts is not None else None,
                output_dir,
                run_id,
            ],
        )

    def all(self) -> pd.DataFrame:
        """Every run, oldest first."""
        return self.db.con.execute("SELECT * FROM runs ORDER BY started_at").df()

    def mark_interrupted(self) -> list[str]:
        """Runs left 'running' by a killed process, now marked failed; their ids."""
        ids = [r[0] for r in self.db.con.execute("SELECT run_id FROM runs WHERE status = 'running'").fetchall()]
        for rid in ids:
            self.finish_run(rid, "failed", finished_at=pd.Timestamp.now(tz="UTC"), error="interrupted")
        return ids

    def earlier_nights(self, night: str | None = None) -> list[str]:
        """Succeeded runs, newest first, skipping earlier runs of the same night (so reruns are idempotent)."""
        runs = self.db.con.execute(
            "SELECT run_id, config_hash, input_fingerprints FROM runs WHERE status = 'succeeded' "
            "ORDER BY finished_at DESC"
        ).fetchall()
        return [rid for rid, ch, fp in runs
                if night is None or night_key(ch, json.loads(fp or "{}")) != night]

    def previous_night(self, night: str | None = None) -> str | None:
        """Run id of the last succeeded earlier night (``night``: this run's key, whose reruns do not count)."""
        earlier = self.earlier_nights(night)
        return earlier[0] if earlier else None

    def last_succeeded(self) -> tuple[str, str, str | None] | None:
        """``(run_id, night key, output_dir)`` of the newest succeeded run, or None."""
        row = self.db.con.execute(
            "SELECT run_id, config_hash, input_fingerprints, output_dir FROM runs WHERE status = 'succeeded' "
            "ORDER BY finished_at DESC LIMIT 1").fetchone()
        if row is None:
            return None
        return row[0], night_key(row[1], json.loads(row[2] or "{}")), row[3]

    def is_succeeded(self, run_id: str) -> bool:
        row = self.db.con.execute("SELECT status FROM runs WHERE run_id = ?", [run_id]).fetchone()
        return row is not None and row[0] == "succeeded"

    def not_succeeded(self) -> list[str]:
        """Ids of runs that failed or were interrupted."""
        return [r[0] for r in self.db.con.execute("SELECT run_id FROM runs WHERE status = 'failed'").fetchall()]

    def succeeded_run(self, run_id: str = "latest") -> pd.Series:
        """The ``runs`` row of a succeeded run (or of the latest one); LookupError if there is none."""
        runs = self.all()
        done = runs[runs["status"] == "succeeded"]
        if run_id == "latest":
            if not len(done):
                raise LookupError(f"{self.db.path}: no succeeded run to report on")
            run_id = done.sort_values("finished_at")["run_id"].iloc[-1]
        row = done[done["run_id"] == run_id]
        if not len(row):
            raise LookupError(f"{self.db.path}: no succeeded run '{run_id}'")
        return row.iloc[0]

"""The run store: one embedded DuckDB file holding runs, documents, statements and caches.

Tables (each stage adds what it needs through the methods below):

- ``runs``: one row per run (id, start/end, status, config hash, input fingerprints, counts, versions).
- ``documents``: normalized documents of the latest successful ingestion, keyed by ``doc_id``.
- ``statements``: prepared statements, keyed by ``statement_id``; cached by document content hash.
- ``embeddings``: vector cache keyed by (model, text hash) so a statement is embedded once, ever.
- ``sentiment_cache``: score and label keyed by (head and labelling settings, text hash).
- ``themes_history``: each run's themes with centroids, for identity matching across nights.

Writes for a run happen in one transaction at the end of the run, so a run that dies leaves the
store as it was (except the ``runs`` row, which records the failure).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id VARCHAR PRIMARY KEY,
    started_at TIMESTAMP,
    finished_at TIMESTAMP,
    status VARCHAR,            -- running | succeeded | failed
    error VARCHAR,
    config_hash VARCHAR,
    input_fingerprints VARCHAR, -- JSON
    counts VARCHAR,             -- JSON
    versions VARCHAR,           -- JSON
    output_dir VARCHAR
);
CREATE TABLE IF NOT EXISTS embeddings (
    model VARCHAR,
    text_hash VARCHAR,
    vector FLOAT[],
    PRIMARY KEY (model, text_hash)
);
CREATE TABLE IF NOT EXISTS sentiment_cache (
    model VARCHAR,
    text_hash VARCHAR,
    sentiment DOUBLE,
    PRIMARY KEY (model, text_hash)
);
ALTER TABLE sentiment_cache ADD COLUMN IF NOT EXISTS sentiment_label VARCHAR;
"""


class RunStore:
    """Thin wrapper over a DuckDB file. Open with ``RunStore(path)``; use as a context manager."""

    def __init__(self, path: str | Path, read_only: bool = False, memory_limit: str = "1GB"):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # DuckDB's buffer pool defaults to 80% of RAM; the job's own frames need that memory more
        # (DuckDB spills to disk beyond the limit).
        self.con = duckdb.connect(str(self.path), read_only=read_only, config={"memory_limit": memory_limit})
        if not read_only:
            self.con.execute(SCHEMA)

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> RunStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All-or-nothing block: a failure rolls back every write inside it."""
        self.con.execute("BEGIN TRANSACTION")
        try:
            yield
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        self.con.execute("COMMIT")

    # ------------------------------------------------------------ runs

    def start_run(self, run_id: str, started_at: pd.Timestamp, config_hash: str, versions: dict) -> None:
        self.con.execute(
            "INSERT INTO runs (run_id, started_at, status, config_hash, versions) VALUES (?, ?, 'running', ?, ?)",
            [run_id, started_at.to_pydatetime(), config_hash, json.dumps(versions)],
        )

    def finish_run(
        self,
        run_id: str,
        status: str,
        *,
        finished_at: pd.Timestamp,
        error: str | None = None,
        input_fingerprints: dict | None = None,
        counts: dict | None = None,
        output_dir: str | None = None,
    ) -> None:
        self.con.execute(
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

    def runs(self) -> pd.DataFrame:
        return self.con.execute("SELECT * FROM runs ORDER BY started_at").df()

    def last_successful_run(self) -> dict | None:
        rows = self.con.execute(
            "SELECT run_id, output_dir FROM runs WHERE status = 'succeeded' ORDER BY finished_at DESC LIMIT 1"
        ).fetchall()
        return {"run_id": rows[0][0], "output_dir": rows[0][1]} if rows else None

    # ------------------------------------------------------------ tables

    def has_table(self, name: str) -> bool:
        q = "SELECT count(*) FROM information_schema.tables WHERE table_name = ?"
        return bool(self.con.execute(q, [name]).fetchall()[0][0])

    def replace_table(self, name: str, df: pd.DataFrame) -> None:
        """Replace a whole table with a DataFrame (call inside :meth:`transaction`)."""
        self.con.register("_df", df)
        try:
            self.con.execute(f'CREATE OR REPLACE TABLE "{name}" AS SELECT * FROM _df')
        finally:
            self.con.unregister("_df")

    def append_table(self, name: str, df: pd.DataFrame) -> None:
        """Append rows, creating the table from the frame's schema the first time."""
        self.con.register("_df", df)
        try:
            if self.has_table(name):
                self.con.execute(f'INSERT INTO "{name}" BY NAME SELECT * FROM _df')
            else:
                self.con.execute(f'CREATE TABLE "{name}" AS SELECT * FROM _df')
        finally:
            self.con.unregister("_df")

    def read_table(self, name: str, where: str = "", params: Sequence | None = None) -> pd.DataFrame:
        if not self.has_table(name):
            return pd.DataFrame()
        return self.con.execute(f'SELECT * FROM "{name}" {where}', list(params or [])).df()

    # ------------------------------------------------------------ caches

    def get_embeddings(self, model: str, text_hashes: Sequence[str]) -> tuple[list[str], np.ndarray]:
        """Cached vectors for the given hashes: (hashes found, float32 matrix with their rows).

        Vectors come back through Arrow as one matrix: going through Python lists, or a dict of
        per-row arrays, costs gigabytes at a few hundred thousand statements.
        """
        if not len(text_hashes):
            return [], np.zeros((0, 0), dtype=np.float32)
        keys = pa.table({"text_hash": list(dict.fromkeys(text_hashes))})
        self.con.register("_keys", keys)
        try:
            # con.sql, not con.execute: a DB-API result copies every row once more on its way to Arrow.
            tbl = self.con.sql(
                "SELECT e.text_hash, e.vector FROM embeddings e JOIN _keys k USING (text_hash) WHERE e.model = ?",
                params=[model],
            ).to_arrow_table()
        finally:
            self.con.unregister("_keys")
        if not tbl.num_rows:
            return [], np.zeros((0, 0), dtype=np.float32)
        found = tbl.column("text_hash").to_pylist()
        flat = tbl.column("vector").combine_chunks().flatten().to_numpy(zero_copy_only=False)
        del tbl
        return found, flat.astype(np.float32, copy=False).reshape(len(found), -1)

    def put_embeddings(self, model: str, text_hashes: Sequence[str], vectors: np.ndarray) -> None:
        if not len(text_hashes):
            return
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        hashes = pd.Series(list(text_hashes))
        keep = ~hashes.duplicated().to_numpy()
        vectors, hashes = vectors[keep], hashes[keep]
        tbl = pa.table({
            "model": pa.array([model] * len(hashes)),
            "text_hash": pa.array(hashes.tolist()),
            "vector": pa.FixedSizeListArray.from_arrays(pa.array(vectors.ravel()), vectors.shape[1]),
        })
        self.con.register("_new", tbl)
        try:
            self.con.execute(
                "INSERT OR IGNORE INTO embeddings SELECT model, text_hash, vector::FLOAT[] FROM _new"
            )
        finally:
            self.con.unregister("_new")

    def get_sentiment(self, model: str, text_hashes: Sequence[str]) -> pd.DataFrame:
        """Cached ``text_hash, sentiment, sentiment_label`` of the given texts under head key ``model``."""
        keys = pd.DataFrame({"text_hash": list(dict.fromkeys(text_hashes))})
        self.con.register("_keys", keys)
        try:
            return self.con.execute(
                "SELECT s.text_hash, s.sentiment, s.sentiment_label FROM sentiment_cache s JOIN _keys k "
                "USING (text_hash) WHERE s.model = ? AND s.sentiment_label IS NOT NULL",
                [model],
            ).df()
        finally:
            self.con.unregister("_keys")

    def put_sentiment(self, model: str, scored: pd.DataFrame) -> None:
        """Cache ``text_hash, sentiment, sentiment_label`` rows under head key ``model`` (first copy wins)."""
        if not len(scored):
            return
        df = scored[["text_hash", "sentiment", "sentiment_label"]].drop_duplicates("text_hash")
        self.con.register("_new", df.assign(model=model))
        try:
            self.con.execute("INSERT OR IGNORE INTO sentiment_cache (model, text_hash, sentiment, sentiment_label) "
                             "SELECT model, text_hash, sentiment, sentiment_label FROM _new")
        finally:
            self.con.unregister("_new")

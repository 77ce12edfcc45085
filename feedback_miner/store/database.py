"""The DuckDB connection under the run store, and the generic whole-table operations its parts use."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pandas as pd

from feedback_miner.store.schema import SCHEMA


class StoreBusy(Exception):
    """Another process holds the store open for writing: a run is in progress (exit code 3)."""


class StoreUnreadable(Exception):
    """The store file is corrupt, truncated or not a DuckDB file (exit code 2); the message names the
    file and the recovery commands."""


def _recovery_hint(path: Path) -> str:
    return (f"run store {path} cannot be read; recover with 'feedback-miner store check --config <config>' "
            f"and 'feedback-miner store rebuild --config <config>' (the old file is kept aside)")


def connect(path: Path, read_only: bool, memory_limit: str) -> duckdb.DuckDBPyConnection:
    """Open the DuckDB file, telling a store held by a running job (:class:`StoreBusy`) from an
    unreadable one (:class:`StoreUnreadable`) instead of DuckDB's traceback."""
    try:
        con = duckdb.connect(str(path), read_only=read_only, config={"memory_limit": memory_limit})
        if not read_only:
            con.execute(SCHEMA)
        con.execute("SELECT count(*) FROM runs").fetchall()  # reads the catalog and one table: truncation shows
        return con
    except duckdb.Error as e:
        message = str(e).splitlines()[0]
        if "Could not set lock" in message or "Conflicting lock" in message:
            raise StoreBusy(f"a run is in progress: {path} is held by another process; try again when it "
                            "finishes") from None
        raise StoreUnreadable(f"{_recovery_hint(path)} ({type(e).__name__}: {message})") from None


class Database:
    """One embedded DuckDB file, its declared schema created when opened writable."""

    def __init__(self, path: str | Path, read_only: bool = False, memory_limit: str = "1GB"):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # DuckDB's buffer pool defaults to 80% of RAM; the job's own frames need that memory more
        # (DuckDB spills to disk beyond the limit).
        self.con = connect(self.path, read_only, memory_limit)

    def close(self) -> None:
        self.con.close()

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

    @contextmanager
    def registered(self, name: str, frame: object) -> Iterator[None]:
        """``frame`` (pandas or Arrow) visible to SQL as view ``name`` for the block."""
        self.con.register(name, frame)
        try:
            yield
        finally:
            self.con.unregister(name)

    def has_table(self, name: str) -> bool:
        q = "SELECT count(*) FROM information_schema.tables WHERE table_name = ?"
        return bool(self.con.execute(q, [name]).fetchall()[0][0])

    def columns(self, name: str) -> list[str]:
        return list(self.con.execute(f'SELECT * FROM "{name}" LIMIT 0').df().columns)

    def replace_table(self, name: str, df: pd.DataFrame) -> None:
        """Replace a whole frame table (see ``schema.FRAME_TABLES``) with a DataFrame."""
        with self.registered("_df", df):
            self.con.execute(f'CREATE OR REPLACE TABLE "{name}" AS SELECT * FROM _df')

    def append_table(self, name: str, df: pd.DataFrame) -> None:
        """Append rows by column name (a frame table is created from the frame's schema the first time).

        Columns new to the table (a newer version writes more) are added to it first, so a store
        written by an older version keeps working; its older rows read them as null.
        """
        with self.registered("_df", df):
            if self.has_table(name):
                have = {r[0] for r in self.con.execute(f'DESCRIBE "{name}"').fetchall()}
                for col, typ, *_ in self.con.execute("DESCRIBE SELECT * FROM _df").fetchall():
                    if col not in have:
                        self.con.execute(f'ALTER TABLE "{name}" ADD COLUMN "{col}" {typ}')
                self.con.execute(f'INSERT INTO "{name}" BY NAME SELECT * FROM _df')
            else:
                self.con.execute(f'CREATE TABLE "{name}" AS SELECT * FROM _df')

    def read_table(self, name: str, where: str = "", params: Sequence | None = None) -> pd.DataFrame:
        """Rows of ``name`` (all, or those of a ``WHERE ...`` clause); empty if the table does not exist."""
        if not self.has_table(name):
            return pd.DataFrame()
        return self.frame(f'SELECT * FROM "{name}" {where}', params)

    def frame(self, sql: str, params: Sequence | None = None) -> pd.DataFrame:
        """A query's rows as a DataFrame, time stamps in pandas' ``UTC``: DuckDB hands them back in
        ``Etc/UTC``, and a concat with tonight's ``UTC`` rows then gave an object column (parsed
        again, value by value, by every later stage)."""
        df = self.con.execute(sql, list(params or [])).df()
        for col in df.columns:
            if isinstance(df[col].dtype, pd.DatetimeTZDtype) and str(df[col].dtype.tz) != "UTC":
                df[col] = df[col].dt.tz_convert("UTC")
        return df

"""Content-keyed caches: embedding vectors, sentiment scores and statement kinds, by (model, head or
rules key, text hash)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa

from feedback_miner.store.database import Database


class Caches:
    """Vectors, sentiment scores and kinds computed once per text, ever (reused by every later night)."""

    def __init__(self, db: Database):
        self.db = db

    def get_embeddings(self, model: str, text_hashes: Sequence[str]) -> tuple[list[str], np.ndarray]:
        """Cached vectors for the given hashes: (hashes found, float32 matrix with their rows).

        Vectors come back through Arrow as one matrix: going through Python lists, or a dict of
        per-row arrays, costs gigabytes at a few hundred thousand statements.
        """
        if not len(text_hashes):
            return [], np.zeros((0, 0), dtype=np.float32)
        keys = pa.table({"text_hash": list(dict.fromkeys(text_hashes))})
        with self.db.registered("_keys", keys):
            # con.sql, not con.execute: a DB-API result copies every row once more on its way to Arrow.
            tbl = self.db.con.sql(
                "SELECT e.text_hash, e.vector FROM embeddings e JOIN _keys k USING (text_hash) WHERE e.model = ?",
                params=[model],
            ).to_arrow_table()
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
        with self.db.registered("_new", tbl):
            self.db.con.execute("INSERT OR IGNORE INTO embeddings SELECT model, text_hash, vector::FLOAT[] FROM _new")

    def all_embeddings(self) -> pd.DataFrame:
        """``model, text_hash, vector`` of every cached vector (to seed another store's cache)."""
        return self.db.con.execute("SELECT model, text_hash, vector FROM embeddings ORDER BY text_hash").df()

    def get_sentiment(self, model: str, text_hashes: Sequence[str]) -> pd.DataFrame:
        """Cached ``text_hash, sentiment, sentiment_label`` of the given texts under head key ``model``."""
        keys = pd.DataFrame({"text_hash": list(dict.fromkeys(text_hashes))})
        with self.db.registered("_keys", keys):
            return self.db.con.execute(
                "SELECT s.text_hash, s.sentiment, s.sentiment_label FROM sentiment_cache s JOIN _keys k "
                "USING (text_hash) WHERE s.model = ? AND s.sentiment_label IS NOT NULL",
                [model],
            ).df()

    def put_sentiment(self, model: str, scored: pd.DataFrame) -> None:
        """Cache ``text_hash, sentiment, sentiment_label`` rows under head key ``model`` (first copy wins)."""
        if not len(scored):
            return
        df = scored[["text_hash", "sentiment", "sentiment_label"]].drop_duplicates("text_hash")
        with self.db.registered("_new", df.assign(model=model)):
            self.db.con.execute("INSERT OR IGNORE INTO sentiment_cache (model, text_hash, sentiment, sentiment_label) "
                                "SELECT model, text_hash, sentiment, sentiment_label FROM _new")

    def get_kinds(self, rules: str, key_hashes: Sequence[str]) -> pd.Series:
        """Cached kinds by key hash (index) under the kind rules' digest ``rules``."""
        keys = pd.DataFrame({"key_hash": list(dict.fromkeys(key_hashes))})
        with self.db.registered("_keys", keys):
            df = self.db.con.execute(
                "SELECT c.key_hash, c.kind FROM kind_cache c JOIN _keys k USING (key_hash) WHERE c.rules = ?", [rules]
            ).df()
        return df.set_index("key_hash")["kind"]

    def put_kinds(self, rules: str, key_hashes: Sequence[str], kinds: Sequence[str]) -> None:
        """Cache ``kinds`` (one per key hash) under ``rules`` (first copy wins)."""
        df = pd.DataFrame({"key_hash": list(key_hashes), "kind": list(kinds)}).drop_duplicates("key_hash")
        if not len(df):
            return
        with self.db.registered("_new", df.assign(rules=rules)):
            self.db.con.execute("INSERT OR IGNORE INTO kind_cache (rules, key_hash, kind) "
                                "SELECT rules, key_hash, kind FROM _new")

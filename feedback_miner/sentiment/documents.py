"""Document-level sentiment: the polarity of a whole answer or ticket, not of one of its statements.

Long answers mix facts, praise and complaint, and the majority of statement labels misreads them
("Great screen. Broke after two weeks, never again." is one positive and one negative statement, and
a negative review). The head reads a document vector instead: the mean of its statements' vectors
weighted by their length. e5 mean-pools its token states, so a length-weighted mean of the pieces'
vectors approximates the vector of the whole text, without a second encoder pass; a head that reads
texts gets the statements joined back together.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import sparse

from feedback_miner.config import SentimentConfig
from feedback_miner.sentiment.base import SentimentHead
from feedback_miner.sentiment.scoring import score_statements

DOCUMENT_SENTIMENT_COLUMNS = ["doc_id", "sentiment", "sentiment_label"]


def document_vectors(statements: pd.DataFrame, vectors: np.ndarray) -> tuple[pd.DataFrame, np.ndarray]:
    """One row per document with statements: ``doc_id, text, language`` and its L2-normalized vector.

    ``statements`` needs ``doc_id`` and ``text`` (``position`` orders the joined text when present,
    ``language``: the document's most frequent one); ``vectors`` is aligned with its rows.
    """
    if len(statements) != len(vectors):
        raise ValueError(f"{len(statements)} statements but {len(vectors)} vectors")
    order = ["doc_id", "position"] if "position" in statements.columns else ["doc_id"]
    stmts = statements.reset_index(drop=True).sort_values(order, kind="stable")
    texts = stmts["text"].fillna("").astype(str)
    codes, doc_ids = pd.factorize(stmts["doc_id"], sort=False)
    # float32 weights: a float64 product of the window's vectors was a ~300 MB temporary at 100k documents.
    weight = np.maximum(texts.str.len().to_numpy(dtype=np.float32), np.float32(1.0))
    pool = sparse.csr_matrix((weight, (codes, stmts.index.to_numpy())), shape=(len(doc_ids), len(statements)))
    doc_vectors = np.asarray(pool @ np.asarray(vectors, dtype=np.float32), dtype=np.float32)
    doc_vectors /= np.maximum(np.linalg.norm(doc_vectors, axis=1, keepdims=True), 1e-12)
    # Rows are sorted by doc_id, so each document's statements are one run of rows (codes 0, 1, ...):
    # joined and counted without a Python function per group (a night reads the whole window's
    # documents: 100k groups took ~30 s through groupby().agg(lambda)).
    starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]]) if len(codes) else np.zeros(0, np.int64)
    ends = np.r_[starts[1:], len(codes)].astype(np.int64)
    parts = texts.tolist()
    docs = pd.DataFrame({"doc_id": doc_ids, "text": [" ".join(parts[a:b]) for a, b in zip(starts, ends, strict=True)]})
    if "language" in stmts.columns:
        docs["language"] = _most_frequent(codes, stmts["language"].to_numpy(dtype=object), len(doc_ids))
    return docs, doc_vectors


def _most_frequent(codes: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    """Per group code ``0..n-1``, its most frequent non-null value; ties go to the smallest value, as
    ``Series.mode().iloc[0]`` does (None for a group of nulls only)."""
    counts = pd.DataFrame({"g": codes, "v": values}).value_counts(dropna=True, sort=False).reset_index(name="n")
    counts = counts.sort_values(["g", "n", "v"], ascending=[True, False, True], kind="stable")
    first = counts.drop_duplicates("g").set_index("g")["v"]
    return first.reindex(range(n)).astype(object).where(lambda s: s.notna(), None).to_numpy()


def score_documents(
    statements: pd.DataFrame, vectors: np.ndarray, model: SentimentHead, cfg: SentimentConfig
) -> pd.DataFrame:
    """``doc_id, sentiment, sentiment_label`` of every document that has statements (see the module)."""
    if not len(statements):
        return pd.DataFrame({"doc_id": pd.Series(dtype=object), "sentiment": pd.Series(dtype=float),
                             "sentiment_label": pd.Series(dtype=object)})  # fmt: skip
    docs, doc_vectors = document_vectors(statements, vectors)
    scored = score_statements(docs.rename(columns={"doc_id": "statement_id"}), doc_vectors, model, cfg)
    return scored.rename(columns={"statement_id": "doc_id"})[DOCUMENT_SENTIMENT_COLUMNS]


def with_document_sentiment(documents: pd.DataFrame, scored: pd.DataFrame) -> pd.DataFrame:
    """``documents`` with the ``sentiment, sentiment_label`` of ``scored`` (by ``doc_id``; NaN/None for a
    document without statements); columns of an earlier scoring are replaced."""
    base = documents.drop(columns=[c for c in ("sentiment", "sentiment_label") if c in documents.columns])
    return base.merge(scored[DOCUMENT_SENTIMENT_COLUMNS], on="doc_id", how="left")

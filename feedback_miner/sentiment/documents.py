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
    weight = np.maximum(texts.str.len().to_numpy(dtype=float), 1.0)
    pool = sparse.csr_matrix((weight, (codes, stmts.index.to_numpy())), shape=(len(doc_ids), len(statements)))
    doc_vectors = np.asarray(pool @ np.asarray(vectors, dtype=np.float32), dtype=np.float32)
    doc_vectors /= np.maximum(np.linalg.norm(doc_vectors, axis=1, keepdims=True), 1e-12)
    docs = pd.DataFrame({"doc_id": doc_ids, "text": texts.groupby(codes, sort=True).agg(" ".join).to_numpy()})
    if "language" in stmts.columns:
        docs["language"] = stmts.groupby(codes, sort=True)["language"].agg(lambda s: s.mode().iloc[0]).to_numpy()
    return docs, doc_vectors


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

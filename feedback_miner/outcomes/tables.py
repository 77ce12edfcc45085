"""Joins: who mentioned which theme, and the outcome of each customer and each response."""

from __future__ import annotations

import numpy as np
import pandas as pd

from feedback_miner.ids import among

#: theme ids that mean "no theme" (outliers, non-answers, and the themes stage's buckets of
#: statements with no topic: generic praise or complaints, filler, other languages).
NO_THEME = {"other", "-1", "", "None", "nan", "generic_praise", "generic_complaint", "filler", "other_language"}


def _clean_ids(s: pd.Series) -> pd.Series:
    s = s.astype("string")
    return s.where(~s.isin(NO_THEME))


def respondent_id(statements: pd.DataFrame) -> pd.Series:
    """The unit that "mentions" a theme: the customer, or the response when it has no customer."""
    cust = statements["customer_id"].astype("string") if "customer_id" in statements else None
    doc = "doc:" + statements["doc_id"].astype("string")
    return doc if cust is None else cust.fillna(doc)


def mention_pairs(statements: pd.DataFrame, unit: pd.Series, theme_ids: set[str]) -> pd.DataFrame:
    """Distinct ``(unit, theme_id)`` pairs over broad themes and sub-themes.

    ``unit`` is aligned with ``statements`` (e.g. customer_id or doc_id). Theme ids not in
    ``theme_ids`` and the "no theme" ids are dropped. Columns: ``unit, theme_id``.
    """
    parts = []
    for col in ("theme_id", "subtheme_id"):
        if col in statements:
            parts.append(pd.DataFrame({"unit": unit.to_numpy(), "theme_id": _clean_ids(statements[col])}))
    if not parts:
        return pd.DataFrame({"unit": pd.Series(dtype="string"), "theme_id": pd.Series(dtype="string")})
    pairs = pd.concat(parts, ignore_index=True).dropna()
    pairs = pairs[pairs["theme_id"].isin(theme_ids)]
    return pairs.drop_duplicates(ignore_index=True)


def customer_outcomes(statements: pd.DataFrame, customers: pd.DataFrame) -> pd.DataFrame:
    """Customers who wrote at least one statement and whose churn is known.

    They are the population of the churn comparison: a theme's mentioners against the other
    customers *who gave feedback* (customers who never wrote differ in ways we cannot see).
    Columns: the customers columns, ``churned`` as float 0/1.
    """
    writers = statements["customer_id"].dropna().astype(str).unique()
    cust = customers.copy()
    cust["customer_id"] = cust["customer_id"].astype(str)
    cust = cust[among(cust["customer_id"], writers) & cust["churned"].notna()]
    cust = cust.drop_duplicates("customer_id")
    cust["churned"] = cust["churned"].astype(bool).astype(float)
    return cust.reset_index(drop=True)


def response_outcomes(
    statements: pd.DataFrame, documents: pd.DataFrame, low_csat_max: float, nps_detractor_max: float
) -> pd.DataFrame:
    """Scored responses that entered the analysis (have statements), with a ``low`` flag.

    ``low`` is 1 when a CSAT score is at most ``low_csat_max`` or an NPS score at most
    ``nps_detractor_max``. Columns: ``doc_id, score, score_scale, low``.
    """
    docs = documents[["doc_id", "score", "score_scale"]].copy()
    docs = docs[among(docs["doc_id"], statements["doc_id"]) & docs["score"].notna()]
    docs = docs[docs["score_scale"].isin(["nps", "csat"])].drop_duplicates("doc_id")
    docs["score"] = docs["score"].astype(float)
    threshold = np.where(docs["score_scale"] == "csat", low_csat_max, nps_detractor_max)
    docs["low"] = (docs["score"] <= threshold).astype(float)
    return docs.reset_index(drop=True)


def counts_by_theme(pairs: pd.DataFrame, outcome: pd.Series, theme_ids: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Per theme: how many units with a known outcome mention it, and the sum of their outcome.

    ``outcome`` is indexed by unit. Returns ``(n_mentioning, events_mentioning)`` in ``theme_ids`` order.
    """
    joined = pairs.merge(outcome.rename("y"), left_on="unit", right_index=True, how="inner")
    agg = joined.groupby("theme_id")["y"].agg(["size", "sum"]).reindex(theme_ids).fillna(0)
    return agg["size"].to_numpy(float), agg["sum"].to_numpy(float)


def indicator_matrix(pairs: pd.DataFrame, units: pd.Index, theme_ids: list[str]) -> pd.DataFrame:
    """0/1 matrix (``units`` x ``theme_ids``): does the unit mention the theme."""
    rows = pd.Index(units).get_indexer(pairs["unit"])
    cols = pd.Index(theme_ids).get_indexer(pairs["theme_id"])
    keep = (rows >= 0) & (cols >= 0)
    m = np.zeros((len(units), len(theme_ids)))
    m[rows[keep], cols[keep]] = 1.0
    return pd.DataFrame(m, index=units, columns=theme_ids)

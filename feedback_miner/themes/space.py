"""The vector space themes are found in: language-centred vectors, and which statements shape it.

Multilingual e5 vectors carry a language component: two Italian statements about different
things can be closer than an Italian and an English one about the same thing. Subtracting each
language's mean vector removes most of that shared offset (a well-known cheap fix for
multilingual sentence embeddings), so clusters follow meaning.

Filler statements ("Same story last month.", "Ogni singola volta.") carry no theme of their own
but repeat across customers and would form themes; :func:`filler_mask` finds them so that the
clustering can leave them out of the fit.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from feedback_miner.themes.cluster import normalize_rows

POOLED = "und"
LANGUAGE_MEAN_COLUMNS = ["language", "mean", "n_statements"]


def fit_language_means(X: np.ndarray, languages: np.ndarray, min_count: int = 20) -> pd.DataFrame:
    """Mean vector of each language's rows: ``language``, ``mean`` (list of floats), ``n_statements``.

    Languages with fewer than ``min_count`` rows (too few for a reliable mean) are pooled with
    ``und``; so is ``und`` itself. The frame is what :func:`apply_language_means` needs to put
    later vectors in the same space (assignment nights reuse the fit night's means).
    """
    langs = np.asarray(languages, dtype=object).astype(str)
    values, counts = np.unique(langs, return_counts=True)
    small = set(values[counts < min_count].tolist()) | {POOLED}
    group = np.where(np.isin(langs, list(small)), POOLED, langs)
    X = np.asarray(X, dtype=np.float32)
    rows = []
    for g in np.unique(group):
        m = np.flatnonzero(group == g)
        # Summed in row blocks: X[m] whole would copy a language's vectors at once.
        total = sum((X[m[i : i + 65536]].sum(axis=0, dtype=np.float64) for i in range(0, len(m), 65536)),
                    start=np.zeros(X.shape[1]))  # fmt: skip
        rows.append({"language": str(g), "mean": (total / len(m)).astype(np.float32).tolist(),
                     "n_statements": len(m)})  # fmt: skip
    return pd.DataFrame(rows, columns=LANGUAGE_MEAN_COLUMNS)


def apply_language_means(X: np.ndarray, languages: np.ndarray, means: pd.DataFrame, copy: bool = True) -> np.ndarray:
    """Subtract each row's language mean (from :func:`fit_language_means`), then L2-normalize again.

    A language without a mean of its own takes the pooled ``und`` mean, or, without one, the
    statement-weighted mean of all languages. ``copy=False`` overwrites ``X`` (float32) instead of
    returning a new matrix: the caller no longer needs the raw vectors.
    """
    out = np.asarray(X, dtype=np.float32)
    if copy:
        out = out.copy()
    if means is None or len(means) == 0 or len(out) == 0:
        return normalize_rows(out)
    M = np.vstack([np.asarray(m, dtype=np.float32) for m in means["mean"]])
    known = {str(k): i for i, k in enumerate(means["language"])}
    w = means["n_statements"].to_numpy(dtype=np.float64)
    fallback = M[known[POOLED]] if POOLED in known else (w @ M / max(w.sum(), 1.0)).astype(np.float32)
    langs = np.asarray(languages, dtype=object).astype(str)
    for lang in np.unique(langs):
        rows = np.flatnonzero(langs == lang)
        for i in range(0, len(rows), 65536):  # out[rows] -= ... would copy a language's rows at once
            out[rows[i : i + 65536]] -= M[known[lang]] if lang in known else fallback
    return normalize_rows(out, inplace=True)


class LanguageCentering:
    """Per-language mean subtraction as an estimator: ``fit`` learns ``means_``, ``transform`` applies them.

    ``enabled`` False: ``means_`` is None and ``transform`` returns the vectors as they are.
    ``means``: means of an earlier night (non-empty) are kept as ``means_`` instead of fitting
    tonight's, so an assignment night's vectors land in the space its centroids were fitted in.
    """

    def __init__(self, enabled: bool = True, means: pd.DataFrame | None = None, min_count: int = 20):
        self.enabled = enabled
        self.means = means
        self.min_count = min_count

    def fit(self, X: np.ndarray, languages: np.ndarray) -> LanguageCentering:
        """Learn ``means_`` (None when disabled, or when there is nothing to fit)."""
        if not self.enabled:
            self.means_ = None
        elif self.means is not None and len(self.means) > 0:
            self.means_ = self.means
        else:
            self.means_ = fit_language_means(X, languages, self.min_count) if len(X) else None
        return self

    def transform(self, X: np.ndarray, languages: np.ndarray, copy: bool = True) -> np.ndarray:
        """``X`` centred with ``means_`` (see :func:`apply_language_means`; ``copy=False`` overwrites ``X``)."""
        if self.means_ is None:
            return X
        return apply_language_means(X, languages, self.means_, copy=copy)


def center_by_language(X: np.ndarray, languages: np.ndarray, min_count: int = 20) -> np.ndarray:
    """Subtract each language's mean vector from its rows, then L2-normalize again.

    Languages with fewer than ``min_count`` rows (too few for a reliable mean) are pooled with
    ``und``; so is ``und`` itself.
    """
    return apply_language_means(X, languages, fit_language_means(X, languages, min_count))


def _normal_form(texts: pd.Series) -> pd.Series:
    # Case, punctuation and emoji do not make a filler line different ("Every single time 🙄"), nor
    # do codes and numbers ("Transaction reference: TX-CHXMGG6JZ6." is one line, said 137 times).
    low = texts.astype(str).str.lower().str.replace(r"\w*\d\w*", "0", regex=True)
    return low.str.replace(r"[^\w<>]+", " ", regex=True).str.strip()


def filler_mask(statements: pd.DataFrame, max_chars: int = 60, min_customers: int = 3) -> np.ndarray:
    """True for short statements repeated word for word (codes and numbers aside) by at least
    ``min_customers`` customers.

    Ticket subjects are never filler (they name the problem). Customers are counted by
    ``customer_id`` (by statement where it is missing). ``max_chars`` 0 turns the rule off.
    """
    n = len(statements)
    if max_chars <= 0 or n == 0:
        return np.zeros(n, dtype=bool)
    text = statements["text"].astype(str)
    # Normal forms of the distinct texts only (two Python regexes over the whole window's statements
    # were seconds a night), then per statement by code.
    codes, texts = pd.factorize(text)
    norm_codes, norms = pd.factorize(_normal_form(pd.Series(texts, dtype=object)))
    norm = norm_codes[codes]
    who = statements.get("customer_id", pd.Series(None, index=statements.index))
    who = who.astype(object).where(who.notna(), statements["statement_id"].astype(str))
    per_norm = pd.DataFrame({"t": norm, "c": who.to_numpy(dtype=object)}).groupby("t")["c"].nunique()
    n_customers = per_norm.reindex(range(len(norms)), fill_value=0).to_numpy()[norm]
    subject = statements.get("is_subject", pd.Series(False, index=statements.index)).fillna(False).astype(bool)
    empty = (np.asarray(norms, dtype=object) == "")[norm]
    return (text.str.len().to_numpy() <= max_chars) & (n_customers >= min_customers) & ~subject.to_numpy() & ~empty

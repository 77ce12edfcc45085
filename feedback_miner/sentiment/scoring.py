"""Statement scores and their per-theme aggregates.

Statements come out of the preparation stage already split at contrast clauses ("the app is great"
/ "but billing is a nightmare"), so each part gets its own score and a theme's mean is a mean over
statements, never over whole tickets.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from feedback_miner.config import SentimentConfig
from feedback_miner.sentiment.base import SentimentHead, SentimentModelError

THEME_COLUMNS = [
    "theme_id",
    "n_sentiment",
    "sentiment_mean",
    "sentiment_low",
    "sentiment_high",
    "negative_share",
    "sentiment_by_language",
]


def labels_from_scores(scores: np.ndarray, neutral_band: float | np.ndarray) -> np.ndarray:
    """``negative`` below ``-neutral_band``, ``positive`` above ``+neutral_band``, else ``neutral``
    (``neutral_band``: one number, or one per score)."""
    s = np.asarray(scores, dtype=float)
    return np.where(s > neutral_band, "positive", np.where(s < -neutral_band, "negative", "neutral")).astype(object)


def score_statements(
    statements: pd.DataFrame, embeddings: np.ndarray, model: SentimentHead, cfg: SentimentConfig
) -> pd.DataFrame:
    """Score each statement.

    ``statements`` needs ``statement_id`` (and ``text`` for a head that reads texts,
    ``model.uses_texts``); ``embeddings`` is aligned with its rows and made by the embedder the head
    names (``model.embedding_model``). Returns ``statement_id, sentiment,
    sentiment_label`` with ``sentiment`` in [-1, 1]; the label is the head's most probable class, or
    the score thresholded at ``cfg.neutral_band`` when that is a number; ``"head"``: at the head's
    band for the statement's ``language`` (calibrated per language, ``model.metadata_["neutral_bands"]``;
    a head without them labels by the most probable class).
    """
    if len(statements) != len(embeddings):
        raise SentimentModelError(f"{len(statements)} statements but {len(embeddings)} embeddings")
    out = pd.DataFrame({"statement_id": statements["statement_id"].to_numpy()})
    if not len(statements):
        return out.assign(sentiment=pd.Series(dtype=float), sentiment_label=pd.Series(dtype=object))
    texts = statements["text"].fillna("").astype(str).tolist() if "text" in statements.columns else None
    if model.uses_texts and texts is None:
        raise SentimentModelError("this sentiment head reads the statement texts: statements need a 'text' column")
    proba = model.predict_proba(embeddings, texts)
    scores = proba[:, 2] - proba[:, 0]
    bands = model.metadata_.get("neutral_bands") if cfg.neutral_band == "head" else None
    if bands:
        languages = statements["language"] if "language" in statements.columns else pd.Series("", statements.index)
        band = languages.astype(str).map(lambda lang: bands.get(lang, bands["*"])).to_numpy(dtype=float)
        labels = labels_from_scores(scores, band)
    elif cfg.neutral_band is None or cfg.neutral_band == "head":
        labels = model.classes_[np.argmax(proba, axis=1)]
    else:
        labels = labels_from_scores(scores, cfg.neutral_band)
    return out.assign(sentiment=scores.astype(float), sentiment_label=labels.astype(object))


def mean_ci(values: np.ndarray, confidence: float = 0.95) -> tuple[float, float, float]:
    """Mean and Student-t confidence interval; NaN bounds below two values, a point when all equal."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if len(v) == 0:
        return np.nan, np.nan, np.nan
    m = float(v.mean())
    if len(v) < 2:
        return m, np.nan, np.nan
    sem = stats.sem(v)
    if sem == 0:
        return m, m, m
    low, high = stats.t.interval(confidence, df=len(v) - 1, loc=m, scale=sem)
    return m, float(low), float(high)


def _by_language(group: pd.DataFrame) -> str:
    means = group.groupby("language")["sentiment"].agg(["mean", "size"]).sort_values(["size"], ascending=False)
    return ", ".join(f"{lang}:{m:+.2f}" for lang, m in means["mean"].items())


def theme_sentiment(statements: pd.DataFrame, by: str = "theme_id", confidence: float = 0.95) -> pd.DataFrame:
    """Per-theme sentiment.

    ``statements`` needs ``by`` (``theme_id``, or ``subtheme_id`` for sub-themes), ``language``,
    ``sentiment`` and ``sentiment_label``; rows with no theme are ignored. Returns one row per theme:
    ``theme_id`` (named so whatever ``by`` was), ``n_sentiment`` (scored statements),
    ``sentiment_mean``, ``sentiment_low``/``sentiment_high`` (Student-t interval at ``confidence``,
    NaN with a single statement), ``negative_share`` and ``sentiment_by_language`` (e.g.
    ``"en:-0.42, it:-0.31"``, most frequent language first).
    """
    missing = {by, "language", "sentiment", "sentiment_label"} - set(statements.columns)
    if missing:
        raise ValueError(f"theme_sentiment needs columns {sorted(missing)}")
    df = statements.loc[statements[by].notna() & statements["sentiment"].notna()]
    rows = []
    for theme, g in df.groupby(by, sort=True):
        mean, low, high = mean_ci(g["sentiment"].to_numpy(), confidence)
        rows.append(
            {
                "theme_id": theme,
                "n_sentiment": len(g),
                "sentiment_mean": mean,
                "sentiment_low": low,
                "sentiment_high": high,
                "negative_share": float((g["sentiment_label"] == "negative").mean()),
                "sentiment_by_language": _by_language(g),
            }
        )
    return pd.DataFrame(rows, columns=THEME_COLUMNS)

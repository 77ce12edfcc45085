"""Training a head on the user's own labels, or on CSAT / NPS as weak labels.

Both paths embed the texts, hold out a stratified test split to report accuracy and macro-F1
(overall and per language when known), then refit on all rows so the saved head uses every label.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import train_test_split

from feedback_miner.embed import Embedder, embed_texts
from feedback_miner.sentiment.model import SentimentModel
from feedback_miner.sentiment.preprocess import CLASSES, normalize_texts
from feedback_miner.store import RunStore


@dataclass
class TrainReport:
    """Held-out figures of a training run; ``per_language`` has ``language, n, accuracy, macro_f1``."""

    n_train: int
    n_test: int
    accuracy: float
    macro_f1: float
    per_language: pd.DataFrame = field(default_factory=pd.DataFrame)
    label_counts: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {
            "n_train": self.n_train,
            "n_test": self.n_test,
            "heldout_accuracy": round(self.accuracy, 4),
            "heldout_macro_f1": round(self.macro_f1, 4),
            "heldout_per_language": self.per_language.round(4).to_dict(orient="records"),
        }


def _scores(y_true: np.ndarray, y_pred: np.ndarray) -> tuple[float, float]:
    return float(accuracy_score(y_true, y_pred)), float(f1_score(y_true, y_pred, average="macro", zero_division=0))


def evaluate_head(
    model: SentimentModel,
    embeddings: np.ndarray,
    labels: Sequence[str],
    languages: Sequence[str] | None = None,
    texts: Sequence[str] | None = None,
) -> tuple[float, float, pd.DataFrame]:
    """Accuracy, macro-F1 and a per-language table of a fitted head on labelled embeddings (and texts)."""
    y = np.asarray(labels, dtype=object)
    pred = model.predict_labels(embeddings, texts)
    acc, f1 = _scores(y, pred)
    rows = []
    if languages is not None:
        langs = np.asarray(languages, dtype=object)
        for lang in pd.unique(langs):
            m = langs == lang
            acc_l, f1_l = _scores(y[m], pred[m])
            rows.append({"language": lang, "n": int(m.sum()), "accuracy": acc_l, "macro_f1": f1_l})
    return acc, f1, pd.DataFrame(rows, columns=["language", "n", "accuracy", "macro_f1"])


def train_head(
    texts: Sequence[str],
    labels: Sequence[str],
    embedder: Embedder,
    embedder_spec: str,
    store: RunStore | None = None,
    languages: Sequence[str] | None = None,
    test_size: float = 0.2,
    seed: int = 0,
    **params,
) -> tuple[SentimentModel, TrainReport]:
    """Embed ``texts``, report held-out figures, and return a head refitted on all rows.

    ``labels`` are ``negative/neutral/positive`` (see :func:`parse_labels`); ``params`` go to
    :class:`SentimentModel`. The test split is stratified by label when every class allows it.
    """
    y = np.asarray(labels, dtype=object)
    if len(y) != len(texts):
        raise ValueError(f"{len(texts)} texts but {len(y)} labels")
    if len(y) < 10:
        raise ValueError(f"only {len(y)} labelled texts: a head needs at least 10 (hundreds are better)")
    clean = normalize_texts(texts)
    vectors, _ = embed_texts(clean, embedder, store)
    text_arr = np.asarray(clean, dtype=object)
    langs = np.asarray(languages, dtype=object) if languages is not None else None
    idx = np.arange(len(y))
    counts = pd.Series(y).value_counts()
    stratify = y if counts.min() >= 2 and int(len(y) * test_size) >= len(counts) else None
    tr, te = train_test_split(idx, test_size=test_size, stratify=stratify, random_state=seed)

    def new() -> SentimentModel:
        return SentimentModel(embedding_model=embedder.name, embedder=embedder_spec, random_state=seed, **params)

    acc, f1, per_lang = evaluate_head(
        new().fit(vectors[tr], y[tr], texts=list(text_arr[tr])),
        vectors[te],
        y[te],
        langs[te] if langs is not None else None,
        texts=list(text_arr[te]),
    )
    report = TrainReport(
        n_train=len(tr),
        n_test=len(te),
        accuracy=acc,
        macro_f1=f1,
        per_language=per_lang,
        label_counts={c: int(counts.get(c, 0)) for c in CLASSES},
    )
    model = new().fit(vectors, y, languages=langs, texts=clean)
    model.metadata_["heldout"] = report.as_dict()
    return model, report


def weak_labels(
    documents: pd.DataFrame,
    nps_detractor_max: float = 6,
    nps_promoter_min: float = 9,
    csat_low_max: float = 2,
    csat_high_min: float = 4,
) -> pd.Series:
    """Sentiment labels from the score each document already carries (NaN where there is none).

    NPS (0-10): detractors (<= 6) negative, passives neutral, promoters (>= 9) positive.
    CSAT (1-5): low (<= 2) negative, 3 neutral, high (>= 4) positive. ``documents`` needs
    ``score`` and ``score_scale`` (``nps``/``csat``) as in the ingest contract.
    """
    score = pd.to_numeric(documents["score"], errors="coerce")
    scale = documents["score_scale"].fillna("").astype(str).str.lower().to_numpy()
    low = np.where(scale == "nps", nps_detractor_max, csat_low_max)
    high = np.where(scale == "nps", nps_promoter_min, csat_high_min)
    known = score.notna().to_numpy() & np.isin(scale, ["nps", "csat"])
    label = np.where(score <= low, "negative", np.where(score >= high, "positive", "neutral"))
    return pd.Series(np.where(known, label, None), index=documents.index, dtype=object, name="label")


def calibrate_neutral_bands(
    scores: np.ndarray,
    labels: Sequence[str],
    languages: Sequence[str],
    grid: Sequence[float] = tuple(np.round(np.arange(0.0, 0.81, 0.05), 2)),
    min_per_class: int = 20,
) -> dict[str, float]:
    """Per-language neutral band: the ``|score|`` under which a text is neutral, chosen on held-out scores.

    For each language with at least ``min_per_class`` texts of every class, the band of ``grid``
    with the best macro-F1 (ties: the narrower band); ``"*"`` is the band chosen on all rows together,
    for languages without enough neutral examples.
    """
    from feedback_miner.sentiment.scoring import labels_from_scores

    s = np.asarray(scores, dtype=float)
    y = np.asarray(labels, dtype=object)
    langs = np.asarray(languages, dtype=object)

    def best(mask: np.ndarray) -> float:
        f1 = [f1_score(y[mask], labels_from_scores(s[mask], b), average="macro", zero_division=0) for b in grid]
        return float(grid[int(np.argmax(f1))])

    bands = {"*": best(np.ones(len(y), bool))}
    for lang in sorted(pd.unique(langs)):
        m = langs == lang
        counts = pd.Series(y[m]).value_counts()
        if all(counts.get(c, 0) >= min_per_class for c in CLASSES):
            bands[str(lang)] = best(m)
    return bands

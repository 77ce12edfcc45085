"""Sentiment stage: a score in [-1, 1] and a label per statement, and per-theme aggregates.

The model is a small head on the multilingual sentence embeddings (one head for every language);
see ``models/README.md`` for the shipped head's data, licence and measured accuracy.
"""

from feedback_miner.sentiment.base import SentimentHead, SentimentModelError
from feedback_miner.sentiment.loader import bundled_model_path, head_digest, load_sentiment_model
from feedback_miner.sentiment.model import SentimentModel
from feedback_miner.sentiment.preprocess import CLASSES, normalize_text, normalize_texts, parse_labels
from feedback_miner.sentiment.scoring import labels_from_scores, mean_ci, score_statements, theme_sentiment
from feedback_miner.sentiment.training import TrainReport, evaluate_head, train_head, weak_labels

__all__ = [
    "CLASSES",
    "SentimentHead",
    "SentimentModel",
    "SentimentModelError",
    "TrainReport",
    "bundled_model_path",
    "evaluate_head",
    "head_digest",
    "labels_from_scores",
    "load_sentiment_model",
    "mean_ci",
    "normalize_text",
    "normalize_texts",
    "parse_labels",
    "score_statements",
    "theme_sentiment",
    "train_head",
    "weak_labels",
]

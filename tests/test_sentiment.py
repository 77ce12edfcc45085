"""Sentiment stage without the embedder: labels, persistence of the head, per-theme statistics."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from feedback_miner.config import Config, SentimentConfig
from feedback_miner.sentiment import (
    CLASSES,
    SentimentModel,
    SentimentModelError,
    bundled_model_path,
    load_sentiment_model,
    normalize_text,
    parse_labels,
    score_statements,
    theme_sentiment,
    weak_labels,
)


@pytest.fixture(scope="module")
def bundled() -> SentimentModel:
    return load_sentiment_model("bundled", bundled_model_path().parent)


@pytest.fixture()
def head_copy(tmp_path, bundled):
    out = tmp_path / "head"
    shutil.copytree(bundled_model_path(), out)
    return out


# ------------------------------------------------------------------ labels and text


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (["negative", "Neutral", " POSITIVE "], ["negative", "neutral", "positive"]),
        (["neg", "neu", "pos"], ["negative", "neutral", "positive"]),
        ([-1, 0, 1, 1], ["negative", "neutral", "positive", "positive"]),
        ([0, 1, 2], ["negative", "neutral", "positive"]),  # TweetEval order, decided by the 2
        (["2.0", "0.0"], ["positive", "negative"]),  # floats read by pandas
    ],
)
def test_parse_labels_accepts_the_documented_schemes(raw, expected):
    assert list(parse_labels(raw)) == expected


def test_parse_labels_names_the_bad_value():
    with pytest.raises(ValueError, match="'great'"):
        parse_labels(["positive", "great"])


def test_normalize_text_strips_twitter_artefacts_and_keeps_words():
    assert normalize_text("RT @user: la app è stupenda http") == "la app è stupenda"
    assert normalize_text("@united I\\u2019m stuck &amp; #angry https://t.co/x") == "I’m stuck & angry"
    assert normalize_text("Factura este prea mare.") == "Factura este prea mare."


def test_weak_labels_map_nps_and_csat_and_leave_unscored_empty():
    docs = pd.DataFrame(
        {
            "score": [0, 6, 7, 8, 9, 10, 1, 2, 3, 4, 5, None],
            "score_scale": ["nps"] * 6 + ["csat"] * 5 + [None],
        }
    )
    got = weak_labels(docs).tolist()
    assert got[:6] == ["negative", "negative", "neutral", "neutral", "positive", "positive"]
    assert got[6:11] == ["negative", "negative", "neutral", "positive", "positive"]
    assert got[11] is None


# ------------------------------------------------------------------ the head on disk


@pytest.fixture(scope="module")
def research() -> SentimentModel:
    return load_sentiment_model("research", bundled_model_path().parent)


def test_default_head_is_trained_on_shippable_data_only(bundled):
    assert bundled.embedder == "e5-small"
    assert list(bundled.classes_) == list(CLASSES)
    assert "commercial use allowed" in bundled.metadata_["licence"]
    # This project's own sentences and sample (Apache-2.0) and EmoBank/EmoITA (CC BY-SA 4.0: commercial
    # use allowed); never UMSAB, airline tweets or LaRoSeDa (non-commercial).
    assert set(bundled.metadata_["source_counts"]) == {"own", "sample", "emobank"}
    assert "CC BY-SA 4.0" in bundled.metadata_["licence"]
    assert set(bundled.metadata_["language_counts"]) >= {"en", "fr", "it", "ro"}
    bands = bundled.metadata_["neutral_bands"]
    assert set(bands) >= {"*", "en", "fr", "it", "ro"} and all(0 <= b < 1 for b in bands.values())


def test_research_head_is_opt_in_and_says_non_commercial(research):
    assert "non-commercial" in research.metadata_["training_data"]
    assert set(research.metadata_["source_counts"]) == {"umsab", "airline"}
    assert research.uses_texts and research.metadata_["n_train"] > 1000


def test_own_romanian_training_sentences_are_not_near_the_sanity_test_set(root):
    # The Romanian sanity set is the test set of the default head: none of its sentences, nor a
    # close paraphrase (character 3-5-gram cosine >= 0.5), may be in the training data.
    from sklearn.feature_extraction.text import TfidfVectorizer

    train = pd.read_csv(root / "models" / "sentiment-data" / "feedback_sentiment_ro.csv")["text"]
    test = pd.read_csv(root / "tests" / "data" / "ro_sentiment_sanity.csv")["text"]
    vec = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5)).fit(pd.concat([train, test]))
    assert (vec.transform(train) @ vec.transform(test).T).max() < 0.5


def test_own_training_data_covers_every_language_and_class(root):
    for lang in ("en", "fr", "it", "ro"):
        df = pd.read_csv(root / "models" / "sentiment-data" / f"feedback_sentiment_{lang}.csv")
        assert len(df) >= 250 and not df["text"].duplicated().any()
        assert df["label"].value_counts().min() >= 80, lang


def test_text_head_needs_texts_and_round_trips(tmp_path, research):
    x = np.random.default_rng(1).normal(size=(3, 384)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    texts = ["Terrible service, never again.", "Ottimo servizio!", "Le colis est arrivé mardi."]
    with pytest.raises(SentimentModelError, match="texts"):
        research.predict_proba(x)
    with pytest.raises(SentimentModelError, match="'text' column"):
        score_statements(pd.DataFrame({"statement_id": ["a", "b", "c"]}), x, research, SentimentConfig())
    research.save(tmp_path / "r")
    again = SentimentModel.load(tmp_path / "r")
    np.testing.assert_allclose(again.predict_proba(x, texts), research.predict_proba(x, texts), rtol=1e-5)
    # The n-grams move the scores: the same vectors with other texts score differently.
    assert not np.allclose(research.predict_proba(x, texts), research.predict_proba(x, texts[::-1]))


def test_save_load_round_trip_keeps_predictions(tmp_path, bundled):
    x = np.random.default_rng(0).normal(size=(20, bundled.n_features_in_)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    bundled.save(tmp_path / "again")
    again = SentimentModel.load(tmp_path / "again" / "model.json")
    np.testing.assert_allclose(again.predict_proba(x), bundled.predict_proba(x), rtol=1e-6)
    # The score is P(positive) - P(negative), read by class name: a vector along the head's
    # positive direction scores near +1, its opposite near -1.
    pos, neg = list(again.classes_).index("positive"), list(again.classes_).index("negative")
    p = again.predict_proba(x)
    np.testing.assert_allclose(again.predict_scores(x), p[:, pos] - p[:, neg], atol=1e-6)
    direction = again.coefs_[0][:, pos] - again.coefs_[0][:, neg]
    direction /= np.linalg.norm(direction)
    extremes = again.predict_scores(np.vstack([direction, -direction]).astype(np.float32))
    assert extremes[0] > 0.9 and extremes[1] < -0.9, extremes
    assert not list(tmp_path.joinpath("again").glob("*.tmp*"))


def test_missing_head_raises_naming_the_path(tmp_path):
    with pytest.raises(SentimentModelError, match=str(tmp_path / "nope")):
        load_sentiment_model("nope", tmp_path)


def test_relative_head_path_resolves_against_the_config_folder(tmp_path, head_copy):
    cfg = Config(sentiment=SentimentConfig(model="head"), base_dir=tmp_path)
    model = load_sentiment_model(cfg.sentiment.model, cfg.base_dir)
    assert model.n_features_in_ == 384


def test_head_without_weights_is_incomplete(head_copy):
    (head_copy / "weights.npz").unlink()
    with pytest.raises(SentimentModelError, match=r"incomplete: weights\.npz missing"):
        SentimentModel.load(head_copy)


def test_truncated_weights_are_corrupt(head_copy):
    blob = (head_copy / "weights.npz").read_bytes()
    (head_copy / "weights.npz").write_bytes(blob[: len(blob) // 2])
    with pytest.raises(SentimentModelError, match=rf"{head_copy}.*corrupt"):
        SentimentModel.load(head_copy)


def test_garbled_json_is_corrupt(head_copy):
    (head_copy / "model.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(SentimentModelError, match="corrupt"):
        SentimentModel.load(head_copy)


def test_weights_of_the_wrong_shape_are_refused(head_copy):
    meta = json.loads((head_copy / "model.json").read_text())
    meta["n_features_in"] = 768
    (head_copy / "model.json").write_text(json.dumps(meta))
    with pytest.raises(SentimentModelError, match="layer 0"):
        SentimentModel.load(head_copy)


def test_vectors_of_another_embedder_are_refused(bundled):
    statements = pd.DataFrame({"statement_id": ["d#0"]})
    with pytest.raises(SentimentModelError, match="384-d"):
        score_statements(statements, np.zeros((1, 768), np.float32), bundled, SentimentConfig())
    with pytest.raises(SentimentModelError, match="1 statements but 2 embeddings"):
        score_statements(statements, np.zeros((2, 384), np.float32), bundled, SentimentConfig())


def test_unfitted_model_cannot_predict():
    with pytest.raises(SentimentModelError, match="not fitted"):
        SentimentModel().predict_scores(np.zeros((1, 384)))


# ------------------------------------------------------------------ per theme


def _scored_statements(seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = 60
    s = np.clip(rng.normal(-0.3, 0.5, n), -1, 1)
    return pd.DataFrame(
        {
            "theme_id": np.where(np.arange(n) < 40, "T0001", "T0002"),
            "language": rng.choice(["en", "it", "ro"], n, p=[0.5, 0.3, 0.2]),
            "sentiment": s,
            "sentiment_label": np.where(s < -0.15, "negative", np.where(s > 0.15, "positive", "neutral")),
        }
    )


def test_theme_sentiment_matches_scipy_t_interval():
    df = _scored_statements()
    out = theme_sentiment(df).set_index("theme_id")
    for theme, g in df.groupby("theme_id"):
        ci = stats.ttest_1samp(g["sentiment"], 0.0).confidence_interval(0.95)
        row = out.loc[theme]
        assert row["sentiment_mean"] == pytest.approx(g["sentiment"].mean())
        assert row["sentiment_low"] == pytest.approx(ci.low)
        assert row["sentiment_high"] == pytest.approx(ci.high)
        assert row["negative_share"] == pytest.approx((g["sentiment_label"] == "negative").mean())
        assert row["n_sentiment"] == len(g)


def test_theme_sentiment_by_language_lists_each_language_mean():
    df = _scored_statements()
    row = theme_sentiment(df).set_index("theme_id").loc["T0001"]
    g = df[df["theme_id"] == "T0001"]
    parts = dict(p.split(":") for p in row["sentiment_by_language"].split(", "))
    assert set(parts) == set(g["language"])
    for lang, value in parts.items():
        assert float(value) == pytest.approx(g.loc[g["language"] == lang, "sentiment"].mean(), abs=0.005)
    counts = g["language"].value_counts()
    assert next(iter(parts)) == counts.index[0]  # most frequent language first


def test_theme_sentiment_single_statement_has_no_interval_and_unthemed_rows_are_ignored():
    df = pd.DataFrame(
        {
            "theme_id": ["T1", None],
            "language": ["fr", "fr"],
            "sentiment": [0.5, -0.9],
            "sentiment_label": ["positive", "negative"],
        }
    )
    out = theme_sentiment(df)
    assert out["theme_id"].tolist() == ["T1"]
    assert out["sentiment_mean"].iloc[0] == 0.5 and np.isnan(out["sentiment_low"].iloc[0])
    assert out["sentiment_by_language"].iloc[0] == "fr:+0.50"


def test_theme_sentiment_for_subthemes():
    df = _scored_statements().assign(subtheme_id=lambda d: d["theme_id"] + ".1")
    out = theme_sentiment(df, by="subtheme_id")
    assert out["theme_id"].tolist() == ["T0001.1", "T0002.1"]


def _own_sentences(root, lang: str = "en") -> pd.DataFrame:
    return pd.read_csv(root / "models" / "sentiment-data" / f"feedback_sentiment_{lang}.csv")


@pytest.mark.slow  # fits a stacked head with cross-validation
def test_stacked_head_learns_from_the_text_block_and_round_trips(tmp_path, root):
    # Embeddings of pure noise: whatever the head gets right comes from the n-gram model, so the
    # meta model must learn to trust that block; the folded head still saves as one linear map.
    df = _own_sentences(root)
    texts, labels = df["text"].tolist(), parse_labels(df["label"])
    x = np.random.default_rng(0).normal(size=(len(df), 16)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    head = SentimentModel(embedding_model="noise", char_ngrams=(2, 5), stack_folds=3).fit(x, labels, texts=texts)
    assert head.metadata_["estimator"].startswith("stacked(3-fold)")
    assert (head.predict_labels(x, texts) == labels).mean() > 0.9
    head.save(tmp_path / "stacked")
    again = SentimentModel.load(tmp_path / "stacked")
    assert again.stack_folds == 3 and again.text_C == head.text_C
    np.testing.assert_allclose(again.predict_proba(x, texts), head.predict_proba(x, texts), rtol=1e-5, atol=1e-6)


def test_stacked_head_refuses_a_text_weight_and_too_few_labels(root):
    df = _own_sentences(root).groupby("label").head(12)
    x = np.eye(len(df), 8, dtype=np.float32) + 0.1
    with pytest.raises(ValueError, match="text_weight"):
        SentimentModel(char_ngrams=(2, 4), stack_folds=3, text_weight=0.5).fit(
            x, parse_labels(df["label"]), texts=df["text"].tolist()
        )
    labels = np.array(["positive"] * (len(df) - 1) + ["negative"], dtype=object)
    with pytest.raises(ValueError, match="at least 2 examples"):
        SentimentModel(char_ngrams=(2, 4), stack_folds=3).fit(x, labels, texts=df["text"].tolist())


def test_class_weights_balanced_within_groups_equalise_each_group():
    # Group "a" is 90% negative, group "b" balanced, and the features say which group a row is in.
    # Balanced overall, "a"'s skew tilts the class weights, so "b" comes out leaning positive;
    # balanced within each group, both groups keep an even prior.
    y = np.array(["negative"] * 90 + ["positive"] * 10 + ["negative"] * 50 + ["positive"] * 50, dtype=object)
    groups = np.array(["a"] * 100 + ["b"] * 100)
    x = np.stack([groups == "a", groups == "b"], axis=1).astype(np.float32)
    overall = SentimentModel(C=100.0).fit(x, y).predict_proba(x[[0, -1]])
    within = SentimentModel(C=100.0).fit(x, y, balance_within=groups).predict_proba(x[[0, -1]])
    assert overall[1, 2] - overall[1, 0] > 0.2
    np.testing.assert_allclose(within[:, 0], within[:, 2], atol=0.02)
    with pytest.raises(ValueError, match="balance_within"):
        SentimentModel().fit(x, y, balance_within=groups[:10])

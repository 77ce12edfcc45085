"""The research-tuned sentiment head (e5-small's top layers fine-tuned): files, errors, polarity."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest

from feedback_miner.config import SentimentConfig
from feedback_miner.sentiment import SentimentModelError, bundled_model_path, load_sentiment_model, score_statements
from feedback_miner.sentiment.tuned import TunedSentimentModel, _unpack, quantize_deltas

TUNED = bundled_model_path("research-tuned")
pytestmark = pytest.mark.skipif(not (TUNED / "model.json").exists(), reason="models/sentiment-research-tuned absent")


@pytest.fixture()
def tuned_copy(tmp_path):
    out = tmp_path / "tuned"
    shutil.copytree(TUNED, out)
    return out


def test_4bit_deltas_round_trip_within_half_a_step():
    rng = np.random.default_rng(0)
    base = {"ff1.weight": rng.normal(size=(6, 8)).astype(np.float32), "ff1.bias": np.zeros(6, np.float32)}
    tuned = {"ff1.weight": base["ff1.weight"] + rng.normal(scale=0.01, size=(6, 8)).astype(np.float32),
             "ff1.bias": rng.normal(size=6).astype(np.float32)}  # fmt: skip
    packed = quantize_deltas(tuned, base, "layer0.")
    assert packed["layer0.ff1.weight.q4"].shape == (6, 4) and packed["layer0.ff1.weight.q4"].dtype == np.uint8
    delta = _unpack(packed, "layer0.", "ff1.weight", (6, 8))
    step = packed["layer0.ff1.weight.scale"].astype(np.float32)[:, None]
    assert np.all(np.abs(base["ff1.weight"] + delta - tuned["ff1.weight"]) <= 0.51 * step + 1e-6)
    np.testing.assert_allclose(_unpack(packed, "layer0.", "ff1.bias", (6,)), tuned["ff1.bias"], rtol=1e-3)


def test_tuned_head_is_opt_in_small_and_says_non_commercial():
    model = load_sentiment_model("research-tuned", TUNED.parent)
    assert isinstance(model, TunedSentimentModel) and model.uses_texts
    assert "non-commercial" in model.metadata_["licence"]
    assert set(model.metadata_["source_counts"]) == {"umsab", "airline"}
    size = sum(f.stat().st_size for f in TUNED.rglob("*") if f.is_file())
    assert size < 6e6, f"the tuned head should stay a few MB, is {size / 1e6:.1f} MB"


def test_a_path_to_a_tuned_head_loads_it_too(tuned_copy):
    assert isinstance(load_sentiment_model(str(tuned_copy), tuned_copy.parent), TunedSentimentModel)


@pytest.mark.parametrize("victim", ["encoder.npz", "model.json", "head/weights.npz"])
def test_missing_tuned_file_is_a_clear_error(tuned_copy, victim):
    (tuned_copy / victim).unlink()
    with pytest.raises(SentimentModelError, match="incomplete|not found|missing"):
        load_sentiment_model(str(tuned_copy), tuned_copy.parent)


def test_corrupt_tuned_files_are_clear_errors(tuned_copy):
    enc = tuned_copy / "encoder.npz"
    enc.write_bytes(enc.read_bytes()[:1000])
    with pytest.raises(SentimentModelError, match="corrupt"):
        load_sentiment_model(str(tuned_copy), tuned_copy.parent)
    shutil.copy(TUNED / "encoder.npz", enc)
    meta = json.loads((tuned_copy / "model.json").read_text())
    (tuned_copy / "model.json").write_text(json.dumps(meta | {"tuned_layers": 40}))
    with pytest.raises(SentimentModelError, match="corrupt"):
        load_sentiment_model(str(tuned_copy), tuned_copy.parent)
    (tuned_copy / "model.json").write_text("{not json")
    with pytest.raises(SentimentModelError):
        load_sentiment_model(str(tuned_copy), tuned_copy.parent)


def test_tuned_head_needs_texts_and_its_encoder(tmp_path):
    model = TunedSentimentModel.load(TUNED, encoder_dir=tmp_path / "no-e5-here")
    x = np.zeros((2, 384), np.float32)
    with pytest.raises(SentimentModelError, match="texts"):
        model.predict_proba(x)
    with pytest.raises(SentimentModelError, match="e5-small encoder"):
        model.predict_proba(x, ["good", "bad"])


@pytest.mark.slow
def test_tuned_head_scores_clear_sentences_in_every_language():
    model = load_sentiment_model("research-tuned", TUNED.parent)
    texts = {
        "the support team was fantastic, thank you so much": 1,
        "the app crashes every time and nobody answers my emails": -1,
        "il servizio clienti è stato gentilissimo e veloce, grazie": 1,
        "pessima esperienza, la fattura è sbagliata e nessuno risponde": -1,
        "l'équipe a été formidable, je suis très satisfait": 1,
        "application lente et inutilisable, je suis furieux": -1,
        "aplicația este excelentă și foarte ușor de folosit": 1,
        "factura este greșită și nimeni nu mă ajută, sunt foarte nemulțumit": -1,
    }
    statements = pd.DataFrame({"statement_id": [f"s{i}" for i in range(len(texts))], "text": list(texts)})
    scored = score_statements(statements, np.zeros((len(texts), 384), np.float32), model, SentimentConfig())
    assert np.sign(scored["sentiment"].to_numpy()).tolist() == list(texts.values())
    # Clear sentences are scored with confidence (0.88-0.98 when measured), and labelled by the same class.
    assert (scored["sentiment"].abs() > 0.6).all(), scored
    assert scored["sentiment_label"].tolist() == ["positive" if v > 0 else "negative" for v in texts.values()]

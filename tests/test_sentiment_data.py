"""The benchmark's loaders of shippable sentiment sets map their labels to polarity as documented.

Small files in each set's own format (the real sets live under the git-ignored ``models/cache/``).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import sentiment_data as sd  # noqa: E402  (benchmark module, not a package)


@pytest.mark.parametrize(
    ("labels", "polarity"),
    [
        ("17", "positive"),  # joy
        ("0,15", "positive"),  # admiration + gratitude
        ("2,3", "negative"),  # anger + annoyance
        ("27", "neutral"),
        ("17,2", None),  # joy and anger: mixed
        ("6", None),  # confusion: ambiguous
        ("27,17", None),  # neutral together with an emotion
    ],
)
def test_goemotions_polarity_follows_the_sentiment_grouping(labels, polarity):
    assert sd._goemotions_polarity(labels) == polarity


def test_load_goemotions_reads_quoted_comments_and_drops_short_or_masked_ones(tmp_path):
    path = tmp_path / "train.tsv"
    path.write_text(
        "text\tlabel\tid\n"
        '"Three words, no subtlety. ""Dude. Stop. Seriously."" "\t3\ta1\n'
        "Thank you so much, this helped a lot\t15\ta2\n"
        "It might be linked to the trust factor.\t27\ta3\n"
        "[NAME] [NAME] rocks\t0\ta4\n"
        "Thanks friend\t15\ta5\n"
        "I love it but it also made me angry\t18,2\ta6\n",
        encoding="utf-8",
    )
    df = sd.load_goemotions(per_class=10, path=path).set_index("text")
    assert df["label"].to_dict() == {
        'Three words, no subtlety. "Dude. Stop. Seriously."': "negative",
        "Thank you so much, this helped a lot": "positive",
        "It might be linked to the trust factor.": "neutral",
    }
    assert set(df["language"]) == {"en"} and set(df["dataset"]) == {"goemotions"}
    assert sd.load_goemotions(path=tmp_path / "absent.tsv") is None


def test_load_emobank_keeps_sentences_whose_english_and_italian_readers_agree(tmp_path):
    # Valence on each corpus's own scale: Italian readers rate about half a point higher.
    ids = [f"s{i}" for i in range(8)]
    en = pd.DataFrame({"id": ids, "split": "train", "V": [1.5, 1.6, 3.0, 3.0, 3.0, 4.4, 4.5, 1.5], "A": 3, "D": 3,
                       "text": [f"english sentence number {i}" for i in range(8)]})  # fmt: skip
    it = pd.DataFrame({"id": ids, "text": [f"frase italiana numero {i}" for i in range(8)],
                       "V": [2.0, 2.1, 3.5, 3.5, 3.5, 5.0, 3.5, 5.0], "A": 3, "D": 3})  # fmt: skip
    en.to_csv(tmp_path / "emobank.csv", index=False)
    it.to_csv(tmp_path / "EmoITA.csv", index=False)
    df = sd.load_emobank(per_class=10, en_path=tmp_path / "emobank.csv", it_path=tmp_path / "EmoITA.csv")
    by_lang = {lang: part.set_index("text")["label"].to_dict() for lang, part in df.groupby("language")}
    # s6 (positive in English, neutral in Italian) and s7 (negative vs positive) disagree: left out.
    assert by_lang["en"] == {
        "english sentence number 0": "negative",
        "english sentence number 1": "negative",
        "english sentence number 2": "neutral",
        "english sentence number 3": "neutral",
        "english sentence number 4": "neutral",
        "english sentence number 5": "positive",
    }
    assert sorted(by_lang["it"].values()) == sorted(by_lang["en"].values())
    assert set(df["dataset"]) == {"emobank"}


def test_fit_shippable_refuses_a_training_set_without_a_weight():
    # A set missing from the weights once trained at weight 1 unnoticed (a CV row that was meant without it).
    train = pd.DataFrame({"text": ["good", "bad"], "label": ["positive", "negative"], "language": "en",
                          "dataset": ["own", "goemotions"]})  # fmt: skip
    with pytest.raises(ValueError, match="goemotions"):
        sd.fit_shippable(train, np.eye(2, 384), "e5-small", {"C": 1.0}, {"own": 1.0})

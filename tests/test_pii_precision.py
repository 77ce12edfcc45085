"""Precision of redaction: clean sentences with capitalised product, brand and feature names (en, it,
fr, ro) get at most 3 placeholder tags in all, with NER on and off."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from pii_clean_sentences import CLEAN_SENTENCES

from feedback_miner.config import PrepareConfig
from feedback_miner.prepare import prepare_statements


def _tags(ner: bool) -> list[tuple[str, str]]:
    n = len(CLEAN_SENTENCES)
    docs = pd.DataFrame({"doc_id": [f"survey:{i}" for i in range(n)], "source": "survey",
                         "customer_id": [f"C{i}" for i in range(n)],
                         "created_at": pd.Timestamp("2026-01-01", tz="UTC"), "subject": None,
                         "text": CLEAN_SENTENCES, "attributes": "{}"})
    out = prepare_statements(docs, PrepareConfig(ner_names=ner)).documents["text"].tolist()
    return [(a, b) for a, b in zip(CLEAN_SENTENCES, out, strict=True) for _ in re.findall(r"<[A-Z_]+>", b)]


def test_clean_set_is_large_and_multilingual():
    assert len(CLEAN_SENTENCES) >= 60


def test_at_most_three_tags_without_ner():
    tags = _tags(ner=False)
    assert len(tags) <= 3, tags


@pytest.mark.slow
def test_at_most_three_tags_with_ner():
    tags = _tags(ner=True)
    assert len(tags) <= 3, tags

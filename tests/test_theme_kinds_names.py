"""Theme names in customers' words and statement kinds, on small hand-written statements (no model)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from feedback_miner.themes.kinds import statement_kinds, word_kind
from feedback_miner.themes.names import PhraseNamer, clauses, name_language


def _frame(texts: list[str], languages: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"statement_id": [f"s{i}" for i in range(len(texts))], "text": texts, "language": languages})


def test_kinds_of_generic_filler_and_other_language_statements():
    rows = [
        ("Great app, really love it!", "en", "generic_praise"),
        ("Very disappointed.", "en", "generic_complaint"),
        ("Je suis vraiment déçu", "fr", "generic_complaint"),
        ("ok, excelent, bun", "ro", "generic_praise"),
        ("Servizio pessimo", "it", "generic_complaint"),
        ("Thank you for your help", "en", "filler"),
        ("wow", "und", "filler"),
        ("👍👍", "und", "filler"),
        ("Bonjour", "fr", "filler"),
        ("በጣም ጥሩ ነው blah", "und", "other_language"),
        ("Die App stürzt ständig ab, wenn ich Geld überweise", "de", "other_language"),
        ("I was charged twice for one payment", "en", "topic"),
        ("Great app but the card never arrived", "en", "topic"),
        ("La carte est bloquée depuis une semaine", "fr", "topic"),
    ]
    kinds = statement_kinds(_frame([r[0] for r in rows], [r[1] for r in rows]), languages=["en", "it", "fr", "ro"])
    assert list(kinds) == [r[2] for r in rows]
    # Without configured languages every language is read: the German statement is a topic.
    assert statement_kinds(_frame([rows[10][0]], ["de"]))[0] == "topic"


def test_sentiment_label_settles_an_evaluation_without_polarity_words():
    st = _frame(["Ok app", "Ok app"], ["en", "en"]).assign(sentiment_label=["positive", "negative"])
    assert word_kind("Ok app", "en") == ("generic_praise", 1)
    assert list(statement_kinds(st)) == ["generic_praise", "generic_praise"]  # 'ok' is positive by itself
    st = _frame(["good but bad", "good but bad"], ["en", "en"]).assign(sentiment_label=["positive", "negative"])
    assert list(statement_kinds(st)) == ["generic_praise", "generic_complaint"]


def test_names_are_phrases_customers_wrote():
    texts = [
        "I was charged twice for one payment", "They charged twice for my subscription!",
        "you charged twice, refund me", "Charged twice again this month",
        "When will my card arrive?", "My new card has not arrived yet", "still waiting for my card to arrive",
        "card arrive date? <PERSON> said soon", "Hello, my new card arrive when",
    ]  # fmt: skip
    keys = ["billing"] * 4 + ["card"] * 5
    namer = PhraseNamer().fit(texts, keys, np.ones(len(texts)), "en")
    assert namer.names_ == {"billing": "charged twice", "card": "card arrive"}
    for key, name in namer.names_.items():
        written = {w.lower() for t, k in zip(texts, keys, strict=True) if k == key for c in clauses(t) for w in c}
        assert set(name.lower().split()) <= written
        assert "PERSON" not in name
    # a name already taken (e.g. by the parent theme) is not repeated
    again = PhraseNamer().fit(texts, keys, np.ones(len(texts)), "en", taken=["Charged twice"])
    assert again.names_["billing"].lower() != "charged twice"


def test_name_language_prefers_the_report_language_where_the_theme_has_it():
    assert name_language({"it": 50, "en": 10}, "en") == "en"
    assert name_language({"it": 50, "en": 1}, "en") == "it"
    assert name_language({"ro": 5, "it": 5}, "en") == "it"

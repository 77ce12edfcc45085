"""Planted effects through the whole job: real banking77 texts, synthetic customers, known effects.

Customers who wrote about three chosen intents churn 2.5x as often as everyone else; answers about
two other intents come with low NPS scores. The job never sees the intents: it must find the themes
itself, rank the planted ones first and estimate the planted risk ratio within its CI.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml

from feedback_miner.config import load_config
from feedback_miner.pipeline import run_job

pytestmark = pytest.mark.slow

# Planted effects sit on intents the themes stage recovers cleanly (its own quality is measured by
# benchmarks/themes.py); the neutral intents may merge or split as they like.
INTENTS = [
    "apple_pay_or_google_pay", "age_limit", "verify_my_identity",  # churn drivers
    "top_up_failed", "edit_personal_details",                      # low NPS
    "card_arrival", "pin_blocked", "terminate_account", "visa_or_mastercard",
    "transfer_timing", "exchange_rate", "Refund_not_showing_up",
]
CHURN = INTENTS[:3]
LOW_SCORE = INTENTS[3:5]
PER_INTENT = 100
SILENT = 200  # customers whose only answer is a non-answer ("n/a"): they mention no theme
BASE = 0.10
# Each customer writes about one intent. For a risk ratio of 2.5 against all other customers (who
# include the other two churn-driver intents and the silent ones): p = 2.5 * mean risk of the others.
K = len(INTENTS)
P_CHURN = 2.5 * BASE * ((K - 3) * PER_INTENT + SILENT) / ((K - 1) * PER_INTENT + SILENT - 5 * PER_INTENT)


@pytest.fixture(scope="module")
def planted_run(shared_data, tmp_path_factory):
    """Run the whole job on the planted data; returns (pain points with majority intent, design RR)."""
    rng = np.random.default_rng(3)
    train = pd.read_csv(shared_data / "banking77" / "train.csv").drop_duplicates("text")
    parts = [train.loc[train["category"] == i, ["text"]].sample(PER_INTENT, random_state=1).assign(intent=i)
             for i in INTENTS]
    silent = pd.DataFrame({"text": rng.choice(["n/a", "nothing", "-", "no comment", "none"], SILENT),
                           "intent": None})
    docs = pd.concat([*parts, silent], ignore_index=True).sample(frac=1.0, random_state=2).reset_index(drop=True)
    docs = docs.rename(columns={"text": "comment"})
    n = len(docs)
    docs["customer_id"] = [f"C{i:05d}" for i in range(n)]
    docs["response_id"] = [f"R{i:05d}" for i in range(n)]
    docs["submitted_at"] = pd.date_range("2026-08-01", periods=n, freq="97min", tz="UTC").strftime("%Y-%m-%dT%H:%M:%SZ")
    low = docs["intent"].isin(LOW_SCORE).to_numpy()
    detractor = rng.random(n) < np.where(low, 0.85, 0.2)
    docs["score"] = np.where(detractor, rng.integers(0, 7, n), rng.integers(7, 11, n))
    p = np.where(docs["intent"].isin(CHURN), P_CHURN, BASE)
    churned = rng.random(n) < p
    design_rr = {i: p[docs["intent"] == i].mean() / p[docs["intent"] != i].mean() for i in INTENTS}
    folder = tmp_path_factory.mktemp("planted")
    docs[["response_id", "customer_id", "submitted_at", "score", "comment"]].to_csv(folder / "surveys.csv", index=False)
    pd.DataFrame({"customer_id": docs["customer_id"], "churned": churned,
                  "segment": rng.choice(["smb", "mid"], n)}).to_csv(folder / "customers.csv", index=False)
    cfg_path = folder / "config.yaml"
    cfg_path.write_text(yaml.safe_dump({
        "run": {"output_dir": "out"},
        "sources": {"surveys": {"path": "surveys.csv", "score_scale": "nps"},
                    "customers": {"path": "customers.csv"}},
        "outcomes": {"min_customers": 20},
    }))
    result = run_job(load_config(cfg_path))
    statements = pd.read_parquet(result.run_dir / "statements.parquet")
    statements["intent"] = statements["doc_id"].str.removeprefix("survey:").map(
        docs.set_index("response_id")["intent"])
    majority = (statements.dropna(subset=["theme_id"]).groupby("theme_id")["intent"]
                .agg(lambda s: s.value_counts().index[0]))
    pains = pd.read_csv(result.run_dir / "pain_points.csv")
    pains["intent"] = pains["theme_id"].map(majority)
    return pains, design_rr


def test_planted_themes_rank_first(planted_run):
    pains, _ = planted_run
    ranked = pains.dropna(subset=["rank"]).sort_values("rank")
    top = ranked.head(len(CHURN) + len(LOW_SCORE))
    assert set(top["intent"]) == set(CHURN + LOW_SCORE), ranked[["rank", "label", "intent", "churn_rr"]]


def test_planted_churn_ratio_within_confidence_interval(planted_run):
    pains, design_rr = planted_run
    for intent in CHURN:
        row = pains[pains["intent"] == intent].sort_values("n_customers").iloc[-1]
        truth = design_rr[intent]
        assert row["churn_rr_low"] <= truth <= row["churn_rr_high"], (intent, truth, row[
            ["churn_rr", "churn_rr_low", "churn_rr_high"]].to_dict())
        assert row["churn_q"] < 0.05


def test_low_score_themes_flagged_and_others_not(planted_run):
    pains, _ = planted_run
    for intent in LOW_SCORE:
        row = pains[pains["intent"] == intent].sort_values("n_customers").iloc[-1]
        assert row["low_csat_rr_low"] > 1 and row["low_csat_q"] < 0.05
    neutral = pains[~pains["intent"].isin(CHURN + LOW_SCORE)]
    # No unplanted theme may look like a churn driver at q < 0.05 with its CI above 1.
    assert not ((neutral["churn_q"] < 0.05) & (neutral["churn_rr_low"] > 1)).any(), neutral

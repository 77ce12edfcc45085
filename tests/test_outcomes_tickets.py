"""Ticket metrics and pain-point selection on planted effects: banking77 texts as support tickets.

The gold intent stands in for the theme (the statistics are measured, not the clustering). Planted:
one intent takes 3x as long to resolve, one comes in pairs of tickets from one customer within a
week, one drives churn, one low CSAT, and one is *protective* (happier, faster, less churn). Texts
come from ../shared/data/banking77 when present, else from the bundled subset in data/sample.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from feedback_miner.config import OutcomesConfig
from feedback_miner.outcomes import link_outcomes
from feedback_miner.outcomes.stats import bootstrap_medians, median_ratio

SLOW, REPEAT, CHURN, LOW, PROTECTIVE = (
    "card_arrival", "failed_transfer", "transaction_charged_twice", "extra_charge_on_statement", "transfer_fee_charged"
)
SIBLING = "card_delivery_estimate"  # shares the broad theme "cards" with SLOW, no effect of its own
INTENTS = [SLOW, SIBLING, REPEAT, CHURN, LOW, PROTECTIVE, "Refund_not_showing_up", "declined_transfer",
           "pending_transfer", "card_payment_fee_charged", "transfer_not_received_by_recipient"]
PER_INTENT = 160
N_CUSTOMERS = 2500
T0 = pd.Timestamp("2026-01-01", tz="UTC")


@pytest.fixture(scope="module")
def texts(root) -> pd.DataFrame:
    shared = root.parent / "shared" / "data" / "banking77" / "train.csv"
    path = shared if shared.exists() else root / "data" / "sample" / "third_party" / "banking77_subset.csv"
    return pd.read_csv(path)[["text", "category"]]


def simulate(texts: pd.DataFrame, seed: int = 0):
    """Tickets with planted effects; returns statements, documents, customers, themes."""
    rng = np.random.default_rng(seed)
    rows = []
    for intent in INTENTS:
        pool = texts.loc[texts["category"] == intent, "text"].to_numpy()
        picked = rng.choice(pool, PER_INTENT, replace=len(pool) < PER_INTENT)
        if intent == REPEAT:  # pairs: one customer, the second ticket 1-6 days after the first
            owners = np.repeat(rng.integers(0, N_CUSTOMERS, PER_INTENT // 2), 2)
            first = rng.uniform(0, 170, PER_INTENT // 2)
            days = np.ravel(np.column_stack([first, first + rng.uniform(1, 6, PER_INTENT // 2)]))
        else:
            owners, days = rng.integers(0, N_CUSTOMERS, PER_INTENT), rng.uniform(0, 180, PER_INTENT)
        rows.append(pd.DataFrame({"text": picked, "intent": intent, "owner": owners, "day": days}))
    t = pd.concat(rows, ignore_index=True)
    n = len(t)
    hours = rng.lognormal(np.log(20), 0.8, n) * np.where(t["intent"] == SLOW, 3.0, 1.0)
    hours *= np.where(t["intent"] == PROTECTIVE, 0.5, 1.0)
    created = T0 + pd.to_timedelta(t["day"], unit="D")
    resolved = (created + pd.to_timedelta(hours, unit="h")).where(rng.random(n) > 0.1)  # 10% still open
    p_low = np.select([t["intent"] == LOW, t["intent"] == PROTECTIVE], [0.55, 0.03], 0.2)
    csat = np.where(rng.random(n) < p_low, rng.integers(1, 3, n), rng.integers(3, 6, n)).astype(float)
    reopened = rng.random(n) < np.where(t["intent"] == SLOW, 0.3, 0.05)
    doc_ids = [f"ticket:{i}" for i in range(n)]
    cust = np.array([f"C{i:05d}" for i in range(N_CUSTOMERS)])[t["owner"]]
    sentiment = np.select([t["intent"] == PROTECTIVE, t["intent"].isin([SLOW, REPEAT, CHURN, LOW])], [0.5, -0.6], -0.1)
    sentiment = np.clip(sentiment + rng.normal(0, 0.25, n), -1, 1)
    broad = np.where(t["intent"].isin([SLOW, SIBLING]), "cards", t["intent"])
    statements = pd.DataFrame({
        "statement_id": [f"{d}#1" for d in doc_ids], "doc_id": doc_ids, "source": "ticket", "customer_id": cust,
        "created_at": created, "text": t["text"], "language": "en", "theme_id": broad,
        "subtheme_id": np.where(broad == "cards", t["intent"], None), "sentiment": sentiment,
        "sentiment_label": np.select([sentiment < -0.3, sentiment > 0.3], ["negative", "positive"], "neutral"),
        "similarity": rng.uniform(0.7, 0.95, n),
    })
    documents = pd.DataFrame({
        "doc_id": doc_ids, "source": "ticket", "customer_id": cust, "created_at": created, "resolved_at": resolved,
        "score": np.where(resolved.notna(), csat, np.nan), "score_scale": np.where(resolved.notna(), "csat", None),
        "attributes": [json.dumps({"status": "reopened" if r else "closed"}) for r in reopened],
    })
    themes_of = statements.groupby("customer_id")["theme_id"].agg(set)
    p_churn = pd.Series(0.12, index=cust).groupby(level=0).first()
    p_churn[themes_of.index[themes_of.map(lambda s: CHURN in s)]] = 0.30
    p_churn[themes_of.index[themes_of.map(lambda s: PROTECTIVE in s and CHURN not in s)]] = 0.04
    customers = pd.DataFrame({"customer_id": p_churn.index, "churned": rng.random(len(p_churn)) < p_churn.to_numpy()})
    ids = sorted(set(broad))
    themes = pd.DataFrame({"theme_id": ids + [SLOW, SIBLING], "parent_id": [None] * len(ids) + ["cards", "cards"],
                           "label": [i.replace("_", " ") for i in ids] + ["card arrival", "delivery estimate"]})
    return statements, documents, customers, themes


@pytest.fixture(scope="module")
def result(texts):
    st, docs, cust, themes = simulate(texts)
    return link_outcomes(st, docs, cust, themes, OutcomesConfig(min_customers=20)), st


def test_slow_to_resolve_and_repeat_contact_recovered(result):
    res, _ = result
    ts = res.theme_stats.set_index("theme_id")
    slow = ts.loc[SLOW]
    assert slow["ttr_ratio"] > 1.5 and slow["ttr_ratio_low"] > 1, slow[["ttr_ratio", "ttr_ratio_low"]]
    assert slow["ttr_ratio_low"] <= 3.0 <= slow["ttr_ratio_high"]
    assert 40 < slow["ttr_median_hours"] < 90  # 3 x 20 h
    assert slow["reopened_rr_low"] > 1  # 30% reopened against 5%
    rep = ts.loc[REPEAT]
    assert rep["repeat_contact_rate"] > 0.9 and rep["repeat_contact_rr_low"] > 1, rep.filter(like="repeat")
    # Neither shows the other's effect.
    assert ts.loc[REPEAT, "ttr_ratio_low"] < 1 < ts.loc[REPEAT, "ttr_ratio_high"]
    assert ts.loc[SLOW, "repeat_contact_rr_low"] < 1


def test_planted_themes_rank_first_at_the_level_that_carries_them(result):
    res, _ = result
    pp = res.pain_points.dropna(subset=["rank"]).set_index("theme_id")
    assert set(pp.index[:4]) == {SLOW, REPEAT, CHURN, LOW}, pp[["rank", "evidence_basis", "priority_score"]]
    assert "time to resolution" in pp.loc[SLOW, "evidence_basis"]
    assert "repeat contact" in pp.loc[REPEAT, "evidence_basis"]
    assert "churn" in pp.loc[CHURN, "evidence_basis"] and "low scores" in pp.loc[LOW, "evidence_basis"]
    # The slow sub-theme replaces its broad theme "cards", which is not listed itself.
    assert pp.loc[SLOW, "level"] == "sub-theme" and pp.loc[SLOW, "replaces"] == "cards"
    assert "cards" not in pp.index and SIBLING not in pp.index


def test_protective_theme_is_valued_never_a_pain_point(result):
    res, _ = result
    pp = res.pain_points.dropna(subset=["rank"])
    assert PROTECTIVE not in set(pp["theme_id"])
    # No pain point goes with less churn and fewer low scores (both intervals below 1). (A theme whose
    # pain is waiting may have both point estimates below 1: its comparison group holds the others' pain.)
    assert not ((pp["churn_rr_high"] < 1) & (pp["low_csat_rr_high"] < 1)).any()
    values = res.values.set_index("theme_id")
    assert PROTECTIVE in values.index and "fewer low scores" in values.loc[PROTECTIVE, "protective_basis"]
    assert all(q["statement_id"] for q in values.loc[PROTECTIVE, "quotes"])


def test_pain_quotes_are_negative_varied_and_carry_ids(result):
    res, st = result
    label = st.set_index("statement_id")["sentiment_label"]
    pp = res.pain_points.dropna(subset=["rank"])
    for quotes in pp["quotes"]:
        assert 1 <= len(quotes) <= 3
        assert all({"statement_id", "text", "language"} <= set(q) for q in quotes)
        assert all(label[q["statement_id"]] != "positive" for q in quotes)
        owners = st.set_index("statement_id").loc[[q["statement_id"] for q in quotes], "customer_id"]
        assert owners.is_unique


def test_exact_bootstrap_median_matches_resampling():
    rng = np.random.default_rng(0)
    x = rng.lognormal(0, 1, 51)
    exact = bootstrap_medians(x, 20000, rng)
    brute = np.median(rng.choice(x, (20000, len(x))), axis=1)
    assert np.allclose(np.quantile(exact, [0.025, 0.5, 0.975]), np.quantile(brute, [0.025, 0.5, 0.975]), rtol=0.05)
    res = median_ratio(np.concatenate([x * 3, x]), [np.arange(51)], seed=0).iloc[0]
    assert res["ratio"] == pytest.approx(3.0) and res["ratio_low"] < 3 < res["ratio_high"] and res["p"] < 0.001


def test_ticket_documents_carry_resolved_at(root):
    from feedback_miner.config import load_config
    from feedback_miner.ingest import ingest

    docs = ingest(load_config(root / "configs" / "demo.yaml")).documents
    tickets = docs[docs["source"] == "ticket"]
    # The sample's open tickets have no resolved_at; the others do, after their creation.
    assert 0.5 < tickets["resolved_at"].notna().mean() < 1
    done = tickets.dropna(subset=["resolved_at"])
    assert (done["resolved_at"] >= done["created_at"]).all()
    assert docs.loc[docs["source"] == "survey", "resolved_at"].isna().all()

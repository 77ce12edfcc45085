"""Outcomes stage on planted effects: real banking77 texts, synthetic customers, known truth.

banking77 (PolyAI, CC BY 4.0) is read from ../shared/data; its gold intent stands in for the
theme so these tests measure the statistics, not the clustering.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest

from feedback_miner.config import OutcomesConfig
from feedback_miner.outcomes import EXTRA_COLUMNS, PAIN_POINT_COLUMNS, link_outcomes

N_CUSTOMERS = 3000
BASE_CHURN = 0.10
PLANTED_RR = 2.5
CHURN_THEMES = ("card_arrival", "exchange_rate", "transfer_timing")
CSAT_THEMES = ("pending_top_up", "declined_card_payment")
# CSAT 1..5 probabilities: P(score <= 2) is 0.13 normally, 0.40 for the planted themes.
CSAT_NORMAL = np.array([0.05, 0.08, 0.17, 0.35, 0.35])
CSAT_PLANTED = np.array([0.20, 0.20, 0.25, 0.20, 0.15])
T0 = pd.Timestamp("2025-01-01", tz="UTC")


@pytest.fixture(scope="module")
def banking(shared_data) -> pd.DataFrame:
    return pd.read_csv(shared_data / "banking77" / "train.csv")


@dataclass
class Sim:
    statements: pd.DataFrame
    documents: pd.DataFrame
    customers: pd.DataFrame
    themes: pd.DataFrame


def _calibrated_rates(mentions: pd.DataFrame, base: np.ndarray, planted: tuple[str, ...], rr: float) -> np.ndarray:
    """Per-customer churn probability giving each planted theme a *marginal* risk ratio of ``rr``.

    The comparison group of theme A also holds mentioners of the other planted themes, so plain
    "rate x rr" would give a marginal RR below ``rr``; a few fixed-point steps fix the multipliers.
    """
    mult = dict.fromkeys(planted, rr)
    for _ in range(30):
        m = np.ones(len(mentions))
        for t in planted:
            m = np.where(mentions[t], np.maximum(m, mult[t]), m)
        p = base * m
        for t in planted:
            marginal = p[mentions[t]].mean() / p[~mentions[t]].mean()
            mult[t] *= rr / marginal
    return p


def simulate(
    texts: pd.DataFrame,
    seed: int,
    churn_themes: tuple[str, ...] = CHURN_THEMES,
    csat_themes: tuple[str, ...] = CSAT_THEMES,
    confounded: str | None = None,
) -> Sim:
    """Give every banking77 text to a synthetic customer; plant churn and CSAT effects.

    One text = one survey response = one statement, themed by its gold intent. With
    ``confounded``, 20% of customers are "enterprise" (churn 35% vs 8%) and the confounded
    intent's texts go to them 85% of the time; it has no effect of its own.
    """
    rng = np.random.default_rng(seed)
    n = len(texts)
    seg = np.where(rng.random(N_CUSTOMERS) < 0.2, "enterprise", "smb")
    owner = rng.integers(0, N_CUSTOMERS, n)
    if confounded is not None:
        ent, smb = np.flatnonzero(seg == "enterprise"), np.flatnonzero(seg == "smb")
        rows = np.flatnonzero(texts["category"].to_numpy() == confounded)
        to_ent = rng.random(len(rows)) < 0.85
        owner[rows] = np.where(to_ent, rng.choice(ent, len(rows)), rng.choice(smb, len(rows)))
    cust_ids = np.array([f"C{i:05d}" for i in range(N_CUSTOMERS)])
    doc_ids = np.array([f"survey:{i}" for i in range(n)])
    created = T0 + pd.to_timedelta(rng.uniform(0, 180, n), unit="D")
    theme = texts["category"].to_numpy()

    mentions = pd.crosstab(owner, theme).reindex(range(N_CUSTOMERS), fill_value=0) > 0
    if confounded is not None:
        base = np.where(seg == "enterprise", 0.35, 0.08)
        m = np.ones(N_CUSTOMERS)
        for t in churn_themes:  # conditional effect within segment
            m = np.where(mentions[t], PLANTED_RR, m)
        p_churn = np.clip(base * m, 0, 1)
    else:
        base = np.full(N_CUSTOMERS, BASE_CHURN)
        p_churn = _calibrated_rates(mentions, base, churn_themes, PLANTED_RR) if churn_themes else base
    churned = rng.random(N_CUSTOMERS) < p_churn

    planted_csat = np.isin(theme, csat_themes)
    score = np.where(planted_csat, rng.choice(5, n, p=CSAT_PLANTED) + 1, rng.choice(5, n, p=CSAT_NORMAL) + 1).astype(
        float
    )
    statements = pd.DataFrame(
        {
            "statement_id": [f"{d}#0" for d in doc_ids],
            "doc_id": doc_ids,
            "customer_id": cust_ids[owner],
            "created_at": created,
            "text": texts["text"].to_numpy(),
            "theme_id": theme,
            "subtheme_id": None,
            "sentiment": np.nan,
            "sentiment_label": None,
        }
    )
    documents = pd.DataFrame(
        {
            "doc_id": doc_ids,
            "source": "survey",
            "customer_id": cust_ids[owner],
            "created_at": created,
            "score": score,
            "score_scale": "csat",
        }
    )
    revenue = np.where(seg == "enterprise", rng.lognormal(10, 0.5, N_CUSTOMERS), rng.lognormal(7, 0.5, N_CUSTOMERS))
    customers = pd.DataFrame(
        {
            "customer_id": cust_ids,
            "churned": churned,
            "segment": seg,
            "revenue": revenue,
            "tenure_days": rng.integers(30, 2000, N_CUSTOMERS).astype(float),
        }
    )
    counts = statements.groupby("theme_id")["customer_id"].nunique()
    themes = pd.DataFrame(
        {
            "theme_id": counts.index,
            "parent_id": None,
            "label": counts.index.str.replace("_", " "),
            "n_customers": counts.to_numpy(),
        }
    )
    return Sim(statements, documents, customers, themes)


def run(sim: Sim, **cfg) -> object:
    return link_outcomes(sim.statements, sim.documents, sim.customers, sim.themes, OutcomesConfig(**cfg))

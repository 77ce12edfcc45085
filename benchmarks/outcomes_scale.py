"""How long the outcomes stage takes as customers and themes grow.

Synthetic customers (no texts needed: the stage only sees theme ids), Zipf-distributed theme
frequencies, segment/plan/revenue/tenure controls, 12% churn, CSAT on every response. Prints
seconds per configuration and ratios against the stage without customers (2x2 low-CSAT
statistics only), measured in the same run:

    python benchmarks/outcomes_scale.py --customers 20000 --themes 150
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from feedback_miner.config import OutcomesConfig
from feedback_miner.outcomes import link_outcomes
from feedback_miner.outcomes.model import control_matrix, fit_adjusted
from feedback_miner.outcomes.tables import indicator_matrix, mention_pairs, respondent_id


def synthetic(n_customers: int, n_themes: int, seed: int = 0) -> tuple[pd.DataFrame, ...]:
    rng = np.random.default_rng(seed)
    per_customer = rng.integers(1, 6, n_customers)
    owner = np.repeat(np.arange(n_customers), per_customer)
    n = len(owner)
    weights = 1 / np.arange(1, n_themes + 1)
    theme = rng.choice(n_themes, n, p=weights / weights.sum())
    cust = np.array([f"C{i}" for i in range(n_customers)])
    ids = np.array([f"T{i:04d}" for i in range(n_themes)])
    docs = np.array([f"survey:{i}" for i in range(n)])
    created = pd.Timestamp("2025-01-01", tz="UTC") + pd.to_timedelta(rng.uniform(0, 180, n), unit="D")
    statements = pd.DataFrame(
        {
            "statement_id": docs,
            "doc_id": docs,
            "customer_id": cust[owner],
            "created_at": created,
            "theme_id": ids[theme],
            "subtheme_id": None,
            "sentiment": rng.uniform(-1, 1, n),
        }
    )
    documents = pd.DataFrame(
        {
            "doc_id": docs,
            "customer_id": cust[owner],
            "created_at": created,
            "score": rng.integers(1, 6, n).astype(float),
            "score_scale": "csat",
        }
    )
    customers = pd.DataFrame(
        {
            "customer_id": cust,
            "churned": rng.random(n_customers) < 0.12,
            "segment": rng.choice(["smb", "mid", "enterprise"], n_customers),
            "plan": rng.choice(["free", "pro", "team", "business"], n_customers),
            "revenue": rng.lognormal(8, 1, n_customers),
            "tenure_days": rng.integers(1, 3000, n_customers),
        }
    )
    themes = pd.DataFrame({"theme_id": ids, "parent_id": None, "label": ids})
    return statements, documents, customers, themes


def timed(fn) -> tuple[float, object]:
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--customers", type=int, default=20000)
    ap.add_argument("--themes", type=int, default=150)
    ap.add_argument("--bootstrap", type=int, default=10, help="resamples in the forced-fallback run")
    args = ap.parse_args()
    st, docs, cust, themes = synthetic(args.customers, args.themes)
    print(f"{args.customers} customers, {len(st)} statements, {args.themes} themes")
    cfg = OutcomesConfig()
    base, _ = timed(lambda: link_outcomes(st, docs, None, themes, cfg))
    full, res = timed(lambda: link_outcomes(st, docs, cust, themes, cfg))
    print(f"no customers (low-CSAT 2x2 only): {base:.2f} s")
    print(f"with churn + adjusted logit:       {full:.2f} s  ({full / base:.1f}x)  {res.notes[-1]}")
    # The penalized fallback: add a theme whose 50 mentioners all churned (quasi-separation).
    churned = cust["churned"].to_numpy()
    pairs = mention_pairs(st, respondent_id(st), set(themes["theme_id"]))
    cids = pd.Index(cust["customer_id"].astype(str))
    X = indicator_matrix(pairs, cids, list(themes["theme_id"]))
    X["separated"] = 0.0
    X.iloc[np.flatnonzero(churned)[:50], -1] = 1.0
    Xc, used, _ = control_matrix(cust, None, 10)
    Xc.index = cids
    y = churned.astype(float)
    mle, _ = timed(lambda: fit_adjusted(y, X.drop(columns="separated"), Xc, used, bootstrap=0))
    fb, res = timed(lambda: fit_adjusted(y, X, Xc, used, bootstrap=args.bootstrap))
    per = (fb - mle) / max(args.bootstrap, 1)
    print(f"adjusted model alone (MLE):         {mle:.2f} s")
    print(
        f"fallback ({res.method}, {args.bootstrap} resamples): {fb:.2f} s; ~{per:.2f} s per resample, "
        f"so the default {OutcomesConfig().bootstrap} costs ~{OutcomesConfig().bootstrap * per:.0f} s"
    )


if __name__ == "__main__":
    main()

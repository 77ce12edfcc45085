"""Theme x customer attribute heat maps: who mentions a theme, and how often they churned.

For each customer attribute (``segment``, ``plan``...) and each of the largest themes, a cell holds
the share of that attribute value's customers (with feedback in the window) who mention the theme,
and the churn rate among them. Both are whole-run figures (customers are not additive, so the
page's filters do not recompute them). A churn rate on fewer than ``min_customers`` customers is
not shown: it would be noise.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from feedback_miner.report import charts
from feedback_miner.report.explore import UNKNOWN


def _share_colour(share: float, overall: float) -> str:
    """White at or below the theme's share among all customers, darker blue the more a group
    over-indexes (saturating at twice the overall share)."""
    t = 0.0 if overall <= 0 else max(0.0, min(1.0, share / overall - 1.0))
    lo, hi = (255, 255, 255), (33, 102, 172)
    r, g, b = (round(lo[k] + (hi[k] - lo[k]) * t) for k in range(3))
    return f"#{r:02x}{g:02x}{b:02x}"


def _churn_colour(rate: float, base: float) -> str:
    """Red above the attribute value's own churn rate, blue below (diverging around it)."""
    return charts.sentiment_colour(-(rate - base) * 2.0)


def _cell(n: int, churned: float | None, n_value: int, base: float | None, overall: float, min_customers: int) -> dict:
    share = n / n_value if n_value else 0.0
    fill = _share_colour(share, overall)
    cell: dict[str, Any] = {"n": n, "share": share, "share_fill": fill, "share_ink": charts.text_colour(fill)}
    if churned is not None and n >= min_customers and base is not None:
        rate = churned / n
        cfill = _churn_colour(rate, base)
        cell.update(churn=rate, churn_fill=cfill, churn_ink=charts.text_colour(cfill))
    return cell


def heat_maps(
    facts: pd.DataFrame,
    customers: pd.DataFrame | None,
    attributes: list[str],
    themes: list[tuple[str, str]],
    min_customers: int = 10,
) -> list[dict[str, Any]]:
    """One heat map per attribute: ``{name, values, baseline, rows: [{theme_id, label, cells}]}``.

    ``themes`` are ``(theme_id, label)`` of the rows, in order; ``baseline`` per value holds its
    customers with feedback and their churn rate.
    """
    if facts.empty or customers is None or customers.empty or not attributes:
        return []
    cust = customers.drop_duplicates("customer_id").set_index("customer_id")
    has_churn = "churned" in cust
    # Customer x theme pairs, each customer's attributes and churn beside.
    pairs = facts[["customer_id", "theme_id"]].dropna().drop_duplicates()
    pairs = pairs.join(cust[[*attributes, *(["churned"] if has_churn else [])]], on="customer_id")
    pairs["_churned"] = pairs["churned"].fillna(False).astype(bool) if has_churn else False
    people = pairs.drop_duplicates("customer_id")
    out = []
    for attr in attributes:
        key = pairs[attr].fillna(UNKNOWN).astype(str)
        per_value = people.assign(_v=people[attr].fillna(UNKNOWN).astype(str)).groupby("_v")["_churned"]
        n_value, churn_value = per_value.size(), per_value.mean()
        values = [v for v in n_value.sort_values(ascending=False).index if v != UNKNOWN]
        cells = pairs.assign(_v=key).groupby(["theme_id", "_v"])["_churned"].agg(["size", "sum"])
        rows = []
        for tid, label in themes:
            got = [(int(cells["size"].get((tid, v), 0)), float(cells["sum"].get((tid, v), 0))) for v in values]
            overall = sum(n for n, _ in got) / max(int(n_value[values].sum()), 1)  # the theme's share overall
            row_cells = [
                _cell(
                    n,
                    c if has_churn else None,
                    int(n_value[v]),
                    float(churn_value[v]) if has_churn else None,
                    overall,
                    min_customers,
                )
                for (n, c), v in zip(got, values, strict=True)
            ]
            rows.append({"theme_id": tid, "label": label, "cells": row_cells})
        baseline = [{"n": int(n_value[v]), "churn": float(churn_value[v]) if has_churn else None} for v in values]
        out.append({"name": attr, "columns": values, "baseline": baseline, "rows": rows})
    return out

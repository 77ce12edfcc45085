"""Ticket metrics per theme: time to resolution, repeat contact, reopened tickets.

A ticket *is about* a theme when any of its statements (subject or body) carries it, as broad
theme or sub-theme. Every metric compares a theme's tickets with the other tickets:

* **Time to resolution** (tickets with ``created_at`` and ``resolved_at``): hours, floored at one
  minute. ``ttr_median_hours`` of the theme's tickets; ``ttr_ratio`` = that median / the median of
  every other resolved ticket, with a percentile bootstrap interval (exact bootstrap
  distribution of each median, :func:`feedback_miner.outcomes.stats.median_ratio`); ``ttr_p``
  from the Mann-Whitney U test.
* **Repeat contact** (tickets with a customer): a customer *had to contact us again* about a
  theme when two of their tickets on it were opened at most ``repeat_window_days`` apart.
  ``repeat_contact_rate`` = share of the theme's customers who did; ``repeat_contact_rr`` = that
  rate / the same rate over the (customer, theme) pairs of the other themes of its level
  (broad themes or sub-themes), with the 2x2 statistics of :func:`~feedback_miner.outcomes.stats.risk_table`.
* **Reopened** (only when the tickets carry a ``reopened`` flag or a ``status`` column, read from
  the ticket's extra columns): share of the theme's tickets reopened, risk ratio against the
  other tickets.

q-values are Benjamini-Hochberg within broad themes and within sub-themes. A metric needs at
least ``min_customers`` tickets (or customers) on the theme.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from feedback_miner.config import OutcomesConfig
from feedback_miner.ids import among
from feedback_miner.outcomes.stats import bh_qvalues, median_ratio, risk_table
from feedback_miner.outcomes.tables import mention_pairs

#: Columns this module adds per theme.
TICKET_COLUMNS = [
    "n_tickets",
    "ttr_median_hours",
    "ttr_ratio",
    "ttr_ratio_low",
    "ttr_ratio_high",
    "ttr_p",
    "ttr_q",
    "repeat_contact_rate",
    "repeat_contact_baseline_rate",
    "repeat_contact_rr",
    "repeat_contact_rr_low",
    "repeat_contact_rr_high",
    "repeat_contact_p",
    "repeat_contact_q",
    "reopened_rate",
    "reopened_rr",
    "reopened_rr_low",
    "reopened_rr_high",
    "reopened_q",
    "ttr_excess",
    "repeat_contact_excess",
    "reopened_excess",
]
_TRUE = {"true", "1", "yes", "y", "t"}


def ticket_metrics(
    statements: pd.DataFrame,
    documents: pd.DataFrame | None,
    themes: pd.DataFrame,
    cfg: OutcomesConfig,
) -> tuple[dict[str, np.ndarray], dict[str, float], list[str]]:
    """Per-theme ticket columns (:data:`TICKET_COLUMNS`, in ``themes`` order), totals and notes.

    The ``*_excess`` columns are the theme's cases in excess of its comparison group (for time to
    resolution: resolved tickets x (1 - 1 / ttr_ratio), the share of their waiting that is extra);
    ``totals`` holds what they are shares of (``ttr``: resolved tickets; ``repeat_contact``: customers
    who contacted again, broad themes; ``reopened``: reopened tickets), for the priority score.

    ``themes``: ``theme_id, is_broad``. ``documents``: the run's documents; tickets are the rows
    with ``source == "ticket"``, ``resolved_at`` optional, extra columns in ``attributes`` (JSON).
    """
    n = len(themes)
    cols = {c: np.full(n, np.nan) for c in TICKET_COLUMNS}
    notes: list[str] = []
    totals: dict[str, float] = {}
    tickets = _tickets(statements, documents)
    if not len(tickets):
        notes.append("no support tickets: time to resolution and repeat contact not computed")
        return cols, totals, notes
    ids = themes["theme_id"].astype(str).tolist()
    is_broad = themes["is_broad"].to_numpy(bool)
    st = statements[among(statements["doc_id"], tickets.index)]
    pairs = mention_pairs(st, st["doc_id"].astype("string"), set(ids)).rename(columns={"unit": "doc_id"})
    members = _members(pairs, tickets.index, ids)
    cols["n_tickets"] = np.array([len(m) for m in members], float)

    if tickets["hours"].notna().any():
        cols.update(_resolution(tickets, members, is_broad, cfg))
        totals["ttr"] = float(tickets["hours"].notna().sum())
    else:
        notes.append("tickets carry no resolved_at: time to resolution not computed")
    if tickets["customer_id"].notna().any():
        rc, totals["repeat_contact"] = _repeat_contact(tickets, pairs, ids, is_broad, cfg)
        cols.update(rc)
    else:
        notes.append("tickets carry no customer_id: repeat contact not computed")
    if tickets["reopened"].notna().any():
        cols.update(_reopened(tickets, members, is_broad, cfg))
        totals["reopened"] = float(tickets["reopened"].sum())
    return cols, totals, notes


def _tickets(statements: pd.DataFrame, documents: pd.DataFrame | None) -> pd.DataFrame:
    """Tickets that entered the analysis, indexed by doc_id: ``customer_id, created_at, hours, reopened``."""
    if documents is None or not len(documents) or "source" not in documents:
        return pd.DataFrame(columns=["customer_id", "created_at", "hours", "reopened"])
    t = documents[(documents["source"] == "ticket").to_numpy() & among(documents["doc_id"], statements["doc_id"])]
    t = t.drop_duplicates("doc_id").set_index("doc_id")
    created = pd.to_datetime(t["created_at"], utc=True, errors="coerce")
    extra = t["attributes"].map(_json_object) if "attributes" in t else pd.Series([{}] * len(t), index=t.index)
    # Stores written before resolved_at became a column kept it among the extra columns.
    from_extra = pd.to_datetime(extra.map(lambda a: a.get("resolved_at")), utc=True, errors="coerce", format="mixed")
    resolved = from_extra
    if "resolved_at" in t:
        resolved = pd.to_datetime(t["resolved_at"], utc=True, errors="coerce").fillna(from_extra)
    hours = (resolved - created).dt.total_seconds() / 3600
    return pd.DataFrame(
        {
            "customer_id": t["customer_id"].astype("string") if "customer_id" in t else pd.NA,
            "created_at": created,
            # A resolution before the creation is a data error: left out, not counted as instant.
            "hours": hours.where(hours >= 0).clip(lower=1 / 60),
            "reopened": _reopened_flag(t, extra),
        },
        index=t.index,
    )


def _json_object(v: object) -> dict:
    if isinstance(v, dict):
        return v
    if not isinstance(v, str) or not v.startswith("{"):
        return {}
    try:
        out = json.loads(v)
    except ValueError:
        return {}
    return out if isinstance(out, dict) else {}


def _reopened_flag(t: pd.DataFrame, extra: pd.Series) -> pd.Series:
    """1.0 reopened, 0.0 not, NaN when the tickets say nothing (no ``reopened`` or ``status``).

    The first of ``reopened``, ``reopen_count``, ``reopens`` a ticket has (a column, else a key of
    its extra attributes) decides; else whether its ``status`` says "reopen". Column-wise: a
    Python function per ticket cost seconds over a window of tickets every night.
    """
    flag = pd.Series(np.nan, index=t.index, dtype=float)
    decided = pd.Series(False, index=t.index)
    attrs = pd.DataFrame.from_records(extra.tolist(), index=t.index) if len(t) else pd.DataFrame(index=t.index)

    def field(key: str) -> pd.Series:
        source = t if key in t else attrs
        return source[key].astype(object) if key in source else pd.Series(None, index=t.index, dtype=object)

    for key in ("reopened", "reopen_count", "reopens"):
        v = field(key)
        take = v.notna() & ~decided
        s = v[take].astype(str).str.strip().str.lower()
        count = s.str.replace(".", "", n=1, regex=False).str.isdigit() & (pd.to_numeric(s, errors="coerce") > 0)
        flag[take] = (s.isin(_TRUE) | count).astype(float)
        decided |= take
    status = field("status")
    take = status.notna() & ~decided
    flag[take] = status[take].astype(str).str.lower().str.contains("reopen", regex=False).astype(float)
    return flag


def _members(pairs: pd.DataFrame, tickets: pd.Index, ids: list[str]) -> list[np.ndarray]:
    """Positions (in ``tickets``) of each theme's tickets."""
    pos = tickets.get_indexer(pairs["doc_id"])
    grouped = pd.Series(pos).groupby(pairs["theme_id"].to_numpy()).agg(lambda s: np.sort(s.to_numpy()))
    empty = np.array([], dtype=np.int64)
    return [grouped.get(t, empty) for t in ids]


def _by_family(p: np.ndarray, is_broad: np.ndarray) -> np.ndarray:
    q = np.full(len(p), np.nan)
    for family in (is_broad, ~is_broad):
        q[family] = bh_qvalues(p[family])
    return q


def _resolution(
    tickets: pd.DataFrame, members: list[np.ndarray], is_broad: np.ndarray, cfg: OutcomesConfig
) -> dict[str, np.ndarray]:
    resolved = tickets["hours"].notna().to_numpy()
    # Re-index every theme's tickets into the resolved tickets only.
    new_pos = np.cumsum(resolved) - 1
    sub = [new_pos[m[resolved[m]]] for m in members]
    enough = np.array([len(m) >= cfg.min_customers for m in sub])
    hours = tickets["hours"].to_numpy(float)[resolved]
    res = median_ratio(hours, [m for m, ok in zip(sub, enough, strict=True) if ok], cfg.alpha, cfg.seed)
    out = {c: np.full(len(members), np.nan) for c in ("ttr_median_hours", "ttr_ratio", "ttr_ratio_low",
                                                      "ttr_ratio_high", "ttr_p")}
    for col, src in (("ttr_median_hours", "median_1"), ("ttr_ratio", "ratio"), ("ttr_ratio_low", "ratio_low"),
                     ("ttr_ratio_high", "ratio_high"), ("ttr_p", "p")):
        out[col][enough] = res[src].to_numpy()
    out["ttr_q"] = _by_family(out["ttr_p"], is_broad)
    n_resolved = np.array([len(m) for m in sub], float)
    out["ttr_excess"] = n_resolved * (1 - 1 / out["ttr_ratio"])
    return out


def _repeat_contact(
    tickets: pd.DataFrame, pairs: pd.DataFrame, ids: list[str], is_broad: np.ndarray, cfg: OutcomesConfig
) -> tuple[dict[str, np.ndarray], float]:
    """Per (customer, theme): did two tickets on the theme come within the window; then 2x2 per theme."""
    t = pairs.join(tickets[["customer_id", "created_at"]], on="doc_id").dropna(subset=["customer_id", "created_at"])
    t = t.sort_values(["theme_id", "customer_id", "created_at"], kind="stable")
    same = (t["theme_id"] == t["theme_id"].shift()) & (t["customer_id"] == t["customer_id"].shift())
    gap = t["created_at"] - t["created_at"].shift()
    t["again"] = same & (gap <= pd.Timedelta(days=cfg.repeat_window_days))
    per = t.groupby(["theme_id", "customer_id"])["again"].any().reset_index()
    agg = per.groupby("theme_id")["again"].agg(["size", "sum"]).reindex(ids).fillna(0)
    n1, a = agg["size"].to_numpy(float), agg["sum"].to_numpy(float)
    n0, c = np.zeros(len(ids)), np.zeros(len(ids))
    for family in (is_broad, ~is_broad):
        n0[family], c[family] = n1[family].sum() - n1[family], a[family].sum() - a[family]
    rt = risk_table(a, n1, c, n0, cfg.alpha)
    enough = n1 >= cfg.min_customers
    out = {
        "repeat_contact_rate": rt["rate"].to_numpy(),
        "repeat_contact_baseline_rate": rt["baseline_rate"].to_numpy(),
        "repeat_contact_rr": rt["rr"].to_numpy(),
        "repeat_contact_rr_low": rt["rr_low"].to_numpy(),
        "repeat_contact_rr_high": rt["rr_high"].to_numpy(),
        "repeat_contact_p": rt["p"].to_numpy(),
    }
    out = {k: np.where(enough, v, np.nan) for k, v in out.items()}
    out["repeat_contact_q"] = _by_family(out["repeat_contact_p"], is_broad)
    out["repeat_contact_excess"] = np.where(enough, rt["rd"].to_numpy() * n1, np.nan)
    return out, float(a[is_broad].sum())


def _reopened(
    tickets: pd.DataFrame, members: list[np.ndarray], is_broad: np.ndarray, cfg: OutcomesConfig
) -> dict[str, np.ndarray]:
    flag = tickets["reopened"].to_numpy(float)
    known = ~np.isnan(flag)
    n1 = np.array([known[m].sum() for m in members], float)
    a = np.array([np.nansum(flag[m]) for m in members], float)
    rt = risk_table(a, n1, np.nansum(flag) - a, known.sum() - n1, cfg.alpha)
    enough = n1 >= cfg.min_customers
    out = {
        "reopened_rate": rt["rate"].to_numpy(),
        "reopened_rr": rt["rr"].to_numpy(),
        "reopened_rr_low": rt["rr_low"].to_numpy(),
        "reopened_rr_high": rt["rr_high"].to_numpy(),
    }
    out = {k: np.where(enough, v, np.nan) for k, v in out.items()}
    out["reopened_excess"] = np.where(enough, rt["rd"].to_numpy() * n1, np.nan)
    out["reopened_q"] = _by_family(np.where(enough, rt["p"].to_numpy(), np.nan), is_broad)
    return out

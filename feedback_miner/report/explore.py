"""What the page's filters work on: one row of facts per statement, aggregated into a count cube.

The report must open fast at 100k documents, so it never embeds statements. It embeds:

- a **cube**: statement counts, sentiment sums and negative counts per combination of leaf
  (sub-theme, or the theme itself for statements in no sub-theme), language, source, score band,
  week and each customer attribute. Every filter of the page is a selection on these columns, so
  the page recomputes volumes, shares, sentiment and weekly trends exactly, by summing cells;
- a **sample of quotes** per leaf, stratified by language x source x polarity so that any filter
  still finds some (see :func:`sample_quotes`).

Statistics that need customers (customer counts, churn and CSAT ratios, the heat maps of
:mod:`feedback_miner.report.segments`) stay those of the whole run: they are not additive.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pandas as pd

from feedback_miner.report.data import OUTLIER_IDS

# NPS 0-10 and CSAT 1-5 bands (the two score scales of ingest), in the order the filter lists them.
SCORE_BANDS = {
    "detractor": "NPS detractor (0-6)",
    "passive": "NPS passive (7-8)",
    "promoter": "NPS promoter (9-10)",
    "csat-low": "CSAT 1-2",
    "csat-mid": "CSAT 3",
    "csat-high": "CSAT 4-5",
    "none": "No score",
}
SOURCE_LABELS = {"survey": "Survey answers", "ticket": "Support tickets"}
UNKNOWN = "(unknown)"
# Customer columns that are never a filter (ids, outcomes, numbers, dates).
_NOT_ATTRIBUTES = {"customer_id", "churned", "churned_at", "revenue", "signup_at", "tenure_days"}


@dataclass(frozen=True)
class Dimension:
    """One filter: ``name`` is the ``data-filter`` hook, ``attr`` the quotes' ``data-*`` attribute."""

    name: str
    attr: str
    label: str
    values: tuple[str, ...]
    labels: tuple[str, ...]


def score_band(score: pd.Series, scale: pd.Series) -> pd.Series:
    """Band of each score on its scale (``nps`` 0-10, ``csat`` 1-5); ``none`` when unscored."""
    s = pd.to_numeric(score, errors="coerce")
    nps = np.select([s <= 6, s <= 8], ["detractor", "passive"], "promoter")
    csat = np.select([s <= 2, s <= 3], ["csat-low", "csat-mid"], "csat-high")
    band = np.where(scale.astype(str).str.lower() == "csat", csat, nps)
    return pd.Series(np.where(s.isna(), "none", band), index=score.index)


def customer_attributes(customers: pd.DataFrame | None, max_values: int = 20, max_attributes: int = 4) -> list[str]:
    """Categorical customer columns worth a filter: text, 2 to ``max_values`` distinct values."""
    if customers is None or customers.empty or "customer_id" not in customers:
        return []
    out = []
    for col in customers.columns:
        if col in _NOT_ATTRIBUTES or pd.api.types.is_numeric_dtype(customers[col]):
            continue
        if pd.api.types.is_datetime64_any_dtype(customers[col]) or pd.api.types.is_bool_dtype(customers[col]):
            continue
        if 2 <= customers[col].nunique(dropna=True) <= max_values:
            out.append(str(col))
    return out[:max_attributes]


def customer_facts(customers: pd.DataFrame | None) -> pd.DataFrame:
    """What the report needs of the customers (``customer_id``, ``churned``, the attribute columns):
    the run folder keeps it as ``customers.parquet`` so that ``report --run`` rebuilds the same page."""
    if customers is None or customers.empty or "customer_id" not in customers:
        return pd.DataFrame(columns=["customer_id"])
    keep = ["customer_id", *(["churned"] if "churned" in customers else []), *customer_attributes(customers)]
    return customers[keep].reset_index(drop=True)


def statement_facts(
    statements: pd.DataFrame, documents: pd.DataFrame | None, customers: pd.DataFrame | None
) -> pd.DataFrame:
    """One row per themed statement: ``statement_id, leaf, theme_id, language, source, score, week,
    created_at, sentiment, sentiment_label, text, customer_id, similarity`` and each customer attribute.

    Statements in no theme at all (non-answers) are left out, as the themes' counts leave them out.
    """
    if statements is None or statements.empty or "theme_id" not in statements:
        return pd.DataFrame()
    st = statements[statements["theme_id"].notna()].copy()
    st["theme_id"] = st["theme_id"].astype(str)
    sub = st["subtheme_id"] if "subtheme_id" in st else pd.Series(None, index=st.index)
    st["leaf"] = sub.where(sub.notna(), st["theme_id"]).astype(str)
    st["language"] = st.get("language", pd.Series(UNKNOWN, index=st.index)).fillna("und").astype(str)
    st["source"] = st.get("source", pd.Series(UNKNOWN, index=st.index)).fillna(UNKNOWN).astype(str)
    st["created_at"] = pd.to_datetime(st.get("created_at"), errors="coerce", utc=True)
    st["week"] = st["created_at"].dt.tz_localize(None).dt.to_period("W-SUN").dt.start_time.dt.strftime("%Y-%m-%d")
    st["week"] = st["week"].fillna(UNKNOWN)
    st["score"] = "none"
    if documents is not None and len(documents) and {"doc_id", "score"} <= set(documents.columns):
        docs = documents.drop_duplicates("doc_id").set_index("doc_id")
        scale = docs["score_scale"] if "score_scale" in docs else pd.Series("nps", index=docs.index)
        bands = score_band(docs["score"], scale.fillna("nps"))
        st["score"] = st["doc_id"].map(bands).fillna("none")
    for col in customer_attributes(customers):
        values = customers.drop_duplicates("customer_id").set_index("customer_id")[col].astype(str)
        st[col] = st["customer_id"].map(values).fillna(UNKNOWN)
    st["sentiment"] = pd.to_numeric(st.get("sentiment"), errors="coerce")
    return st


def dimensions(facts: pd.DataFrame, customers: pd.DataFrame | None) -> list[Dimension]:
    """The filters a run supports, in page order; a dimension with one value is no filter."""
    dims = []
    spec = [("language", "lang", "Language"), ("source", "source", "Source"), ("score", "score", "Score")]
    spec += [(c, f"attr-{c}", c.replace("_", " ").capitalize()) for c in customer_attributes(customers)]
    for name, attr, label in spec:
        if name not in facts:
            continue
        counts = facts[name].value_counts()
        if name == "score":
            values = [b for b in SCORE_BANDS if b in counts.index]
            labels = [SCORE_BANDS[b] for b in values]
        else:
            values = [str(v) for v in counts.index]  # most frequent first
            labels = [SOURCE_LABELS.get(v, v) if name == "source" else v for v in values]
        if len(values) > 1:
            dims.append(Dimension(name, attr, label, tuple(values), tuple(labels)))
    return dims


def build_cube(facts: pd.DataFrame, dims: list[Dimension], leaves: list[str], weeks: list[str]) -> dict:
    """Columnar counts per cell: one code list per dimension plus ``n``, ``s`` (sentiment sum x 100,
    rounded) and ``neg`` (statements labelled negative); ``leaf`` and ``week`` run-length coded."""
    if facts.empty:
        return {"leaf": [], "week": [], "n": [], "s": [], "neg": [], **{d.name: [] for d in dims}}
    codes = pd.DataFrame(
        {
            "leaf": pd.Categorical(facts["leaf"], categories=leaves).codes,
            "week": pd.Categorical(facts["week"], categories=weeks).codes,
            **{d.name: pd.Categorical(facts[d.name], categories=d.values).codes for d in dims},
        }
    )
    codes["s"] = facts["sentiment"].fillna(0.0).to_numpy()
    codes["neg"] = (facts.get("sentiment_label", pd.Series("", index=facts.index)) == "negative").to_numpy()
    keys = ["leaf", "week", *[d.name for d in dims]]
    cube = codes.groupby(keys, sort=True).agg(n=("s", "size"), s=("s", "sum"), neg=("neg", "sum")).reset_index()
    out = {k: cube[k].astype(int).tolist() for k in keys}
    # The cells are sorted by leaf, then week: both columns are long runs, sent as [value, count] pairs.
    out["leaf"], out["week"] = run_lengths(cube["leaf"]), run_lengths(cube["week"])
    out["n"] = cube["n"].astype(int).tolist()
    out["s"] = np.rint(cube["s"].to_numpy() * 100).astype(int).tolist()
    out["neg"] = cube["neg"].astype(int).tolist()
    return out


def run_lengths(values: pd.Series) -> list[int]:
    """``[value, count, value, count, ...]`` of consecutive equal values."""
    v = values.to_numpy()
    if not len(v):
        return []
    starts = np.flatnonzero(np.r_[True, v[1:] != v[:-1]])
    counts = np.diff(np.r_[starts, len(v)])
    return np.column_stack([v[starts], counts]).astype(int).ravel().tolist()


def sample_quotes(facts: pd.DataFrame, per_group: int = 2, per_leaf: int = 40, seed: int = 0) -> pd.DataFrame:
    """Quotes per leaf, at most ``per_leaf``: the most central statements of each language x
    source x score band x sentiment group, the leaf's budget shared evenly over its groups (at
    least ``per_group`` each), so that a filter on any of them still shows some.

    Centrality is the themes stage's ``similarity`` to the centroid where present (random
    otherwise); duplicates, non-answers and very short or very long statements are skipped.
    """
    if facts.empty:
        return facts
    f = facts
    if "is_duplicate_of" in f:
        f = f[f["is_duplicate_of"].isna()]
    if "is_non_answer" in f:
        f = f[~f["is_non_answer"].fillna(False).astype(bool)]
    length = f["text"].fillna("").str.len()
    f = f[(length >= 12) & (length <= 400)]
    rank = f["similarity"] if "similarity" in f else pd.Series(np.random.default_rng(seed).random(len(f)), f.index)
    polarity = f["sentiment_label"].fillna("") if "sentiment_label" in f else ""
    f = f.assign(_rank=rank.fillna(-1.0), _pol=polarity).sort_values("_rank", ascending=False, kind="stable")
    groups = ["leaf", "language", "source", *(["score"] if "score" in f else []), "_pol"]
    # At most per_leaf candidates per group first (cheap), then each text once per leaf.
    f = f.groupby(groups, sort=False).head(per_leaf).drop_duplicates(["leaf", "text"])
    f = f.assign(_turn=f.groupby(groups, sort=False).cumcount())
    n_groups = f[f["_turn"] == 0].groupby("leaf").size()
    quota = np.maximum(per_group, np.ceil(per_leaf / f["leaf"].map(n_groups)))
    # Within a leaf, round-robin over the groups (best of each first) before cutting to per_leaf.
    picked = f[f["_turn"] < quota].sort_values(["_turn", "_rank"], ascending=[True, False], kind="stable")
    return picked.groupby("leaf", sort=False).head(per_leaf).drop(columns=["_rank", "_turn", "_pol"])


def change_since(facts: pd.DataFrame, days: int = 28) -> dict[str, tuple[int, int]]:
    """Per theme, statements in the last ``days`` days of the window and in the ``days`` before."""
    if facts.empty or facts["created_at"].isna().all():
        return {}
    end = facts["created_at"].max()
    if facts["created_at"].min() > end - pd.Timedelta(days=2 * days):
        return {}  # the window is too short to hold both periods
    recent = facts["created_at"] > end - pd.Timedelta(days=days)
    before = (facts["created_at"] <= end - pd.Timedelta(days=days)) & (
        facts["created_at"] > end - pd.Timedelta(days=2 * days)
    )
    a = facts[recent].groupby("theme_id").size()
    b = facts[before].groupby("theme_id").size()
    return {str(t): (int(a.get(t, 0)), int(b.get(t, 0))) for t in set(a.index) | set(b.index)}


def explore_payload(facts: pd.DataFrame, dims: list[Dimension], leaf_theme: dict[str, str]) -> dict:
    """The JSON the page's script reads: dimensions, weeks, leaves (with their theme) and the cube."""
    leaves = list(leaf_theme)
    weeks = sorted(w for w in facts["week"].unique() if w != UNKNOWN) if len(facts) else []
    if len(facts) and (facts["week"] == UNKNOWN).any():
        weeks.append(UNKNOWN)
    return {
        "dims": [{"name": d.name, "attr": d.attr, "values": list(d.values)} for d in dims],
        "weeks": weeks,
        "leaves": [[leaf, leaf_theme[leaf]] for leaf in leaves],
        "outliers": sorted(OUTLIER_IDS),
        "cube": build_cube(facts, dims, leaves, weeks),
    }


def script_json(payload: dict) -> str:
    """JSON safe inside ``<script type="application/json">``: no ``<``, ``>`` or ``&`` left raw."""
    s = json.dumps(payload, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return s.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")

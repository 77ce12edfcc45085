"""True quotes for a theme: representative statements of the right polarity, varied in language and customer.

A pain point is quoted only from its *negative* statements (sentiment label negative, or written
in a low-score response and not labelled positive); "what customers value" only from positive
ones (labelled positive, not in a low-score response). Among those, statements near the theme's
centre (``similarity``, the cosine to its centroid, from the themes stage) of a readable length
come first; the picks then go round the languages and never take two from one customer while
another is left.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from feedback_miner.ids import among

#: Readable quote lengths, in words: shorter or longer ones are used only when nothing else is left.
MIN_WORDS, MAX_WORDS = 4, 60
#: Candidates kept per theme before the diversity pass (the nearest to the centre).
_POOL = 60


def pick_quotes(
    statements: pd.DataFrame,
    low_docs: set[str],
    theme_ids: list[str],
    polarity: str,
    n: int,
) -> dict[str, list[dict]]:
    """Up to ``n`` quotes per theme id: ``{theme_id: [{statement_id, text, language}, ...]}``.

    ``polarity``: ``"negative"`` (pain points) or ``"positive"`` (what customers value).
    ``low_docs``: doc_ids of low-score responses. A statement quotes a theme when it carries it as
    broad theme or sub-theme; non-answers and duplicates are never quoted.
    """
    if n <= 0 or not theme_ids or not len(statements):
        return {}
    cand = _candidates(statements, low_docs, polarity)
    parts = [cand.assign(tid=cand[c].astype("string")) for c in ("theme_id", "subtheme_id") if c in cand]
    if not parts:
        return {}
    cand = pd.concat(parts, ignore_index=True)
    cand = cand[cand["tid"].isin(theme_ids)]
    words = cand["text"].astype(str).str.split().str.len()
    cand = cand.assign(readable=((words >= MIN_WORDS) & (words <= MAX_WORDS)).astype(int))
    cand = cand.sort_values(["tid", "readable", "similarity"], ascending=[True, False, False], kind="stable")
    cand = cand.groupby("tid", sort=False).head(_POOL)
    return {tid: _diverse(group, n) for tid, group in cand.groupby("tid", sort=False)}


def _candidates(st: pd.DataFrame, low_docs: set[str], polarity: str) -> pd.DataFrame:
    label = st["sentiment_label"].astype("string").str.lower() if "sentiment_label" in st else pd.Series(
        pd.NA, index=st.index, dtype="string")
    low = pd.Series(among(st["doc_id"], low_docs), index=st.index)
    if polarity == "negative":
        keep = (label == "negative").fillna(False) | (low & (label != "positive").fillna(True))
    else:
        keep = (label == "positive").fillna(False) & ~low
    if "is_non_answer" in st:
        keep &= ~st["is_non_answer"].fillna(False).astype(bool)
    if "is_duplicate_of" in st:
        keep &= st["is_duplicate_of"].isna()
    cols = [c for c in ("statement_id", "text", "language", "customer_id", "theme_id", "subtheme_id") if c in st]
    out = st.loc[keep, cols].copy()
    sim = st.loc[keep, "similarity"] if "similarity" in st else pd.Series(np.nan, index=out.index)
    # Without similarities, the most clearly polarised statements stand in for the most typical.
    if sim.isna().all() and "sentiment" in st:
        sim = st.loc[keep, "sentiment"] * (-1 if polarity == "negative" else 1)
    out["similarity"] = sim.astype(float).fillna(-np.inf)
    if "customer_id" not in out:
        out["customer_id"] = None
    if "language" not in out:
        out["language"] = ""
    return out


def _diverse(group: pd.DataFrame, n: int) -> list[dict]:
    """Greedy picks among readable quotes: a new language and a new customer first, then a new customer, then
    any; quotes of an unreadable length only to fill what is left."""
    rows = group.to_dict("records")
    picked: list[dict] = []
    texts: set[str] = set()

    def ok(r: dict, langs: set, custs: set, need_lang: bool, need_cust: bool, need_readable: bool) -> bool:
        if r["text"].strip().lower() in texts or (need_readable and not r["readable"]):
            return False
        cust = r["customer_id"]
        new_cust = cust is None or (isinstance(cust, float) and np.isnan(cust)) or cust not in custs
        return (not need_lang or r["language"] not in langs) and (not need_cust or new_cust)

    # (new language, new customer, readable length) required, loosened pass by pass
    passes = ((True, True, True), (False, True, True), (False, False, True), (False, True, False),
              (False, False, False))
    for need_lang, need_cust, need_readable in passes:
        for r in rows:
            if len(picked) >= n:
                break
            langs = {p["language"] for p in picked}
            custs = {p["customer_id"] for p in picked}
            if r not in picked and ok(r, langs, custs, need_lang, need_cust, need_readable):
                picked.append(r)
                texts.add(r["text"].strip().lower())
    return [{"statement_id": str(r["statement_id"]), "text": str(r["text"]), "language": str(r["language"] or "")}
            for r in picked]

"""What the ingest stage tells the user: why a source is refused, and which feedback customers
have no customer record."""

from __future__ import annotations

from collections import Counter

import pandas as pd

from feedback_miner.ids import among


def by_reason(records: list[dict], examples: int = 3) -> list[tuple[str, int, list[str]]]:
    """(reason, count, up to ``examples`` 'file:row') per reason of rejected rows, most frequent first."""
    counts: Counter[str] = Counter()
    where: dict[str, list[str]] = {}
    for r in records:
        if r.get("kept"):
            continue
        reason = r["reason"].split(" (first seen")[0]  # duplicates name their twin: group them
        key = f"{reason} [{r['column']}]" if r["column"] else reason
        counts[key] += 1
        where.setdefault(key, [])
        if len(where[key]) < examples:
            where[key].append(f"{r['file'].rsplit('/', 1)[-1]}:{r['row']}")
    return [(k, n, where[k]) for k, n in counts.most_common()]


def refusal(kind: str, records: list[dict], n_read: int, max_share: float) -> str | None:
    """The one-line reason to stop when more than ``max_share`` of a source's rows are quarantined."""
    rejected = sum(not r.get("kept") for r in records)
    if not n_read or rejected / n_read <= max_share:
        return None
    reasons = "; ".join(f"{n} {key} (e.g. {', '.join(ex)})" for key, n, ex in by_reason(records))
    return (f"{kind}: {rejected} of {n_read} rows quarantined ({rejected / n_read:.0%}, more than "
            f"ingest.max_reject_share {max_share:g}), which usually means a wrong column mapping or format: "
            f"{reasons}; fix the mapping or raise ingest.max_reject_share")


def linkage(documents: pd.DataFrame, customers: pd.DataFrame | None) -> dict | None:
    """Feedback customers without a customer record (count, of how many, 3 examples); None when
    there is no customers source."""
    if customers is None:
        return None
    ids = pd.Series(documents["customer_id"].dropna().unique() if len(documents) else [], dtype=object)
    missing = ids[~among(ids, customers["customer_id"])]
    return {"count": int(len(missing)), "of": int(len(ids)), "examples": sorted(missing.astype(str))[:3]}


def input_notes(documents: pd.DataFrame, quarantine: pd.DataFrame, unlinked: dict | None) -> list[str]:
    """One line per thing a reader of the report must know about the inputs: no dates, no
    customer ids, feedback customers without a record, texts cut."""
    notes: list[str] = []
    if len(documents):
        undated = int(documents["created_at"].isna().sum())
        if undated == len(documents):
            notes.append("the feedback has no dates: no analysis window and no trends")
        elif undated:
            notes.append(f"{undated} documents have no date (a source without a date column): they are in every "
                         "window and in no trend")
        if documents["customer_id"].isna().all():
            notes.append("the feedback has no customer ids: each answer is its own respondent and churn linking "
                         "is skipped")
    if unlinked and unlinked["count"]:
        notes.append(f"{unlinked['count']} of {unlinked['of']} feedback customers have no customer record "
                     f"(e.g. {', '.join(unlinked['examples'])}): their feedback is not linked to churn")
    cut = int(quarantine["reason"].str.startswith("text cut").sum()) if len(quarantine) else 0
    if cut:
        notes.append(f"{cut} documents were cut to ingest.max_document_chars characters before analysis")
    return notes

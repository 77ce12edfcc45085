"""One section per theme: figures, trends in words, and the drill-down into sub-themes with their quotes."""

from __future__ import annotations

from typing import Any

import pandas as pd

from feedback_miner.config import ReportConfig
from feedback_miner.report import charts
from feedback_miner.report.data import (
    ReportInput,
    anchor,
    as_list,
    as_mapping,
    display_name,
    evidence_class,
    fmt_ci,
    fmt_int,
    fmt_when,
    is_outlier,
    num,
    parent_of,
    records,
    text,
)
from feedback_miner.report.pain import evidence_label, outcome_sentences

# Theme kinds (themes stage) that are not a topic: badged, and listed after the topics.
KIND_LABELS = {
    "generic_praise": "generic praise",
    "generic_complaint": "generic complaint",
    "filler": "filler",
    "other_language": "other language",
}


def history_by_theme(history: pd.DataFrame | None, run_id: str) -> dict[str, list[dict[str, Any]]]:
    """Past runs' rows per theme id, oldest first; tonight's run left out (it comes from ``themes``)."""
    if history is None or history.empty or "theme_id" not in history.columns:
        return {}
    h = history.copy()
    h["theme_id"] = h["theme_id"].astype(str)
    if run_id and "run_id" in h.columns:
        h = h[h["run_id"].astype(str) != run_id]
    if "run_date" in h.columns:
        h["_d"] = pd.to_datetime(h["run_date"], errors="coerce", utc=True)
        h = h.sort_values("_d", kind="stable").drop(columns="_d")
    out: dict[str, list[dict[str, Any]]] = {}
    for r in records(h):
        out.setdefault(r["theme_id"], []).append(r)
    return out


def _nightly(past: list[dict[str, Any]], theme: dict, run_date: Any) -> dict[str, Any]:
    """The theme's volume and sentiment night by night (past nights of the store, then this one)."""
    dates = [fmt_when(r.get("run_date"), with_time=False) for r in past]
    vol = [num(r.get("n_statements")) for r in past]
    cust = [num(r.get("n_customers")) for r in past]
    sent = [num(r.get("sentiment_mean")) for r in past]
    dates.append(fmt_when(run_date, with_time=False) if run_date else "this run")
    vol.append(num(theme.get("n_statements")))
    cust.append(num(theme.get("n_customers")))
    sent.append(num(theme.get("sentiment_mean")))
    return {
        "runs": len(dates),
        "first_run": dates[0],
        "customers": (cust[-2], cust[-1]) if len(dates) > 1 else None,
        "volume_change": (vol[0], vol[-1]) if len(dates) > 1 else None,
        "sentiment_change": (sent[0], sent[-1]) if len(dates) > 1 else None,
        "volume_spark": charts.sparkline(vol, dates, colour="#374151", fmt="{:,.0f}", from_zero=True),
        "sentiment_spark": charts.sparkline(sent, dates, colour="#2166ac", zero_line=True, fmt="{:+.2f}"),
    }


def trend_words(tid: str, theme: dict, nightly: dict, changes: dict, recent: tuple[int, int] | None) -> list[str]:
    """Emerging / growing / fading, and the last four weeks against the four before, in words."""
    out = []
    status = text(theme.get("status")).lower()
    if tid in as_list(changes.get("emerging")) or status == "emerging":
        out.append("Emerging: new in this run (no theme of the previous night matched it).")
    if tid in as_list(changes.get("fading")) or status == "faded":
        out.append("Fading: a theme of the previous night that nothing in this run matched.")
    cust = nightly.get("customers")
    if tid in as_list(changes.get("growing")):
        was = f" from {fmt_int(cust[0])} to {fmt_int(cust[1])}" if cust and cust[0] is not None else ""
        out.append(
            f"Growing: customers mentioning it rose{was} since the previous night "
            "(growing means at least 25% and 5 customers more)."
        )
    elif cust and cust[0] is not None and cust[1] is not None:
        out.append(f"Customers mentioning it: {fmt_int(cust[0])} the previous night, {fmt_int(cust[1])} now.")
    if recent:
        now, before = recent
        if before >= 5:
            change = (now - before) / before
            word = "up" if change > 0.1 else "down" if change < -0.1 else "about level"
            pct = f" {abs(change):.0%}" if word != "about level" else ""
            out.append(f"Last 4 weeks: {now:,} statements, {word}{pct} on the 4 weeks before ({before:,}).")
        elif now:
            out.append(f"Last 4 weeks: {now:,} statements; almost none ({before}) in the 4 weeks before.")
    return out


def _quote(row: dict, attributes: list[str]) -> dict[str, Any]:
    return {
        "text": text(row.get("text")),
        "language": text(row.get("language")),
        "sentiment": text(row.get("sentiment_label")).lower(),
        "source": text(row.get("source")),
        "score": text(row.get("score")),
        "week": text(row.get("week")),
        "leaf": text(row.get("leaf")),
        "attrs": [(f"attr-{a}", text(row.get(a))) for a in attributes],
    }


def quotes_by_leaf(sample: pd.DataFrame, attributes: list[str]) -> dict[str, list[dict[str, Any]]]:
    """The sampled quotes of each leaf (sub-theme, or theme for statements in no sub-theme)."""
    out: dict[str, list[dict[str, Any]]] = {}
    for r in records(sample):
        out.setdefault(text(r.get("leaf")), []).append(_quote(r, attributes))
    return out


def headline_quotes(blocks: list[dict[str, Any]], limit: int) -> list[dict[str, Any]]:
    """The theme's first quotes: round-robin over its blocks (largest first), each text once, one
    per language before a second in any (the page's script picks the same way among the quotes
    its filters leave)."""
    lists = [list(b["quotes"]) for b in blocks]
    order: list[dict[str, Any]] = []
    for i in range(max((len(q) for q in lists), default=0)):
        order += [q[i] for q in lists if i < len(q)]
    seen: set[str] = set()
    unique = [q for q in order if not (q["text"] in seen or seen.add(q["text"]))]
    langs: set[str] = set()
    first = [q for q in unique if not (q["language"] in langs or langs.add(q["language"]))]
    return (first + [q for q in unique if q not in first])[:limit]


def _block(leaf: str, row: dict, label: str, pain_row: dict | None, quotes: list) -> dict[str, Any]:
    src = pain_row or row
    return {
        "id": leaf,
        "anchor": anchor(leaf),
        "label": label,
        "kind": KIND_LABELS.get(text(row.get("kind"))),
        "n_statements": row.get("n_statements"),
        "n_customers": row.get("n_customers"),
        "sentiment": num(row.get("sentiment_mean")),
        "churn_rr": num(src.get("churn_rr")),
        "churn_ci": fmt_ci(src.get("churn_rr_low"), src.get("churn_rr_high")),
        "quotes": quotes,
    }


def drill_down(
    tid: str, children: list[str], theme_rows: dict[str, dict], pain_by_id: dict, leaf_quotes: dict
) -> list[dict[str, Any]]:
    """Blocks of a theme's drill-down: each sub-theme, largest first, then its statements in none."""
    size = {c: num(theme_rows[c].get("n_statements")) or 0 for c in children}
    blocks = [
        _block(c, theme_rows[c], display_name(theme_rows[c]), pain_by_id.get(c), leaf_quotes.get(c, []))
        for c in sorted(children, key=lambda c: -size[c])
    ]
    rest = (num(theme_rows[tid].get("n_statements")) or 0) - sum(size.values())
    if not children and not leaf_quotes.get(tid):
        return []
    if not children:
        label, row, prow = "All statements (no sub-themes)", theme_rows[tid], pain_by_id.get(tid)
    elif rest > 0:
        label, row, prow = "Not in a sub-theme", {"n_statements": rest}, None
    else:
        return blocks
    return [*blocks, {**_block(tid, row, label, prow, leaf_quotes.get(tid, [])), "rest": True}]


def _languages(theme: dict) -> list[dict[str, Any]]:
    langs = as_mapping(theme.get("languages"))
    sent_lang = as_mapping(theme.get("sentiment_by_language"))
    total = sum(langs.values())
    if not langs or total <= 0:
        return []
    return [
        {"lang": k, "share": v / total, "colour": charts.language_colour(k, i), "sentiment": sent_lang.get(k)}
        for i, (k, v) in enumerate(sorted(langs.items(), key=lambda kv: -kv[1]))
    ]


def _section(tid: str, theme: dict, prow: dict | None, blocks: list, nightly: dict, words: list) -> dict[str, Any]:
    return {
        "id": tid,
        "anchor": anchor(tid),
        "label": display_name(theme),
        "kind": KIND_LABELS.get(text(theme.get("kind"))),
        "status": text(theme.get("status")).lower(),
        "keywords": as_list(theme.get("keywords")),
        "n_statements": theme.get("n_statements"),
        "n_customers": theme.get("n_customers"),
        "share": theme.get("share"),
        "sentiment": num(theme.get("sentiment_mean")),
        "sentiment_ci": (num(theme.get("sentiment_low")), num(theme.get("sentiment_high"))),
        "negative_share": num(theme.get("negative_share")),
        "rank": prow["rank"] if prow else None,
        "evidence_text": evidence_label(prow["evidence_text"] if prow else text(theme.get("evidence"))),
        "evidence_class": prow["evidence_class"] if prow else evidence_class(theme.get("evidence")),
        "outcomes": outcome_sentences(prow, theme),
        **nightly,
        "trend_words": words,
        "languages": _languages(theme),
        "language_bar": charts.split_bar(as_mapping(theme.get("languages"))),
        "subthemes": [b for b in blocks if not b.get("rest")],
        "blocks": blocks,
    }


def theme_sections(
    data: ReportInput, cfg: ReportConfig, theme_rows: dict[str, dict], pain: dict, overview: dict, page: dict
) -> list[dict[str, Any]]:
    """The theme sections, ranked pain points first (an analyst reads the costly ones first), then
    topics by volume, then non-topic kinds (generic praise, filler...)."""
    pain_by_id = {r["theme_id"]: r for r in pain["ranked"] + pain["unranked"]}
    top_level = [t for t, r in theme_rows.items() if not parent_of(r) and not is_outlier(t)]
    children: dict[str, list[str]] = {}
    for t, r in theme_rows.items():
        if parent_of(r) and not is_outlier(t):
            children.setdefault(parent_of(r), []).append(t)

    def order(t: str) -> tuple[bool, float, float]:
        ranks = [pain_by_id[x]["rank"] for x in [t, *children.get(t, [])] if x in pain_by_id]
        ranks = [r for r in ranks if r is not None]
        generic = text(theme_rows[t].get("kind")) in KIND_LABELS
        return (generic, min(ranks) if ranks else float("inf"), -(num(theme_rows[t].get("n_statements")) or 0))

    history = history_by_theme(data.history, overview["run_id"])
    sections = []
    for tid in sorted(top_level, key=order)[: cfg.max_theme_sections]:
        theme = theme_rows[tid]
        blocks = drill_down(tid, children.get(tid, []), theme_rows, pain_by_id, page["leaf_quotes"])
        nightly = _nightly(history.get(tid, []), theme, overview["run_date"])
        words = trend_words(tid, theme, nightly, data.changes or {}, page["recent"].get(tid))
        section = _section(tid, theme, pain_by_id.get(tid), blocks, nightly, words)
        section["quotes"] = headline_quotes(blocks, cfg.max_quotes) or page["fallback_quotes"].get(tid, [])
        sections.append(section)
    return sections

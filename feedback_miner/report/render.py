"""Render a run's tables into the analysts' ``report.html`` and the product teams' ``pain_points.md``.

Both are plain strings; the pipeline writes them into the run folder. The HTML is one
self-contained file: CSS and the small table-sorting script are inlined from ``static/``, charts
are inline SVG from :mod:`feedback_miner.report.charts`, and nothing is fetched from a network.
Every value reaches the page through Jinja2 autoescaping.
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources
from typing import Any

import pandas as pd
from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup, escape

from feedback_miner.config import ReportConfig
from feedback_miner.report import brief, charts
from feedback_miner.report.data import (
    ReportInput,
    anchor,
    as_list,
    as_mapping,
    display_name,
    fmt_ci,
    fmt_int,
    fmt_money,
    fmt_pct,
    fmt_q,
    fmt_ratio,
    fmt_seconds,
    fmt_signed,
    fmt_when,
    is_outlier,
    num,
    parent_of,
    records,
    text,
    theme_rows,
)
from feedback_miner.report.explore import (
    change_since,
    customer_attributes,
    dimensions,
    explore_payload,
    sample_quotes,
    script_json,
    statement_facts,
)
from feedback_miner.report.pain import pain_table
from feedback_miner.report.sections import KIND_LABELS, quotes_by_leaf, theme_sections
from feedback_miner.report.segments import heat_maps

_FILTERS = {
    "int": fmt_int,
    "pct": fmt_pct,
    "ratio": fmt_ratio,
    "q": fmt_q,
    "signed": fmt_signed,
    "money": fmt_money,
    "when": fmt_when,
    "seconds": fmt_seconds,
}

# Typed PII placeholders written by the prepare stage (``<EMAIL>``, ``<PHONE>``, ...), once escaped.
_PLACEHOLDER = re.compile(r"&lt;([A-Z][A-Z_]{1,20})&gt;")


def highlight_placeholders(value: Any) -> Markup:
    """Escape a redacted text and mark its placeholders, so readers see what was removed."""
    escaped = str(escape(text(value)))
    return Markup(_PLACEHOLDER.sub(r'<span class="pii">&lt;\1&gt;</span>', escaped))


def md_inline(value: Any) -> str:
    """Text safe inside one Markdown line: no line breaks, Markdown/HTML punctuation escaped."""
    s = re.sub(r"\s+", " ", text(value)).strip()
    return re.sub(r"([\\`*_\[\]<>|#])", r"\\\1", s)


def _sentiment_style(value: Any) -> str:
    """Inline style of a sentiment pill: the treemap's colour scale, readable text colour."""
    fill = charts.sentiment_colour(num(value))
    return f"background:{fill};color:{charts.text_colour(fill)}"


@lru_cache(maxsize=2)
def _env(kind: str) -> Environment:
    env = Environment(
        loader=PackageLoader("feedback_miner.report", "templates"),
        # HTML escapes everything; the Markdown brief escapes with its own filter instead.
        autoescape=kind == "html",
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(_FILTERS)
    env.filters["pii"] = highlight_placeholders
    env.filters["md"] = md_inline
    env.filters["ci"] = fmt_ci
    env.filters["sent_style"] = _sentiment_style
    return env


def _static(name: str) -> str:
    return resources.files("feedback_miner.report").joinpath("static", name).read_text(encoding="utf-8")



def _overview(data: ReportInput, theme_rows: dict[str, dict]) -> dict[str, Any]:
    m = data.manifest or {}
    counts = m.get("counts") or {}
    window = m.get("window") or {}
    if isinstance(window, list | tuple) and len(window) == 2:
        window = {"start": window[0], "end": window[1]}
    skipped = m.get("skipped_sources") or m.get("skipped") or []
    skipped = [
        (
            f"{s.get('source', s.get('name', '?'))}: {s.get('reason', '')}".rstrip(": ")
            if isinstance(s, dict)
            else text(s)
        )
        for s in skipped
    ]
    languages = as_mapping(counts.get("languages"))
    top_level = [r for t, r in theme_rows.items() if not parent_of(r) and not is_outlier(t)]
    outlier_n = sum(num(r.get("n_statements")) or 0 for t, r in theme_rows.items() if is_outlier(t))

    def change_items(key: str) -> list[dict[str, str]]:
        out = []
        for tid in as_list((data.changes or {}).get(key)):
            row = theme_rows.get(tid, {})
            root = parent_of(row) or tid
            out.append({"id": tid, "label": display_name(row) if row else tid, "href": "#" + anchor(root)})
        return out

    return {
        "run_id": text(m.get("run_id")),
        "run_date": m.get("finished_at") or m.get("started_at"),
        "started_at": m.get("started_at"),
        "finished_at": m.get("finished_at"),
        "window_start": window.get("start") if isinstance(window, dict) else None,
        "window_end": window.get("end") if isinstance(window, dict) else None,
        "documents": counts.get("documents"),
        "statements": counts.get("statements"),
        "customers": counts.get("customers"),
        "quarantined": counts.get("quarantined"),
        "languages": [
            {"lang": k, "n": v, "colour": charts.language_colour(k, i)}
            for i, (k, v) in enumerate(sorted(languages.items(), key=lambda kv: -kv[1]))
        ],
        "language_bar": charts.split_bar(languages, width=220, height=10),
        "redactions": sorted(as_mapping(counts.get("redactions")).items(), key=lambda kv: -kv[1]),
        "skipped": skipped,
        "n_themes": len(top_level),
        "n_subthemes": sum(1 for t, r in theme_rows.items() if parent_of(r) and not is_outlier(t)),
        "unthemed": outlier_n,
        "changes": {k: change_items(k) for k in ("emerging", "growing", "fading")},
        "first_run": brief.first_run(data.history, text(m.get("run_id"))),
        "sources": brief.source_words(m),
    }


def _quotes_by_theme(data: ReportInput, theme_rows: dict[str, dict], limit: int) -> dict[str, list[dict]]:
    """Up to ``limit`` quotes per theme: the quotes table first, the theme's examples as fallback."""
    out: dict[str, list[dict]] = {}
    for q in records(data.quotes):
        tid = text(q.get("theme_id"))
        if text(q.get("text")).strip():
            out.setdefault(tid, []).append(
                {
                    "text": text(q.get("text")),
                    "language": text(q.get("language")),
                    "sentiment": text(q.get("sentiment_label")).lower(),
                }
            )
    for tid, row in theme_rows.items():
        if not out.get(tid):
            out[tid] = [{"text": e, "language": "", "sentiment": ""} for e in as_list(row.get("examples"))]
    return {tid: qs[:limit] for tid, qs in out.items()}


def _treemap(theme_rows: dict[str, dict]) -> Markup | None:
    def node(t: str, r: dict, kids: list[charts.TreemapNode]) -> charts.TreemapNode:
        s = num(r.get("sentiment_mean"))
        detail = f"{fmt_int(r.get('n_statements'))} statements · {fmt_int(r.get('n_customers'))} customers"
        if s is not None:
            detail += f" · sentiment {fmt_signed(s)}"
        return charts.TreemapNode(
            t,
            text(r.get("label")) or t,
            num(r.get("n_statements")) or 0.0,
            s,
            kids,
            "#" + anchor(parent_of(r) or t),
            detail,
        )

    kids: dict[str, list[charts.TreemapNode]] = {}
    for t, r in theme_rows.items():
        if parent_of(r) and not is_outlier(t):
            kids.setdefault(parent_of(r), []).append(node(t, r, []))
    roots = [node(t, r, kids.get(t, [])) for t, r in theme_rows.items() if not parent_of(r) and not is_outlier(t)]
    roots = [n for n in roots if n.size > 0]
    return charts.treemap(roots) if roots else None


def _methods(data: ReportInput) -> dict[str, Any]:
    m = dict(data.methods or {})
    manifest = data.manifest or {}
    timings = manifest.get("stage_timings") or manifest.get("timings") or {}
    if isinstance(timings, list):  # [{stage, seconds}, ...]
        timings = {text(t.get("stage")): t.get("seconds") for t in timings if isinstance(t, dict)}
    known = ("embedding_model", "clustering", "sentiment_model", "stats_notes", "controls_used", "notes", "config_hash")
    controls = m.get("controls_used")
    return {
        "embedding_model": text(m.get("embedding_model")),
        "clustering": text(m.get("clustering")),
        "sentiment_model": text(m.get("sentiment_model")),
        "stats_notes": text(m.get("stats_notes")),
        "controls": as_list(controls) if controls is not None else None,
        "notes": [text(n) for n in m.get("notes") or [] if text(n)],
        "extra": [(k, v if isinstance(v, str) else _json_text(v)) for k, v in m.items() if k not in known],
        "config_hash": text(manifest.get("config_hash")),
        "timings": [(k, v) for k, v in timings.items()] if isinstance(timings, dict) else [],
    }


def _json_text(v: Any) -> str:
    if isinstance(v, list | tuple):
        return ", ".join(text(x) for x in v)
    if isinstance(v, dict):
        return ", ".join(f"{k}: {x}" for k, x in v.items())
    return text(v)


def _page(data: ReportInput, cfg: ReportConfig, rows: dict[str, dict], quotes: dict, live: bool) -> dict[str, Any]:
    """What the filters work on (see :mod:`feedback_miner.report.explore`); empty without statements."""
    page: dict[str, Any] = {"leaf_quotes": {}, "recent": {}, "fallback_quotes": quotes, "dims": [], "weeks": []}
    facts = statement_facts(data.statements, data.documents, data.customers) if live else pd.DataFrame()
    if facts.empty:
        return page | {"json": None, "heat": []}
    dims = dimensions(facts, data.customers)
    leaf_theme = {t: parent_of(r) or t for t, r in rows.items()}
    for leaf, theme in facts[["leaf", "theme_id"]].drop_duplicates().itertuples(index=False):
        leaf_theme.setdefault(leaf, theme)  # a statement's theme missing from the themes table
    payload = explore_payload(facts, dims, leaf_theme)
    attributes = customer_attributes(data.customers)
    top = [t for t, r in rows.items() if not parent_of(r) and not is_outlier(t)]
    top = sorted(top, key=lambda t: -(num(rows[t].get("n_statements")) or 0))[: cfg.heat_map_themes]
    return page | {
        "json": Markup(script_json(payload)),
        "dims": dims,
        "weeks": payload["weeks"],
        "leaf_quotes": quotes_by_leaf(sample_quotes(facts, per_leaf=cfg.quotes_per_subtheme), attributes),
        "recent": change_since(facts),
        "heat": heat_maps(facts, data.customers, attributes, [(t, display_name(rows[t])) for t in top]),
    }


def _theme_table(rows: dict[str, dict], pain: dict, sections: list[dict]) -> list[dict[str, Any]]:
    """Rows of the filtered themes table: every top-level topic theme, then the buckets of statements
    with no topic (general praise, filler...), then the statements in no theme."""
    pain_by_id = {r["theme_id"]: r for r in pain["ranked"] + pain["unranked"]}
    in_page = {s["id"] for s in sections}
    out = []
    for tid, r in rows.items():
        if parent_of(r):
            continue
        src = pain_by_id.get(tid) or r
        out.append(
            {
                "id": tid,
                "label": "Not in a theme" if is_outlier(tid) else display_name(r),
                "href": "#" + anchor(tid) if tid in in_page else "",
                "outlier": is_outlier(tid),
                "no_topic": text(r.get("kind")) in KIND_LABELS,
                "n_statements": num(r.get("n_statements")),
                "share": num(r.get("share")),
                "sentiment": num(r.get("sentiment_mean")),
                "negative_share": num(r.get("negative_share")),
                "n_customers": num(r.get("n_customers")),
                "churn_rr": num(src.get("churn_rr")),
                "churn_ci": fmt_ci(src.get("churn_rr_low"), src.get("churn_rr_high")),
            }
        )
    out.sort(key=lambda x: (x["outlier"], x["no_topic"], -(x["n_statements"] or 0)))
    return out


def build_context(data: ReportInput, cfg: ReportConfig, interactive: bool = True) -> dict[str, Any]:
    """Everything the templates show, computed once from the run's tables (``interactive``: also
    what the page's filters need; the Markdown brief does without)."""
    rows = theme_rows(data.themes)
    quotes = _quotes_by_theme(data, rows, cfg.max_quotes)
    overview = _overview(data, rows)
    pain = pain_table(data, cfg, rows, quotes)
    page = _page(data, cfg, rows, quotes, interactive)
    sections = theme_sections(data, cfg, rows, pain, overview, page)
    return {
        "title": cfg.title,
        "overview": overview,
        "pain": pain,
        "treemap": _treemap(rows),
        "legend": charts.sentiment_legend(),
        "sections": sections,
        "table": _theme_table(rows, pain, sections),
        "page": page,
        "values": _values(data, rows),
        "definitions": brief.definitions(data.manifest or {}),
        "methods": _methods(data),
        "quotes": quotes,
        "max_quotes": cfg.max_quotes,
        "n_sections_total": sum(1 for t, r in rows.items() if not parent_of(r) and not is_outlier(t)),
    }


def _values(data: ReportInput, rows: dict[str, dict]) -> list[dict[str, Any]]:
    """What customers value (the outcomes stage's ``values`` table), with a quote each where given."""
    out = []
    for r in records(data.values if data.values is not None else pd.DataFrame()):
        tid = text(r.get("theme_id"))
        theme = rows.get(tid, {})
        qs = r.get("quotes")
        quote = qs[0] if isinstance(qs, list | tuple) and len(qs) else None
        out.append(
            {
                "label": display_name(theme) if theme else text(r.get("label")) or tid,
                "href": "#" + anchor(parent_of(theme) or tid),
                "n_customers": num(r.get("n_customers")),
                "sentiment": num(r.get("sentiment_mean")),
                "basis": text(r.get("protective_basis")),
                "quote": text(quote.get("text")) if isinstance(quote, dict) else text(quote),
            }
        )
    return out


# ---------------------------------------------------------------- entry points


def render_report(data: ReportInput, cfg: ReportConfig | None = None) -> str:
    """The whole ``report.html`` of a run: one self-contained HTML document."""
    cfg = cfg or ReportConfig()
    ctx = build_context(data, cfg)
    ctx["css"] = Markup(_static("report.css"))
    ctx["js"] = Markup(_static("report.js"))
    ctx["explore_js"] = Markup(_static("explore.js"))
    return _env("html").get_template("report.html.j2").render(**ctx)


def render_brief(data: ReportInput, cfg: ReportConfig | None = None, top: int = 10) -> str:
    """``pain_points.md``: the ``top`` ranked pain points as a short brief to paste into a ticket."""
    cfg = cfg or ReportConfig()
    ctx = build_context(data, cfg, interactive=False)
    ctx["top_n"] = top
    ctx["brief_quotes"] = cfg.brief_quotes
    ctx["values"] = brief.value_rows(data.values)  # with the reason in words and the quotes
    return _env("md").get_template("pain_points.md.j2").render(**ctx)

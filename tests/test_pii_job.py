"""No planted personal data reaches any output of a whole job run: every file of the run folder and
every text column of every table of the run store. One run on a slice of the bundled sample plus
generated values of every kind in en/it/fr/ro sentences (tests/pii_plants.py), each planted twice
(repeated values must not surface as theme examples either), extra columns holding names and
addresses, customer ids that are e-mails or phones, and quarantined rows that hold PII and formulas.
"""

from __future__ import annotations

import csv
import html
import io
import json
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest
import yaml
from pii_plants import KINDS, LANGS, Plant, leaked, plant, value

from feedback_miner.config import load_config
from feedback_miner.pipeline import run_job
from feedback_miner.prepare.pii import pseudonymous_id

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"
SEEDS = (0, 1)
EMAIL_ID, PHONE_ID = "giulia.bianchi77@example.org", "+40 721 234 567"
BROKEN_LINE = ('{"ticket_id": "T-BAD", "body": "Luca Ferraro here, mail luca.ferraro@example.it, tel +39 347 555 0199, '
               'IBAN IT60 X054 2811 1010 0000 0123 456, CNP 1800101221144"')
FORMULA = '=HYPERLINK("http://evil.example/x","click")'


def _extra_plants() -> list[Plant]:
    """What the extra columns, ids and quarantined rows hold (none of it may appear anywhere)."""
    out = [Plant("ID", "", "", (EMAIL_ID, PHONE_ID)), Plant("BROKEN", "", "", (
        "Luca Ferraro", "luca.ferraro@example.it", "+39 347 555 0199", "IT60X0542811101000000123456", "1800101221144"))]
    for lang in LANGS:
        name, _ = value("NAME", lang, 7)
        address, needles = value("ADDRESS", lang, 7)
        out.append(Plant("COLUMNS", lang, "", (name, *needles)))
    return out


@pytest.fixture(scope="session")
def pii_job(tmp_path_factory):
    """One whole run of the planted input; returns (run folder, store path, the plants)."""
    folder = tmp_path_factory.mktemp("pii_job")
    inputs = folder / "inputs"
    inputs.mkdir()
    surveys = pd.read_csv(SAMPLE / "surveys.csv", dtype=str, keep_default_na=False).iloc[:160]
    clean_text = " ".join(surveys["comment"]).lower()
    plants = [plant(kind, lang, seed) for kind in KINDS for lang in LANGS for seed in SEEDS]
    # A needle that the clean sample already contains (a common surname) would be a false alarm.
    plants = [p for p in plants if not leaked(p, clean_text)]
    rows = []
    for i, p in enumerate(plants + plants):  # each value twice, by two customers
        rows.append({"response_id": f"R-PII-{i}", "customer_id": surveys["customer_id"].iloc[i % len(surveys)],
                     "submitted_at": "2026-07-21T10:00:00Z", "score": str(i % 11), "comment": p.text})
    planted = pd.DataFrame(rows)
    planted.loc[0, "customer_id"], planted.loc[1, "customer_id"] = EMAIL_ID, PHONE_ID
    extra = pd.DataFrame([{"response_id": "R-Q-1", "customer_id": "C10002", "submitted_at": "2026-07-21T10:00:00Z",
                           "score": FORMULA, "comment": "Sarah Connolly, 06.12.34.56.78"}])
    all_surveys = pd.concat([surveys, planted, extra], ignore_index=True).fillna("")
    for j, lang in enumerate(LANGS):  # extra columns: a name and an address on a few rows
        all_surveys.loc[j, "full_name"] = value("NAME", lang, 7)[0]
        all_surveys.loc[j, "address"] = value("ADDRESS", lang, 7)[0]
    all_surveys.fillna("").to_csv(inputs / "surveys.csv", index=False)
    tickets = (SAMPLE / "tickets.jsonl").read_text(encoding="utf-8").splitlines()[:80]
    (inputs / "tickets.jsonl").write_text("\n".join([*tickets, BROKEN_LINE]) + "\n", encoding="utf-8")
    customers = pd.read_parquet(SAMPLE / "customers.parquet")
    contacts = customers.iloc[:2].assign(customer_id=[EMAIL_ID, PHONE_ID])
    pd.concat([customers, contacts], ignore_index=True).to_parquet(inputs / "customers.parquet", index=False)
    cfg_path = folder / "config.yaml"
    cfg_path.write_text(yaml.safe_dump({
        "run": {"output_dir": "out"},
        "sources": {"surveys": {"path": "inputs/surveys.csv", "score_scale": "nps"},
                    "tickets": {"path": "inputs/tickets.jsonl"},
                    "customers": {"path": "inputs/customers.parquet"}},
        "themes": {"min_cluster_size": 8},
        "outcomes": {"min_customers": 5, "bootstrap": 20},
    }))
    cfg = load_config(cfg_path)
    result = run_job(cfg)
    yield result.run_dir, cfg.store_path, plants + _extra_plants()
    shutil.rmtree(folder, ignore_errors=True)


def _cells(frame: pd.DataFrame) -> str:
    """Every text-like cell of a frame, one per line (lists and dicts as JSON)."""
    parts = []
    for col in frame.columns:
        if frame[col].dtype == object or pd.api.types.is_string_dtype(frame[col]):
            parts.extend(json.dumps(v, ensure_ascii=False, default=str) if not isinstance(v, str) else v
                         for v in frame[col].tolist() if v is not None)
    return "\n".join(parts)


def _leaks(plants: list[Plant], text: str) -> list[tuple[str, str, list[str]]]:
    return [(p.kind, p.lang, found) for p in plants if (found := leaked(p, text))]


def test_no_planted_value_in_any_output_file(pii_job):
    run_dir, _, plants = pii_job
    names = sorted(p.name for p in run_dir.iterdir())
    assert {"documents.parquet", "statements.parquet", "themes.csv", "pain_points.csv", "quarantine.csv",
            "report.html", "pain_points.md", "manifest.json"} <= set(names)
    for path in run_dir.iterdir():
        if path.suffix == ".parquet":
            text = _cells(pd.read_parquet(path))
        else:
            text = html.unescape(path.read_text(encoding="utf-8"))
        assert not _leaks(plants, text), path.name


def test_no_planted_value_in_any_store_table(pii_job):
    _, store_path, plants = pii_job
    con = duckdb.connect(str(store_path), read_only=True)
    try:
        tables = [r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()]
        assert {"documents", "statements", "run_themes"} <= set(tables)
        for table in tables:
            text = _cells(con.execute(f'SELECT * FROM "{table}"').df())
            assert not _leaks(plants, text), table
    finally:
        con.close()


def test_redactions_were_made_and_ids_keep_linkage(pii_job):
    run_dir, _, _ = pii_job
    statements = pd.read_parquet(run_dir / "statements.parquet")
    text = " ".join(statements["text"])
    for tag in ("<NATIONAL_ID>", "<ACCOUNT>", "<ADDRESS>", "<PERSON>", "<EMAIL>", "<URL>", "<CARD>", "<PHONE>"):
        assert tag in text, tag
    ids = set(statements["customer_id"].dropna())
    assert pseudonymous_id(EMAIL_ID) in ids and pseudonymous_id(PHONE_ID) in ids
    docs = pd.read_parquet(run_dir / "documents.parquet")
    attrs = [json.loads(a) for a in docs["attributes"] if a and a != "{}"]
    assert sum(a.get("full_name") == "<PERSON>" for a in attrs) == len(LANGS)
    assert sum(a.get("address") == "<ADDRESS>" for a in attrs) == len(LANGS)


def _number(cell: str) -> bool:
    """A negative number is a value to a spreadsheet, not a formula."""
    try:
        float(cell)
    except ValueError:
        return False
    return True


def test_no_csv_cell_is_a_formula(pii_job):
    run_dir, _, _ = pii_job
    quarantine = pd.read_csv(run_dir / "quarantine.csv", dtype=str)
    # The formula is there, escaped (and its URL redacted like any other value).
    assert quarantine["value"].str.startswith("'=HYPERLINK(").sum() == 1, quarantine["value"].tolist()
    for name in ("quarantine.csv", "themes.csv", "pain_points.csv"):
        for row in csv.reader(io.StringIO((run_dir / name).read_text(encoding="utf-8"))):
            assert not [c for c in row if c[:1] in ("=", "+", "-", "@", "\t", "\r") and not _number(c)], (name, row)


def test_keywords_and_labels_hold_no_placeholder_words(pii_job):
    run_dir, _, _ = pii_job
    themes = pd.read_csv(run_dir / "themes.csv")
    words = " ".join(themes["label"].astype(str)) + " " + " ".join(themes["keywords"].astype(str))
    # Words that only the placeholders bring (card, account, e-mail are also customers' own words here).
    for placeholder_word in ("person", "national_id", "national", "url"):
        assert placeholder_word not in words.lower().replace("·", " ").split(), placeholder_word

"""The bundled Finora sample: it loads, has the documented columns, mix, mess and planted effects,
and regenerates byte for byte."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

SAMPLE_FILES = ["surveys.csv", "tickets.jsonl", "customers.parquet", "labels.csv", "planted_effects.json", "README.md"]
SURVEY_COLUMNS = ["response_id", "customer_id", "submitted_at", "score", "comment", "survey", "country", "platform"]
TICKET_COLUMNS = ["ticket_id", "customer_id", "created_at", "subject", "body", "resolved_at", "csat", "channel",
                  "priority"]
CUSTOMER_COLUMNS = ["customer_id", "churned", "churned_at", "segment", "plan", "revenue", "signup_at"]
WINDOW = (pd.Timestamp("2026-07-20", tz="UTC"), pd.Timestamp("2026-11-21", tz="UTC"))


@pytest.fixture(scope="session")
def sample(root: Path) -> Path:
    return root / "data" / "sample"


@pytest.fixture(scope="session")
def surveys(sample: Path) -> pd.DataFrame:
    return pd.read_csv(sample / "surveys.csv", dtype=str, keep_default_na=False)


@pytest.fixture(scope="session")
def tickets(sample: Path) -> pd.DataFrame:
    return pd.read_json(sample / "tickets.jsonl", lines=True, dtype=False)


@pytest.fixture(scope="session")
def customers(sample: Path) -> pd.DataFrame:
    return pd.read_parquet(sample / "customers.parquet")


@pytest.fixture(scope="session")
def labels(sample: Path) -> pd.DataFrame:
    return pd.read_csv(sample / "labels.csv", dtype={"themes": str}, keep_default_na=False)


@pytest.fixture(scope="session")
def effects(sample: Path) -> dict:
    return json.loads((sample / "planted_effects.json").read_text(encoding="utf-8"))


def bad_rows(effects: dict, file: str) -> set[int]:
    return {b["row_number"] for b in effects["bad_rows"] if b["file"] == file}


def test_files_present_and_small(sample: Path):
    sizes = {name: (sample / name).stat().st_size for name in SAMPLE_FILES}
    assert all(size > 0 for size in sizes.values())
    assert sum(sizes.values()) < 2_000_000


def test_surveys_columns_and_values(surveys: pd.DataFrame, effects: dict):
    assert list(surveys.columns) == SURVEY_COLUMNS
    assert 1750 <= len(surveys) <= 1850
    good = surveys[~surveys.index.isin([r - 1 for r in bad_rows(effects, "surveys.csv")])]
    scores = pd.to_numeric(good["score"])
    assert scores.between(0, 10).all()
    when = pd.to_datetime(good["submitted_at"], format="ISO8601", utc=True)
    assert when.between(*WINDOW).all()
    assert good["response_id"].str.len().gt(0).all() and good["response_id"].is_unique
    assert set(good["country"]) <= {"GB", "IE", "IT", "FR", "BE", "RO", "DE", "AT", "ES"}


def test_tickets_columns_and_values(tickets: pd.DataFrame, effects: dict):
    assert list(tickets.columns) == TICKET_COLUMNS
    assert 880 <= len(tickets) <= 920
    good = tickets[~tickets.index.isin([r - 1 for r in bad_rows(effects, "tickets.jsonl")])]
    assert good["csat"].dropna().between(1, 5).all()
    assert 0.2 < good["csat"].notna().mean() < 0.5  # "often missing"
    created = pd.to_datetime(good["created_at"], format="ISO8601", utc=True)
    resolved = pd.to_datetime(good["resolved_at"], format="ISO8601", utc=True)
    assert created.between(*WINDOW).all()
    assert (resolved.dropna() > created[resolved.notna()]).all()
    assert set(good["channel"]) == {"email", "chat", "web_form", "in_app"}
    assert set(good["priority"]) == {"low", "normal", "high", "urgent"}


def test_customers_schema_and_links(customers, surveys, tickets):
    assert list(customers.columns) == CUSTOMER_COLUMNS
    assert len(customers) == 1200 and customers["customer_id"].is_unique
    assert customers["churned"].dtype == bool
    assert str(customers["signup_at"].dtype).startswith("datetime64") and customers["signup_at"].dt.tz is not None
    assert customers["churned_at"].notna().equals(customers["churned"])
    assert set(customers["segment"]) == {"smb", "mid", "enterprise"}
    assert (customers["revenue"] > 0).all()
    known = set(customers["customer_id"])
    assert set(surveys["customer_id"]) - {""} <= known
    assert set(tickets["customer_id"].dropna()) <= known


def test_labels_align_with_files(labels, surveys, tickets):
    s, t = labels[labels["source"] == "survey"], labels[labels["source"] == "ticket"]
    assert len(s) == len(surveys) and len(t) == len(tickets)
    assert s["source_id"].tolist() == surveys["response_id"].tolist()
    assert t["source_id"].tolist() == tickets["ticket_id"].fillna("").tolist()


def test_language_mix(labels):
    texts = labels[~labels["is_non_answer"]]
    share = texts["language"].value_counts(normalize=True)
    for lang, target in {"en": 0.45, "it": 0.20, "fr": 0.20, "ro": 0.15}.items():
        assert abs(share[lang] - target) < 0.03, (lang, share[lang])
    out_of_set = texts[texts["language"].isin(["de", "es"])]
    assert len(out_of_set) == 15 and out_of_set["source"].eq("survey").all()


def test_non_answers_and_duplicates(labels, surveys, tickets):
    s = labels[labels["source"] == "survey"]
    assert 0.03 < s["is_non_answer"].mean() < 0.07
    comments = surveys.loc[~s["is_non_answer"].to_numpy() & surveys["comment"].str.len().gt(40), "comment"]
    assert comments.duplicated().sum() >= 3
    assert tickets["body"].duplicated().sum() >= 5


def test_bad_rows_are_where_documented(effects, surveys, tickets):
    assert 10 <= len(effects["bad_rows"]) <= 14
    reasons = {b["reason"] for b in effects["bad_rows"]}
    assert {"missing id", "unparseable date", "NPS out of range", "empty comment", "duplicate id"} <= reasons
    for b in effects["bad_rows"]:
        frame = surveys if b["file"] == "surveys.csv" else tickets
        value = frame.iloc[b["row_number"] - 1][b["column"]]
        if b["value"] is None:
            assert pd.isna(value)
        elif isinstance(b["value"], int):
            assert float(value) == b["value"]
        else:
            assert str(value) == str(b["value"])
        if b["reason"] == "duplicate id":  # the documented row is the second occurrence, the one to reject
            ids = frame[b["column"]].tolist()
            assert ids.index(b["value"]) < b["row_number"] - 1


def test_ticket_mess(tickets):
    bodies = tickets["body"].fillna("")
    for marker in ["<p>", "<br>", "&amp;", "-----Original Message-----", " wrote:", "ha scritto:", "a écrit :",
                   "a scris:", "\n> ", "Sent from my iPhone", "Inviato da iPhone", "Envoyé de mon iPhone",
                   "https://", "+39 3", "+40 7", "+33 "]:
        assert bodies.str.contains(marker, regex=False).any(), marker
    # The support macro repeats across many tickets (boilerplate to strip).
    assert bodies.str.contains("Thank you for contacting Finora Support", regex=False).sum() >= 20


def _iban_ok(iban: str) -> bool:
    rearranged = iban[4:] + iban[:4]
    return int("".join(str(int(ch, 36)) for ch in rearranged)) % 97 == 1


def _luhn_ok(number: str) -> bool:
    digits = [int(d) for d in number][::-1]
    total = sum(d if i % 2 == 0 else (d * 2 - 9 if d * 2 > 9 else d * 2) for i, d in enumerate(digits))
    return total % 10 == 0


def test_pii_numbers_have_valid_checksums(tickets):
    text = "\n".join(tickets["body"].fillna(""))
    ibans = re.findall(r"IBAN[^:\n]*?(?:is|è|:|este)\s+([A-Z]{2}\d{2}[A-Z0-9 ]+?)\.", text)
    card_intro = r"(?:card number is|numero della carta è|numéro de carte est le|Numărul cardului este)"
    cards = re.findall(card_intro + r" (\d{4}[ -]?\d{4}[ -]?\d{4}[ -]?\d{4})\b", text)
    assert len(ibans) >= 20 and len(cards) >= 20
    assert all(_iban_ok(i.replace(" ", "")) for i in ibans)
    assert all(_luhn_ok(re.sub(r"\D", "", c)) for c in cards)


def _mentions(labels: pd.DataFrame) -> pd.DataFrame:
    rows = labels[~labels["is_bad_row"] & labels["customer_id"].ne("")]
    return rows.assign(theme=rows["themes"].str.split(";")).explode("theme").query("theme != ''")


def test_planted_churn_effects(labels, customers, effects):
    mentions = _mentions(labels)
    drivers = set(effects["churn_model"]["churn_driver_themes"])
    driver_customers = set(mentions.loc[mentions["theme"].isin(drivers), "customer_id"])
    is_driver = customers["customer_id"].isin(driver_customers)
    rate_driver = customers.loc[is_driver, "churned"].mean()
    rate_other = customers.loc[~is_driver, "churned"].mean()
    assert rate_driver == pytest.approx(effects["realised"]["churn_rate_driver_mentioned"], abs=1e-4)
    assert 1.8 < rate_driver / rate_other < 3.5
    # Confounder: integration is an enterprise topic, and enterprise churns more.
    integ = set(mentions.loc[mentions["theme"] == "integration", "customer_id"])
    integ_segments = customers.loc[customers["customer_id"].isin(integ), "segment"]
    assert len(integ) >= 30 and (integ_segments == "enterprise").mean() > 0.6
    by_segment = customers.groupby("segment")["churned"].mean()
    assert by_segment["enterprise"] > 1.4 * by_segment["smb"]


def test_scores_follow_sentiment(labels, surveys, tickets):
    s = labels[labels["source"] == "survey"].reset_index(drop=True)
    ok = ~s["is_bad_row"]
    score = pd.to_numeric(surveys["score"], errors="coerce")[ok]
    themes = s.loc[ok, "themes"]
    praise_only = themes.isin(["praise_app", "praise_staff", "praise_app;praise_staff", "praise_staff;praise_app"])
    price_or_refund = themes.str.contains("price_fees|refund_slow")
    other_complaints = themes.isin(["double_charge", "app_crash", "slow_support", "card_delivery", "transfer_issues"])
    assert score[praise_only].mean() > 8.5
    assert score[price_or_refund].mean() < score[other_complaints].mean() - 1.0
    assert (score[price_or_refund] <= 6).mean() > 0.9
    t = labels[labels["source"] == "ticket"].reset_index(drop=True)
    csat = tickets["csat"].where(~t["is_bad_row"])
    assert csat[t["themes"].str.contains("price_fees|refund_slow")].mean() < csat[
        t["themes"].isin(["praise_app", "praise_staff"])
    ].mean()


@pytest.mark.slow  # regenerates the whole sample
def test_generator_is_deterministic(root: Path, sample: Path, tmp_path: Path):
    subprocess.run(
        [sys.executable, str(root / "scripts" / "make_sample_data.py"), "--seed", "7", "--out", str(tmp_path)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    for name in SAMPLE_FILES:
        if name.endswith(".parquet"):
            # Parquet bytes embed the writer's library versions: compare the content instead.
            pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / name), pd.read_parquet(sample / name))
        else:
            assert (tmp_path / name).read_bytes() == (sample / name).read_bytes(), name

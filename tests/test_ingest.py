"""Config loading, validation and quarantine of the ingest stage (no models)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml

from feedback_miner.config import ConfigError, load_config
from feedback_miner.ingest import InputError, ingest

INPUTS = Path(__file__).parent / "data" / "inputs"

REMAP = {
    "response_id": "id", "customer_id": "client", "submitted_at": "date", "score": "nps", "comment": "verbatim",
}


def write_config(tmp_path: Path, body: dict) -> Path:
    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump(body), encoding="utf-8")
    return path


def surveys_cfg(tmp_path: Path, **extra) -> Path:
    # The fixture is mostly bad rows, one of each kind: let it through the reject-share stop.
    src = {"path": str(INPUTS / "surveys_remapped.csv"), "columns": REMAP, **extra}
    return write_config(tmp_path, {"sources": {"surveys": src}, "ingest": {"max_reject_share": 1.0}})


# ------------------------------------------------------------------ config errors


def test_unknown_key_names_key_and_file(tmp_path):
    path = write_config(tmp_path, {"themes": {"min_cluster_sise": 5}})
    with pytest.raises(ConfigError) as e:
        load_config(path)
    assert "themes.min_cluster_sise" in str(e.value)
    assert str(path) in str(e.value)


def test_wrong_type_names_key(tmp_path):
    path = write_config(tmp_path, {"themes": {"min_cluster_size": "many"}})
    with pytest.raises(ConfigError, match=r"themes\.min_cluster_size"):
        load_config(path)


def test_bad_enum_and_missing_file(tmp_path):
    path = write_config(tmp_path, {"sources": {"surveys": {"path": "x.csv", "score_scale": "stars"}}})
    with pytest.raises(ConfigError, match="score_scale"):
        load_config(path)
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.yaml")


def test_relative_paths_resolve_against_config_file(tmp_path):
    cfg = load_config(write_config(tmp_path, {"run": {"output_dir": "out"}}))
    assert cfg.output_dir == (tmp_path / "out").resolve()
    assert cfg.store_path == (tmp_path / "out" / "feedback_miner.duckdb").resolve()


def test_config_hash_ignores_formatting(tmp_path):
    a = load_config(write_config(tmp_path, {"themes": {"seed": 1}}))
    (tmp_path / "b.yaml").write_text("# comment\nthemes:\n    seed: 1\n")
    assert a.config_hash() == load_config(tmp_path / "b.yaml").config_hash()


# ------------------------------------------------------------------ quarantine


@pytest.fixture()
def surveys(tmp_path):
    return ingest(load_config(surveys_cfg(tmp_path)))


@pytest.mark.parametrize(
    ("row", "column", "reason"),
    [
        (2, "date", "unparseable date"),
        (3, "nps", "NPS score out of range 0-10"),
        (4, "id", "missing id"),
        (5, "verbatim", "empty text"),
        (6, "id", "duplicate id"),
        (7, "nps", "not a number"),
    ],
)
def test_each_bad_row_kind_is_quarantined_with_reason(surveys, row, column, reason):
    q = surveys.quarantine
    hit = q[(q["row"] == row)]
    assert len(hit) == 1, q
    assert hit["column"].iloc[0] == column
    assert hit["reason"].iloc[0].startswith(reason)
    assert hit["file"].iloc[0].endswith("surveys_remapped.csv")


def test_good_rows_survive_with_remapped_columns(surveys):
    docs = surveys.documents
    assert sorted(docs["source_id"]) == ["R1", "R8"]
    r1 = docs.set_index("source_id").loc["R1"]
    assert r1["doc_id"] == "survey:R1"
    assert r1["customer_id"] == "C1"
    assert r1["score"] == 9 and r1["score_scale"] == "nps"
    assert r1["created_at"] == pd.Timestamp("2026-10-01", tz="UTC")
    assert '"country": "IT"' in r1["attributes"]
    # Anonymous answers are kept, without a customer.
    assert pd.isna(docs.set_index("source_id").loc["R8", "customer_id"])
    assert surveys.counts["surveys"] == {"read": 8, "valid": 2, "quarantined": 6, "fields_emptied": 0,
                                         "absent_columns": []}
    assert len(docs) + len(surveys.quarantine) == 8  # nothing lost


def test_csat_scale_changes_range(tmp_path):
    res = ingest(load_config(surveys_cfg(tmp_path, score_scale="csat")))
    # 9 is out of range on a 1-5 scale
    assert "CSAT score out of range 1-5" in set(res.quarantine["reason"])


# ------------------------------------------------------------------ formats and sources


def test_jsonl_tickets_broken_line_and_empty_text(tmp_path):
    cfg = load_config(write_config(tmp_path, {"sources": {"tickets": {"path": str(INPUTS / "tickets.jsonl")}},
                                              "ingest": {"max_reject_share": 1.0}}))
    res = ingest(cfg)
    q = res.quarantine.set_index("row")
    assert q.loc[2, "reason"].startswith("invalid JSON")
    assert q.loc[3, "reason"] == "empty text"
    assert q.loc[4, "reason"] == "CSAT score out of range 1-5"
    t1 = res.documents.set_index("source_id").loc["T1"]
    assert t1["subject"] == "Charged twice" and t1["score"] == 2
    assert '"channel": "email"' in t1["attributes"]
    assert res.skipped == ["surveys", "customers"]


def test_parquet_and_glob(tmp_path):
    df = pd.read_csv(INPUTS / "surveys_remapped.csv", dtype=str, keep_default_na=False)
    good = df[df["id"].isin(["R1", "R8"])]
    good.iloc[:1].to_parquet(tmp_path / "part-1.parquet")
    good.iloc[1:].to_parquet(tmp_path / "part-2.parquet")
    cfg = load_config(write_config(tmp_path, {"sources": {"surveys": {"path": "part-*.parquet", "columns": REMAP}}}))
    res = ingest(cfg)
    assert sorted(res.documents["source_id"]) == ["R1", "R8"]
    assert len(res.fingerprints) == 2


def test_customers_parquet_with_typed_columns(tmp_path):
    pd.DataFrame({
        "customer_id": ["C1", "C2", "C3", "C4"],
        "churned": [True, False, None, True],
        "segment": ["smb", "mid", "smb", "smb"],
        "revenue": [10.0, 20.0, 5.0, -1.0],
        "signup_at": pd.to_datetime(["2025-01-01", "2025-02-01", "2025-03-01", "2025-03-01"], utc=True),
    }).to_parquet(tmp_path / "c.parquet")
    res = ingest(load_config(write_config(tmp_path, {"sources": {"customers": {"path": "c.parquet"}}})))
    # A negative revenue empties the field only: the customer and its churn outcome stay.
    assert list(res.customers["customer_id"]) == ["C1", "C2", "C4"]
    q = res.quarantine.set_index("row")
    assert q.loc[3, "reason"] == "churned must be true/false" and not q.loc[3, "kept"]
    assert q.loc[4, "reason"].startswith("negative revenue") and q.loc[4, "kept"]
    assert res.customers["churned"].tolist() == [True, False, True]
    assert pd.isna(res.customers["revenue"].iloc[2])


def test_missing_required_column_is_input_error(tmp_path):
    (tmp_path / "s.csv").write_text("response_id,customer_id,submitted_at,score\nR1,C1,2026-01-01,5\n")
    cfg = load_config(write_config(tmp_path, {"sources": {"surveys": {"path": "s.csv"}}}))
    with pytest.raises(InputError, match=r"s\.csv: column 'comment' not found in surveys file"):
        ingest(cfg)


def test_no_file_matches_is_input_error(tmp_path):
    cfg = load_config(write_config(tmp_path, {"sources": {"surveys": {"path": "none-*.csv"}}}))
    with pytest.raises(InputError, match="no surveys file matches"):
        ingest(cfg)


def test_all_sources_absent_gives_empty_documents(tmp_path):
    res = ingest(load_config(write_config(tmp_path, {})))
    assert len(res.documents) == 0 and res.customers is None
    assert res.skipped == ["surveys", "tickets", "customers"]

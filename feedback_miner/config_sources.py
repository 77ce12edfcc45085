"""The config's input sections: where each source is and how its columns map, and the rules of ingest."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field, field_validator

from feedback_miner.config_file import Section

# ---------------------------------------------------------------- sources


class SurveyColumns(Section):
    """Names of the survey columns in the user's files (canonical name -> file column).

    Only ``comment`` is required. Any other column may be null (not in the file); a column left at
    its default name and absent from the file is treated the same way (README, Inputs).
    """

    response_id: str | None = "response_id"
    customer_id: str | None = "customer_id"
    submitted_at: str | None = "submitted_at"
    score: str | None = "score"
    comment: str = "comment"


class TicketColumns(Section):
    """Names of the ticket columns in the user's files (canonical name -> file column).

    Only ``body`` is required; any other column may be null (not in the file).
    """

    ticket_id: str | None = "ticket_id"
    customer_id: str | None = "customer_id"
    created_at: str | None = "created_at"
    subject: str | None = "subject"
    body: str = "body"
    resolved_at: str | None = "resolved_at"
    csat: str | None = "csat"
    channel: str | None = "channel"
    priority: str | None = "priority"


class CustomerColumns(Section):
    """Names of the customer columns in the user's files (canonical name -> file column)."""

    customer_id: str = "customer_id"
    churned: str = "churned"
    churned_at: str | None = "churned_at"
    segment: str | None = "segment"
    plan: str | None = "plan"
    revenue: str | None = "revenue"
    signup_at: str | None = "signup_at"


FileFormat = Literal["auto", "csv", "tsv", "parquet", "json", "jsonl", "xlsx"]


class _FileSource(Section):
    """Where a source's files are and how to read them (shared by every kind of source)."""

    path: str = Field(description="File path or glob; relative paths resolve against the config file.")
    format: FileFormat = Field(
        "auto", description="auto (from the extension: .csv .csv.gz .tsv .parquet .json .jsonl .xlsx), csv, tsv, "
        "parquet, json (a JSON array or JSON Lines, told apart by content; jsonl is the same) or xlsx."
    )
    encoding: str = Field(
        "auto", description="Text encoding of CSV/JSON files; auto: a byte order mark (UTF-8/UTF-16) if any, "
        "else UTF-8, else cp1252 (Windows Western, a superset of latin-1's letters)."
    )
    sheet: str | None = Field(None, description="xlsx: the sheet to read; None: the first one.")
    dayfirst: bool | None = Field(
        None, description="Dates like 01/08/2026: true day first, false month first; None: decided per file "
        "from the rows that are unambiguous (13/08 or 08/13), day first when none is."
    )
    date_format: str | None = Field(
        None, description="strptime format of every date of this source (e.g. '%d.%m.%Y %H:%M'); None: inferred."
    )


class SurveySource(_FileSource):
    """Open-ended survey answers (NPS or CSAT verbatims)."""

    score_scale: Literal["nps", "csat"] = Field("nps", description="nps: score is 0-10; csat: score is 1-5.")
    columns: SurveyColumns = SurveyColumns()


class TicketSource(_FileSource):
    """Support tickets; subject and body are both used, the subject as a statement of its own."""

    csat_scale: Literal["csat", "nps"] = Field("csat", description="Scale of the optional per-ticket csat column.")
    columns: TicketColumns = TicketColumns()


class CustomerSource(_FileSource):
    """One row per customer with the churn outcome and optional controls for the adjusted model."""

    columns: CustomerColumns = CustomerColumns()


class SourcesConfig(Section):
    """Inputs. Any source may be absent: the job does what the present ones allow."""

    surveys: SurveySource | None = None
    tickets: TicketSource | None = None
    customers: CustomerSource | None = None


class IngestConfig(Section):
    """Rules applied to every source while reading it."""

    max_reject_share: float = Field(
        0.5, ge=0.0, le=1.0, description="Stop (exit 2, summary by reason) when more than this share of a "
        "source's rows is quarantined: almost always a column mapping mistake."
    )
    min_date: str = Field("1990-01-01", description="Earlier dates are quarantined ('date before <min_date>').")
    future_days: float = Field(
        1.0, ge=0.0, description="Dates more than this many days after now are quarantined ('date in the future')."
    )
    max_document_chars: int = Field(
        20000, ge=100, le=500000, description="Longer texts (and ticket subjects) are cut to this many characters "
        "before NLP (at a word boundary); the manifest counts them. At most 500,000: spaCy refuses 1,000,000."
    )

    @field_validator("min_date")
    @classmethod
    def _date(cls, v: str) -> str:
        try:
            date.fromisoformat(v)
        except ValueError:
            raise ValueError(f"not a date: '{v}'") from None
        return v



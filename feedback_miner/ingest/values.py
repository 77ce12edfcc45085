"""Parsing of the values users' files really hold: ids, dates, money, whole-number scores.

Each function works on a whole column of text (as every reader produces) and returns parsed
values plus, where a value can be wrong, the reason per row ("" when fine).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

# Spellings of "no value" that spreadsheets and dataframes write into id columns.
NULL_TOKENS = {"nan", "none", "null", "nil", "n/a", "na", "#n/a", "undefined", "-", "--", "?"}

_DMY = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2}|\d{4})(?=$|[ T])(.*)$")
_EPOCH = re.compile(r"^\d{9,13}(\.\d+)?$")
_CURRENCY = re.compile(r"[€$£¥₹₽₺]|(?<![A-Za-z])(?:EUR|USD|GBP|RON|CHF|CAD|AUD|JPY|PLN|SEK|NOK|DKK|lei)(?![A-Za-z])")


def normalize_ids(raw: pd.Series) -> pd.Series:
    """Ids as text that link across formats: surrounding spaces dropped, ``10001.0`` (a float
    column) -> ``10001``, and NaN-like spellings (``NaN``, ``null``, ``None``, ``N/A``) -> ``""``."""
    s = raw.astype(str).str.strip()
    s = s.where(~s.str.lower().isin(NULL_TOKENS), "")
    return s.str.replace(r"^(-?\d+)\.0+$", r"\1", regex=True)


def _day_first(parts: pd.DataFrame) -> tuple[bool, pd.Series]:
    """Day/month order of one file's d/m/y dates and the rows that contradict it.

    The rows that are unambiguous (a first number above 12: day first; a second one: month
    first) decide; when both kinds occur the majority wins; when none does, day first (the
    order of en-GB, it, fr, ro)."""
    first, second = parts[0].astype(int), parts[1].astype(int)
    day_first_rows, month_first_rows = (first > 12) & (second <= 12), (second > 12) & (first <= 12)
    dayfirst = bool(day_first_rows.sum() >= month_first_rows.sum())
    return dayfirst, (month_first_rows if dayfirst else day_first_rows)


def _epoch(raw: pd.Series) -> pd.Series:
    num = pd.to_numeric(raw, errors="coerce")
    millis = num >= 1e11  # 1e11 s is the year 5138; 1e11 ms is 1973
    out = pd.to_datetime(num.where(~millis), unit="s", utc=True, errors="coerce")
    return out.fillna(pd.to_datetime(num.where(millis), unit="ms", utc=True, errors="coerce"))


def parse_dates(raw: pd.Series, dayfirst: bool | None = None, date_format: str | None = None
                ) -> tuple[pd.Series, pd.Series]:
    """Dates of one file (UTC) and the reason per row a non-empty value was not read.

    ``date_format`` (strptime) is used when given. Otherwise: epoch seconds/milliseconds,
    d/m/y forms in one day/month order for the whole file (``dayfirst``, or inferred), and any
    other form pandas reads (ISO 8601, "Jan 5 2026", ...)."""
    raw = raw.astype(str).str.strip()
    reasons = pd.Series("", index=raw.index, dtype=object)
    present = (raw != "") & ~raw.str.lower().isin(NULL_TOKENS)
    out = pd.Series(pd.NaT, index=raw.index, dtype="datetime64[us, UTC]")
    if date_format:
        out[present] = pd.to_datetime(raw[present], format=date_format, errors="coerce", utc=True)
    else:
        epoch = present & raw.str.fullmatch(_EPOCH.pattern)
        out[epoch] = _epoch(raw[epoch])
        parts = raw[present & ~epoch].str.extract(_DMY)
        dmy = parts[0].notna().reindex(raw.index, fill_value=False)
        if dmy.any():
            parts = parts[parts[0].notna()]
            inferred, contradicting = _day_first(parts)
            order = inferred if dayfirst is None else dayfirst
            day, month = (parts[0], parts[1]) if order else (parts[1], parts[0])
            year = parts[2].where(parts[2].str.len() == 4, "20" + parts[2])
            iso = year + "-" + month.str.zfill(2) + "-" + day.str.zfill(2) + parts[3]
            out[dmy] = pd.to_datetime(iso, errors="coerce", utc=True, format="mixed")
            if dayfirst is None:
                reasons[contradicting.index[contradicting]] = (
                    f"date contradicts the file's {'day/month' if order else 'month/day'} order")
        rest = present & ~epoch & ~dmy
        out[rest] = pd.to_datetime(raw[rest], errors="coerce", utc=True, format="mixed")
    reasons[present & out.isna() & (reasons == "")] = "unparseable date"
    return out.where(reasons == ""), reasons


def date_range_reasons(dates: pd.Series, min_date: str, future_days: float) -> pd.Series:
    """'date in the future' / 'date before <min_date>' per row ("" when in range or missing)."""
    now = pd.Timestamp.now(tz="UTC")
    low = pd.Timestamp(min_date, tz="UTC")
    reasons = np.where(dates > now + pd.Timedelta(days=future_days), "date in the future",
                       np.where(dates < low, f"date before {min_date}", ""))
    return pd.Series(reasons, index=dates.index, dtype=object)


def _money(value: str) -> float | None:
    s = _CURRENCY.sub("", value)
    s = re.sub(r"[\s\u00a0\u202f']", "", s)
    negative = s.startswith("-") or (s.startswith("(") and s.endswith(")"))
    s = s.strip("()+-")
    if not re.fullmatch(r"[\d.,]*\d[\d.,]*", s):
        return None
    if "," in s and "." in s:  # the later one is the decimal mark: 1.234,50 / 1,234.50
        thousands = "." if s.rfind(",") > s.rfind(".") else ","
        s = s.replace(thousands, "").replace(",", ".")
    elif "," in s:  # 1,234 and 1,234,567 are thousands; 12,50 is a decimal comma
        s = s.replace(",", "") if re.fullmatch(r"\d{1,3}(,\d{3})+", s) else s.replace(",", ".", 1)
    elif s.count(".") > 1:  # 1.234.567: thousands
        s = s.replace(".", "") if re.fullmatch(r"\d{1,3}(\.\d{3})+", s) else s
    try:
        number = float(s)
    except ValueError:
        return None
    return -number if negative else number


def parse_money(raw: pd.Series) -> pd.Series:
    """Amounts written as people write them: ``12,50``, ``€12``, ``1.234,50``, ``$1,234.50``,
    ``1 234,50 EUR``; NaN where empty or unreadable (the caller tells the two apart)."""
    raw = raw.astype(str).str.strip()
    plain = pd.to_numeric(raw.where(raw != ""), errors="coerce")
    todo = plain.isna() & (raw != "")
    if todo.any():
        plain[todo] = [np.nan if (m := _money(v)) is None else m for v in raw[todo]]
    return plain.astype(float)

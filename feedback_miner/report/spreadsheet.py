"""CSV cells that a spreadsheet will not run: the one escaping every CSV the job writes goes through."""

from __future__ import annotations

import pandas as pd

# A cell starting with one of these is a formula to Excel, LibreOffice and Google Sheets (CSV injection);
# tab and carriage return are on OWASP's list too.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def formula_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells starting with ``= + - @``, tab or CR get a leading ``'``.

    Numbers stay numbers (a negative number in a numeric column is not text and is not touched);
    spreadsheets show the quote-prefixed text as written.
    """
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(lambda v: "'" + v if isinstance(v, str) and v.startswith(FORMULA_STARTS) else v)
    return out

"""CSV/TSV text -> header and rows, recovering from a quote that is opened and never closed.

A comment that opens a quote and never closes it makes every CSV parser read the lines after it
as that comment's text, until the next quote character: those rows vanish into one row, under its
customer. Here such a record is detected (its continuation lines look like rows of the file:
the header's number of fields and a first field shaped like the file's row starts); the broken
row is quarantined and the lines after it are read again as rows.
"""

from __future__ import annotations

import csv
import io
import re
import sys
from collections import Counter
from dataclasses import dataclass, field

# A 2 MB comment is one row to cap later, not a reason to fail the file (csv's default limit is 128 KiB).
csv.field_size_limit(min(sys.maxsize, 2**31 - 1))

_DELIMITERS = (",", ";", "\t", "|")


@dataclass
class CsvRows:
    """Parsed rows with their 1-based data row numbers, and quarantine records of broken ones."""

    header: list[str]
    rows: list[list[str]] = field(default_factory=list)
    numbers: list[int] = field(default_factory=list)
    bad: list[dict] = field(default_factory=list)


class _Lines:
    """Iterator over physical lines that can be rewound (a new csv.reader then starts there)."""

    def __init__(self, lines: list[str]):
        self.lines = lines
        self.pos = 0

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        if self.pos >= len(self.lines):
            raise StopIteration
        self.pos += 1
        return self.lines[self.pos - 1]


def sniff_delimiter(header_line: str) -> str:
    """The candidate delimiter that splits the header line most often (comma when none does)."""
    counts = {d: len(next(csv.reader([header_line], delimiter=d), [])) for d in _DELIMITERS}
    best = max(_DELIMITERS, key=lambda d: (counts[d], d == ","))
    return best if counts[best] > 1 else ","


def _shape(value: str) -> str:
    # "000123" -> "9", "AB-12" -> "A-9", "revolut" -> "a": the pattern of a row's first field.
    s = re.sub(r"[0-9]+", "9", value)
    s = re.sub(r"[A-Z]+", "A", s)
    return re.sub(r"[a-z]+", "a", s)


def _row_like(line: str, ncols: int, delimiter: str, shapes: set[str]) -> bool:
    if line.count('"') % 2:
        return False
    fields = next(csv.reader([line], delimiter=delimiter), [])
    return len(fields) == ncols and _shape(fields[0]) in shapes


def _row_shapes(lines: list[str], ncols: int, delimiter: str) -> set[str]:
    """Shapes of the first field of lines that are whole rows by themselves (at least 10% of them)."""
    counts: Counter[str] = Counter()
    for line in lines:
        if line.count('"') % 2 == 0:
            fields = next(csv.reader([line], delimiter=delimiter), [])
            if len(fields) == ncols and fields[0].strip() and len(fields[0]) <= 64 and " " not in fields[0]:
                counts[_shape(fields[0])] += 1
    total = sum(counts.values())
    return {s for s, n in counts.items() if n >= 0.1 * total}


def parse_csv(text: str, delimiter: str | None = None) -> CsvRows:
    """Header and rows of a CSV text; rows with more fields than the header and rows whose quote
    never closes are quarantined, rows with fewer fields are padded with empty values."""
    lines = list(io.StringIO(text, newline=""))
    if not lines:
        return CsvRows(header=[])
    delimiter = delimiter or sniff_delimiter(lines[0])
    src = _Lines(lines)
    reader = csv.reader(src, delimiter=delimiter)
    out = CsvRows(header=next(reader))
    ncols = len(out.header)
    shapes = _row_shapes(lines[1:], ncols, delimiter) if ncols > 1 else set()
    row = 0
    while True:
        start = src.pos
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as e:
            row += 1
            out.bad.append(_bad(row, f"unreadable CSV row (line {start + 1}): {e}", lines[start]))
            src.pos, reader = start + 1, csv.reader(src, delimiter=delimiter)
            continue
        if not record or (len(record) == 1 and not record[0].strip()):
            continue  # blank line
        row += 1
        inner = lines[start + 1:src.pos]
        swallowed = sum(_row_like(line, ncols, delimiter, shapes) for line in inner) if shapes else 0
        if swallowed:
            out.bad.append(_bad(row, f"unbalanced quote: the field opened on line {start + 1} runs over "
                                     f"{swallowed} following line(s) that look like rows; those are read as rows",
                                lines[start]))
            src.pos, reader = start + 1, csv.reader(src, delimiter=delimiter)
            continue
        if len(record) > ncols:
            out.bad.append(_bad(row, f"{len(record)} fields where the header has {ncols} (line {start + 1})",
                                lines[start]))
            continue
        out.rows.append(record + [""] * (ncols - len(record)))
        out.numbers.append(row)
    return out


def _bad(row: int, reason: str, line: str) -> dict:
    return {"row": row, "column": "", "reason": reason, "value": line.strip()[:200]}

"""Bytes of a text file -> str (gzip, byte order marks, legacy encodings), and JSON records from text.

JSON is read by content, not by extension: a JSON array (pretty-printed or not), one object
holding a single list of records, JSON Lines, or concatenated (pretty-printed) objects.
"""

from __future__ import annotations

import codecs
import gzip
import json
import logging
from pathlib import Path

from feedback_miner.ingest.errors import InputError

log = logging.getLogger(__name__)

_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def read_bytes(path: Path) -> bytes:
    """The file's bytes, gunzipped when it is gzip (by its magic number, whatever the extension)."""
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        try:
            return gzip.decompress(data)
        except (OSError, EOFError) as e:
            raise InputError(f"{path}: broken gzip file: {e}") from None
    return data


def decode(path: Path, encoding: str = "auto") -> str:
    """Text of a CSV/JSON file. ``auto``: a byte order mark (UTF-8/16/32) if any, else UTF-8, else
    cp1252 (which reads latin-1 letters the same); anything else stops naming the file."""
    data = read_bytes(path)
    if encoding != "auto":
        try:
            return data.decode(encoding)
        except LookupError:
            raise InputError(f"{path}: unknown encoding '{encoding}' in the config") from None
        except UnicodeDecodeError as e:
            raise InputError(f"{path}: not {encoding} text (byte {e.start}): check 'encoding'") from None
    for bom, name in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(name)
            except UnicodeDecodeError as e:
                raise InputError(f"{path}: broken {name} text (byte {e.start})") from None
    if b"\x00" in data[:4096]:
        raise InputError(f"{path}: binary content or UTF-16 without a byte order mark; if it is text, "
                         "set 'encoding' (e.g. utf-16-le) for this source")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError as e:
        raise InputError(f"{path}: neither UTF-8 nor cp1252/latin-1 text (byte {e.start}); set 'encoding' "
                         "for this source") from None
    log.info("%s: not UTF-8, read as cp1252 (Windows Western / latin-1)", path)
    return text


def _bad(row: int, reason: str, value: str) -> dict:
    return {"row": row, "column": "", "reason": reason, "value": value.strip()[:200]}


def _records_of(doc: object) -> list | None:
    """The records of a whole-file JSON document: an array, or an object holding one array of objects."""
    if isinstance(doc, list):
        return doc
    if isinstance(doc, dict):
        lists = [v for v in doc.values() if isinstance(v, list) and v and all(isinstance(x, dict) for x in v)]
        return lists[0] if len(lists) == 1 else [doc]
    return None


def parse_json_records(text: str) -> tuple[list[dict], list[int], list[dict]]:
    """JSON objects in ``text`` with their row numbers (array position, or the line they start on),
    and quarantine records for what is not an object or not valid JSON (skipped to the next line)."""
    text = text.lstrip("\ufeff")
    try:
        records = _records_of(json.loads(text))
    except ValueError:
        records = None
    if records is not None:
        good = [(i, r) for i, r in enumerate(records, start=1) if isinstance(r, dict)]
        bad = [_bad(i, "not a JSON object", json.dumps(r)) for i, r in enumerate(records, start=1)
               if not isinstance(r, dict)]
        return [r for _, r in good], [i for i, _ in good], bad
    return _scan_objects(text)


def _scan_objects(text: str) -> tuple[list[dict], list[int], list[dict]]:
    # JSON Lines, or objects one after another (pretty-printed): decode from each position;
    # a broken one is quarantined with its line and reading resumes on the next line.
    decoder = json.JSONDecoder()
    records, rows, bad = [], [], []
    pos, n, line, counted = 0, len(text), 1, 0
    while True:
        while pos < n and text[pos] in " \t\r\n,":
            pos += 1
        if pos >= n:
            break
        line, counted = line + text.count("\n", counted, pos), pos
        try:
            obj, end = decoder.raw_decode(text, pos)
            if not isinstance(obj, dict):
                raise ValueError("not a JSON object")
        except ValueError as e:
            eol = text.find("\n", pos)
            eol = n if eol < 0 else eol
            bad.append(_bad(line, f"invalid JSON: {str(e).split(':')[0]}", text[pos:eol]))
            pos = eol + 1
            continue
        records.append(obj)
        rows.append(line)
        pos = end
    return records, rows, bad

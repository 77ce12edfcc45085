"""PII redaction with typed placeholders (``<EMAIL>``, ``<PHONE>``, ``<NATIONAL_ID>``, ``<ADDRESS>``,
``<PERSON>``, ...): :mod:`.patterns` for everything with a shape (regex + checksum), :mod:`.addresses`
for postal addresses, :mod:`.names` for person names (rules, word lists, spaCy NER).

The table of what is redacted, with examples and methods, is in docs/pii.md.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Sequence
from functools import cache

from feedback_miner.prepare.pii.checksums import cnp_ok, codice_fiscale_ok, iban_ok, luhn_ok, nir_ok
from feedback_miner.prepare.pii.names import (
    NER_PIPELINES,
    NameSpans,
    apply_person_spans,
    common_names,
    find_person_spans,
    load_ner,
    name_doc_counts,
    redact_name_patterns,
    redact_names_many,
    redact_names_ner,
)
from feedback_miner.prepare.pii.patterns import KINDS, PLACEHOLDER, PLACEHOLDER_RE, PatternRedactor, is_phone

__all__ = [
    "KINDS", "NER_PIPELINES", "PLACEHOLDER", "PLACEHOLDER_RE", "NameSpans", "PatternRedactor", "apply_person_spans",
    "attribute_kind", "cnp_ok", "codice_fiscale_ok", "common_names", "find_person_spans", "iban_ok", "is_phone",
    "load_ner", "luhn_ok", "name_doc_counts", "nir_ok", "pseudonymous_id", "redact_name_patterns", "redact_names_many",
    "redact_names_ner",
    "redact_texts",
]


# Column names (split at _ - . and spaces) that hold a person's name or an address as a whole value.
_NAME_COLUMN = frozenset({
    "name", "names", "fullname", "firstname", "lastname", "surname", "forename", "nome", "cognome", "nom",
    "prenom", "prénom", "nume", "prenume"
})
_ADDRESS_COLUMN = frozenset({
    "address", "addr", "indirizzo", "adresse", "adresa", "street", "strada", "rue", "via", "domicile",
    "domicilio", "residence", "residenza", "postcode", "zip", "cap"
})
_NOT_PERSONAL = frozenset({
    "product", "plan", "company", "brand", "app", "device", "model", "store", "file", "campaign", "channel",
    "team", "category", "tier"
})


@cache
def attribute_kind(column: str) -> str | None:
    """``PERSON`` or ``ADDRESS`` when an extra column's name says it holds one ("full_name", "Indirizzo")."""
    words = set(re.split(r"[\s_.\-]+", column.strip().lower()))
    if words & _NOT_PERSONAL:
        return None
    if words & _NAME_COLUMN or column.lower().replace("_", "") in _NAME_COLUMN:
        return "PERSON"
    if words & _ADDRESS_COLUMN:
        return "ADDRESS"
    return None


_CONTACT_ID = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+|\+?[\d ()./-]{8,20}")


def pseudonymous_id(customer_id: str) -> str:
    """An id that is an e-mail address or a phone number becomes ``cust-`` + a hash of its normal form
    (lower-cased e-mail, phone digits), the same in every source; other ids are returned unchanged."""
    value = customer_id.strip()
    if not _CONTACT_ID.fullmatch(value) or ("@" not in value and not is_phone(value)):
        return customer_id
    key = value.lower() if "@" in value else re.sub(r"\D", "", value).removeprefix("00")
    return "cust-" + hashlib.blake2b(key.encode(), digest_size=8, person=b"fm-customer").hexdigest()


def redact_texts(texts: Sequence[str], names: bool = True, counts: Counter[str] | None = None) -> list[str]:
    """Every rule-based redaction (patterns, then names unless ``names`` is off) of free texts that
    are not documents: attribute values, quarantined values. No NER (no language is known)."""
    redactor = PatternRedactor()
    out = redactor.redact_many(list(texts))
    if counts is not None:
        counts.update(redactor.counts_)
    if names:
        tally = counts if counts is not None else Counter()
        out = redact_names_many(out, tally)
    return out

"""Property: no generated e-mail, phone, card or IBAN embedded in random text survives redaction."""

from __future__ import annotations

import re
import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from feedback_miner.prepare.pii import PatternRedactor, luhn_ok

# Filler: words of letters and punctuation in the four languages, no digits (so that a digit run
# left in the output can only come from the planted value).
_LETTERS = string.ascii_letters + "àèéìòùâêîôûçăâîșț"
words = st.text(alphabet=_LETTERS + ".,;:!?'()-", min_size=1, max_size=12)
filler = st.lists(words, min_size=0, max_size=12).map(" ".join)
digits = st.text(alphabet=string.digits, min_size=1, max_size=1)


@st.composite
def emails(draw) -> str:
    local = draw(st.from_regex(r"[a-z][a-z0-9._+-]{0,15}[a-z0-9]", fullmatch=True))
    domain = draw(st.from_regex(r"[a-z][a-z0-9-]{0,10}[a-z0-9]", fullmatch=True))
    tld = draw(st.sampled_from(["com", "it", "fr", "ro", "co.uk", "org", "io"]))
    return f"{local}@{domain}.{tld}"


@st.composite
def phones(draw) -> str:
    d = lambda n: "".join(draw(digits) for _ in range(n))  # noqa: E731
    fmt = draw(st.integers(0, 6))
    if fmt == 0:  # +39 333 123 4567
        return f"+{draw(st.sampled_from(['39', '33', '40', '44', '1']))} {d(3)} {d(3)} {d(4)}"
    if fmt == 1:  # +40-744-123-456
        return f"+{draw(st.sampled_from(['39', '33', '40']))}-{d(3)}-{d(3)}-{d(3)}"
    if fmt == 2:  # 0040 721 234 567
        return f"00{draw(st.sampled_from(['39', '33', '40', '44']))} {d(3)} {d(3)} {d(3)}"
    if fmt == 3:  # (555) 123-4567
        return f"({draw(st.integers(2, 9))}{d(2)}) {d(3)}-{d(4)}"
    if fmt == 4:  # 06 12 34 56 78
        return f"0{draw(st.integers(1, 9))} {d(2)} {d(2)} {d(2)} {d(2)}"
    if fmt == 5:  # 0721 234 567
        return f"07{d(2)} {d(3)} {d(3)}"
    return f"+{draw(st.sampled_from(['39', '33', '40']))}{d(9)}"  # compact international


@st.composite
def cards(draw) -> str:
    length = draw(st.sampled_from([15, 16, 16, 19]))
    body = draw(st.sampled_from("23456")) + "".join(draw(digits) for _ in range(length - 2))
    check = next(c for c in string.digits if luhn_ok(body + c))
    number = body + check
    sep = draw(st.sampled_from(["", " ", "-"]))
    return sep.join(number[i : i + 4] for i in range(0, length, 4))


@st.composite
def ibans(draw) -> str:
    country = draw(st.sampled_from(["IT", "FR", "RO", "DE", "GB", "ES", "NL"]))
    bban = "".join(
        draw(st.sampled_from(string.ascii_uppercase + string.digits * 3)) for _ in range(draw(st.integers(12, 24)))
    )
    rearranged = bban + country + "00"
    check = 98 - int("".join(str(int(c, 36)) for c in rearranged)) % 97
    compact = f"{country}{check:02d}{bban}"
    if draw(st.booleans()):
        return " ".join(compact[i : i + 4] for i in range(0, len(compact), 4))
    return compact


pii = st.one_of(emails(), phones(), cards(), ibans())


def _core(value: str) -> str:
    """What must not survive: the value's letters and digits, separators removed."""
    return re.sub(r"[^0-9A-Za-z]", "", value)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(before=filler, value=pii, after=filler, glue=st.sampled_from([" ", ": ", " (", "\n", ", "]))
def test_no_pii_survives(before: str, value: str, after: str, glue: str):
    text = f"{before}{glue}{value} {after}"
    [out] = PatternRedactor().redact_many([text])
    assert value not in out
    digits_out = re.sub(r"\D", "", out)
    value_digits = re.sub(r"\D", "", value)
    # No long run of the planted digits is left (filler has no digits, so any digit came from it).
    assert len(digits_out) < 4 or digits_out not in value_digits or len(value_digits) < 6, (text, out)
    assert _core(value)[-6:] not in _core(out) or "@" in value, (text, out)


@settings(max_examples=100, deadline=None)
@given(values=st.lists(pii, min_size=1, max_size=5), sep=filler)
def test_batch_redaction_matches_one_by_one(values: list[str], sep: str):
    """Joining texts for one regex pass must not let a match cross from one text into the next."""
    texts = [f"{sep} {v}" for v in values]
    batch = PatternRedactor().redact_many(texts)
    single = [PatternRedactor().redact_many([t])[0] for t in texts]
    assert batch == single

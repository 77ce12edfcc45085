"""Pattern-based PII: URLs, e-mails (also obfuscated), IBANs, cards, national ids, account numbers,
addresses, IP addresses and phones.

The texts are joined with a separator that no pattern can cross, so each regex runs once per batch
instead of once per text. Candidates that look like a number are validated before they are replaced
(Luhn for cards, ISO 7064 mod-97 for IBANs, the check digits of CNP, codice fiscale and NIR, a
digit count and date/amount/id exclusions for phones), so order numbers, dates and amounts stay
readable. Patterns and context words follow Microsoft Presidio's predefined recognizers and
scrubadub's detectors where those exist.
"""

from __future__ import annotations

import ipaddress
import re
from collections import Counter
from collections.abc import Callable, Sequence

from feedback_miner.prepare.pii.addresses import ADDRESS
from feedback_miner.prepare.pii.checksums import cnp_ok, codice_fiscale_ok, iban_ok, luhn_ok, nir_ok

KINDS = ("URL", "EMAIL", "IBAN", "CARD", "NATIONAL_ID", "ACCOUNT", "ADDRESS", "IP", "PHONE", "PERSON")
PLACEHOLDER = {k: f"<{k}>" for k in KINDS}
#: Any placeholder the stage writes (for consumers that must skip them: keywords, labels).
PLACEHOLDER_RE = re.compile(r"<(?:" + "|".join(KINDS) + r")>")

# The separator contains no \w, \s, digit or letter, so no pattern below can match across it.
_SEP = "\x00\x01\x00"

_URL = re.compile(r"\b(?:https?://|www\.)[^\s<>\"'\x00]+[^\s<>\"'\x00.,;:!?)\]]")
# Scheme-less: a host with a known top-level domain followed by a path ("app.example.com/reset?token=...").
_TLD = r"(?:com|net|org|info|biz|io|app|dev|ai|co|me|ly|eu|it|fr|ro|uk|de|es|be|ch|nl|at|pt|us|ca|md)"
_BARE_URL = re.compile(
    rf"(?<![\w@.-])(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+{_TLD}(?::\d+)?/[^\s<>\"'\x00]*[^\s<>\"'\x00.,;:!?)\]]",
    re.I,
)
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}\b")
# Obfuscated: "mario.rossi [at] example [dot] it", "jane (at) mail.com", "john at example dot com". The
# address must end in a known top-level domain ("at this point in" is no address).
_AT = r"(?:\s*[\[({<]\s*(?:at|@|chiocciola|arobase)\s*[\])}>]\s*|\s+(?:at|chiocciola|arobase|arond)\s+|\s+@\s+)"
_DOT = r"(?:\s*[\[({<]\s*(?:dot|punto|point|punct)\s*[\])}>]\s*|\s+(?:dot|punto)\s+|\.)"
_OBFUSCATED_EMAIL = re.compile(
    rf"(?<![\w.+-])[\w.+-]*[\w]{_AT}[\w-]+(?:{_DOT}[\w-]+)*?{_DOT}{_TLD}(?:{_DOT}{_TLD})?\b",
    re.I,
)
# IBAN: two letters, two check digits, then up to 30 characters, compact or in groups of four.
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:[ .-]?[A-Z0-9]){10,30}\b", re.I)
# Card: 13-19 digits, optionally grouped by spaces, dots or dashes.
_CARD = re.compile(r"(?<![\d.,])\d(?:[ .-]?\d){12,22}(?![\d])")
# National ids. CNP (ro): 13 digits. NIR (fr): 13 characters + 2-digit key, often grouped.
# Codice fiscale (it): 6 letters, birth year/month/day, municipality, check letter (digits may be
# replaced by the letters LMNPQRSTUV when two people would share a code).
_CNP = re.compile(r"(?<![\w.,-])[1-9]\d{12}(?![\w])")
_NIR = re.compile(
    r"(?<![\w.,-])[12378][ .-]?\d{2}[ .-]?\d{2}[ .-]?(?:\d{2}|2[AB])[ .-]?\d{3}[ .-]?\d{3}[ .-]?\d{2}(?!\w)", re.I
)
_CF_DIGIT = "[0-9LMNPQRSTUV]"
_CODICE_FISCALE = re.compile(
    rf"(?<!\w)[A-Z]{{6}}{_CF_DIGIT}{{2}}[ABCDEHLMPRST]{_CF_DIGIT}{{2}}[A-Z]{_CF_DIGIT}{{3}}[A-Z](?!\w)", re.I
)
# Account / customer numbers after a phrase that names them (the phrase is kept, the number goes).
_ACCOUNT = re.compile(
    r"(?P<lead>\b(?i:(?:(?:bank\s+)?account|customer|client|member(?:ship)?|contract|policy|subscriber|"
    r"subscription|user|loyalty(?:\s+card)?)\s*(?:number|no\.?|nr\.?|num\.?|#|id|code|n°)|"
    r"(?:numero|num\.|n\.|nr\.?|codice|id|n°)\s*(?:di\s+|del\s+|dell'\s*)?(?:cliente|conto|contratto|utenza|"
    r"tessera|abbonato|polizza|utente|fornitura)|"
    r"(?:num[ée]ro|n°|no\.?|identifiant|r[ée]f[ée]rence|code)\s*(?:de\s+|du\s+|d'\s*)?(?:client|compte|contrat|"
    r"adh[ée]rent|abonn[ée]|abonnement|fid[ée]lit[ée])|"
    r"(?:num[ăa]r(?:ul)?|nr\.?|cod(?:ul)?|id(?:-ul)?)\s*(?:de\s+)?(?:client|cont|contract|abonat|"
    r"abonament|fidelitate))"
    r"(?:\s*(?::|=|#|-)\s*|\s+(?i:is|è|e|est|este|it's|:)\s*:?\s*|\s+)(?i:n[or°.]\s*)?)"
    r"(?P<value>(?:[A-Z]{1,4}[-/ ]?)?\d[\dA-Z]*(?:[ ./-]?[\dA-Z]*\d[\dA-Z]*)*)",
    re.I,
)
_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_IPV4 = re.compile(rf"(?<![\d.])(?:{_OCTET}\.){{3}}{_OCTET}(?![\d.]\d)")
_IPV6 = re.compile(r"(?<![\w:])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![\w:])")
# Phone candidate: optional + / 00 / (, then digits with spaces, dots, dashes, slashes and parentheses.
_PHONE = re.compile(r"(?<![\w+/.,-])(?:\+|\(\+?)?\d[\d ()./-]{5,22}\d(?![\w/]|[.,]\d)")
_DATE_START = re.compile(r"^(?:\d{4}[./-]\d{1,2}[./-]\d{1,2}|\d{1,2}[./-]\d{1,2}[./-](?:\d{4}|\d{2}))(?!\d)")
# French (and Romanian) national numbers in pairs: 06 12 34 56 78, 06.12.34.56.78, 06-12-34-56-78.
_PAIRED_NATIONAL = re.compile(r"^0\d(?:[ ./-]?\d\d){4}$")
_THOUSANDS = re.compile(r"^\d{1,3}(?:([., ])\d{3})(?:\1\d{3})*$")
_ID_CONTEXT = re.compile(
    r"(?:#|\b(?:order|ordine|commande|comanda|comandă|ticket|invoice|fattura|facture|factura|factură|"
    r"id|ref|nr|no|n°|num|pratica|dossier|contract|contratto|contrat|account|cont|compte|conto|"
    r"tracking|awb|iban|cod)\.?\s*(?:n[or°.]*\s*)?[:#]?\s*)$",
    re.I,
)
_PHONE_CONTEXT = re.compile(
    r"\b(?:tel|tél|phone|telephone|téléphone|telefono|telefon|cell|cellulare|mobile|mobil|portable|"
    r"numéro|numero|număr|numar|call|chiamare|sunați|sunati|whatsapp|appelez|rappeler|joindre)\b[^\n]{0,20}$",
    re.I,
)
_SEPARATORS = re.compile(r"[ .-]+")


def _best_subspan(candidate: str, ok: Callable[[str], bool], min_len: int, max_len: int) -> tuple[int, int] | None:
    """Longest span aligned on group boundaries whose compact form passes ``ok``.

    Needed because a candidate regex may swallow a neighbouring token ("ref 12 4111 1111 1111 1111"):
    the valid number inside must still be found.
    """
    starts = [0] + [m.end() for m in _SEPARATORS.finditer(candidate)]
    ends = [m.start() for m in _SEPARATORS.finditer(candidate)] + [len(candidate)]
    best = None
    for s in starts:
        for e in ends:
            if e <= s or (best is not None and e - s <= best[1] - best[0]):
                continue
            compact = _SEPARATORS.sub("", candidate[s:e])
            if min_len <= len(compact) <= max_len and ok(compact):
                best = (s, e)
    return best


def is_phone(candidate: str, before: str = "") -> bool:
    """Is a digit run a phone number? ``before`` is the text just before it (for id/phone keywords).

    Accepts international (+39 ..., 0040 ...), grouped national (06 12 34 56 78, 06.12.34.56.78,
    (555) 123-4567, 0721 234 567) and compact national numbers starting with 0; rejects dates,
    grouped amounts (1.234.567) and numbers introduced as an order/ticket/invoice id.
    """
    digits = re.sub(r"\D", "", candidate)
    n = len(digits)
    intl = candidate.startswith(("+", "(+")) or digits.startswith("00")
    if intl:
        return 8 <= n <= 15
    if not 9 <= n <= 13:
        return False
    stripped = candidate.strip()
    if _PAIRED_NATIONAL.match(stripped) and not (_ID_CONTEXT.search(before) and not _PHONE_CONTEXT.search(before)):
        return True
    if _DATE_START.match(stripped) or _THOUSANDS.match(stripped):
        return False
    if _ID_CONTEXT.search(before) and not _PHONE_CONTEXT.search(before):
        return False
    grouped = bool(re.search(r"[ ()./-]", stripped))
    if grouped or _PHONE_CONTEXT.search(before):
        return True
    # An ungrouped run: national numbers start with 0 (it/fr/ro landlines and mobiles, UK) or are
    # Italian mobiles (3xx, 10 digits); other bare runs are more often ids than phones.
    return digits.startswith("0") or (n == 10 and digits.startswith("3"))


class PatternRedactor:
    """Regex + checksum redaction of the pattern kinds of :data:`KINDS` (all but PERSON).

    ``redact_many`` returns the redacted texts; ``counts_`` (a :class:`collections.Counter`) sums
    the replacements per kind over every call. URLs become ``<URL>`` (cleaning, not PII, but
    counted the same way).
    """

    def __init__(self) -> None:
        self.counts_: Counter[str] = Counter()

    def _validated(self, kind: str, ok: Callable[[str], bool], lo: int, hi: int) -> Callable[[re.Match[str]], str]:
        def repl(m: re.Match[str]) -> str:
            cand = m.group(0)
            span = _best_subspan(cand, ok, lo, hi)
            if span is None:
                return cand
            self.counts_[kind] += 1
            s, e = span
            return cand[:s] + PLACEHOLDER[kind] + cand[e:]

        return repl

    def _checked(self, kind: str, ok: Callable[[str], bool]) -> Callable[[re.Match[str]], str]:
        def repl(m: re.Match[str]) -> str:
            if not ok(_SEPARATORS.sub("", m.group(0))):
                return m.group(0)
            self.counts_[kind] += 1
            return PLACEHOLDER[kind]

        return repl

    def _account(self, m: re.Match[str]) -> str:
        value = m.group("value")
        if sum(c.isdigit() for c in value) < 4:
            return m.group(0)
        self.counts_["ACCOUNT"] += 1
        return m.group("lead") + PLACEHOLDER["ACCOUNT"]

    def _ipv6(self, m: re.Match[str]) -> str:
        try:
            ipaddress.IPv6Address(m.group(0))
        except ValueError:
            return m.group(0)
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

    def redact_many(self, texts: Sequence[str], urls: bool = True, pii: bool = True) -> list[str]:
        """Redact a batch of texts (placeholders replace matches); updates ``counts_``."""
        if not texts:
            return []
        blob = _SEP.join(t.replace("\x00", "") for t in texts)
        if urls:
            blob = _URL.sub(self._simple("URL"), blob)
        if pii:
            blob = _EMAIL.sub(self._simple("EMAIL"), blob)
            blob = _OBFUSCATED_EMAIL.sub(self._simple("EMAIL"), blob)
        if urls or pii:  # a path's query string may carry a token or an e-mail
            blob = _BARE_URL.sub(self._simple("URL"), blob)
        if pii:
            blob = self._numbers(blob)
        out = blob.split(_SEP)
        assert len(out) == len(texts)
        return out

    def _numbers(self, blob: str) -> str:
        """The kinds made of digits, most specific first (a CNP is also a 13-digit Luhn candidate)."""
        blob = _CODICE_FISCALE.sub(self._checked("NATIONAL_ID", codice_fiscale_ok), blob)
        blob = _NIR.sub(self._checked("NATIONAL_ID", nir_ok), blob)
        blob = _CNP.sub(self._checked("NATIONAL_ID", cnp_ok), blob)
        blob = _IBAN.sub(self._validated("IBAN", iban_ok, 15, 34), blob)
        blob = _CARD.sub(self._validated("CARD", lambda d: d[0] in "23456" and luhn_ok(d), 13, 19), blob)
        blob = _ACCOUNT.sub(self._account, blob)
        blob = ADDRESS.sub(self._simple("ADDRESS"), blob)
        blob = _IPV4.sub(self._simple("IP"), blob)
        if "::" in blob or re.search(r"[0-9a-fA-F]{1,4}:[0-9a-fA-F]{1,4}:", blob):
            blob = _IPV6.sub(self._ipv6, blob)
        return _PHONE.sub(self._phone, blob)

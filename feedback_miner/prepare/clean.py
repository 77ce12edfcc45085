"""Cleaning of ticket and survey text: HTML, reply chains, signatures, boilerplate, non-answers.

Everything here works on plain ``str`` values and lists of them; regexes are compiled once at
import. Cutting rules are conservative: a marker only cuts when real text stays before it, so a
message that is *only* a forward or a quote keeps its content rather than becoming empty.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence

# ---------------------------------------------------------------- HTML

_HTML_HINT = re.compile(r"<\s*/?\s*[a-zA-Z!][^>]*>")
_HTML_DROP = re.compile(r"<(script|style|head|title)\b[^>]*>.*?</\1\s*>", re.I | re.S)
# Quoted history in HTML mail clients (Gmail, Apple Mail, Outlook web).
_HTML_QUOTE = re.compile(
    r"<blockquote\b[^>]*>.*?</blockquote\s*>|<div[^>]*class=\"?(?:gmail_quote|moz-cite-prefix)[^>]*>.*",
    re.I | re.S,
)
_HTML_BREAK = re.compile(r"<\s*br\s*/?\s*>|</\s*(?:p|div|li|tr|h[1-6]|table|ul|ol)\s*>", re.I)
_HTML_TAG = re.compile(r"<!--.*?-->|<\s*/?\s*[a-zA-Z][^>]*>", re.S)
_INVISIBLE = re.compile(r"[\u200b-\u200f\u2060\ufeff\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def strip_html(text: str) -> str:
    """Turn an HTML body into text: drop scripts/styles and quoted blocks, keep line breaks.

    Entities are decoded for every text (plain-text exports often carry ``&amp;`` too).
    """
    if _HTML_HINT.search(text):
        text = _HTML_DROP.sub(" ", text)
        text = _HTML_QUOTE.sub("\n", text)
        text = _HTML_BREAK.sub("\n", text)
        text = _HTML_TAG.sub(" ", text)
    if "&" in text:
        text = html.unescape(text)
    return text


def normalize_whitespace(text: str) -> str:
    """NFC, no invisible characters, single spaces inside lines, at most one empty line in a row."""
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = _INVISIBLE.sub("", text).replace("\xa0", " ").replace("\t", " ")
    text = re.sub(r" {2,}", " ", text)
    text = re.sub(r" *\n *", "\n", text)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip()


# ---------------------------------------------------------------- reply chains and forwards

# A reply marker cuts the message there: what follows is history written by someone else.
_REPLY_MARKERS = [
    r"On\b[^\n]{0,200}?(?:\n[^\n]{0,120}?)?\bwrote\s*:",  # may wrap over two lines
    r"Il\b[^\n]{0,200}?(?:\n[^\n]{0,120}?)?\bha scritto\s*:",
    r"Le\b[^\n]{0,200}?(?:\n[^\n]{0,120}?)?\ba [ée]crit\s*:",
    r"(?:În data de|Pe)\b[^\n]{0,200}?(?:\n[^\n]{0,120}?)?\ba scris\s*:",
    r"-{2,}\s*(?:Original Message|Messaggio originale|Message d'origine|Message original"
    r"|Mesaj(?:ul)? original)\s*-{2,}",
    r"_{5,}\s*\n(?:From|Da|De|De la)\s*:",  # Outlook rule line followed by a header
    # Outlook header block without a rule line: From: ... then Sent:/Date: on a following line.
    r"(?:From|Da|De|De la)\s*:[^\n]*\n(?:[^\n]*\n){0,2}?(?:Sent|Date|Inviato|Data|Envoyé|Trimis)\s*:",
]
_REPLY = re.compile(r"^[ \t]*(?:" + "|".join(_REPLY_MARKERS) + ")", re.M | re.I)
_QUOTED_LINE = re.compile(r"^[ \t]*>.*(?:\n|$)", re.M)
# A forward marker and its header block are dropped; the forwarded body is the customer's words.
_FORWARD = re.compile(
    r"^[ \t]*-{2,}\s*(?:Forwarded message|Messaggio inoltrato|Message transf[ée]r[ée]|Mesaj redirecționat"
    r"|Mesaj transmis|Begin forwarded message)\s*-{0,}\s*:?[ \t]*\n"
    r"(?:[ \t]*(?:From|To|Cc|Date|Sent|Subject|Da|A|Data|Inviato|Oggetto|De|À|Envoyé|Objet|Date|"
    r"De la|Către|Trimis|Subiect|Dată)\s*:[^\n]*\n)*",
    re.M | re.I,
)

# ---------------------------------------------------------------- signatures and legal footers

_SIGNATURE_MARKERS = [
    r"--[ \t]*$",  # RFC 3676 signature delimiter
    r"(?:Sent|Envoyé|Inviato|Trimis)\s+(?:from|de(?:puis)?|da|dal|dalla|de pe|din|via)\b[^\n]{0,40}"
    r"(?:iPhone|iPad|Android|Samsung|Galaxy|mobile|cellulare|smartphone|portable|Outlook|Mail|telefon)[^\n]*$",
    r"Get Outlook for[^\n]*$",
    r"Scarica Outlook[^\n]*$",
    # Closing lines on their own: everything after them is name, title, phone, footer.
    r"(?:Best|Kind|Warm|Many thanks and)?\s*regards[,.!]?[ \t]*$",
    r"(?:Best wishes|Cheers|Sincerely|Yours (?:sincerely|faithfully))[,.!]?[ \t]*$",
    r"(?:Cordiali|Distinti|Cari)?\s*saluti[,.!]?[ \t]*$",
    r"(?:Bien )?cordialement[,.!]?[ \t]*$",
    r"(?:Bien à vous|Salutations(?: distinguées)?|Sincères salutations)[,.!]?[ \t]*$",
    r"Cu (?:stimă|stima|respect|drag)[,.!]?[ \t]*$",
    r"(?:O zi (?:bună|buna|frumoasă|frumoasa)|Toate cele bune|Buona giornata|Buona serata|Un saluto|A presto|"
    r"Bonne (?:journée|soirée)|Have a (?:nice|good|great) day)[,.!]?[ \t]*$",
    r"(?:Thanks|Thank you|Many thanks|Grazie|Merci|Mulțumesc|Multumesc|Vă mulțumesc)[ \t]*,[ \t]*$",
    # Thanks with a closing tail: "Thanks in advance", "Grazie mille", "Mulțumesc anticipat".
    r"(?:Thanks|Thank you|Grazie|Merci|Mulțumesc|Multumesc|Vă mulțumesc)[ \t]+(?:in advance|again|a lot|so much|"
    r"mille|in anticipo|anticipatamente|d'avance|d’avance|beaucoup|par avance|anticipat|frumos|mult)[,.!]?[ \t]*$",
    # Legal footers and their usual openings.
    r"(?:CONFIDENTIALITY NOTICE|DISCLAIMER|AVVISO DI RISERVATEZZA|AVERTISSEMENT)\b[^\n]*",
    r"This (?:e-?mail|message)(?: and any (?:attachments?|files)[^\n]{0,40})? (?:is|are|may be|contains?)"
    r"[^\n]{0,40}confidential[^\n]*",
    r"Questo messaggio[^\n]{0,80}(?:riservat|confidenzial)[^\n]*",
    r"(?:Ce message|Ce courriel)[^\n]{0,80}confidentiel[^\n]*",
    r"Acest (?:mesaj|e-?mail)[^\n]{0,80}confiden[țt]ial[^\n]*",
    r"Please consider the environment before printing[^\n]*",
]
_SIGNATURE = re.compile(r"^[ \t]*(?:" + "|".join(_SIGNATURE_MARKERS) + ")", re.M | re.I)


def _cut_at(text: str, pattern: re.Pattern[str]) -> str:
    """Cut ``text`` at the first match of ``pattern`` that has real text before it."""
    for m in pattern.finditer(text):
        head = text[: m.start()]
        if re.search(r"\w", head):
            return head
    return text


def strip_quoted(text: str) -> str:
    """Remove quoted reply history ("On … wrote:", "> " lines, Outlook headers) and forward headers."""
    text = _FORWARD.sub("\n", text)
    text = _cut_at(text, _REPLY)
    if ">" in text:
        unquoted = _QUOTED_LINE.sub("", text)
        if re.search(r"\w", unquoted):
            text = unquoted
    return text


# Any short sign-off line ending in a comma, then a line of one to four capitalized words (a name),
# then at most three short lines (title, company, phone) up to the end: a signature in any language.
_NAME_LINE = r"[A-ZÀ-ÖØ-ÞĂÂÎȘŞȚŢ][\w'’.-]*(?:[ \t]+[A-ZÀ-ÖØ-ÞĂÂÎȘŞȚŢ&][\w'’.&-]*){0,3}"
_TRAILING_SIGNOFF = re.compile(
    r"\n[ \t]*[^\n.?!:]{1,30},[ \t]*\n[ \t]*" + _NAME_LINE + r"[ \t]*(?:\n[^\n]{0,60}){0,3}\s*\Z"
)


def strip_signature(text: str) -> str:
    """Cut the signature, sign-off and legal footer at the first marker that follows real text."""
    text = _cut_at(text, _SIGNATURE)
    m = _TRAILING_SIGNOFF.search(text)
    if m and re.search(r"\w", text[: m.start()]):
        text = text[: m.start()]
    return text


# Ticket subjects: "Re:", "Fwd:", "R:" (it), "TR:" (fr), "I:" (it forward), repeated.
_SUBJECT_PREFIX = re.compile(r"^(?:\s*(?:re|fw|fwd|r|i|tr|rif|ref|aw|wg)\s*(?:\[\d+\])?\s*:\s*)+", re.I)


def clean_subject(subject: str) -> str:
    """A ticket subject without reply/forward prefixes and markup."""
    return normalize_whitespace(_SUBJECT_PREFIX.sub("", strip_html(subject))).replace("\n", " ")


# A salutation alone on the first line ("Hi team,", "Bonjour Madame, Monsieur,", "Stimate domn/doamnă,").
_GREETING = re.compile(
    r"\A[ \t]*(?:hi|hello|hey|dear|good (?:morning|afternoon|evening)|ciao|salve|gentile|gentili|egregio|"
    r"buongiorno|buonasera|bonjour|bonsoir|salut|madame|monsieur|cher|chère|bună ziua|buna ziua|bună|buna|"
    r"salutare|stimate|stimată|stimați|dragă)\b[^\n.?!]{0,40}[,!:]?[ \t]*\n",
    re.I,
)


def strip_greeting(text: str) -> str:
    """Drop a salutation line at the top when more text follows it."""
    m = _GREETING.match(text)
    if m and re.search(r"\w", text[m.end() :]):
        return text[m.end() :]
    return text


def clean_body(text: str) -> str:
    """HTML, quoted history, forward headers, salutation and signature removed; whitespace normalized."""
    text = strip_html(text)
    text = normalize_whitespace(text)
    text = strip_quoted(text)
    text = strip_signature(text)
    text = strip_greeting(text.lstrip())
    return normalize_whitespace(text)


# ---------------------------------------------------------------- boilerplate by frequency

_BOILER_KEY_PUNCT = re.compile(r"[\W_]+")


def _line_key(line: str) -> str:
    # Numbers and punctuation vary inside macros ("ticket #12345"): compare without them.
    return _BOILER_KEY_PUNCT.sub(" ", re.sub(r"\d+", "0", line.lower())).strip()


def find_boilerplate(texts: Iterable[str], min_docs: int, min_chars: int = 20) -> set[str]:
    """Line keys that occur in at least ``min_docs`` documents (agent macros, auto-replies, footers).

    A line is only a candidate when its document has other content: a short survey answer that
    many customers happen to write ("The app keeps crashing") is the whole document and is a
    signal, not boilerplate.
    """
    counts = boilerplate_counts(texts, min_chars)
    return {k for k, n in counts.items() if n >= min_docs and k}


def boilerplate_counts(texts: Iterable[str], min_chars: int = 20) -> Counter[str]:
    """In how many of ``texts`` each candidate line key occurs (counts of partitions add up)."""
    counts: Counter[str] = Counter()
    for text in texts:
        lines = [ln for ln in text.split("\n") if ln.strip()]
        if len(lines) < 2:
            continue
        counts.update({_line_key(ln) for ln in lines if len(ln) >= min_chars})
    return counts


def remove_boilerplate(text: str, keys: set[str]) -> tuple[str, int]:
    """Drop lines whose key is in ``keys``; returns the text and the number of lines removed."""
    if not keys:
        return text, 0
    kept, removed = [], 0
    for line in text.split("\n"):
        if line.strip() and _line_key(line) in keys:
            removed += 1
        else:
            kept.append(line)
    return "\n".join(kept).strip(), removed


# ---------------------------------------------------------------- non-answers

# Compared after lower-casing and replacing punctuation by spaces ("N/A" -> "n a").
NON_ANSWERS: frozenset[str] = frozenset(
    [
        "na", "n a", "nd", "n d", "none", "nothing", "no", "nope", "nil", "null", "no comment",
        "no comments", "nothing to add", "nothing else", "nothing to say", "nothing really",
        "not really", "no idea", "dont know", "don t know", "idk", "nothing special",
        "no thanks", "no thank you", "none at all", "nothing at all", "not applicable",
        "niente", "nulla", "nessuno", "nessuna", "niente da aggiungere", "niente da dire",
        "nessun commento", "nulla da segnalare", "nulla da aggiungere", "non so", "boh",
        "niente di particolare", "nulla di particolare",
        "rien", "rien à signaler", "rien à dire", "rien à ajouter", "ras", "aucun", "aucune",
        "aucun commentaire", "néant", "sans commentaire", "je ne sais pas", "non",
        "pas de commentaire", "rien de particulier",
        "nimic", "nu", "nimic de adăugat", "nimic de spus", "niciun comentariu", "fără comentarii",
        "fara comentarii", "nu știu", "nu stiu", "nu e cazul", "nu este cazul", "nimic special",
        "nu am", "nu am nimic", "nu am nimic de adăugat", "nu am comentarii", "nimic deosebit",
    ]
)  # fmt: skip
_NON_ANSWER_STRIP = re.compile(r"[\W_]+")


def is_non_answer(text: str) -> bool:
    """True for an empty answer, pure punctuation, or a known non-answer phrase in en/it/fr/ro."""
    key = _NON_ANSWER_STRIP.sub(" ", text.lower().replace("<url>", " ")).strip()
    return not key or key in NON_ANSWERS


def clean_many(texts: Sequence[str]) -> list[str]:
    """:func:`clean_body` over a list (kept as a function so the stage can swap in a parallel map)."""
    return [clean_body(t) for t in texts]

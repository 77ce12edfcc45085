"""Theme names in customers' own words: the most telling short phrase its statements share.

A name is a run of 2-6 words that customers wrote (surface forms, never lemmas; placeholders
such as ``<PERSON>`` and numbers are clause breaks), taken inside one clause, neither starting
nor ending with a stop word. Each candidate phrase of a theme is scored by

    coverage (share of the theme's statements that contain it)
    x precision (share of the statements containing it, over all themes compared, that are this theme's)
    x centrality (mean cosine of those statements to the theme centroid, over the theme's mean)
    x a mild bonus per word (longer phrases say more, e.g. "charged twice for one payment")

so a name is frequent in its theme, rare elsewhere and said by its typical members. Its case is
the form customers used most often. Where no phrase of two words or more is shared by two
statements, the name is the shortest of the theme's most central statements, cut to six words.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from functools import lru_cache

import numpy as np

MAX_WORDS = 6
_PLACEHOLDER = re.compile(r"<[A-Z_]+>")
# Clause breaks: punctuation, placeholders, numbers, symbols; words keep inner apostrophes and hyphens.
_CLAUSE = re.compile(r"[.,;:!?()\[\]{}\"“”«»/\\|…\n\r\t•*#@+=<>~^]+|\s[-–—]+\s|\d+")
_WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")
_LENGTH_BONUS = 0.15  # per word beyond two


@lru_cache(maxsize=16)
def stop_words(lang: str) -> frozenset[str]:
    """spaCy's stop words of ``lang`` (empty for a language spaCy does not know)."""
    try:
        from spacy.util import get_lang_class

        return frozenset(w.lower() for w in get_lang_class(lang).Defaults.stop_words)
    except Exception:  # unknown code ("und", "xx", ...)
        return frozenset()


def clauses(text: str) -> list[list[str]]:
    """Words of each clause of ``text``, as written."""
    text = _PLACEHOLDER.sub(" | ", text)
    return [words for part in _CLAUSE.split(text) if (words := _WORD.findall(part))]


def phrases(text: str, stop: frozenset[str], max_words: int = MAX_WORDS) -> dict[tuple[str, ...], str]:
    """Candidate phrases of one statement: lower-cased word tuples -> the words as written.

    Runs of 1..``max_words`` words inside a clause that neither start nor end with a stop word or
    a one-letter word.
    """
    out: dict[tuple[str, ...], str] = {}
    for words in clauses(text):
        low = [w.lower() for w in words]
        # "what's", "l'app": a word whose part before the apostrophe is a stop word is one too
        edge = [w in stop or len(w) < 2 or re.split(r"['’]", w)[0] in stop for w in low]
        for i in range(len(words)):
            if edge[i]:
                continue
            for j in range(i, min(len(words), i + max_words)):
                if not edge[j]:
                    out.setdefault(tuple(low[i : j + 1]), " ".join(words[i : j + 1]))
    return out


class PhraseNamer:
    """Names groups of statements (see the module docstring); estimator-like.

    ``fit(texts, keys, centrality, lang)``: one language's statements, the group of each (None:
    a statement that only counts against the others) and each statement's cosine to its group's
    centroid. After it, ``names_`` maps each group to its name.
    """

    def __init__(self, min_words: int = 2, max_words: int = MAX_WORDS, min_statements: int = 2):
        self.min_words = min_words
        self.max_words = max_words
        self.min_statements = min_statements

    def fit(
        self, texts: Sequence[str], keys: Sequence[object], centrality: np.ndarray, lang: str, taken: Sequence[str] = ()
    ) -> PhraseNamer:
        """Name every group of ``keys`` from ``texts``; ``taken`` are names the groups must not repeat."""
        stop = stop_words(lang)
        df: Counter = Counter()  # statements containing a phrase, all groups together
        by_key: dict[object, dict[tuple[str, ...], list[float]]] = defaultdict(lambda: defaultdict(list))
        written: dict[tuple[str, ...], Counter] = defaultdict(Counter)
        members: dict[object, list[int]] = defaultdict(list)
        for i, (text, key) in enumerate(zip(texts, keys, strict=True)):
            found = phrases(str(text), stop, self.max_words)
            df.update(found.keys())
            if key is None:
                continue
            members[key].append(i)
            for p, form in found.items():
                by_key[key][p].append(float(centrality[i]))
                written[p][form] += 1
        used = {t.lower() for t in taken}
        self.names_: dict[object, str] = {}
        for key in sorted(members, key=str):
            rows = members[key]
            mean_c = max(float(np.mean(centrality[rows])), 1e-6)
            ranked = self._ranked(by_key[key], df, len(rows), mean_c)
            name = next((self._form(p, written) for p in ranked if self._form(p, written).lower() not in used), None)
            if name is None:
                name = self._central_statement([texts[i] for i in rows], centrality[rows])
            used.add(name.lower())
            self.names_[key] = name
        return self

    def _ranked(self, found: dict, df: Counter, n: int, mean_c: float) -> list[tuple[str, ...]]:
        """Candidate phrases of one group, best first (ties: fewer words, then alphabetical)."""
        need = min(self.min_statements, n)
        scored = []
        for p, cents in found.items():
            k = len(cents)
            if k < need:
                continue
            score = (k / n) * (k / df[p]) * (float(np.mean(cents)) / mean_c) * (1 + _LENGTH_BONUS * max(len(p) - 2, 0))
            scored.append((len(p) >= self.min_words, score, p))
        scored.sort(key=lambda t: (not t[0], -t[1], len(t[2]), t[2]))
        return [p for _, _, p in scored]

    @staticmethod
    def _form(p: tuple[str, ...], written: dict[tuple[str, ...], Counter]) -> str:
        """The phrase as customers wrote it most often (ties: alphabetical)."""
        forms = written[p]
        return min(forms, key=lambda f: (-forms[f], f))

    def _central_statement(self, texts: Sequence[str], centrality: np.ndarray) -> str:
        """The shortest of the five most central statements, cut to ``max_words`` words."""
        order = np.argsort(-np.asarray(centrality), kind="stable")[:5]
        best = min(order, key=lambda i: (len(str(texts[i])), i)) if len(order) else None
        words = [w for c in clauses(str(texts[best])) for w in c] if best is not None else []
        return " ".join(words[: self.max_words]) or "unnamed"


def name_language(counts: dict[str, int], preferred: str, min_share: float = 0.05, min_statements: int = 3) -> str:
    """The language a theme is named in: ``preferred`` when enough of its statements are in it
    (at least ``min_statements`` and ``min_share``), else its main language (ties: alphabetical)."""
    total = sum(counts.values())
    if not total:
        return preferred
    have = counts.get(preferred, 0)
    if have >= min_statements and have >= min_share * total:
        return preferred
    return min(counts, key=lambda k: (-counts[k], k))

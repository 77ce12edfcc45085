"""Theme names in customers' own words: the short phrase that best says what a theme is about.

A name is a run of 2-6 words that customers wrote (surface forms, never lemmas; placeholders
such as ``<PERSON>`` and numbers are clause breaks), taken inside one clause, neither starting
(negations aside: "no answer", "nobody is replying") nor ending with a stop word. Each
candidate phrase of a theme is first scored by words alone:

    coverage (share of the theme's statements that contain it)
    x precision (share of the statements containing it, over all themes compared, that are this theme's)
    x centrality (mean cosine of those statements to the theme centroid, over the theme's mean)
    x a mild bonus per word (longer phrases say more, e.g. "charged twice for one payment")
    x a penalty for a cut-off fragment: a phrase whose neighbouring word (in the same clause, or a
      number) is a content word in most of its occurrences ("makes no sense for a small" + "business")

Given an ``embed`` function, the best-scored candidates and the whole clauses of the theme's most
central statements are embedded and the name is the one closest to the theme centroid (as
BERTopic's KeyBERTInspired representation): frequent words pick what may be said, meaning picks
what says the theme. Its case is the form customers used most often. Where no phrase of two words
or more is shared by two statements, the name is the shortest of the theme's most central
statements' clauses, cut to six words.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from feedback_miner.prepare.language import UNDETERMINED, likely_language
from feedback_miner.prepare.pii.names import spacy_stop_words
from feedback_miner.themes.syntax import WholePhrases

MAX_WORDS = 6
_PLACEHOLDER = re.compile(r"<[A-Z_]+>")
# Clause breaks: punctuation, placeholders, symbols; words keep inner apostrophes and hyphens.
_CLAUSE = re.compile(r"[.,;:!?()\[\]{}\"“”«»/\\|…\n\r\t•*#@+=<>~^]+|\s[-–—]+\s")
_TOKEN = re.compile(r"\d+(?:[.,]\d+)*|[^\W\d_]+(?:['’-][^\W\d_]+)*")
_NUMBER = re.compile(r"\d")
_LENGTH_BONUS = 0.15  # per word beyond two
_CUT_PENALTY = 0.5  # score x (1 - this x share of occurrences cut off mid-phrase)
_FOREIGN = 0.5  # probability of another language at which a candidate is not in the theme's
_OUTSIDE = 0.25  # ...and of a language outside the configured ones ("veel info" is Dutch at 0.33)
_WORD_COST = 0.02  # cosine a name gives up per word: of two phrases about as close, the shorter wins

# Negations a name may start with although they are stop words (the report's languages and neighbours).
NEGATIONS = frozenset({
    "no", "not", "never", "nobody", "nothing", "none", "cannot",  # en
    "jamais", "aucun", "aucune", "rien", "personne", "pas",  # fr
    "non", "nessun", "nessuna", "nessuno", "mai", "niente",  # it
    "nu", "niciun", "nicio", "niciodată", "nimic", "nimeni",  # ro
    "nunca", "nadie", "nada", "ningún", "ninguna",  # es
    "nicht", "kein", "keine", "nie", "niemand", "nichts",  # de
    "niet", "geen", "nooit", "niets",  # nl
})  # fmt: skip

Embed = Callable[[Sequence[str]], np.ndarray]


@lru_cache(maxsize=16)
def stop_words(lang: str) -> frozenset[str]:
    """spaCy's stop words of ``lang`` (empty for a language spaCy does not know).

    Read from spaCy's stop-word file where the language has one (as the name filter does: importing
    the language class compiles its tokenizer, seconds on every night for a word list), else from the
    language class.
    """
    if lang.isalpha():
        try:
            return frozenset(w.lower() for w in spacy_stop_words(lang))
        except FileNotFoundError:  # no file of its own ("nn", "fo") or no such language ("und", "xx")
            pass
    try:
        from spacy.util import get_lang_class

        return frozenset(w.lower() for w in get_lang_class(lang).Defaults.stop_words)
    except Exception:  # unknown code ("und", "xx", ...)
        return frozenset()


def _segments(text: str) -> list[tuple[list[str], bool, bool]]:
    """Runs of words of ``text`` between clause breaks and numbers: (words, after a number, before a number)."""
    out = []
    for part in _CLAUSE.split(_PLACEHOLDER.sub(" | ", text)):
        run: list[str] = []
        after_number = False
        for tok in _TOKEN.findall(part):
            if _NUMBER.match(tok):
                if run:
                    out.append((run, after_number, True))
                run, after_number = [], True
            else:
                run.append(tok)
        if run:
            out.append((run, after_number, False))
    return out


def clauses(text: str) -> list[list[str]]:
    """Words of each clause of ``text``, as written (numbers break clauses)."""
    return [words for words, _, _ in _segments(text)]


def _is_negation(word: str) -> bool:
    # "no answer", "nobody is replying", "never arrived": the negation is what the complaint says
    return word in NEGATIONS or word.endswith(("n't", "n’t"))


def _is_edge(word: str, stop: frozenset[str]) -> bool:
    # "what's", "l'app": a word whose part before the apostrophe is a stop word is one too
    return word in stop or len(word) < 2 or re.split(r"['’]", word)[0] in stop


def phrases(text: str, stop: frozenset[str], max_words: int = MAX_WORDS) -> dict[tuple[str, ...], tuple[str, bool]]:
    """Candidate phrases of one statement: lower-cased word tuples -> (the words as written, cut off).

    Runs of 1..``max_words`` words inside a clause that neither start (unless with a negation) nor
    end with a stop word or a one-letter word. *Cut off*: the word just before or after it in its
    clause is a content word or a number, i.e. the phrase stops mid-phrase ("for a small" + "business").
    """
    out: dict[tuple[str, ...], tuple[str, bool]] = {}
    for words, after_number, before_number in _segments(text):
        low = [w.lower() for w in words]
        edge = [_is_edge(w, stop) for w in low]
        for i in range(len(words)):
            if edge[i] and not _is_negation(low[i]):
                continue
            left_cut = (i > 0 and not edge[i - 1]) or (i == 0 and after_number)
            for j in range(i, min(len(words), i + max_words)):
                if edge[j]:
                    continue
                right_cut = (j + 1 < len(words) and not edge[j + 1]) or (j + 1 == len(words) and before_number)
                key = tuple(low[i : j + 1])
                cut = left_cut or right_cut
                if key not in out or (out[key][1] and not cut):
                    out[key] = (" ".join(words[i : j + 1]), cut)
    return out


def _foreign(phrase: str, lang: str, languages: frozenset[str] | None = None) -> bool:
    """Whether ``phrase`` is, more likely than not, in a language other than ``lang`` (py3langid over
    all languages it knows: "Gebruiksgemak en overzichtelijk" among reviews detected as English), or
    at least ``_OUTSIDE`` likely in one outside the configured ``languages`` (None: any is read):
    Keytrade's short Dutch reviews, detected as English, named a theme "veel info"."""
    if lang == UNDETERMINED:
        return False
    code, p = likely_language(phrase)
    return code != lang and (p >= _FOREIGN or (languages is not None and code not in languages and p >= _OUTSIDE))


def central_clause(text: str, stop: frozenset[str], max_words: int = MAX_WORDS) -> str | None:
    """The longest clause of ``text`` without its leading and trailing stop words, when it has 2 to
    ``max_words`` words (a whole clause is never cut mid-phrase); else None."""
    best = None
    for words, after_number, before_number in _segments(text):
        if after_number or before_number:  # a clause a number cut in two is not whole
            continue
        low = [w.lower() for w in words]
        keep = [i for i, w in enumerate(low) if not _is_edge(w, stop)]
        if not keep:
            continue
        first = next(i for i, w in enumerate(low) if i == keep[0] or _is_negation(w))
        run = words[first : keep[-1] + 1]
        if 2 <= len(run) <= max_words and (best is None or len(run) > len(best)):
            best = run
    return " ".join(best) if best else None


@dataclass
class _Group:
    """What the namer gathered about one group: its rows and, per phrase, the rows that contain it
    and how many of them cut it off."""

    rows: list[int] = field(default_factory=list)
    occ: dict[tuple[str, ...], list[int]] = field(default_factory=lambda: defaultdict(list))
    cuts: Counter = field(default_factory=Counter)


class PhraseNamer:
    """Names groups of statements (see the module docstring); estimator-like.

    ``fit(texts, keys, centrality, lang)``: one language's statements, the group of each (None:
    a statement that only counts against the others) and each statement's cosine to its group's
    centroid. After it, ``names_`` maps each group to its name. ``embed`` (texts -> vectors in the
    space of ``fit``'s ``centroids``; None: words alone decide) and ``n_candidates`` (phrases per
    group it embeds) steer the choice by meaning.
    """

    def __init__(
        self,
        min_words: int = 2,
        max_words: int = MAX_WORDS,
        min_statements: int = 2,
        embed: Embed | None = None,
        n_candidates: int = 10,
        parse: bool = True,
        languages: Sequence[str] | None = None,
    ):
        self.min_words = min_words
        self.max_words = max_words
        self.min_statements = min_statements
        self.embed = embed
        self.n_candidates = n_candidates
        self.parse = parse
        self.languages = None if languages is None else frozenset(languages)

    def fit(
        self,
        texts: Sequence[str],
        keys: Sequence[object],
        centrality: np.ndarray,
        lang: str,
        taken: Sequence[str] = (),
        centroids: dict | None = None,
    ) -> PhraseNamer:
        """Name every group of ``keys`` from ``texts``; ``taken`` are names the groups must not repeat;
        ``centroids`` (group -> unit vector) let ``embed`` pick among the candidates."""
        stop = stop_words(lang)
        centrality = np.asarray(centrality, dtype=np.float64)
        df: Counter = Counter()  # statements containing a phrase, all groups together
        groups: dict[object, _Group] = defaultdict(_Group)
        written: dict[tuple[str, ...], Counter] = defaultdict(Counter)
        for i, (text, key) in enumerate(zip(texts, keys, strict=True)):
            found = phrases(str(text), stop, self.max_words)
            df.update(found.keys())
            if key is None:
                continue
            g = groups[key]
            g.rows.append(i)
            for p, (form, cut) in found.items():
                g.occ[p].append(i)
                g.cuts[p] += cut
                written[p][form] += 1
        order = sorted(groups, key=str)
        whole = WholePhrases(lang) if self.parse else None
        shortlists = {k: self._shortlist(groups[k], df, written, texts, centrality, stop, whole) for k in order}
        all_foreign = set()  # groups whose every candidate is in another language: it is shown
        for k in order:  # a short text of another language taken for this one must not name a theme
            kept = {c: v for c, v in shortlists[k].items() if not _foreign(c, lang, self.languages)}
            if shortlists[k] and not kept:
                all_foreign.add(k)
            shortlists[k] = kept or shortlists[k]
        closeness = self._closeness(shortlists, centroids or {})
        used = {t.lower() for t in taken}
        self.names_: dict[object, str] = {}
        for key in order:
            options = [c for c in shortlists[key] if c.lower() not in used]
            if key in closeness:
                sim = closeness[key]
                # stable: ties keep the words' order
                options.sort(key=lambda c: -(sim[c] - _WORD_COST * len(c.split())))
            g = groups[key]
            name = options[0] if options else self._central_statement([texts[i] for i in g.rows], centrality[g.rows])
            used.add(name.lower())
            code = likely_language(name)[0] if key in all_foreign else lang
            # Keytrade's Dutch reviews detected as English: "Superhandige en overzichtelijke app (nl)"
            self.names_[key] = name if code == lang else f"{name} ({code})"
        return self

    def _shortlist(
        self,
        g: _Group,
        df: Counter,
        written: dict,
        texts: Sequence[str],
        centrality: np.ndarray,
        stop: frozenset[str],
        whole: WholePhrases | None,
    ) -> dict[str, float]:
        """A group's name candidates and their score by words, best first: its phrases of
        ``min_words`` or more (at most ``n_candidates`` when they are to be embedded; where a parser
        is installed, only whole phrases when there is one), the whole clauses of its three most
        central statements, then (only when there is nothing else) its one-word phrases."""
        n = len(g.rows)
        mean_c = max(float(np.mean(centrality[g.rows])), 1e-6)
        need = min(self.min_statements, n)
        scored = []
        for p, rows in g.occ.items():
            k = len(rows)
            if k < need:
                continue
            cent = float(np.mean(centrality[rows])) / mean_c
            score = (k / n) * (k / df[p]) * cent * (1 + _LENGTH_BONUS * max(len(p) - 2, 0))
            score *= 1 - _CUT_PENALTY * g.cuts[p] / k
            scored.append((len(p) >= self.min_words, score, p))
        scored.sort(key=lambda t: (not t[0], -t[1], len(t[2]), t[2]))
        long = [(p, s) for ok, s, p in scored if ok]
        top = sorted(g.rows, key=lambda i: (-centrality[i], i))[:3]
        clauses_ = [c for i in top if (c := central_clause(str(texts[i]), stop, self.max_words)) is not None]
        if whole is not None and whole.available:
            long = long[: 3 * self.n_candidates]
            by_centrality = {p: sorted(g.occ[p], key=lambda i: (-centrality[i], i))[:3] for p, _ in long}
            seen = {p: [str(texts[i]) for i in rows] for p, rows in by_centrality.items()}
            whole.parse([*(t for ts in seen.values() for t in ts), *(str(texts[i]) for i in top)])
            top_texts = [str(texts[i]) for i in top]
            clauses_ = [c for c in clauses_ if (whole.share(c.split(), top_texts) or 0.0) >= 0.5]
            kept = [(p, s) for p, s in long if (whole.share(p, seen[p]) or 0.0) >= 0.5]
            long = kept if kept or clauses_ else long  # fragments only where nothing whole is there
        forms = [(self._form(p, written), s) for p, s in long]
        if self.embed is not None:  # each embedded candidate costs a model call
            forms = forms[: self.n_candidates]
        # one-word phrases only where nothing longer is there to say it
        short = [] if forms or clauses_ else [(self._form(p, written), s) for ok, s, p in scored if not ok]
        out: dict[str, float] = {}
        for form, s in [*forms, *((c, 0.0) for c in clauses_), *short]:
            out.setdefault(form, s)
        return out

    def _closeness(self, shortlists: dict[object, dict[str, float]], centroids: dict) -> dict[object, dict[str, float]]:
        """Cosine of each group's candidates to its centroid (one ``embed`` call for all of them)."""
        keys = [k for k in shortlists if k in centroids and shortlists[k]]
        if self.embed is None or not keys:
            return {}
        unique = list(dict.fromkeys(c for k in keys for c in shortlists[k]))
        E = np.asarray(self.embed(unique), dtype=np.float64)
        E /= np.maximum(np.linalg.norm(E, axis=1, keepdims=True), 1e-12)
        at = {c: i for i, c in enumerate(unique)}
        out = {}
        for k in keys:
            sims = E[[at[c] for c in shortlists[k]]] @ np.asarray(centroids[k], dtype=np.float64)
            out[k] = dict(zip(shortlists[k], sims.tolist(), strict=True))
        return out

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

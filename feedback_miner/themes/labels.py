"""Readable theme labels: class-based TF-IDF keyphrases over lemmas, and representative statements.

Keyphrases are lemma uni- and bigrams without stop words (spaCy blank pipelines with lookup
lemmas from ``spacy-lookups-data``, available offline for en/it/fr/ro). Each language is scored
separately, so a theme's keywords come from statements in one language: its dominant one, or
English where the theme is mixed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.feature_extraction.text import CountVectorizer

from feedback_miner.prepare.pii import PLACEHOLDER_RE

# At most one language's pipeline at a time: each holds 100-250 MB of lookup tables, and callers
# work language by language, so keeping all of them only raises the job's peak memory.
_LOADED: dict[str, object] = {}


def _nlp(lang: str):
    if lang not in _LOADED:
        _LOADED.clear()  # free the previous language's tables before loading the next
        _LOADED[lang] = _lemmatizing_pipeline(lang)
    return _LOADED[lang]


def _lemmatizing_pipeline(lang: str):
    import spacy

    try:
        nlp = spacy.blank(lang)
    except Exception:  # unknown code ("und", ...): tokenise as multi-language
        nlp = spacy.blank("xx")
    try:
        nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
        nlp.initialize()
    except Exception:  # no lookup table for this language: surface forms are still usable
        nlp = spacy.blank(nlp.lang)
    return nlp


def lemma_tokens(texts: Sequence[str], lang: str) -> list[list[str]]:
    """Lower-cased lemmas of content words (no stop words, punctuation, numbers or 1-letter tokens)."""
    nlp = _nlp(lang)
    stop = nlp.Defaults.stop_words
    out = []
    # The shared vocab would keep every new word form (order numbers, typos, names) for the life of
    # the process: a memory zone frees them when the texts are done (~1 GB at 340k statements).
    with nlp.memory_zone():
        # Placeholders ("<PERSON>", "<EMAIL>") are what redaction left, never a keyword or a label.
        for doc in nlp.pipe((PLACEHOLDER_RE.sub(" ", t) for t in texts), batch_size=256):
            lemmas = ((t.lemma_ or t.text).lower() for t in doc if t.is_alpha and not t.is_stop and len(t.text) > 1)
            out.append([w for w in lemmas if w not in stop])
    return out


def keyword_rows(rows: np.ndarray, keys: np.ndarray, languages: np.ndarray, size: int, seed: int) -> np.ndarray:
    """``rows`` thinned to at most ``size`` per (key, language), chosen at random with ``seed``, in order.

    Class-based TF-IDF keyphrases settle long before a theme's thousandth statement; the lemmas of
    every statement would cost memory and time in proportion to the corpus.
    """
    rows = np.asarray(rows)
    if len(rows) == 0:
        return rows
    frame = pd.DataFrame({"key": pd.Series(keys[rows], dtype=object).astype(str),
                          "lang": pd.Series(languages[rows], dtype=object).astype(str),
                          "r": np.random.default_rng(seed).random(len(rows))})  # fmt: skip
    rank = frame.groupby(["key", "lang"], sort=False)["r"].rank(method="first").to_numpy()
    return rows[rank <= size]


def _ngrams(tokens: list[str]) -> list[str]:
    return tokens + [f"{a} {b}" for a, b in zip(tokens, tokens[1:], strict=False)]


def class_tfidf_keywords(
    tokens: Sequence[list[str]], labels: Sequence[str], n_keywords: int = 8
) -> dict[str, list[str]]:
    """Top keyphrases per label by class-based TF-IDF (BERTopic's c-TF-IDF) over lemma tokens.

    Every label's texts form one document; a term scores ``tf(term, class) * log(1 + A / f(term))``
    with ``A`` the mean number of terms per class and ``f`` the term's frequency over all classes.
    A unigram contained in a better-ranked bigram is dropped so that keywords do not repeat.
    """
    labels = list(labels)
    if not labels:
        return {}
    classes = sorted(set(labels))
    docs = {c: [] for c in classes}
    for lab, toks in zip(labels, tokens, strict=True):
        docs[lab].extend(_ngrams(toks))
    vec = CountVectorizer(analyzer=lambda terms: terms, min_df=1)
    try:
        M = vec.fit_transform([docs[c] for c in classes]).astype(np.float64).toarray()
    except ValueError:  # no content words at all
        return {c: [] for c in classes}
    vocab = np.asarray(vec.get_feature_names_out())
    tf = M / np.maximum(M.sum(axis=1, keepdims=True), 1.0)
    avg = M.sum() / len(classes)
    idf = np.log1p(avg / np.maximum(M.sum(axis=0), 1.0))
    # Terms seen once in a class are noise for a label, unless the class is that small.
    score = tf * idf * (np.minimum(2, M.max(axis=1, keepdims=True)) <= M)
    out = {}
    for i, c in enumerate(classes):
        picked: list[str] = []
        for j in np.argsort(-score[i], kind="stable"):
            if score[i, j] <= 0 or len(picked) >= n_keywords:
                break
            term = str(vocab[j])
            words = set(term.split())
            if any(words <= set(p.split()) or set(p.split()) <= words for p in picked):
                continue
            picked.append(term)
        out[c] = picked
    return out


def label_from_keywords(keywords: Sequence[str], n: int = 3) -> str:
    """Short label: the first keyphrases joined, e.g. ``"card arrive · new card"``."""
    return " · ".join(keywords[:n]) if keywords else "unlabelled"


def is_keyword_label(label: str) -> bool:
    """Whether ``label`` was made by :func:`label_from_keywords` (keyphrases joined by a middle dot)."""
    return " · " in label or label == "unlabelled"


def representative_examples(
    vectors: np.ndarray,
    centroid: np.ndarray,
    customers: Sequence[object],
    n: int = 5,
    diversity: float = 0.3,
    pool: int = 50,
) -> list[int]:
    """Positions of ``n`` statements close to the centroid yet unlike each other (MMR).

    Candidates are the ``pool`` closest to the centroid; each step picks the one maximising
    ``(1 - diversity) * sim(centroid) - diversity * max sim(picked)``, skipping customers already
    quoted while other customers remain.
    """
    if len(vectors) == 0:
        return []
    rel = vectors @ centroid
    cand = list(np.argsort(-rel, kind="stable")[:pool])
    picked: list[int] = []
    seen: set[object] = set()
    while cand and len(picked) < n:
        fresh = [c for c in cand if customers[c] is None or pd.isna(customers[c]) or customers[c] not in seen]
        options = fresh or cand
        red = (vectors[options] @ vectors[picked].T).max(axis=1) if picked else np.zeros(len(options))
        best = options[int(np.argmax((1 - diversity) * rel[options] - diversity * red))]
        picked.append(int(best))
        seen.add(customers[best])
        cand.remove(best)
    return picked


def language_summary(languages: Sequence[str]) -> tuple[str, float, str]:
    """(dominant language, its share, ``"en:40, it:12"``) of a theme's statements."""
    counts = Counter(str(x) for x in languages)
    if not counts:
        return "und", 0.0, ""
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    total = sum(counts.values())
    return ranked[0][0], ranked[0][1] / total, ", ".join(f"{k}:{v}" for k, v in ranked)

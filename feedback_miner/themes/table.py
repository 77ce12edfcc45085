"""The themes table of a night: one row per theme from its members (counts, languages, examples),
the same builder for refit and assignment nights; and the keywords that label new themes.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from feedback_miner.config import ThemesConfig
from feedback_miner.themes.cluster import normalize_rows
from feedback_miner.themes.core import OTHER, TABLE_COLUMNS, Night
from feedback_miner.themes.kinds import KIND_LABELS, TOPIC
from feedback_miner.themes.labels import (
    class_tfidf_keywords,
    keyword_rows,
    language_summary,
    lemma_tokens,
    representative_examples,
)
from feedback_miner.themes.names import Embed, PhraseNamer
from feedback_miner.themes.space import apply_language_means


class ThemeTable:
    """Rows of the themes frame (columns: :data:`~feedback_miner.themes.core.TABLE_COLUMNS`).

    :meth:`row` describes one theme from its members (positions in the night's statements);
    :meth:`frame` makes the table, with rows carried over from last run's table appended.
    """

    def __init__(self, night: Night, cfg: ThemesConfig):
        st = night.st
        self.night = night
        self.n_examples = cfg.n_examples
        self.customers = st.get("customer_id", pd.Series(None, index=st.index)).to_numpy(dtype=object)
        self.texts = st["text"].astype(str).to_numpy()
        self.statement_ids = st["statement_id"].astype(str).to_numpy()
        self.n_themed = max(int(night.themed.sum()), 1)

    def row(
        self,
        theme_id: str,
        members: np.ndarray,
        centroid: np.ndarray | None,
        *,
        parent_id: str | None,
        label: object,
        keywords: object,
        status: str,
        label_language: object,
        kind: str = TOPIC,
    ) -> dict:
        """One theme's row: the given fields, and counts, languages and examples of ``members``."""
        _, _, languages = language_summary(self.night.langs[members])
        if centroid is not None and len(members):
            picks = representative_examples(self.night.X[members], centroid, self.customers[members], self.n_examples)
        else:
            picks = []
        return {
            "theme_id": theme_id,
            "parent_id": parent_id,
            "label": label,
            "keywords": keywords,
            "n_statements": len(members),
            "n_customers": int(pd.Series(self.customers[members]).dropna().nunique()),
            "share": len(members) / self.n_themed,
            "languages": languages,
            "examples": [self.texts[members[p]] for p in picks],
            "example_ids": [self.statement_ids[members[p]] for p in picks],
            "status": status,
            "centroid": None if centroid is None else [float(x) for x in centroid],
            "label_language": label_language,
            "kind": kind,
        }

    def kind_row(self, kind: str, members: np.ndarray, status: str) -> dict:
        """The bucket of statements of one kind that is no topic: no centroid (no statement is
        assigned to it by similarity), examples near its members' mean."""
        centre = normalize_rows(self.night.X[members].sum(0, keepdims=True))[0]
        row = self.row(kind, members, centre, parent_id=None, label=KIND_LABELS[kind], keywords=[], status=status,
                       label_language=None, kind=kind)  # fmt: skip
        row["centroid"] = None
        return row

    @staticmethod
    def frame(rows: Sequence[dict], carried: pd.DataFrame | None = None) -> pd.DataFrame:
        """The table of ``rows``, then ``carried`` (rows of last run's table, as they are)."""
        table = pd.DataFrame.from_records(list(rows), columns=TABLE_COLUMNS)
        if carried is not None and len(carried):
            table = pd.concat([table, carried.reindex(columns=table.columns)], ignore_index=True)
        return table


def newly_faded(previous: pd.DataFrame, present: set[str]) -> pd.DataFrame:
    """Last run's themes (not 'other', not already faded) missing from ``present``: ``faded`` rows
    with no statements and no examples, their other columns as last run wrote them."""
    if not len(previous):
        return previous
    was_faded = previous["status"].eq("faded") if "status" in previous else pd.Series(False, index=previous.index)
    gone = previous[~previous["theme_id"].astype(str).isin(present) & (previous["theme_id"] != OTHER) & ~was_faded]
    faded = gone.drop(columns=["_c"], errors="ignore").copy()
    faded["status"] = "faded"
    for col in ("n_statements", "n_customers", "share"):
        faded[col] = 0
    faded["examples"] = [[] for _ in range(len(faded))]
    faded["example_ids"] = [[] for _ in range(len(faded))]
    return faded


class LanguageKeywords:
    """Keyphrases per language: lemmas once per language of a bounded sample per leaf theme
    (``cfg.keyword_sample`` rows per leaf and language), scored with class-based TF-IDF.

    ``rows``: the statements that may be used; ``leaf``: each statement's finest theme.
    """

    def __init__(self, night: Night, rows: np.ndarray, leaf: np.ndarray, cfg: ThemesConfig):
        self.langs = night.langs
        self.n_keywords = cfg.n_keywords
        texts = night.st["text"].astype(str).to_numpy()
        self.sampled = np.zeros(len(night.st), dtype=bool)
        self.sampled[keyword_rows(rows, leaf, self.langs, cfg.keyword_sample, cfg.seed)] = True
        self.tokens: dict[int, list[str]] = {}
        for lang in sorted(set(self.langs[rows])):
            r = rows[(self.langs[rows] == lang) & self.sampled[rows]]
            self.tokens.update(zip(r.tolist(), lemma_tokens(texts[r].tolist(), lang), strict=True))

    def by_language(self, rows: np.ndarray, keys: np.ndarray) -> dict[str, dict[str, list[str]]]:
        """``{key: {language: keyphrases}}``: each key of ``rows`` against the others, per language."""
        out: dict[str, dict[str, list[str]]] = {}
        rows = rows[self.sampled[rows]]
        for lang in sorted(set(self.langs[rows])):
            r = rows[self.langs[rows] == lang]
            for k, kw in class_tfidf_keywords([self.tokens[i] for i in r], keys[r].tolist(), self.n_keywords).items():
                out.setdefault(k, {})[lang] = kw
        return out


def main_language_keywords(
    night: Night, theme: np.ndarray, ids: Sequence[str], cfg: ThemesConfig
) -> dict[str, list[str]]:
    """Keyphrases of the themes ``ids`` against 'other', in the main language of their statements."""
    if not ids:
        return {}
    langs = night.langs
    rows = np.flatnonzero(np.isin(theme, [*ids, OTHER]))
    main = language_summary(langs[rows])[0]
    rows = keyword_rows(rows[langs[rows] == main], theme, langs, cfg.keyword_sample, cfg.seed)
    toks = lemma_tokens(night.st["text"].astype(str).to_numpy()[rows].tolist(), main)
    return class_tfidf_keywords(toks, theme[rows].astype(str).tolist(), cfg.n_keywords)


def theme_names(
    night: Night,
    rows: np.ndarray,
    keys: np.ndarray,
    centroids: dict[str, np.ndarray],
    lang_of: dict[str, str],
    taken: Sequence[str] = (),
    embed: Embed | None = None,
    languages: Sequence[str] | None = None,
) -> dict[str, str]:
    """Names (:class:`~feedback_miner.themes.names.PhraseNamer`) of the themes ``lang_of`` lists,
    each from its statements in its naming language, against every other key of ``rows`` in that
    language; no name repeats one of ``taken`` or another's. ``embed`` (texts -> raw embeddings,
    as the statements'; None: names by words alone) lets the candidate closest to the centroid win;
    its vectors are put in the night's language-centred space first. ``languages``: the configured
    ones (None: any); a phrase likely in another one names no theme."""
    texts = night.st["text"].astype(str).to_numpy()
    out: dict[str, str] = {}
    for lang in sorted(set(lang_of.values())):
        r = rows[night.langs[rows] == lang]
        named = [k if k is not None and lang_of.get(str(k)) == lang and str(k) in centroids else None for k in keys[r]]
        centrality = np.array([float(night.X[i] @ centroids[k]) if k is not None else 0.0
                               for i, k in zip(r, named, strict=True)], dtype=np.float64)  # fmt: skip
        namer = PhraseNamer(embed=in_space(embed, night, lang), languages=languages)
        namer.fit(texts[r].tolist(), named, centrality, lang, taken=[*taken, *out.values()], centroids=centroids)
        out.update({str(k): v for k, v in namer.names_.items()})
    return out


def in_space(embed: Embed | None, night: Night, lang: str) -> Embed | None:
    """``embed`` followed by the night's centring for ``lang`` (the centroids' space)."""
    if embed is None:
        return None

    def centred(texts: Sequence[str]) -> np.ndarray:
        E = normalize_rows(np.asarray(embed(list(texts)), dtype=np.float32))
        if night.means is None:
            return E
        return apply_language_means(E, np.full(len(E), lang, dtype=object), night.means, copy=False)

    return centred

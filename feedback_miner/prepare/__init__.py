"""prepare stage: documents -> clean, redacted, language-tagged statements.

``prepare_statements(documents, cfg.prepare)`` runs, in order:

1. cleaning per document (HTML, quoted reply chains, forward headers, signatures, footers);
2. boilerplate lines found by frequency across ticket bodies (agent macros, auto-replies);
3. URLs to ``<URL>`` and PII to typed placeholders (e-mail, IBAN, card, IP, phone, names);
4. language id on subject + body (configured languages, ``und`` when too short, out-of-set kept);
5. person names by spaCy NER for languages with a trained pipeline (en, fr), optional;
6. non-answers flagged; statements segmented (subject = statement 0 of a ticket);
7. exact and near-duplicate statements pointed at their first copy.

Redaction happens before anything leaves the stage: with ``redact_pii`` on (and ``keep_raw_text``
off) neither returned frame contains the raw text.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from feedback_miner.config import PrepareConfig
from feedback_miner.prepare.clean import (
    boilerplate_counts,
    clean_body,
    clean_subject,
    is_non_answer,
    normalize_whitespace,
    remove_boilerplate,
)
from feedback_miner.prepare.dedup import DuplicateResult
from feedback_miner.prepare.language import UNDETERMINED, LanguageDetector
from feedback_miner.prepare.pii import (
    KINDS,
    NER_PIPELINES,
    PLACEHOLDER,
    NameSpans,
    PatternRedactor,
    apply_person_spans,
    attribute_kind,
    find_person_spans,
    load_ner,
    redact_names_many,
    redact_texts,
)
from feedback_miner.prepare.segment import Segmenter

__all__ = ["PrepareResult", "prepare_statements", "STATEMENT_COLUMNS"]

STATEMENT_COLUMNS = [
    "statement_id",
    "doc_id",
    "source",
    "customer_id",
    "created_at",
    "position",
    "language",
    "language_confidence",
    "text",
    "is_subject",
    "is_non_answer",
    "is_duplicate_of",
    "n_duplicates",
]


@dataclass
class PrepareResult:
    """What the prepare stage hands to the pipeline.

    documents: the input documents, ``subject``/``text`` cleaned and redacted, plus ``language``,
        ``language_confidence`` and ``is_non_answer``.
    statements: one row per statement, columns :data:`STATEMENT_COLUMNS` (see docs/architecture.md).
    counts: ``redactions`` per kind, ``languages``, ``out_of_set_languages``, ``non_answers``,
        ``exact_duplicates``, ``near_duplicates``, ``boilerplate_lines_removed``, ``documents``,
        ``statements`` — for the run manifest.
    """

    documents: pd.DataFrame
    statements: pd.DataFrame
    counts: dict = field(default_factory=dict)


def _str_list(frame: pd.DataFrame, column: str) -> list[str]:
    if column not in frame:
        return [""] * len(frame)
    return ["" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v) for v in frame[column]]


def prepare_statements(documents: pd.DataFrame, cfg: PrepareConfig) -> PrepareResult:
    """Clean, redact, tag the language of and segment ``documents`` into statements.

    ``documents`` has the columns of the documents table in docs/architecture.md; ``subject`` may
    be missing or null (surveys).

    The stage is per-document work with three batch-global decisions in between (boilerplate
    lines, common "names", duplicates), declared once as a plan of passes
    (:data:`feedback_miner.prepare.passes.PLAN`); this runs it on the whole batch in this process,
    the Ray engine runs the same passes on partitions.
    """
    from feedback_miner.prepare.passes import run_in_process  # the passes are built from the steps below

    return run_in_process(documents, cfg)


# ---------------------------------------------------------------- steps (the passes of prepare/passes.py)


def clean_texts(docs: pd.DataFrame) -> tuple[list[str], list[str]]:
    """Cleaned subjects and bodies of each document (per document)."""
    bodies = [clean_body(t) for t in _str_list(docs, "text")]
    subjects = [clean_subject(s) if s else "" for s in _str_list(docs, "subject")]
    return subjects, bodies


def boilerplate_line_counts(bodies: Sequence[str], cfg: PrepareConfig) -> Counter[str]:
    """In how many of ``bodies`` (the in-scope sources) each candidate line occurs; summable."""
    return boilerplate_counts(bodies, cfg.boilerplate_min_chars)


def boilerplate_keys(counts: Counter[str], n_in_scope: int, cfg: PrepareConfig) -> set[str]:
    """Boilerplate line keys from the summed line counts of ``n_in_scope`` documents."""
    # Both an absolute and a relative floor: in a large corpus, a sentence that five customers
    # happen to write alike is content; a macro or auto-reply repeats in a sizeable share of tickets.
    min_docs = max(cfg.boilerplate_min_docs, math.ceil(cfg.boilerplate_min_share * n_in_scope))
    return {k for k, c in counts.items() if c >= min_docs and k}


@dataclass
class RedactStep:
    """Per-document state after boilerplate removal, redaction, language id and name search."""

    docs: pd.DataFrame
    subjects: list[str]
    bodies: list[str]
    langs: list[str]
    confs: list[float]
    pii_counts: Counter[str]
    boilerplate_removed: int
    # (lang, "bodies" | "subjects") -> name spans of the rows of that language, and those rows.
    name_spans: dict[tuple[str, str], tuple[list[int], list[NameSpans]]] = field(default_factory=dict)
    # documents whose statements were cut at cfg.max_statements_per_document (set by finish_documents)
    statements_capped: int = 0

    def name_spans_by_language(self) -> dict[tuple[str, str], tuple[list[NameSpans], int]]:
        """(lang, target) -> (spans of the rows of that language, number of those rows)."""
        return {k: (spans, len(rows)) for k, (rows, spans) in self.name_spans.items()}


def redact_and_detect(
    docs: pd.DataFrame, subjects: list[str], bodies: list[str], keys: set[str], cfg: PrepareConfig
) -> RedactStep:
    """Boilerplate lines out, URLs and PII to placeholders, language id, person-name spans (per document)."""
    docs = docs.copy()
    n = len(docs)
    subjects, bodies = list(subjects), list(bodies)
    sources = _str_list(docs, "source")
    boiler_removed = 0
    if keys:
        for i in range(n):
            if sources[i] in cfg.boilerplate_sources:
                bodies[i], k = remove_boilerplate(bodies[i], keys)
                boiler_removed += k

    # -- URLs (always) and PII (unless opted out), subjects and bodies in one batch
    redact = cfg.redact_pii and not cfg.keep_raw_text
    redactor = PatternRedactor()
    both = redactor.redact_many(subjects + bodies, urls=True, pii=redact)
    subjects, bodies = both[:n], both[n:]
    counts_pii: Counter[str] = redactor.counts_
    if "attributes" in docs:
        # Extra columns of the user's file ride along as JSON; a name, address or e-mail column must not leak.
        docs["attributes"] = _redact_attributes(docs["attributes"].tolist(), cfg, counts_pii, redact)
    if redact and cfg.redact_names:
        both = redact_names_many(subjects + bodies, counts_pii)
        subjects, bodies = both[:n], both[n:]

    # -- language of the whole document
    detector = LanguageDetector(
        cfg.languages, cfg.min_language_chars, cfg.out_of_set_min_confidence, cfg.out_of_set_min_chars
    )
    langs, confs = detector.detect([f"{s}\n{b}" if s else b for s, b in zip(subjects, bodies, strict=True)])

    # -- names by NER where a trained pipeline exists for the language (applied in finish_documents)
    spans: dict[tuple[str, str], tuple[list[int], list[NameSpans]]] = {}
    if redact and cfg.redact_names and cfg.ner_names:
        for lang in NER_PIPELINES:
            idx = [i for i in range(n) if langs[i] == lang]
            if not idx or load_ner(lang) is None:
                continue
            for name, target in (("bodies", bodies), ("subjects", subjects)):
                spans[(lang, name)] = (idx, find_person_spans([target[i] for i in idx], lang))
    return RedactStep(docs, subjects, bodies, langs, confs, counts_pii, boiler_removed, spans)


def finish_documents(
    step: RedactStep, common: dict[tuple[str, str], set[str]], cfg: PrepareConfig
) -> tuple[list[list[str]], list[bool]]:
    """Names replaced (except ``common`` ones), whitespace normalized, body statements segmented.

    Updates ``step.bodies``/``step.subjects``/``step.pii_counts`` in place; returns the body
    statements of each document and its non-answer flag.
    """
    targets = {"bodies": step.bodies, "subjects": step.subjects}
    for (lang, name), (idx, spans) in step.name_spans.items():
        target = targets[name]
        texts = [target[i] for i in idx]
        done = apply_person_spans(texts, spans, common.get((lang, name), set()), step.pii_counts)
        for i, t in zip(idx, done, strict=True):
            target[i] = t

    step.bodies[:] = [normalize_whitespace(b) for b in step.bodies]
    bodies, subjects, langs = step.bodies, step.subjects, step.langs
    doc_non_answer = [is_non_answer(b) and not subjects[i] for i, b in enumerate(bodies)]

    # -- statements, segmented per language
    segmenter = Segmenter(cfg.min_statement_chars, cfg.max_statement_chars, cfg.min_contrast_words)
    body_statements: list[list[str]] = [[] for _ in bodies]
    by_lang: dict[str, list[int]] = {}
    for i, b in enumerate(bodies):
        if not b:
            continue
        if is_non_answer(b):
            body_statements[i] = [b.replace("\n", " ")]  # kept whole and flagged, never themed
        else:
            by_lang.setdefault(langs[i], []).append(i)
    for lang, idx in by_lang.items():
        for i, pieces in zip(idx, segmenter.statements([bodies[i] for i in idx], lang), strict=True):
            # One huge document must not become most of the night's statements (and run time).
            step.statements_capped += len(pieces) > cfg.max_statements_per_document
            body_statements[i] = pieces[:cfg.max_statements_per_document]
    return body_statements, doc_non_answer


def dedup_groups(statements: pd.DataFrame, cfg: PrepareConfig) -> list | None:
    """Who can copy whom: customer ids under scope ``customer``, anyone under ``all``."""
    return statements["customer_id"].tolist() if cfg.dedup_scope == "customer" else None


def mark_duplicates(statements: pd.DataFrame, dups: DuplicateResult) -> pd.DataFrame:
    """Add ``is_duplicate_of`` (first copy's statement_id) and ``n_duplicates`` to ``statements``."""
    ids = statements["statement_id"].to_numpy()
    statements["is_duplicate_of"] = pd.Series(
        np.where(dups.duplicate_of >= 0, ids[np.maximum(dups.duplicate_of, 0)], None), dtype="object"
    )
    statements["n_duplicates"] = np.bincount(
        dups.duplicate_of[dups.duplicate_of >= 0], minlength=len(statements)
    ).astype(np.int64)
    return statements


def finish_document_frame(step: RedactStep, doc_non_answer: Sequence[bool]) -> pd.DataFrame:
    """The documents frame the stage returns: cleaned, redacted texts plus language and non-answer flag."""
    docs = step.docs
    docs["subject"] = pd.Series([s or None for s in step.subjects], dtype="object") if "subject" in docs else None
    docs["text"] = step.bodies
    docs["language"] = step.langs
    docs["language_confidence"] = np.asarray(step.confs, dtype=np.float64)
    docs["is_non_answer"] = np.asarray(doc_non_answer, dtype=bool)
    return docs


def prepare_counts(
    docs: pd.DataFrame,
    statements: pd.DataFrame,
    pii_counts: Counter[str],
    n_exact: int,
    n_near: int,
    boilerplate_removed: int,
    n_boilerplate_patterns: int,
    cfg: PrepareConfig,
) -> dict:
    """The ``counts`` of :class:`PrepareResult` (for the run manifest)."""
    in_set = set(cfg.languages)
    lang_counts = Counter(docs["language"].tolist())
    return {
        "documents": len(docs),
        "statements": len(statements),
        "redactions": {k: int(pii_counts.get(k, 0)) for k in KINDS},
        "languages": dict(sorted(lang_counts.items())),
        "out_of_set_languages": {k: v for k, v in sorted(lang_counts.items()) if k not in in_set | {UNDETERMINED}},
        "non_answers": int(docs["is_non_answer"].sum()),
        "non_answer_statements": int(statements["is_non_answer"].sum()),
        "exact_duplicates": n_exact,
        "near_duplicates": n_near,
        "boilerplate_lines_removed": boilerplate_removed,
        "boilerplate_patterns": n_boilerplate_patterns,
    }


# An attribute value that no recognizer can match: one lower-case word or a short code ("android", "IT").
_INERT_VALUE = re.compile(r"[a-z_\-]+|[A-Z]{1,4}")


def _redact_attributes(values: list, cfg: PrepareConfig, counts: Counter[str], redact: bool) -> list:
    """The extra columns (JSON objects): ``drop_attributes`` removed, every string value redacted.

    A column named like a person's name or an address is replaced whole (a surname alone or a city
    has no pattern); the others go through the same rule-based redaction as the texts.
    """
    drop = {c.lower() for c in cfg.drop_attributes}
    objs: dict[int, dict] = {}
    cells: list[tuple[int, str]] = []
    for i, v in enumerate(values):
        if not isinstance(v, str) or v in ("", "{}"):
            continue
        try:
            obj = json.loads(v)
        except ValueError:
            obj = {"value": v}
        if not isinstance(obj, dict):
            obj = {"value": v}
        kept = {k: x for k, x in obj.items() if k.lower() not in drop}
        changed = len(kept) < len(obj)
        for k, x in kept.items():
            if not redact or not isinstance(x, str) or _INERT_VALUE.fullmatch(x):
                continue
            if (kind := attribute_kind(k)) and x.strip():
                kept[k], changed = PLACEHOLDER[kind], True
                counts[kind] += 1
            else:
                cells.append((i, k))
                changed = True  # rewritten below, after one batch redaction of all such cells
        if changed:
            objs[i] = kept
    if cells:
        texts = redact_texts([objs[i][k] for i, k in cells], names=cfg.redact_names, counts=counts)
        for (i, k), red in zip(cells, texts, strict=True):
            objs[i][k] = red
    out = list(values)
    for i, obj in objs.items():
        out[i] = json.dumps(obj, ensure_ascii=False)
    return out


def _statement_frame(
    docs: pd.DataFrame,
    subjects: list[str],
    body_statements: list[list[str]],
    langs: list[str],
    confs: list[float],
) -> pd.DataFrame:
    """One row per statement; the subject, when present, is position 0."""
    doc_idx, positions, texts, is_subject = [], [], [], []
    for i, (subj, pieces) in enumerate(zip(subjects, body_statements, strict=True)):
        pos = 0
        if subj:
            doc_idx.append(i)
            positions.append(0)
            texts.append(subj)
            is_subject.append(True)
            pos = 1
        for p in pieces:
            doc_idx.append(i)
            positions.append(pos)
            texts.append(p)
            is_subject.append(False)
            pos += 1
    rows = np.asarray(doc_idx, dtype=np.int64)
    pos_arr = np.asarray(positions, dtype=np.int64)

    def take(col: str) -> np.ndarray | pd.Series:
        if col not in docs:
            return pd.Series([None] * len(rows), dtype="object")
        return docs[col].iloc[rows].reset_index(drop=True)

    doc_ids = take("doc_id").astype(str)
    frame = pd.DataFrame(
        {
            "statement_id": doc_ids + "#" + pd.Series(pos_arr).astype(str),
            "doc_id": doc_ids,
            "source": take("source"),
            "customer_id": take("customer_id"),
            "created_at": take("created_at"),
            "position": pos_arr,
            "language": np.asarray(langs, dtype=object)[rows] if len(rows) else np.array([], dtype=object),
            "language_confidence": np.asarray(confs, dtype=np.float64)[rows] if len(rows) else np.array([]),
            "text": texts,
            "is_subject": np.asarray(is_subject, dtype=bool),
            "is_non_answer": np.fromiter((is_non_answer(t) for t in texts), dtype=bool, count=len(texts)),
        }
    )
    return frame

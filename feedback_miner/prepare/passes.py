"""The prepare stage as a plan, declared once: per-document passes and batch-wide reductions.

:data:`PLAN` is what an engine runs over the documents (each with its input row number in
:data:`ROW`), in order:

- a :class:`DocumentPass` maps a batch of documents to the same rows with more columns (its
  callable class is built once per worker with ``(cfg, decided)``: models load once);
- a :class:`Reduction` turns each batch into summable counts (``partial``), the engine sums them by
  ``keys`` over the whole batch, and ``decide`` makes the batch-wide decision later passes read
  from ``decided[name]`` (boilerplate lines, common "names", documents per language);

then :func:`statements_of` gives one row per statement with its dedup keys and customer bucket,
:func:`resolve_duplicates` marks the copies within one bucket of customers, and :func:`assemble`
builds the :class:`~feedback_miner.prepare.PrepareResult`. The local engine runs the plan on the
whole batch in this process (:func:`run_in_process`); the Ray engine runs the same passes with
``map_batches`` on Parquet partitions (:mod:`feedback_miner.engine.ray_prepare`), so both give
the same frames.
"""

from __future__ import annotations

import json
import zlib
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from feedback_miner.config import PrepareConfig
from feedback_miner.prepare import (
    PrepareResult,
    RedactStep,
    _statement_frame,
    boilerplate_keys,
    boilerplate_line_counts,
    clean_texts,
    dedup_groups,
    finish_document_frame,
    finish_documents,
    mark_duplicates,
    prepare_counts,
    redact_and_detect,
)
from feedback_miner.prepare.dedup import dedup_keys, duplicates_from_keys
from feedback_miner.prepare.pii import NER_PIPELINES, common_names, load_ner

ROW = "_row"  # input row number of each document: the order every output is restored to
SUBJECT, BODY, SPANS, PIECES, COUNTS, COUNTS_FINISH = "_subject", "_body", "_spans", "_pieces", "_counts", "_counts2"
BUCKET, KIND = "_bucket", "_dup_kind"
DEDUP_COLUMNS = ["_dedup_key", "_dedup_len", "_minhash", BUCKET]  # per-statement keys only the dedup pass reads


@dataclass(frozen=True)
class DocumentPass:
    """Per-document work: ``make(cfg, decided)`` is a callable ``batch -> batch`` (same rows)."""

    name: str
    make: type


@dataclass(frozen=True)
class Reduction:
    """A batch-wide decision from summable per-batch counts (column ``n``, summed by ``keys``)."""

    name: str
    partial: Callable[[pd.DataFrame, PrepareConfig], pd.DataFrame]
    keys: tuple[str, ...]
    decide: Callable[[pd.DataFrame, dict, pd.DataFrame, PrepareConfig], object]


def _doc_columns(batch: pd.DataFrame) -> pd.DataFrame:
    return batch[[c for c in batch.columns if not c.startswith("_") or c == ROW]]


def batch_counts(n: int, counts: dict) -> list[str]:
    # Per-batch totals ride on the batch's first row ("" elsewhere): summing the column over all
    # rows gives the stage's totals however an engine splits or merges the batches.
    return [json.dumps(counts)] + [""] * (n - 1) if n else []


def sum_counts(values: Sequence[str]) -> Counter:
    total: Counter = Counter()
    for v in values:
        if v:
            total.update(json.loads(v))
    return total


class CleanDocuments:
    """Cleaned subject and body of every document."""

    def __init__(self, cfg: PrepareConfig, decided: dict):
        pass

    def __call__(self, batch: pd.DataFrame) -> pd.DataFrame:
        subjects, bodies = clean_texts(batch)
        return batch.assign(**{SUBJECT: subjects, BODY: bodies})


def boilerplate_partial(batch: pd.DataFrame, cfg: PrepareConfig) -> pd.DataFrame:
    """In how many documents of the batch (in the boilerplate sources) each candidate line occurs."""
    sources = list(cfg.boilerplate_sources)
    in_scope = batch["source"].astype(str).isin(sources).to_numpy() if "source" in batch else np.zeros(len(batch), bool)
    counts = boilerplate_line_counts(batch.loc[in_scope, BODY].tolist(), cfg)
    return pd.DataFrame({"key": list(counts), "n": np.fromiter(counts.values(), np.int64, len(counts))})


def decide_boilerplate(totals: pd.DataFrame, decided: dict, documents: pd.DataFrame, cfg: PrepareConfig) -> set[str]:
    """Boilerplate line keys from the line counts summed over the in-scope documents."""
    n_in_scope = 0
    if "source" in documents:
        n_in_scope = int(documents["source"].astype(str).isin(cfg.boilerplate_sources).sum())
    return boilerplate_keys(Counter(dict(zip(totals["key"], totals["n"], strict=True))), n_in_scope, cfg)


class RedactDocuments:
    """Boilerplate out, PII redacted, language id, person-name spans (models loaded once per worker)."""

    def __init__(self, cfg: PrepareConfig, decided: dict):
        self.cfg, self.keys = cfg, decided["boilerplate"]

    def __call__(self, batch: pd.DataFrame) -> pd.DataFrame:
        docs = _doc_columns(batch).reset_index(drop=True)
        step = redact_and_detect(docs, batch[SUBJECT].tolist(), batch[BODY].tolist(), self.keys, self.cfg)
        spans: list[dict] = [{} for _ in range(len(docs))]
        for (_, target), (idx, found) in step.name_spans.items():
            for i, s in zip(idx, found, strict=True):
                spans[i][target] = s
        return step.docs.assign(**{
            SUBJECT: step.subjects, BODY: step.bodies, "language": step.langs,
            "language_confidence": np.asarray(step.confs, dtype=np.float64),
            SPANS: [json.dumps(s) for s in spans],
            COUNTS: batch_counts(len(docs), {**step.pii_counts, "_boilerplate": step.boilerplate_removed}),
        })


def language_partial(batch: pd.DataFrame, cfg: PrepareConfig) -> pd.DataFrame:
    return batch.groupby("language", as_index=False).size().rename(columns={"size": "n"})


def decide_languages(totals: pd.DataFrame, decided: dict, documents: pd.DataFrame, cfg: PrepareConfig) -> dict:
    return dict(zip(totals["language"], totals["n"], strict=True))


def name_partial(batch: pd.DataFrame, cfg: PrepareConfig) -> pd.DataFrame:
    """In how many documents of each language each person-name candidate occurs."""
    rows = []
    for lang, spans in zip(batch["language"], batch[SPANS], strict=True):
        for target, found in json.loads(spans).items():
            rows.extend((lang, target, name) for name in {n for _, _, n in found})
    frame = pd.DataFrame(rows, columns=["language", "target", "name"])
    return frame.groupby(["language", "target", "name"], as_index=False).size().rename(columns={"size": "n"})


def decide_common_names(totals: pd.DataFrame, decided: dict, documents: pd.DataFrame,
                        cfg: PrepareConfig) -> dict[tuple[str, str], set[str]]:
    # A "name" in many documents of a language is a brand, not a person.
    per_lang = decided["languages"]
    return {
        (lang, target): common_names(Counter(dict(zip(g["name"], g["n"], strict=True))), int(per_lang[lang]))
        for (lang, target), g in totals.groupby(["language", "target"])
    }


class FinishDocuments:
    """Names replaced (except common ones), whitespace normalized, statements segmented."""

    def __init__(self, cfg: PrepareConfig, decided: dict):
        self.cfg, self.common = cfg, decided["common_names"]

    def __call__(self, batch: pd.DataFrame) -> pd.DataFrame:
        batch = batch.reset_index(drop=True)
        docs = _doc_columns(batch).drop(columns=["language", "language_confidence"])
        langs = batch["language"].tolist()
        name_spans: dict[tuple[str, str], tuple[list[int], list]] = {}
        ner = self.cfg.redact_pii and not self.cfg.keep_raw_text and self.cfg.redact_names and self.cfg.ner_names
        for lang in NER_PIPELINES if ner else ():
            idx = [i for i, g in enumerate(langs) if g == lang]
            if not idx or load_ner(lang) is None:
                continue
            found = [json.loads(batch.at[i, SPANS]) for i in idx]
            for target in ("bodies", "subjects"):
                name_spans[(lang, target)] = (idx, [[tuple(s) for s in f.get(target, [])] for f in found])
        step = RedactStep(docs, batch[SUBJECT].tolist(), batch[BODY].tolist(), langs,
                          batch["language_confidence"].tolist(), Counter(), 0, name_spans)
        pieces, non_answer = finish_documents(step, self.common, self.cfg)
        out = finish_document_frame(step, non_answer)
        return out.assign(**{SUBJECT: step.subjects, PIECES: [json.dumps(p) for p in pieces],
                             COUNTS: batch_counts(len(out), {**step.pii_counts, "_capped": step.statements_capped})
                             if len(out) else [],
                             COUNTS_FINISH: batch[COUNTS].tolist()})


PLAN: tuple[DocumentPass | Reduction, ...] = (
    DocumentPass("clean", CleanDocuments),
    Reduction("boilerplate", boilerplate_partial, ("key",), decide_boilerplate),
    DocumentPass("redact", RedactDocuments),
    Reduction("languages", language_partial, ("language",), decide_languages),
    Reduction("common_names", name_partial, ("language", "target", "name"), decide_common_names),
    DocumentPass("finish", FinishDocuments),
)


def statements_of(batch: pd.DataFrame, n_buckets: int) -> pd.DataFrame:
    """One row per statement of the finished documents, with the per-row dedup keys (hash, length,
    MinHash signature) and the dedup bucket of its customer."""
    batch = batch.reset_index(drop=True)
    docs = _doc_columns(batch)
    pieces = [json.loads(p) for p in batch[PIECES]]
    subjects = batch[SUBJECT].tolist()
    frame = _statement_frame(docs, subjects, pieces, batch["language"].tolist(),
                             batch["language_confidence"].tolist())
    per_doc = np.asarray([int(bool(s)) + len(p) for s, p in zip(subjects, pieces, strict=True)], dtype=np.int64)
    keys, lengths, sig = dedup_keys(frame["text"].tolist())
    return frame.assign(**{ROW: np.repeat(batch[ROW].to_numpy(), per_doc), "_dedup_key": keys,
                           "_dedup_len": lengths, "_minhash": [s.tobytes() for s in sig],
                           BUCKET: dedup_buckets(frame["customer_id"], n_buckets)})


def dedup_buckets(customers: pd.Series, n_buckets: int) -> np.ndarray:
    """Bucket in ``[0, n_buckets)`` of each statement's customer: every statement of a customer in one bucket.

    CRC-32 of the id, so every worker agrees (Python's ``hash`` is salted per process); missing
    ids (one dedup group of their own) all go to bucket 0.
    """
    if n_buckets <= 1:
        return np.zeros(len(customers), dtype=np.int64)
    return np.fromiter((0 if pd.isna(c) else zlib.crc32(str(c).encode("utf-8")) % n_buckets for c in customers),
                       dtype=np.int64, count=len(customers))


def resolve_duplicates(batch: pd.DataFrame, cfg: PrepareConfig) -> pd.DataFrame:
    """Exact and near duplicates among the statements of one bucket of customers.

    Under scope ``customer`` only statements of one customer can copy each other, and a bucket
    holds all of a customer's statements, so the duplicates found here, in statement order, are
    the ones :func:`~feedback_miner.prepare.dedup.find_duplicates` finds over the whole batch.
    Returns ``ROW, position, is_duplicate_of, n_duplicates`` and the kind (0 none, 1 exact, 2 near).
    """
    batch = batch.sort_values([ROW, "position"], kind="stable").reset_index(drop=True)
    blobs = batch["_minhash"].tolist()
    sig = np.frombuffer(b"".join(blobs), dtype=np.uint32).reshape(len(blobs), -1)
    del blobs
    dups = duplicates_from_keys(batch["_dedup_key"].tolist(), batch["_dedup_len"].to_numpy(), lambda rows: sig[rows],
                                cfg.near_duplicate_threshold, cfg.dedup_min_chars, groups=dedup_groups(batch, cfg))
    out = mark_duplicates(batch[[ROW, "position", "statement_id"]].copy(), dups).drop(columns=["statement_id"])
    out[KIND] = np.select([dups.kind == "exact", dups.kind == "near"], [1, 2], 0).astype(np.int8)
    return out


def assemble(documents: pd.DataFrame, finished: pd.DataFrame, statements: pd.DataFrame, marks: pd.DataFrame,
             decided: dict, cfg: PrepareConfig) -> PrepareResult:
    """The stage's result from the finished documents (in ROW order), the statements and their
    duplicate marks (both in ROW, position order, without the dedup keys)."""
    keep = list(documents.columns) + ["language", "language_confidence", "is_non_answer"]
    pii = sum_counts(finished[COUNTS_FINISH]) + sum_counts(finished[COUNTS])
    boiler = int(pii.pop("_boilerplate", 0))
    capped = int(pii.pop("_capped", 0))
    out_docs = finished[keep].reset_index(drop=True)
    if "subject" in out_docs:  # subjects stay an object column with None, whatever the partitions held
        out_docs["subject"] = pd.Series(out_docs["subject"].astype(object).where(out_docs["subject"].notna(), None),
                                        dtype="object")
    if not len(marks):  # no statement at all (every document empty): no bucket was written
        marks = pd.DataFrame({ROW: np.zeros(0, np.int64), "position": np.zeros(0, np.int64),
                              "is_duplicate_of": pd.Series([], dtype=object),
                              "n_duplicates": np.zeros(0, np.int64), KIND: np.zeros(0, np.int8)})
    if len(marks) != len(statements) or not (
        np.array_equal(marks[ROW].to_numpy(), statements[ROW].to_numpy())
        and np.array_equal(marks["position"].to_numpy(), statements["position"].to_numpy())
    ):
        raise RuntimeError(f"duplicate marks of {len(marks)} statements do not line up with {len(statements)}")
    statements = statements.drop(columns=[ROW]).reset_index(drop=True)
    dup_of = marks["is_duplicate_of"]  # object, None where not a copy
    statements["is_duplicate_of"] = pd.Series(dup_of.astype(object).where(dup_of.notna(), None), dtype="object")
    statements["n_duplicates"] = marks["n_duplicates"].to_numpy(dtype=np.int64)
    kinds = np.bincount(marks[KIND].to_numpy(), minlength=3)
    counts = prepare_counts(out_docs, statements, pii, int(kinds[1]), int(kinds[2]), boiler,
                            len(decided["boilerplate"]), cfg)
    counts["documents_statements_capped"] = capped
    return PrepareResult(documents=out_docs, statements=statements, counts=counts)


def sum_partials(partials: Sequence[pd.DataFrame], keys: Sequence[str]) -> pd.DataFrame:
    """Per-batch counts summed by ``keys`` (column ``n``)."""
    frames = [p for p in partials if len(p)]
    if not frames:
        return pd.DataFrame(columns=[*keys, "n"])
    return pd.concat(frames, ignore_index=True).groupby(list(keys), as_index=False)["n"].sum()


def run_in_process(documents: pd.DataFrame, cfg: PrepareConfig) -> PrepareResult:
    """:data:`PLAN` on the whole batch in this process (the local engine)."""
    docs = documents.reset_index(drop=True)
    batch = docs.assign(**{ROW: np.arange(len(docs), dtype=np.int64)})
    decided: dict = {}
    for step in PLAN:
        if isinstance(step, Reduction):
            decided[step.name] = step.decide(sum_partials([step.partial(batch, cfg)], step.keys), decided, docs, cfg)
        else:
            batch = step.make(cfg, decided)(batch)
    statements = statements_of(batch, n_buckets=1)
    marks = resolve_duplicates(statements, cfg) if len(statements) else pd.DataFrame()  # assemble fills an empty one
    return assemble(docs, batch, statements.drop(columns=DEDUP_COLUMNS), marks, decided, cfg)

"""The prepare stage on Ray Data: the per-document passes on workers, the batch-wide reductions on the cluster.

The batch-global decisions of the stage (boilerplate lines, common "names", duplicates) are reduced
from per-partition counts or per-row keys, so the output equals the local engine's.
"""

from __future__ import annotations

import json
import zlib
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from feedback_miner.config import PrepareConfig, RayConfig
from feedback_miner.engine.ray_io import (
    ROW,
    batch_counts,
    ensure_ray,
    map_options,
    read_partitions,
    scratch,
    sum_counts,
    write_partitions,
)
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

_SUBJECT, _BODY, _SPANS, _PIECES, _COUNTS = "_subject", "_body", "_spans", "_pieces", "_counts"


def _doc_columns(batch: pd.DataFrame) -> pd.DataFrame:
    return batch[[c for c in batch.columns if not c.startswith("_") or c == ROW]]


class _CleanDocuments:
    """Pass 1: cleaned subject and body of every document."""

    def __call__(self, batch: pd.DataFrame) -> pd.DataFrame:
        subjects, bodies = clean_texts(batch)
        return batch.assign(**{_SUBJECT: subjects, _BODY: bodies})


def _boilerplate_partial(batch: pd.DataFrame, sources: list[str], min_chars: int) -> pd.DataFrame:
    cfg = PrepareConfig(boilerplate_min_chars=min_chars)
    in_scope = batch["source"].astype(str).isin(sources).to_numpy() if "source" in batch else np.zeros(len(batch), bool)
    counts = boilerplate_line_counts(batch.loc[in_scope, _BODY].tolist(), cfg)
    return pd.DataFrame({"key": list(counts), "n": np.fromiter(counts.values(), np.int64, len(counts))})


class _RedactDocuments:
    """Pass 2: boilerplate out, PII redacted, language id, person-name spans (models loaded once per actor)."""

    def __init__(self, cfg: PrepareConfig, keys: set[str]):
        self.cfg, self.keys = cfg, keys

    def __call__(self, batch: pd.DataFrame) -> pd.DataFrame:
        docs = _doc_columns(batch).reset_index(drop=True)
        step = redact_and_detect(docs, batch[_SUBJECT].tolist(), batch[_BODY].tolist(), self.keys, self.cfg)
        spans: list[dict] = [{} for _ in range(len(docs))]
        for (_, target), (idx, found) in step.name_spans.items():
            for i, s in zip(idx, found, strict=True):
                spans[i][target] = s
        out = step.docs.assign(**{
            _SUBJECT: step.subjects, _BODY: step.bodies, "language": step.langs,
            "language_confidence": np.asarray(step.confs, dtype=np.float64),
            _SPANS: [json.dumps(s) for s in spans],
            _COUNTS: batch_counts(len(docs), {**step.pii_counts, "_boilerplate": step.boilerplate_removed}),
        })
        return out


def _name_partial(batch: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for lang, spans in zip(batch["language"], batch[_SPANS], strict=True):
        for target, found in json.loads(spans).items():
            rows.extend((lang, target, name) for name in {n for _, _, n in found})
    frame = pd.DataFrame(rows, columns=["language", "target", "name"])
    return frame.groupby(["language", "target", "name"], as_index=False).size().rename(columns={"size": "n"})


class _FinishDocuments:
    """Pass 3: names replaced (except common ones), whitespace normalized, statements segmented."""

    def __init__(self, cfg: PrepareConfig, common: dict[tuple[str, str], set[str]]):
        self.cfg, self.common = cfg, common

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
            found = [json.loads(batch.at[i, _SPANS]) for i in idx]
            for target in ("bodies", "subjects"):
                name_spans[(lang, target)] = (idx, [[tuple(s) for s in f.get(target, [])] for f in found])
        step = RedactStep(docs, batch[_SUBJECT].tolist(), batch[_BODY].tolist(), langs,
                          batch["language_confidence"].tolist(), Counter(), 0, name_spans)
        pieces, non_answer = finish_documents(step, self.common, self.cfg)
        out = finish_document_frame(step, non_answer)
        return out.assign(**{_SUBJECT: step.subjects, _PIECES: [json.dumps(p) for p in pieces],
                             _COUNTS: batch_counts(len(out), dict(step.pii_counts)) if len(out) else [],
                             "_counts2": batch[_COUNTS].tolist()})


def _statements_of(batch: pd.DataFrame, n_buckets: int) -> pd.DataFrame:
    """Pass 4: one row per statement, with the per-row dedup keys (hash, length, MinHash signature)
    and the dedup bucket of its customer."""
    batch = batch.reset_index(drop=True)
    docs = _doc_columns(batch)
    pieces = [json.loads(p) for p in batch[_PIECES]]
    subjects = batch[_SUBJECT].tolist()
    frame = _statement_frame(docs, subjects, pieces, batch["language"].tolist(),
                             batch["language_confidence"].tolist())
    per_doc = np.asarray([int(bool(s)) + len(p) for s, p in zip(subjects, pieces, strict=True)], dtype=np.int64)
    keys, lengths, sig = dedup_keys(frame["text"].tolist())
    return frame.assign(**{ROW: np.repeat(batch[ROW].to_numpy(), per_doc), "_dedup_key": keys,
                           "_dedup_len": lengths, "_minhash": [s.tobytes() for s in sig],
                           _BUCKET: dedup_buckets(frame["customer_id"], n_buckets)})


_BUCKET, _KIND = "_bucket", "_dup_kind"
_DEDUP = ["_dedup_key", "_dedup_len", "_minhash", _BUCKET]  # worker-side columns the driver never reads


def dedup_buckets(customers: pd.Series, n_buckets: int) -> np.ndarray:
    """Bucket in ``[0, n_buckets)`` of each statement's customer: every statement of a customer in one bucket.

    CRC-32 of the id, so every worker agrees (Python's ``hash`` is salted per process); missing
    ids (one dedup group of their own) all go to bucket 0.
    """
    if n_buckets <= 1:
        return np.zeros(len(customers), dtype=np.int64)
    return np.fromiter((0 if pd.isna(c) else zlib.crc32(str(c).encode("utf-8")) % n_buckets for c in customers),
                       dtype=np.int64, count=len(customers))


def _resolve_duplicates(batch: pd.DataFrame, cfg: PrepareConfig) -> pd.DataFrame:
    """Pass 5: exact and near duplicates among the statements of one bucket of customers.

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
    out[_KIND] = np.select([dups.kind == "exact", dups.kind == "near"], [1, 2], 0).astype(np.int8)
    return out


def prepare_statements_ray(documents: pd.DataFrame, cfg: PrepareConfig, settings: RayConfig,
                           work_dir: Path) -> PrepareResult:
    """:func:`feedback_miner.prepare.prepare_statements` with the per-document work on Ray workers.

    Same inputs and output (frames equal to the local engine's). Passes: clean -> boilerplate
    counts (reduced by key on the cluster) -> redact + language + name spans -> common-name counts
    -> names, segmentation -> statements with dedup keys -> duplicates, resolved on the workers
    per bucket of customers (scope ``customer``; one bucket under scope ``all``) from 16-byte
    hashes and MinHash signatures. The driver reads back the two frames and the per-statement
    duplicate marks, never the signatures.
    """
    if not len(documents):  # nothing to distribute (an incremental night with no new documents)
        from feedback_miner.prepare import prepare_statements

        return prepare_statements(documents, cfg)
    ensure_ray(settings)
    import ray

    opts = map_options(settings)
    with scratch(work_dir, "prepare") as tmp:
        docs = documents.reset_index(drop=True)
        write_partitions(docs, tmp / "documents", settings.partition_rows)
        cleaned = ray.data.read_parquet(str(tmp / "documents")).map_batches(_CleanDocuments, **opts).materialize()

        # -- global: boilerplate lines by document frequency in the in-scope sources
        n_in_scope = int(docs["source"].astype(str).isin(cfg.boilerplate_sources).sum()) if "source" in docs else 0
        partial = cleaned.map_batches(_boilerplate_partial, batch_format="pandas", fn_kwargs={
            "sources": list(cfg.boilerplate_sources), "min_chars": cfg.boilerplate_min_chars})
        totals = _reduce_counts(partial, ["key"])
        keys = boilerplate_keys(Counter(dict(zip(totals["key"], totals["n"], strict=True))), n_in_scope, cfg)

        redacted = cleaned.map_batches(_RedactDocuments, fn_constructor_args=(cfg, keys), **opts).materialize()

        # -- global: a "name" in many documents of a language is a brand, not a person
        names = _reduce_counts(redacted.map_batches(_name_partial, batch_format="pandas"),
                               ["language", "target", "name"])
        n_lang = _reduce_counts(redacted.select_columns(["language"]).map_batches(
            lambda b: b.groupby("language", as_index=False).size().rename(columns={"size": "n"}),
            batch_format="pandas"), ["language"])
        per_lang = dict(zip(n_lang["language"], n_lang["n"], strict=True))
        common = {
            (lang, target): common_names(Counter(dict(zip(g["name"], g["n"], strict=True))), int(per_lang[lang]))
            for (lang, target), g in names.groupby(["language", "target"])
        }

        finished = redacted.map_batches(_FinishDocuments, fn_constructor_args=(cfg, common), **opts).materialize()
        # Under scope "customer", statements of different customers never copy each other: hashing
        # customers into buckets lets the workers resolve duplicates bucket by bucket, and the
        # driver never holds the signatures (256 bytes per statement). Scope "all" is one bucket.
        n_buckets = -(-len(docs) // settings.partition_rows) if cfg.dedup_scope == "customer" else 1
        finished.map_batches(_statements_of, batch_format="pandas", fn_kwargs={"n_buckets": n_buckets}) \
            .write_parquet(str(tmp / "statements"))
        ray.data.read_parquet(str(tmp / "statements")) \
            .select_columns([ROW, "position", "statement_id", "customer_id", *_DEDUP]) \
            .groupby(_BUCKET).map_groups(_resolve_duplicates, batch_format="pandas", fn_kwargs={"cfg": cfg}) \
            .write_parquet(str(tmp / "duplicates"))
        finished.drop_columns([_PIECES, _SUBJECT]).write_parquet(str(tmp / "documents_out"))

        keep = list(documents.columns) + ["language", "language_confidence", "is_non_answer"]
        out_docs = read_partitions(tmp / "documents_out", columns=[ROW, *keep, _COUNTS, "_counts2"])
        first = next((tmp / "statements").rglob("*.parquet"), None)
        columns = [c for c in pq.read_schema(first).names if c not in _DEDUP] if first else None
        statements = read_partitions(tmp / "statements", columns=columns, sort=(ROW, "position"))
        marks = read_partitions(tmp / "duplicates", sort=(ROW, "position"))

    pii = sum_counts(out_docs["_counts2"]) + sum_counts(out_docs[_COUNTS])
    boiler = int(pii.pop("_boilerplate", 0))
    out_docs = out_docs[keep].reset_index(drop=True)
    if "subject" in out_docs:  # the local engine keeps subjects as an object column with None
        out_docs["subject"] = pd.Series(out_docs["subject"].astype(object).where(out_docs["subject"].notna(), None),
                                        dtype="object")

    # -- duplicates, resolved per bucket on the workers; both frames are in (ROW, position) order
    if not len(marks):  # no statement at all (every document empty): no bucket was written
        marks = pd.DataFrame({ROW: np.zeros(0, np.int64), "position": np.zeros(0, np.int64),
                              "is_duplicate_of": pd.Series([], dtype=object),
                              "n_duplicates": np.zeros(0, np.int64), _KIND: np.zeros(0, np.int8)})
    if len(marks) != len(statements) or not (
        np.array_equal(marks[ROW].to_numpy(), statements[ROW].to_numpy())
        and np.array_equal(marks["position"].to_numpy(), statements["position"].to_numpy())
    ):
        raise RuntimeError(f"duplicate marks of {len(marks)} statements do not line up with {len(statements)}")
    statements = statements.drop(columns=[ROW])
    dup_of = marks["is_duplicate_of"]  # as the local engine's: object, None where not a copy
    statements["is_duplicate_of"] = pd.Series(dup_of.astype(object).where(dup_of.notna(), None), dtype="object")
    statements["n_duplicates"] = marks["n_duplicates"].to_numpy(dtype=np.int64)
    kinds = np.bincount(marks[_KIND].to_numpy(), minlength=3)
    del marks
    counts = prepare_counts(out_docs, statements, pii, int(kinds[1]), int(kinds[2]), boiler, len(keys), cfg)
    return PrepareResult(documents=out_docs, statements=statements, counts=counts)


def _reduce_counts(ds, by: list[str]) -> pd.DataFrame:
    """Sum column ``n`` of a dataset of partial counts by ``by`` (a shuffle on the cluster)."""
    if ds.count() == 0:
        return pd.DataFrame(columns=[*by, "n"])
    frame = ds.groupby(by).sum("n").to_pandas()
    return frame.rename(columns={"sum(n)": "n"})

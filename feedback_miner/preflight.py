"""Checks made before any work: the models a config names exist (a typo found after 30 s of
ingest and preparation, with a traceback, is the wrong moment)."""

from __future__ import annotations

from pathlib import Path

from feedback_miner.config import Config, ConfigError


def _embedding_model_found(name: str) -> bool:
    from feedback_miner.embed import EMBEDDERS

    if name in EMBEDDERS or Path(name).expanduser().is_dir():
        return True
    try:  # a sentence-transformers name: runs are offline, so it must be in the local cache
        from huggingface_hub import try_to_load_from_cache

        return isinstance(try_to_load_from_cache(name, "config.json"), str)
    except Exception:  # an invalid repo id is simply not found
        return False


def check_models(cfg: Config, config_path: Path) -> None:
    """Raise :class:`ConfigError` (one line) when ``embedding.model`` or ``sentiment.model`` names
    a model that is not there."""
    from feedback_miner.embed import EMBEDDERS
    from feedback_miner.sentiment.loader import BUNDLED_HEADS, bundled_model_path

    name = cfg.embedding.model
    if not _embedding_model_found(name):
        raise ConfigError(
            f"{config_path}: embedding.model '{name}' not found: not one of {', '.join(EMBEDDERS)}, nor a local "
            "folder, nor a sentence-transformers model in the local Hugging Face cache"
        )
    spec = cfg.sentiment.model
    key = spec.strip().lower()
    folder = bundled_model_path(key) if key in BUNDLED_HEADS else cfg.resolve(spec)
    if folder.name == "model.json":
        folder = folder.parent
    if not (folder / "model.json").is_file():
        raise ConfigError(
            f"{config_path}: sentiment.model '{spec}' not found (no model.json in {folder}); use one of "
            f"{', '.join(BUNDLED_HEADS)} or the folder of a trained head"
        )

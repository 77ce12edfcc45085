"""Finding and loading the head a config names: a shipped one by name, or a trained head's folder.

Both head formats load through :func:`load_sentiment_model`: a :class:`SentimentModel` folder, or a
fine-tuned encoder's (``"format": "tuned-encoder"`` in its ``model.json``).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from feedback_miner.sentiment.base import SentimentHead, SentimentModelError
from feedback_miner.sentiment.model import SentimentModel
from feedback_miner.sentiment.tuned import FORMAT as TUNED_FORMAT
from feedback_miner.sentiment.tuned import TunedSentimentModel

_JSON = "model.json"

#: Heads shipped in the repository, by the name ``sentiment.model`` gives them.
BUNDLED_HEADS: dict[str, str] = {
    # Trained only on text the project wrote itself (Apache-2.0): the product's default.
    "bundled": "sentiment",
    # Trained on UMSAB tweets (research use) and airline tweets (CC BY-NC-SA): opt-in, non-commercial.
    "research": "sentiment-research",
    # The same data, with e5-small's top layers fine-tuned (feedback_miner/sentiment/tuned.py): opt-in,
    # non-commercial; runs its own encoder pass over the texts.
    "research-tuned": "sentiment-research-tuned",
}


def bundled_model_path(name: str = "bundled") -> Path:
    """Folder of a head shipped in the repository: ``bundled`` (``models/sentiment``), ``research``
    or ``research-tuned``.

    Looked up, in order: ``$FEEDBACK_MINER_MODELS/<folder>``, then ``models/<folder>`` in the
    repository that holds this package (editable installs and checkouts).
    """
    folder = BUNDLED_HEADS[name]
    env = os.environ.get("FEEDBACK_MINER_MODELS")
    if env:
        return Path(env).expanduser().resolve() / folder
    return Path(__file__).resolve().parents[2] / "models" / folder


def head_digest(folder: Path) -> str:
    """Content hash of a head's folder (every file, by name): the key of its scores in the run
    store's sentiment cache, so a retrained or replaced head never reuses another head's scores."""
    h = hashlib.blake2b(digest_size=16)
    folder = Path(folder)
    for f in sorted(p for p in folder.rglob("*") if p.is_file()):  # a tuned head keeps its head/ inside
        h.update(f.relative_to(folder).as_posix().encode())
        h.update(f.read_bytes())
    return h.hexdigest()


def _load_any(path: Path) -> SentimentHead:
    """The head in ``path`` (its folder or its ``model.json``), with ``digest_`` = :func:`head_digest`."""
    folder = path.parent if path.name in (_JSON, "weights.npz") else path
    try:
        tuned = json.loads((folder / _JSON).read_text(encoding="utf-8")).get("format") == TUNED_FORMAT
    except (OSError, ValueError, AttributeError):
        tuned = False  # SentimentModel.load reports what is wrong
    model = TunedSentimentModel.load(folder) if tuned else SentimentModel.load(path)
    model.digest_ = head_digest(folder)
    return model


def load_sentiment_model(spec: str, base_dir: Path) -> SentimentHead:
    """The head a config names: ``"bundled"`` (the shipped default), ``"research"`` (the opt-in
    non-commercial head, see ``models/README.md``), ``"research-tuned"`` (the same data with a
    fine-tuned encoder, also non-commercial) or a path relative to ``base_dir``."""
    key = spec.strip().lower()
    if key in BUNDLED_HEADS:
        path = bundled_model_path(key)
        if not (path / _JSON).exists():
            raise SentimentModelError(
                f"{key} sentiment head not found at {path}: run from a checkout of feedback-miner, set "
                f"FEEDBACK_MINER_MODELS to the folder holding '{BUNDLED_HEADS[key]}/', or set sentiment.model "
                "to a trained head"
            )
        return _load_any(path)
    p = Path(spec).expanduser()
    return _load_any(p if p.is_absolute() else Path(base_dir) / p)

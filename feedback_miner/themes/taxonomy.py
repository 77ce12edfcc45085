"""Seeded taxonomy: named themes a user lists with a few example phrases.

YAML layout (``themes.taxonomy`` in the config)::

    themes:
      - name: Billing
        id: billing            # optional; default: the name in lower case with dashes
        examples:
          - I was charged twice
          - Mi hanno addebitato due volte

Statements whose best similarity to a seed's examples reaches ``taxonomy_similarity`` get that
seed's name as label and the stable id ``S:<id>``; the rest is discovered by clustering.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml


@dataclass
class SeedTheme:
    """One named theme with its example phrases and their vectors (L2-normalized)."""

    theme_id: str
    name: str
    examples: list[str]
    vectors: np.ndarray


def _slug(name: str) -> str:
    return re.sub(r"[^0-9a-z]+", "-", name.lower()).strip("-") or "theme"


def parse_taxonomy(data: dict, embed: Callable[[Sequence[str]], np.ndarray]) -> list[SeedTheme]:
    """Seeds from a parsed YAML mapping; ``embed`` turns texts into normalized vectors."""
    items = (data or {}).get("themes")
    if not isinstance(items, list) or not items:
        raise ValueError("taxonomy: expected a non-empty 'themes' list")
    seeds, seen = [], set()
    for i, item in enumerate(items):
        if not isinstance(item, dict) or not item.get("name") or not item.get("examples"):
            raise ValueError(f"taxonomy: themes[{i}] needs a 'name' and a non-empty 'examples' list")
        examples = [str(x) for x in item["examples"]]
        tid = "S:" + _slug(str(item.get("id") or item["name"]))
        if tid in seen:
            raise ValueError(f"taxonomy: duplicate theme id '{tid}'")
        seen.add(tid)
        seeds.append(SeedTheme(tid, str(item["name"]), examples, np.asarray(embed(examples), dtype=np.float32)))
    return seeds


def load_taxonomy(path: str | Path, embed: Callable[[Sequence[str]], np.ndarray]) -> list[SeedTheme]:
    """Read a taxonomy YAML file and embed its example phrases."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValueError(f"{path}: taxonomy file not found") from None
    try:
        return parse_taxonomy(data, embed)
    except ValueError as e:
        raise ValueError(f"{path}: {e}") from None


def match_seeds(X: np.ndarray, seeds: Sequence[SeedTheme], threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """Index of the nearest seed per row (-1 below ``threshold``) and that best similarity.

    A row's similarity to a seed is its best similarity to any of the seed's examples, so a seed
    can cover several phrasings (and languages) without averaging them into a blur.
    """
    if not seeds or X.shape[0] == 0:
        return np.full(X.shape[0], -1, dtype=np.int64), np.zeros(X.shape[0], dtype=np.float32)
    S = np.column_stack([(X @ s.vectors.T).max(axis=1) for s in seeds])
    best = S.argmax(axis=1)
    sim = S[np.arange(len(best)), best]
    return np.where(sim >= threshold, best, -1).astype(np.int64), sim.astype(np.float32)

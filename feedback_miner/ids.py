"""Membership tests of ids (documents, statements, customers, text hashes) against a set of ids.

pandas 3 stores strings in Arrow arrays by default, and its ``isin`` on them builds one Arrow
scalar per value of the *set* in Python (~25 µs a value), and its object-dtype ``isin`` slowed
to ~16 s for 342k ids against 500k here: matching a 100k-document window's statements against
last night's cost tens of seconds a night. A Python set answers the same question in ~1 s.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

Ids = pd.Series | pd.Index | np.ndarray | Iterable


def _objects(values: Ids) -> np.ndarray:
    if isinstance(values, pd.Series | pd.Index):
        return values.to_numpy(dtype=object)
    return np.asarray(values if isinstance(values, np.ndarray) else list(values), dtype=object)


def among(values: Ids, of: Ids) -> np.ndarray:
    """Boolean array: whether each of ``values`` is one of ``of``; as ``Series.isin`` (a missing
    value is among ``of`` when ``of`` has one), for any string storage."""
    left, right = _objects(values), _objects(of)
    missing_right = pd.isna(right)
    allowed = set(right[~missing_right].tolist())
    out = np.fromiter((x in allowed for x in left.tolist()), dtype=bool, count=len(left))
    if missing_right.any():
        out |= pd.isna(left)
    return out

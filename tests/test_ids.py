"""Id membership (feedback_miner.ids.among) answers as pandas' isin does, on every string storage."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from feedback_miner.ids import among


@pytest.mark.parametrize("dtype", ["str", object, "string"])
def test_among_equals_isin(dtype):
    rng = np.random.default_rng(0)
    pool = [f"survey:R{i:05d}#{i % 4}" for i in range(500)] + [None]
    values = pd.Series([pool[i] for i in rng.integers(0, len(pool), 2000)], dtype=dtype)
    for of in (pd.Series(pool[::3], dtype=dtype), pd.Series(pool[:50], dtype=dtype), set(pool[1:200:7]), []):
        expected = values.isin(list(of) if isinstance(of, set) else of).to_numpy()
        assert (among(values, of) == expected).all()


def test_among_takes_indexes_and_arrays():
    idx = pd.Index(["a", "b", "c"])
    assert list(among(np.array(["b", "x"], dtype=object), idx)) == [True, False]
    assert list(among(idx, ["c"])) == [False, False, True]

"""The speech segmenter's cheap percentile gives numpy's numbers exactly (it replaced np.percentile per frame)."""

from __future__ import annotations

import numpy as np
import pytest
from hold_slayer_sidecar.audio.speech import percentile


@pytest.mark.parametrize("n", [1, 2, 3, 7, 50, 100, 101])
@pytest.mark.parametrize("q", [10, 50, 90, 95])
def test_matches_numpy_linear_percentile(n: int, q: int) -> None:
    rng = np.random.default_rng(n * 100 + q)
    for _ in range(50):
        values = [float(v) for v in rng.normal(-30.0, 10.0, n)]
        assert percentile(values, q) == float(np.percentile(values, q))

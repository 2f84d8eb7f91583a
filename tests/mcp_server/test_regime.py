"""The regime detector on synthetic markets whose regime is known by construction, and on a
real day."""

import numpy as np
import pytest

from mcp_server.insights.regime import RANGE, TREND, against_grid, detect


def candles_from(close: np.ndarray, rng, spread=0.0008):
    wiggle = np.abs(rng.normal(0, spread, len(close)))
    return close * (1 + wiggle), close * (1 - wiggle), close


def mean_reverting(rng, n=1440, level=100.0, speed=0.08, vol=0.002):
    x = np.empty(n)
    x[0] = 0.0
    for i in range(1, n):
        x[i] = x[i - 1] * (1 - speed) + rng.normal(0, vol)
    return level * np.exp(x)


def trending(rng, n=1440, drift=0.0006, vol=0.0015):
    return 100.0 * np.exp(np.cumsum(drift + rng.normal(0, vol, n)))


@pytest.mark.parametrize("seed", range(5))
def test_synthetic_range_is_range(seed):
    rng = np.random.default_rng(seed)
    regime = detect(*candles_from(mean_reverting(rng), rng))
    assert regime.label == RANGE, regime
    assert not against_grid(regime)


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("sign", [1, -1])
def test_synthetic_trend_is_trending_with_its_direction(seed, sign):
    rng = np.random.default_rng(100 + seed)
    regime = detect(*candles_from(trending(rng, drift=sign * 0.0006), rng))
    assert regime.label == TREND, regime
    assert regime.direction == ("up" if sign > 0 else "down")
    assert against_grid(regime)


def test_too_few_candles_is_a_clear_error():
    with pytest.raises(ValueError, match="at least"):
        detect([1.0] * 10, [1.0] * 10, [1.0] * 10)

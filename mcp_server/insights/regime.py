"""Market-regime detector: range-bound (good for a grid) or trending (the price walks out of the
range, leaving the bot holding coins or cash), from three classic measures over one window:

- efficiency ratio (Kaufman): |net move| / path length, 0 = pure back-and-forth, 1 = straight line;
- choppiness index: 100·log10(Σ true range / (highest high − lowest low)) / log10(n);
  above ~61.8 choppy, below ~38.2 trending;
- variance ratio (Lo-MacKinlay): Var(q-step returns) / (q·Var(1-step returns)); ≈1 random
  walk, > 1 persistent (trend), < 1 mean-reverting (range).

Each measure votes; two votes of three decide, otherwise "mixed". Floats are fine here: these
are statistics of prices, not money."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

RANGE, TREND, MIXED = "range", "trending", "mixed"


@dataclass(frozen=True)
class Regime:
    label: str  # range | trending | mixed
    direction: str  # up | down | flat
    efficiency_ratio: float
    choppiness: float
    variance_ratio: float
    trend_votes: int
    range_votes: int

    def to_json(self) -> dict:
        return {
            "label": self.label,
            "direction": self.direction,
            "efficiency_ratio": round(self.efficiency_ratio, 4),
            "choppiness": round(self.choppiness, 2),
            "variance_ratio": round(self.variance_ratio, 4),
            "votes": {"trending": self.trend_votes, "range": self.range_votes},
        }


def efficiency_ratio(close: np.ndarray) -> float:
    path = np.abs(np.diff(close)).sum()
    return float(abs(close[-1] - close[0]) / path) if path > 0 else 0.0


def choppiness(high: np.ndarray, low: np.ndarray, close: np.ndarray) -> float:
    prev = np.concatenate(([close[0]], close[:-1]))
    true_range = np.maximum(high, prev) - np.minimum(low, prev)
    span = high.max() - low.min()
    n = len(close)
    if span <= 0 or n < 2:
        return 100.0
    return float(100 * np.log10(true_range.sum() / span) / np.log10(n))


def variance_ratio(close: np.ndarray, q: int = 16) -> float:
    r = np.diff(np.log(close))
    if len(r) < 2 * q:
        return 1.0
    var1 = r.var()
    rq = np.log(close[q:]) - np.log(close[:-q])
    return float(rq.var() / (q * var1)) if var1 > 0 else 1.0


def detect(high, low, close, *, q: int = 16) -> Regime:
    high, low, close = (np.asarray(a, dtype=float) for a in (high, low, close))
    if len(close) < 4 * q:
        raise ValueError(f"the regime needs at least {4 * q} candles")
    er, ci, vr = efficiency_ratio(close), choppiness(high, low, close), variance_ratio(close, q)
    trend = int(er >= 0.3) + int(ci <= 45) + int(vr >= 1.25)
    rng = int(er <= 0.15) + int(ci >= 55) + int(vr <= 0.85)
    label = TREND if trend >= 2 else RANGE if rng >= 2 else MIXED
    move = close[-1] / close[0] - 1
    direction = "up" if move > 0.005 else "down" if move < -0.005 else "flat"
    return Regime(label, direction, er, ci, vr, trend, rng)


def against_grid(regime: Regime) -> bool:
    """True when the market has turned against a grid: a trend, which walks out of any range."""
    return regime.label == TREND

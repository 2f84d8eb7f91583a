"""Candles: the engine's own OHLCV record (no Django, no parsing of files here) and the price
path a candle series makes, the one the simulator walks (exchanges/simulator/feed.py) and both
backtest paths (kernel and reference) replay.

Inside one candle the path visits open, then the nearer of high/low (high on a tie), then the
other, then close; every point is rounded half-even onto the instrument's tick, as the
simulator's matching step does. Point 4·i + j is point j of candle i.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

import numpy as np


@dataclass(frozen=True, slots=True)
class Candle:
    time: int  # unix seconds at the candle's open
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal = Decimal(0)

    def path(self) -> tuple[Decimal, Decimal, Decimal, Decimal]:
        """open -> nearer extreme (high on a tie) -> the other -> close (unrounded)."""
        if (self.high - self.open) <= (self.open - self.low):
            return self.open, self.high, self.low, self.close
        return self.open, self.low, self.high, self.close


POINTS_PER_CANDLE = 4


class PricePath:
    """A candle series as the grid sees it: every path point in whole ticks (int64), built once
    and shared by any number of backtests and sweeps over the same series and tick."""

    __slots__ = ("tick", "ticks", "times", "closes", "max_tick")

    def __init__(self, tick: Decimal, ticks: np.ndarray, times: np.ndarray):
        if tick <= 0:
            raise ValueError("tick must be positive")
        if len(ticks) == 0 or len(ticks) % POINTS_PER_CANDLE:
            raise ValueError("a price path needs at least one candle")
        self.tick = tick
        self.ticks = np.ascontiguousarray(ticks, dtype=np.int64)
        self.times = np.ascontiguousarray(times, dtype=np.int64)
        self.closes = self.ticks[POINTS_PER_CANDLE - 1 :: POINTS_PER_CANDLE]
        self.max_tick = int(self.ticks.max())

    @classmethod
    def from_candles(cls, candles: Sequence[Candle], tick: Decimal) -> PricePath:
        ticks = np.empty(len(candles) * POINTS_PER_CANDLE, dtype=np.int64)
        times = np.empty(len(candles), dtype=np.int64)
        i = 0
        for n, c in enumerate(candles):
            times[n] = c.time
            for p in c.path():
                ticks[i] = int((p / tick).to_integral_value(rounding=ROUND_HALF_EVEN))
                i += 1
        if len(candles) == 0:
            raise ValueError("a backtest needs at least one candle")
        if ticks.min() <= 0:
            raise ValueError("candle prices must be positive")
        return cls(tick, ticks, times)

    @property
    def candles(self) -> int:
        return len(self.times)

    def __len__(self) -> int:
        return len(self.ticks)

    def price(self, point: int) -> Decimal:
        return int(self.ticks[point]) * self.tick

    def time(self, point: int) -> int:
        return int(self.times[point // POINTS_PER_CANDLE])

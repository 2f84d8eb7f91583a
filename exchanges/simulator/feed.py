"""Price feed: real 1-minute candles turned into a deterministic price path.

Inside one candle the path visits open, then the nearer of high/low, then the other, then close;
the candle volume is spread evenly over those four points (each point may fill at most that much).
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

DATA_DIR = Path(os.environ.get("SETKA_SIMULATOR_DATA", "/work/shared/data"))

DEFAULT_FILES = {
    "BTCUSDT": "binance_spot_BTCUSDT_1m_2021-04-20_2021-05-20.csv",
    "ETHUSDT": "binance_spot_ETHUSDT_1m_2021-04-20_2021-05-20.csv",
    "LTCUSDT": "coinbase_LTCUSD_1m_2018-04-04_2018-04-06.csv",
}
# Start prices when no candle file is readable.
FALLBACK_PRICES = {"BTCUSDT": Decimal("56738.76"), "ETHUSDT": Decimal("2163.61"), "LTCUSDT": Decimal("134.12")}


@dataclass(frozen=True)
class Candle:
    ts: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal

    def path(self) -> list[tuple[Decimal, Decimal]]:
        """(price, volume) points: open, nearer extreme, farther extreme, close."""
        if (self.high - self.open) <= (self.open - self.low):
            first, second = self.high, self.low
        else:
            first, second = self.low, self.high
        share = self.volume / 4
        return [(self.open, share), (first, share), (second, share), (self.close, share)]


def default_csv(symbol: str) -> Path | None:
    name = DEFAULT_FILES.get(symbol)
    return DATA_DIR / name if name else None


@lru_cache(maxsize=16)
def load_candles(path: str) -> tuple[Candle, ...]:
    out = []
    with open(path, newline="") as fh:
        reader = csv.reader(fh)
        next(reader, None)
        for row in reader:
            if len(row) < 6:
                continue
            out.append(
                Candle(int(row[0]), Decimal(row[1]), Decimal(row[2]), Decimal(row[3]), Decimal(row[4]), Decimal(row[5]))
            )
    return tuple(out)


def index_at(candles: tuple[Candle, ...], start_ms: int | None) -> int:
    """First candle at or after start_ms (0 when None)."""
    if not start_ms:
        return 0
    lo, hi = 0, len(candles)
    while lo < hi:
        mid = (lo + hi) // 2
        if candles[mid].ts < start_ms:
            lo = mid + 1
        else:
            hi = mid
    return lo % max(1, len(candles))


def round_to_tick(price: Decimal, tick: Decimal) -> Decimal:
    """Candle prices from other venues may be finer than our tick: round half-even onto the tick grid."""
    return (price / tick).to_integral_value() * tick

"""Price feed: real 1-minute candles turned into a deterministic price path.

Inside one candle the path visits open, then the nearer of high/low, then the other, then close;
the candle volume is spread evenly over those four points (each point may fill at most that much).
"""

from __future__ import annotations

import csv
import gzip
import os
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

# Real candles ship with the package (gzipped; exchanges/simulator/data/SOURCES.md says where
# they come from). SETKA_SIMULATOR_DATA points at another folder of such files (.csv or .csv.gz).
PACKAGED_DATA = Path(__file__).resolve().parent / "data"
DATA_DIR = Path(os.environ.get("SETKA_SIMULATOR_DATA", PACKAGED_DATA))

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


def data_file(name: str) -> Path:
    """The candle file `name` (e.g. "binance_spot_BTCUSDT_1m_2021-04-20_2021-05-20.csv"):
    from DATA_DIR as .csv or .csv.gz, else the packaged copy."""
    for candidate in (DATA_DIR / name, DATA_DIR / f"{name}.gz", PACKAGED_DATA / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    return PACKAGED_DATA / f"{name}.gz"


def open_text(path: str | Path):
    """A text handle on a candle file, gzipped or not."""
    if str(path).endswith(".gz"):
        return gzip.open(path, "rt", newline="")
    return open(path, newline="")


def default_csv(symbol: str) -> Path | None:
    name = DEFAULT_FILES.get(symbol)
    return data_file(name) if name else None


@lru_cache(maxsize=16)
def load_candles(path: str) -> tuple[Candle, ...]:
    out = []
    with open_text(path) as fh:
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

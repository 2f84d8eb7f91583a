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
CANDLE_SUFFIXES = (".csv", ".csv.gz")

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


def data_dir() -> Path:
    """The folder of candle files (SETKA_SIMULATOR_DATA, read now: tests and operators may change it)."""
    return Path(os.environ.get("SETKA_SIMULATOR_DATA", DATA_DIR))


def data_path(name: str | Path) -> Path:
    """The candle file a control request names, which must lie inside the data folder
    (SETKA_SIMULATOR_DATA) or the packaged data: a bare name or a path relative to the folder,
    or an absolute path inside it. Symlinks are followed before the check, so a link out of the
    folder, `..` and absolute paths elsewhere are refused (ValueError, a 400), as are files that
    are not .csv/.csv.gz candle files."""
    raw = str(name)
    if not raw or "\x00" in raw:
        raise ValueError("csv_path must name a candle file in the simulator's data folder")
    roots = [data_dir().resolve(), PACKAGED_DATA.resolve()]
    given = Path(raw)
    candidates = [given] if given.is_absolute() else [root / given for root in roots]
    for candidate in candidates:
        for path in (candidate, candidate.with_name(candidate.name + ".gz")):
            try:
                resolved = path.resolve(strict=True)
            except (OSError, RuntimeError):  # missing, a symlink loop, a name too long
                continue
            if not any(resolved.is_relative_to(root) for root in roots):
                raise ValueError(
                    f"csv_path must be inside the simulator's data folder ({roots[0]}); {raw!r} is outside it"
                )
            if not resolved.is_file() or not resolved.name.endswith(CANDLE_SUFFIXES):
                raise ValueError("csv_path must name a .csv or .csv.gz candle file")
            return resolved
    raise ValueError(f"no candle file {raw!r} in the simulator's data folder ({roots[0]})")


def decimal_places(value: Decimal) -> int:
    """Digits after the point once trailing zeros are dropped ("1.500" -> 1), without context
    arithmetic (which overflows on "1e999999999")."""
    _sign, digits, exponent = value.as_tuple()
    if not isinstance(exponent, int):
        return 0
    trailing = len(digits) - len("".join(map(str, digits)).rstrip("0"))
    return max(0, -(exponent + trailing))


def data_file(name: str) -> Path:
    """The candle file `name` (e.g. "binance_spot_BTCUSDT_1m_2021-04-20_2021-05-20.csv"):
    from the data folder as .csv or .csv.gz, else the packaged copy."""
    folder = data_dir()
    for candidate in (folder / name, folder / f"{name}.gz", PACKAGED_DATA / f"{name}.gz"):
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

"""Many grid configurations over one candle series, in parallel: the entry point of the
screener and the parameter search.

Every configuration runs the same compiled kernel as `backtest` (kernel.run_grid: the live
engine's semantics, exact integers) on all cores (numba prange), without recording fills, so a
row carries the run's exact totals, not its cycle list: total PnL (equity − investment, the
account's cash and coins at the last price), fees, fill counts, the lowest equity and the
largest drawdown, the target that stopped it. For the cycles and the grid profit of a chosen
configuration, run `backtest` on it (the profit book over its fills).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from exchanges.client import FeeRates, InstrumentRules

from .backtest import STOP_KINDS, _path, kernel_spec, launch_point
from .candles import Candle, PricePath
from .config import ConfigError, GridConfig

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class SweepRow:
    config: GridConfig
    error: str  # "" when it ran; else why not (investment below the minimum, never triggered...)
    total_pnl: Decimal = ZERO
    roi_percent: Decimal = ZERO
    equity: Decimal = ZERO
    fees_paid: Decimal = ZERO  # every fee valued in quote at its fill price
    fills: int = 0  # every fill (launch and close orders included)
    grid_buys: int = 0
    grid_sells: int = 0
    min_equity: Decimal = ZERO  # lowest equity at a candle close
    max_drawdown: Decimal = ZERO
    stop: str = ""  # "take_profit:pnl", "stop_loss:price", ... or ""
    end_price: Decimal = ZERO


def sweep(
    configs: Sequence[GridConfig],
    rules: InstrumentRules,
    candles: Sequence[Candle] | PricePath,
    *,
    fees: FeeRates,
) -> list[SweepRow]:
    """One row per configuration, in the order given. Configurations that cannot launch (or
    whose amounts exceed the kernel's integers) get a row with `error` set."""
    import numpy as np

    from . import kernel as K

    path = _path(candles, rules)
    specs: list = []
    rows: list[SweepRow | None] = []
    for config in configs:
        start = launch_point(config, path)
        if start is None:
            rows.append(SweepRow(config, "the start trigger was never reached", equity=config.investment))
            specs.append(None)
            continue
        try:
            spec = kernel_spec(config, rules, fees=fees, path=path, start=start)
        except ConfigError as exc:
            rows.append(SweepRow(config, str(exc)))
            specs.append(None)
            continue
        except (OverflowError, ValueError) as exc:
            rows.append(SweepRow(config, f"not supported by the kernel: {exc}"))
            specs.append(None)
            continue
        rows.append(None)
        specs.append(spec)
    live = [s for s in specs if s is not None]
    if not live:
        return rows  # type: ignore[return-value]
    width = max(len(s.levels) for s in live)
    m = len(live)
    levels = np.zeros((m, width), dtype=np.int64)
    minq = np.zeros((m, width), dtype=np.int64)
    params = np.zeros((m, K.PARAMS), dtype=np.int64)
    for r, s in enumerate(live):
        levels[r, : len(s.levels)] = s.levels
        minq[r, : len(s.minq)] = s.minq
        params[r] = s.params
    out = np.zeros((m, K.SUMMARY), dtype=np.int64)
    K.run_many(path.ticks, levels, minq, params, out)
    r = 0
    result: list[SweepRow] = []
    for row, spec, config in zip(rows, specs, configs, strict=True):
        if spec is None:
            assert row is not None  # a row was written for every config the kernel skips
            result.append(row)
            continue
        o = out[r]
        r += 1
        if o[K.S_STATUS] != 0:
            result.append(SweepRow(config, "not supported by the kernel: amounts beyond its integers"))
            continue
        money = spec.money
        equity = int(o[K.S_EQUITY]) * money
        total = equity - config.investment
        stop = ":".join(STOP_KINDS[int(o[K.S_STOP])]) if o[K.S_STOP] else ""
        result.append(
            SweepRow(
                config,
                "",
                total_pnl=total,
                roi_percent=total / config.investment * 100,
                equity=equity,
                fees_paid=(int(o[K.S_FEE_QUOTE]) + int(o[K.S_FEE_BASE_VALUE])) * money,
                fills=int(o[K.S_FILLS]),
                grid_buys=int(o[K.S_BUYS]),
                grid_sells=int(o[K.S_SELLS]),
                min_equity=int(o[K.S_MIN_EQUITY]) * money,
                max_drawdown=int(o[K.S_MAX_DRAWDOWN]) * money,
                stop=stop,
                end_price=path.price(int(o[K.S_END])),
            )
        )
    return result

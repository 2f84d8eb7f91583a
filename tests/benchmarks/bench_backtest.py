"""Backtest kernel and sweep speed. Run: scripts/bench backtest
(or .venv/bin/python -m tests.benchmarks.bench_backtest).

A month of real BTCUSDT 1-minute candles (Binance, 2021-04-20 .. 2021-05-20), a 100-line spot
grid over the month's range. Prints:
- the JIT compile time (a fresh numba cache in a child process) and the cached load time;
- the kernel's candles per second on one core (best and median of repeated runs, no fill
  recording), and a full `backtest` (fills recorded, the profit book folded over them);
- the pure-Python reference path on the first week of the same grid (what the kernel replaces);
- a sweep of 1,000 configurations over the month on every core (sizing in Python + the
  parallel kernel), and its split.
Targets (issue 10): >= 10 million candles/s per core; 1,000 configurations < 5 s on 2 cores.
The machine is shared: figures are best-of-N where that is meaningful.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

import numpy as np

from bots.engine import GridConfig
from bots.engine.backtest import backtest, kernel_spec
from bots.engine.candles import PricePath
from exchanges.client import Category, FeeRates, InstrumentRules
from tests.bots.engine.conftest import load_candles
from tests.market_data import BTCUSDT_2021

D = Decimal
RULES = InstrumentRules(
    "BTCUSDT", Category.SPOT, "BTC", "USDT", D("0.01"), D("0.000001"), D("0.000048"), D("100"), D("5")
)
FEES = FeeRates(D("0.001"), D("0.001"))
ROOT = Path(__file__).resolve().parents[2]


def config(lower, upper, n=100, investment="100000", spacing="arithmetic") -> GridConfig:
    return GridConfig.from_json(
        {
            "strategy": "spot_grid",
            "lower_price": str(lower),
            "upper_price": str(upper),
            "grid_count": n,
            "spacing": spacing,
            "investment": investment,
        }
    )


def compile_times() -> tuple[float, float]:
    code = "import time; t = time.perf_counter(); from bots.engine import kernel; kernel.warm_up(); print(time.perf_counter() - t)"
    with tempfile.TemporaryDirectory(prefix="setka-numba-") as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache}
        cold = float(
            subprocess.run(
                [sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, check=True
            ).stdout
        )
        warm = float(
            subprocess.run(
                [sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, check=True
            ).stdout
        )
    return cold, warm


def kernel_rate(path: PricePath, cfg: GridConfig, repeats: int = 15) -> dict:
    from bots.engine import kernel as K

    spec = kernel_spec(cfg, RULES, fees=FEES, path=path, start=0)
    out = np.zeros(K.SUMMARY, np.int64)
    no_fills = np.zeros((0, K.FILL_COLS), np.int64)
    no_curve = np.zeros(0, np.int64)
    times = []
    for _ in range(repeats):
        arrays = K.order_arrays(len(spec.levels) - 1)
        t0 = time.perf_counter()
        K.run_grid(path.ticks, spec.levels, spec.minq, spec.params, no_fills, no_curve, out, *arrays)
        times.append(time.perf_counter() - t0)
    return {
        "best": path.candles / min(times),
        "median": path.candles / statistics.median(times),
        "fills": int(out[K.S_FILLS]),
    }


def sweep_configs(lo: Decimal, hi: Decimal, count: int = 1000) -> list[GridConfig]:
    out = []
    span = hi - lo
    for i in range(count):
        a = lo + span * D(i % 10) / 40  # lower from the month's low up to a quarter of the range
        b = hi - span * D(i // 10 % 10) / 40
        n = 20 + (i // 100) * 20  # 20 .. 200 lines
        out.append(
            config(a.quantize(D("0.01")), b.quantize(D("0.01")), n=n, spacing=("arithmetic", "geometric")[i % 2])
        )
    return out


def main() -> None:
    t0 = time.perf_counter()
    candles = load_candles(BTCUSDT_2021.name)
    t_load = time.perf_counter() - t0
    t0 = time.perf_counter()
    path = PricePath.from_candles(candles, RULES.tick_size)
    t_path = time.perf_counter() - t0
    lo = min(c.low for c in candles)
    hi = max(c.high for c in candles)
    days = len(candles) / 1440
    print(
        f"data: {len(candles)} 1m candles ({days:.1f} days) of BTCUSDT, range {lo}-{hi}; "
        f"read {t_load:.2f} s, price path built in {t_path:.2f} s (once per series)"
    )

    cold, warm = compile_times()
    print(f"JIT compile (fresh cache, child process): {cold:.1f} s; later processes load the cache: {warm:.2f} s")

    from bots.engine import kernel as K

    K.warm_up()
    cfg = config(lo, hi, n=100)
    r = kernel_rate(path, cfg)
    print(
        f"kernel, 100-line grid, one core: {r['best'] / 1e6:.1f} M candles/s best, {r['median'] / 1e6:.1f} M "
        f"median ({r['fills']} fills over the month; target >= 10 M/s)"
    )

    t0 = time.perf_counter()
    result = backtest(cfg, RULES, path, fees=FEES)
    t_full = time.perf_counter() - t0
    print(
        f"backtest (kernel + fills + profit book): {t_full:.2f} s for the month: {len(result.fills)} fills, "
        f"{result.cycle_count} cycles, grid profit {result.grid_profit:.2f}, total PnL {result.total_pnl:.2f} USDT"
    )

    two_days = PricePath.from_candles(candles[: 2 * 1440], RULES.tick_size)
    t0 = time.perf_counter()
    ref = backtest(cfg, RULES, two_days, fees=FEES, engine="reference")
    t_ref = time.perf_counter() - t0
    print(
        f"reference path (the planner in Decimal), 2 days: {t_ref:.2f} s = {two_days.candles / t_ref:,.0f} candles/s "
        f"({len(ref.fills)} fills)"
    )

    from bots.engine.sweep import sweep

    configs = sweep_configs(lo, hi)
    sweep(configs[:2], RULES, path, fees=FEES)  # compile/load the parallel entry point
    t0 = time.perf_counter()
    specs = [kernel_spec(c, RULES, fees=FEES, path=path, start=0) for c in configs]
    t_prep = time.perf_counter() - t0
    t0 = time.perf_counter()
    rows = sweep(configs, RULES, path, fees=FEES)
    t_sweep = time.perf_counter() - t0
    ok = [x for x in rows if not x.error]
    best = max(ok, key=lambda x: x.total_pnl)
    threads = K.numba_threads()
    print(
        f"sweep: {len(configs)} configurations x {path.candles} candles in {t_sweep:.2f} s on {threads} threads "
        f"(sizing in Python ~{t_prep:.2f} s of it; {len(ok)} ran; {sum(x.fills for x in ok):,} fills; "
        f"target < 5 s); best total PnL {best.total_pnl:.2f} USDT "
        f"({best.config.grid_count} grids {best.config.lower_price}-{best.config.upper_price})"
    )
    del specs


if __name__ == "__main__":
    main()

"""Planner and backtest speed. Run: .venv/bin/python -m tests.benchmarks.bench_planner

Prints the time of one plan_tick on a 200-level spot grid (p50/p99 over ticks that each answer
one fill, with the order history growing as a live bot's does) and the backtest throughput
(candles per second) over real BTC 1-minute candles."""

from __future__ import annotations

import csv
import random
import statistics
import time
from decimal import Decimal

from bots.engine import Candle, GridConfig, LevelOrder, backtest, launch_plan, plan_tick, size_grid
from exchanges.client import Category, FeeRates, InstrumentRules, Side
from tests.market_data import BTCUSDT_2021, open_text

D = Decimal
DATA = BTCUSDT_2021
RULES = InstrumentRules(
    "BTCUSDT", Category.SPOT, "BTC", "USDT", D("0.01"), D("0.000001"), D("0.000048"), D("100"), D("5")
)
FEES = FeeRates(D("0.001"), D("0.001"))


def bench_tick(levels_count: int = 200, ticks: int = 2000, seed: int = 7) -> dict:
    config = GridConfig.from_json(
        {
            "strategy": "spot_grid",
            "lower_price": "40000",
            "upper_price": "60000",
            "grid_count": levels_count,
            "spacing": "geometric",
            "investment": "1000000",
        }
    )
    price = D(50000)
    sizing = size_grid(config, RULES, price=price, fees=FEES)
    plan = launch_plan(config, RULES, price=price, sizing=sizing, bot_id=1, generation=1)
    levels = sizing.levels
    orders = {
        o.client_order_id: LevelOrder(o.client_order_id, o.level, o.side, o.price, o.qty, D(0), True)
        for o in plan.ladder
    }
    rng = random.Random(seed)
    idx = sizing.empty_level
    times: list[float] = []
    for _ in range(ticks):
        idx = max(0, min(levels_count, idx + rng.choice((-1, 1))))
        p = levels[idx]
        hit = [
            o
            for o in orders.values()
            if o.is_open and ((o.side is Side.BUY and o.price >= p) or (o.side is Side.SELL and o.price <= p))
        ]
        for o in hit:
            orders[o.client_order_id] = LevelOrder(
                o.client_order_id,
                o.level,
                o.side,
                o.price,
                o.qty,
                o.qty,
                False,
                o.qty * FEES.maker if o.side is Side.BUY else None,
            )
        view = list(orders.values())
        t0 = time.perf_counter()
        tp = plan_tick(config, RULES, levels=levels, orders=view, bot_id=1, generation=1, fees=FEES)
        times.append(time.perf_counter() - t0)
        for o in tp.place:
            orders[o.client_order_id] = LevelOrder(o.client_order_id, o.level, o.side, o.price, o.qty, D(0), True)
    times.sort()
    return {
        "levels": levels_count,
        "ticks": ticks,
        "orders_at_end": len(orders),
        "p50_ms": statistics.median(times) * 1000,
        "p99_ms": times[int(len(times) * 0.99) - 1] * 1000,
        "max_ms": times[-1] * 1000,
    }


def load(count: int) -> list[Candle]:
    out = []
    with open_text(DATA) as fh:
        for row in csv.DictReader(fh):
            out.append(
                Candle(
                    int(row["timestamp_ms"]) // 1000,
                    D(row["open"]),
                    D(row["high"]),
                    D(row["low"]),
                    D(row["close"]),
                    D(row["volume"]),
                )
            )
            if len(out) >= count:
                break
    return out


def bench_backtest(days: int = 7, grids: int = 50) -> dict:
    candles = load(days * 1440)
    lo = min(c.low for c in candles)
    hi = max(c.high for c in candles)
    config = GridConfig.from_json(
        {
            "strategy": "spot_grid",
            "lower_price": str(lo),
            "upper_price": str(hi),
            "grid_count": grids,
            "spacing": "arithmetic",
            "investment": "100000",
        }
    )
    t0 = time.perf_counter()
    result = backtest(config, RULES, candles, fees=FEES)
    elapsed = time.perf_counter() - t0
    return {
        "candles": len(candles),
        "grids": grids,
        "fills": len(result.fills),
        "cycles": result.cycle_count,
        "seconds": elapsed,
        "candles_per_s": len(candles) / elapsed,
        "grid_profit": str(result.grid_profit.quantize(D("0.01"))),
    }


def main() -> None:
    t = bench_tick()
    print(
        f"plan_tick, {t['levels']}-level grid, {t['ticks']} ticks ({t['orders_at_end']} orders at the end): "
        f"p50 {t['p50_ms']:.2f} ms, p99 {t['p99_ms']:.2f} ms, max {t['max_ms']:.2f} ms"
    )
    b = bench_backtest()
    print(
        f"backtest: {b['candles']} 1m candles, {b['grids']} grids, {b['fills']} fills, {b['cycles']} cycles "
        f"in {b['seconds']:.2f} s = {b['candles_per_s']:,.0f} candles/s (grid profit {b['grid_profit']} USDT)"
    )


if __name__ == "__main__":
    main()

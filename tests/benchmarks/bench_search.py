"""Walk-forward table: the suggested parameters (a volatility-anchored recipe chosen by its
worst ROI over every two-day window before the decision) against the naive "best of the last 7
days" (best in-sample ROI on the last 7 days), both scored out of sample on the next two days,
on every shipped real series long enough for it (7 days of history + a held-out window):
Binance spot BTCUSDT and ETHUSDT (2021-04-20..05-20) and the FTX BTC-PERP price series
(2021-12-31..2022-02-01, run as a spot grid on its prices). The 2-day Coinbase LTCUSD file is too
short. Design choices were tuned on BTCUSDT only; ETHUSDT and BTC-PERP were not looked at while
tuning. `scripts/bench search`."""

from __future__ import annotations

import csv
import os
import time
from datetime import UTC, datetime
from decimal import Decimal

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings_test")
django.setup()

from bots.engine.candles import Candle, PricePath  # noqa: E402
from exchanges.client import Category, InstrumentRules  # noqa: E402
from mcp_server import search  # noqa: E402
from mcp_server.adapters import candles  # noqa: E402

BUDGET = Decimal(1000)
PERP_FILE = "ftx_BTC-PERP_1m_2021-12-31_2022-02-01.csv"


def perp() -> tuple[PricePath, InstrumentRules]:
    from exchanges.simulator.feed import data_file, open_text

    rules = InstrumentRules(
        symbol="BTC-PERP",
        category=Category.SPOT,
        base_coin="BTC",
        quote_coin="USD",
        tick_size=Decimal("1"),
        qty_step=Decimal("0.0001"),
        min_qty=Decimal("0.0001"),
        max_qty=Decimal("1000"),
        min_notional=Decimal("1"),
    )
    D = Decimal
    with open_text(data_file(PERP_FILE)) as fh:
        rows = [
            Candle(int(r["timestamp_ms"]) // 1000, D(r["open"]), D(r["high"]), D(r["low"]), D(r["close"]))
            for r in csv.DictReader(fh)
        ]
    return PricePath.from_candles(rows, rules.tick_size), rules


def series():
    for symbol in candles.symbols():
        yield symbol, candles.price_path(symbol), candles.spot_rules(symbol)
    path, rules = perp()
    yield "BTC-PERP", path, rules


def main() -> None:
    total_wins = total = 0
    sums = [0.0, 0.0]
    print(
        f"{'symbol':8} {'decided at (UTC)':17} {'suggested %':>11} {'naive %':>8}  winner     (half-width %, grid count of each choice)"
    )
    for symbol, path, rules in series():
        began = time.monotonic()
        rows = search.walk_forward(path, symbol=symbol, rules=rules, fees=candles.SPOT_FEES, budget=BUDGET)
        spent = time.monotonic() - began
        for r in rows:
            at = datetime.fromtimestamp(r.decided_at, UTC).strftime("%Y-%m-%d %H:%M")
            print(
                f"{symbol:8} {at:17} {r.suggested_roi:11.2f} {r.naive_roi:8.2f}  "
                f"{'suggested' if r.suggested_wins else 'naive    '}  "
                f"(±{r.suggested.width * 100:.1f}% {r.suggested.grid_count} vs naive ±{r.naive.width * 100:.1f}% "
                f"{r.naive.grid_count})"
            )
            sums[0] += r.suggested_roi
            sums[1] += r.naive_roi
        wins = sum(r.suggested_wins for r in rows)
        s_sum = sum(r.suggested_roi for r in rows)
        n_sum = sum(r.naive_roi for r in rows)
        print(
            f"  {symbol}: suggested wins {wins} of {len(rows)}; sum OOS ROI suggested {s_sum:.2f} %, naive "
            f"{n_sum:.2f} %; {spent / len(rows):.1f}s per decision ({search.TRIALS} trials each)"
        )
        total_wins += wins
        total += len(rows)
    print(
        f"suggested wins {total_wins} of {total} windows; sum of out-of-sample ROI: "
        f"suggested {sums[0]:.2f} %, naive {sums[1]:.2f} %"
    )
    path, rules = candles.price_path("BTCUSDT"), candles.spot_rules("BTCUSDT")
    began = time.monotonic()
    search.suggest(path, rules=rules, fees=candles.SPOT_FEES, budget=BUDGET)
    print(f"one suggest() on the whole BTCUSDT month (the create form's button): {time.monotonic() - began:.1f}s")


if __name__ == "__main__":
    main()

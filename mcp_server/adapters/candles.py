"""Where the parameter search gets its candles. ADAPTER, adjusted at merge: the analytics
app's market-data store is being built in parallel (branch `analytics`); until it is on main
the search reads the real 1-minute candles shipped with the simulator (Binance spot BTCUSDT
and ETHUSDT, 2021-04-20..2021-05-20; exchanges/simulator/data/SOURCES.md)."""

from __future__ import annotations

import csv
from decimal import Decimal
from functools import lru_cache

from bots.engine.candles import Candle, PricePath
from exchanges.client import Category, FeeRates, InstrumentRules

SHIPPED = {
    "BTCUSDT": ("binance_spot_BTCUSDT_1m_2021-04-20_2021-05-20.csv", "BTC", "0.000001", "0.000048"),
    "ETHUSDT": ("binance_spot_ETHUSDT_1m_2021-04-20_2021-05-20.csv", "ETH", "0.00001", "0.0001"),
}
SPOT_FEES = FeeRates(maker=Decimal("0.001"), taker=Decimal("0.001"))


def symbols() -> list[str]:
    return sorted(SHIPPED)


def spot_rules(symbol: str) -> InstrumentRules:
    _, base, step, min_qty = SHIPPED[symbol]
    return InstrumentRules(
        symbol=symbol,
        category=Category.SPOT,
        base_coin=base,
        quote_coin="USDT",
        tick_size=Decimal("0.01"),
        qty_step=Decimal(step),
        min_qty=Decimal(min_qty),
        max_qty=Decimal("100000"),
        min_notional=Decimal("5"),
    )


@lru_cache(maxsize=4)
def price_path(symbol: str) -> PricePath:
    """The whole shipped series of `symbol` as one PricePath (built once per process)."""
    from exchanges.simulator.feed import data_file, open_text

    name = SHIPPED[symbol][0]
    D = Decimal
    with open_text(data_file(name)) as fh:
        candles = [
            Candle(int(r["timestamp_ms"]) // 1000, D(r["open"]), D(r["high"]), D(r["low"]), D(r["close"]))
            for r in csv.DictReader(fh)
        ]
    return PricePath.from_candles(candles, spot_rules(symbol).tick_size)

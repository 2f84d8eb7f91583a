"""Fixtures for the pure engine tests (no database is touched by these tests)."""

from __future__ import annotations

import csv
from decimal import Decimal

import pytest

from bots.engine import Candle, GridConfig
from exchanges.client import Category, FeeRates, InstrumentRules
from tests.market_data import data_file, open_text

D = Decimal


def spot_rules(tick="0.01", step="0.000001", min_qty="0.000048", min_notional="5", max_qty="100") -> InstrumentRules:
    return InstrumentRules(
        symbol="BTCUSDT",
        category=Category.SPOT,
        base_coin="BTC",
        quote_coin="USDT",
        tick_size=D(tick),
        qty_step=D(step),
        min_qty=D(min_qty),
        max_qty=D(max_qty),
        min_notional=D(min_notional),
    )


def linear_rules(tick="0.1", step="0.001", min_qty="0.001", min_notional="5") -> InstrumentRules:
    return InstrumentRules(
        symbol="BTCUSDT",
        category=Category.LINEAR,
        base_coin="BTC",
        quote_coin="USDT",
        tick_size=D(tick),
        qty_step=D(step),
        min_qty=D(min_qty),
        max_qty=D("1000"),
        min_notional=D(min_notional),
        max_leverage=D(100),
    )


def spot_config(lower="45000", upper="65000", n=5, investment="10000", spacing="arithmetic", **extra) -> GridConfig:
    data = {
        "strategy": "spot_grid",
        "lower_price": lower,
        "upper_price": upper,
        "grid_count": n,
        "spacing": spacing,
        "investment": investment,
        **extra,
    }
    return GridConfig.from_json(data)


def linear_config(lower="10000", upper="30000", n=5, investment="1000", leverage="2", direction="neutral", **extra):
    data = {
        "strategy": "linear_grid",
        "lower_price": lower,
        "upper_price": upper,
        "grid_count": n,
        "spacing": "arithmetic",
        "investment": investment,
        "leverage": leverage,
        "direction": direction,
        **extra,
    }
    return GridConfig.from_json(data)


FEES = FeeRates(maker=D("0.001"), taker=D("0.001"))
LINEAR_FEES = FeeRates(maker=D("0.0002"), taker=D("0.00055"))


def load_candles(name: str, start_ms: int | None = None, count: int | None = None) -> list[Candle]:
    out: list[Candle] = []
    with open_text(data_file(name)) as fh:
        for row in csv.DictReader(fh):
            t = int(row["timestamp_ms"])
            if start_ms is not None and t < start_ms:
                continue
            out.append(
                Candle(t // 1000, D(row["open"]), D(row["high"]), D(row["low"]), D(row["close"]), D(row["volume"]))
            )
            if count is not None and len(out) >= count:
                break
    return out


@pytest.fixture
def rules() -> InstrumentRules:
    return spot_rules()


@pytest.fixture
def fees() -> FeeRates:
    return FEES

from __future__ import annotations

from decimal import Decimal as D

import pytest

from analytics.models import CandleSeries
from analytics.services import series_ensure
from exchanges.client import Category, FeeRates, InstrumentRules

SPOT_FEES = FeeRates(D("0.001"), D("0.001"))


def rules(symbol: str = "SYNUSDT", category: Category = Category.SPOT) -> InstrumentRules:
    return InstrumentRules(
        symbol, category, symbol.removesuffix("USDT"), "USDT", D("0.01"), D("0.0001"), D("0.0001"), D("100000"), D("5")
    )


@pytest.fixture
def make_series(db):
    def make(symbol: str = "SYNUSDT", category: Category = Category.SPOT, venue: str = "bybit") -> CandleSeries:
        return series_ensure(
            venue=venue, rules=rules(symbol, category), fees=SPOT_FEES, source=CandleSeries.Source.SYNTHETIC
        )

    return make
